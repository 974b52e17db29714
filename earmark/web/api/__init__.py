"""The JSON API under /api/v1: one router per resource.

A handler that uses the store is a plain ``def`` (FastAPI runs it in its threadpool, where each
thread has its own SQLite connection: Library.conn); an ``async def`` one awaits I/O and hands its
store work to ``run_in_threadpool``. Nothing blocks the event loop: bench/bench_concurrency.py."""

from fastapi import APIRouter, Depends

from earmark.web.api import directory, episodes, opml, podcasts, processing, queue, search, snips, understanding
from earmark.web.deps import private_uploads

router = APIRouter(prefix="/api/v1", dependencies=[Depends(private_uploads)])
for module in (podcasts, episodes, processing, queue, opml, snips, search, understanding, directory):
    router.include_router(module.router)

from earmark.web.api import uploads  # noqa: E402  (your own audio)

router.include_router(uploads.router)

from earmark.web.api import listening  # noqa: E402  (settings per podcast, listening stats)

router.include_router(listening.router)

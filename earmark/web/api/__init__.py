"""The JSON API under /api/v1: one router per resource."""

from fastapi import APIRouter

from earmark.web.api import episodes, opml, pending, podcasts, queue

router = APIRouter(prefix="/api/v1")
for module in (podcasts, episodes, queue, opml, pending):
    router.include_router(module.router)

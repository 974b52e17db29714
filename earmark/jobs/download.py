"""Download stage: an episode's enclosure → a local file. Store-free: it takes the episode record
and settings and returns where the file is, so it can run where the library is not. The episode
job's download stage (stages.py) and the snip job's audio stage (snip_stages.py) both fetch here."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from earmark.config import Settings
from earmark.downloads.fetcher import fetch_enclosure
from earmark.models import Episode


@dataclass(frozen=True, slots=True)
class AudioFile:
    path: Path
    size: int


def download_audio(
    episode: Episode,
    settings: Settings,
    *,
    existing: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> AudioFile:
    """Fetch (or resume) the episode's audio; ``existing`` is a file already downloaded."""
    if existing is not None and existing.is_file():
        return AudioFile(existing, existing.stat().st_size)

    def report(done: int, total: int | None) -> None:
        if progress and total:
            progress(100.0 * done / total)

    path, size = _run_async(fetch_enclosure(settings, episode, progress=report))
    return AudioFile(path, size)


def _run_async(coro):
    """Run ``coro`` to completion from sync code, even when this thread already runs an event loop
    (a snip enriched from async code fetches its episode's audio through here too)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()

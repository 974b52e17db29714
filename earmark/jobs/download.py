"""Download stage: an episode's enclosure → a local file. Store-free: it takes the episode record
and settings and returns where the file is, so it can run where the library is not."""

from __future__ import annotations

import asyncio
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

    path, size = asyncio.run(fetch_enclosure(settings, episode, progress=report))
    return AudioFile(path, size)

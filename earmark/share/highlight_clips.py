"""Highlight clips for the highlights feed (/feeds/highlights.rss): each highlight cut once from the
downloaded episode with PyAV (earmark/share/clip.py) into an MP3 under ``cache/highlights/``, and
served from there afterwards. The name holds the span and the source file's size and mtime, so a
re-downloaded episode or a moved highlight gets a fresh clip; the folder is safe to delete."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from earmark.config import Settings
from earmark.share.clip import make_clip

CLIP_SUFFIX = ".mp3"
CLIP_BIT_RATE = 128_000  # clip.py's MP3 rate: used to estimate the size of a clip not cut yet


@dataclass(frozen=True, slots=True)
class ClipRequest:
    """What to cut: the source file, the span, and the tags written into the clip."""

    source: Path
    episode_id: int
    start: float
    end: float
    title: str
    artist: str
    album: str
    comment: str = ""


# A podcast app fetching a new feed asks for every clip at once: two encodes at a time leave the
# other threads (pages, artwork) a core.
_CUTTING = threading.BoundedSemaphore(2)


class HighlightClips:
    """The on-disk cache of highlight clips."""

    _locks: ClassVar[dict[Path, threading.Lock]] = {}  # one cut per clip across requests
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: Settings):
        self.folder = settings.home / "cache" / "highlights"

    def path_for(self, request: ClipRequest) -> Path:
        stat = request.source.stat()
        key = f"{request.source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{request.start:.3f}:{request.end:.3f}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self.folder / f"{request.episode_id}-{round(request.start * 1000)}-{digest}{CLIP_SUFFIX}"

    def cached(self, request: ClipRequest) -> Path | None:
        path = self.path_for(request)
        return path if path.is_file() else None

    def get(self, request: ClipRequest) -> Path:
        """The clip, cut now unless cached (one cut per clip however many ask at once). Blocking:
        run it off the event loop. Raises AudioError when the source cannot be cut."""
        path = self.path_for(request)
        with self._guard:
            lock = self._locks.setdefault(path, threading.Lock())
        with lock:
            if not path.is_file():
                with _CUTTING:
                        make_clip(request.source, path, request.start, request.end, title=request.title,
                              artist=request.artist, album=request.album, comment=request.comment or None)
            with self._guard:
                self._locks.pop(path, None)  # cut (or failed): the next ask reads the file or tries anew
        return path

    @staticmethod
    def estimated_size(start: float, end: float) -> int:
        return int(max(0.0, end - start) * CLIP_BIT_RATE / 8)

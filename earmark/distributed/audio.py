"""A worker's copy of an episode's audio: fetched from the Earmark server that sent the task
(``server_url``, with its ``access_token``), resumed with a byte range after a cut, and kept in a
small cache so the speakers task after a transcript task on the same worker fetches nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import httpx

from earmark.config import Settings
from earmark.errors import AudioError, EarmarkError

log = logging.getLogger(__name__)

KEEP = 6  # audio files a worker keeps (the newest); the rest are deleted after each fetch


class TransientError(EarmarkError):
    """Worth another try: the server is unreachable or busy (Celery retries with backoff)."""


@dataclass(frozen=True, slots=True)
class AudioRef:
    """Where a task's audio is: ``path`` on the server (its audio endpoint), ``size`` in bytes."""

    episode_id: int
    path: str  # e.g. /api/v1/episodes/7/audio
    size: int
    suffix: str = ""  # the file's extension, for decoders that look at it


def fetch_audio(settings: Settings, ref: AudioRef) -> Path:
    cache = settings.home / "worker-audio"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"episode-{ref.episode_id}-{ref.size}{ref.suffix}"
    if target.is_file() and target.stat().st_size == ref.size:
        target.touch()  # the newest stays in the cache
        return target
    part = target.with_name(target.name + ".part")
    base = (settings.server_url or settings.public_base_url).rstrip("/")
    url = base + ref.path
    headers = {"User-Agent": settings.user_agent, "Accept-Encoding": "identity"}  # byte offsets of the file itself
    if settings.access_token:
        headers["Authorization"] = f"Bearer {settings.access_token}"
    have = part.stat().st_size if part.is_file() else 0
    if have > ref.size:  # another file by the same name once: start over
        part.unlink()
        have = 0
    if have:
        headers["Range"] = f"bytes={have}-"
    if have < ref.size or not ref.size:
        _get(url, headers, part, settings, ref)
    got = part.stat().st_size
    if got != ref.size:
        raise TransientError(f"{url}: {got} of {ref.size} bytes arrived")
    part.replace(target)
    _prune(cache)
    return target


def _get(url: str, headers: dict, part: Path, settings: Settings, ref: AudioRef) -> None:
    try:
        # httpx drops the Authorization header on a redirect to another host (an enclosure URL).
        with httpx.Client(timeout=settings.http_timeout, follow_redirects=True) as client:
            with client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status in (401, 403):
                    raise AudioError(f"{url}: the server refused this worker's access_token ({status}); set the"
                                     " server's access_token in the worker's settings.toml")
                if status == 404:
                    raise AudioError(f"{url}: the server has no audio for episode {ref.episode_id}")
                if status == 429 or status >= 500:
                    raise TransientError(f"{url}: the server answered {status}")
                if status not in (200, 206):
                    raise AudioError(f"{url}: unexpected answer {status}")
                with open(part, "ab" if status == 206 else "wb") as out:
                    for block in response.iter_bytes():  # as it arrives: a cut keeps what came
                        out.write(block)
    except httpx.TransportError as exc:
        raise TransientError(f"cannot fetch {url}: {exc}") from exc


def _prune(cache: Path) -> None:
    files = sorted((p for p in cache.iterdir() if p.is_file() and not p.name.endswith(".part")),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)

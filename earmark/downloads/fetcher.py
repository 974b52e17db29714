"""Downloading an episode's audio: streamed to ``<final>.part``, resumed with ``Range``, verified
against the server's length (or the feed's), then fsynced and renamed. Only a renamed, verified
file is recorded in the library, so a partial file is never taken for a finished one.

Next to the ``.part`` a small sidecar (``<final>.part.json``) keeps the URL, validators and total
seen when the partial download began; the next attempt sends them back as ``If-Range`` so a
changed file is fetched whole instead of spliced onto old bytes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import json
import logging
import os
import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from earmark.config import Settings
from earmark.errors import DiskFullError, DownloadError, EarmarkError
from earmark.feeds.fetch import make_client
from earmark.net import describe_http_error
from earmark.models import Download, Episode
from earmark.store.library import Library

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]  # (bytes done, bytes total or None)
ManyProgress = Callable[[int, int, int | None], None]  # (episode id, bytes done, bytes total or None)

SLUG_CHARS = 80
SLUG_BYTES = 180  # with id, extension and ".part.json" the name stays under the usual 255-byte limit
DEFAULT_EXT = ".mp3"
MEDIA_EXTS = {
    "mp3", "m4a", "m4b", "mp4", "m4v", "aac", "ogg", "oga", "opus", "flac", "wav", "webm", "mov", "mkv", "spx", "wma",
}
MIME_EXTS = {
    "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/mpeg3": ".mp3", "audio/x-mpeg": ".mp3", "audio/x-mp3": ".mp3",
    "audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/m4a": ".m4a", "audio/x-m4b": ".m4b", "audio/aac": ".aac",
    "audio/x-aac": ".aac", "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/flac": ".flac", "audio/x-flac": ".flac",
    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/webm": ".webm", "video/mp4": ".mp4", "video/x-m4v": ".m4v",
    "video/quicktime": ".mov", "video/webm": ".webm", "video/x-matroska": ".mkv",
}
# What a host sends instead of audio: an error or login page, a feed, an API's JSON (a feed may
# point its enclosure anywhere, including at this server's own API).
_DOCUMENT_TYPES = re.compile(r"^\s*(text/|application/(json|xml|xhtml\+xml|x-opml|javascript)\b|[\w.-]+/[\w.-]+\+(xml|json)\b)", re.I)
_DOCUMENT_START = re.compile(rb"^(\xef\xbb\xbf)?\s*[<{\[]")
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


@dataclass(frozen=True)
class DownloadResult:
    """One episode of ``download_many``: the record, or the error's one-line message."""

    episode_id: int
    download: Download | None
    error: str | None = None


# -- file names ---------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """Letters, digits, ``-`` and ``_`` only: no dots, slashes or separators survive."""
    text = unicodedata.normalize("NFKC", title or "")
    slug = re.sub(r"[^\w-]+", "-", text).strip("-_")
    slug = slug[:SLUG_CHARS]
    while len(slug.encode()) > SLUG_BYTES:
        slug = slug[:-1]
    return slug.strip("-_") or "episode"


def extension(url: str | None, mime: str | None) -> str:
    """A known media suffix from the URL's last path segment, else from the MIME type, else .mp3."""
    if url:
        segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        suffix = posixpath.splitext(segment)[1].lower().lstrip(".")
        if suffix in MEDIA_EXTS:
            return "." + suffix
    if mime:
        ext = MIME_EXTS.get(mime.split(";")[0].strip().lower())
        if ext:
            return ext
    return DEFAULT_EXT


def episode_path(settings: Settings, episode: Episode) -> Path:
    """``downloads_dir/<podcast id>/<episode id>-<slug><ext>``; only store ids and the slug go in."""
    if episode.id is None or episode.podcast_id is None:
        raise DownloadError(f"episode {episode.title!r} is not in the library")
    name = f"{int(episode.id)}-{slugify(episode.title)}{extension(episode.enclosure_url, episode.enclosure_type)}"
    folder = settings.downloads_dir / str(int(episode.podcast_id))
    path = folder / name
    # Belt and braces: the name is built from safe parts, but never write outside the folder.
    if path.parent != folder or name in {".", ".."}:
        raise DownloadError(f"unsafe file name {name!r}")
    return path


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".part.json")


def _read_sidecar(path: Path) -> dict:
    try:
        data = json.loads(_sidecar(path).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_sidecar(path: Path, data: dict) -> None:
    _sidecar(path).write_text(json.dumps(data), "utf-8")


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


# -- downloading --------------------------------------------------------------------------------


def make_download_client(settings: Settings) -> httpx.AsyncClient:
    # make_client sizes its pool for refreshes; make sure it also fits download_concurrency, or
    # waiting downloads would hit a pool timeout.
    pool = max(settings.refresh_concurrency, settings.download_concurrency)
    return make_client(dataclasses.replace(settings, refresh_concurrency=pool))


class _Restart(Exception):
    """The server cannot continue the partial file: start again from byte zero."""


def _content_range(value: str | None) -> tuple[int, int, int | None] | None:
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if not match:
        return None
    start, end, total = match.groups()
    return int(start), int(end), None if total == "*" else int(total)


def _if_range(meta: dict) -> str | None:
    etag = meta.get("etag")
    if etag and not etag.startswith("W/"):  # If-Range needs a strong validator
        return etag
    return meta.get("last_modified")


async def _attempt(
    client: httpx.AsyncClient,
    settings: Settings,
    episode: Episode,
    final: Path,
    offset: int,
    progress: Progress | None,
) -> int:
    """One GET; appends to (or rewrites) the .part. Returns the verified size."""
    url = episode.enclosure_url
    part = _part(final)
    meta = _read_sidecar(final) if offset else {}
    # Offsets in the .part are in file bytes, so ask for the file as is, not compressed.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if validator := _if_range(meta):
            headers["If-Range"] = validator
    async with client.stream("GET", url, headers=headers) as response:
        status = response.status_code
        if status == 416:
            raise _Restart
        if status >= 400:
            raise DownloadError(f"{url}: HTTP {status} {response.reason_phrase}".rstrip())
        if status not in (200, 206):
            raise DownloadError(f"{url}: unexpected HTTP {status} {response.reason_phrase}".rstrip())
        content_type = response.headers.get("Content-Type", "")
        if _DOCUMENT_TYPES.match(content_type):
            raise DownloadError(f"{url}: the server sent a document ({content_type.split(';')[0].strip()}), not audio")
        encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        server_total: int | None = None
        if status == 206:
            parsed = _content_range(response.headers.get("Content-Range"))
            if parsed is None or encoded:
                raise _Restart
            start, end, server_total = parsed
            known_total = meta.get("total")
            if start != offset or (server_total is not None and end != server_total - 1):
                raise _Restart
            if server_total is not None and known_total is not None and server_total != known_total:
                raise _Restart  # the file changed size since the partial download began
        else:
            offset = 0  # Range ignored or If-Range did not match: this is the whole file
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and not encoded:
                server_total = int(length)
        # The server's total is authoritative; the feed's length only counts when the server
        # states none and did not frame the body with a length of its own (h11 checks that).
        framed = "Content-Length" in response.headers
        feed_total = episode.enclosure_length if episode.enclosure_length and episode.enclosure_length > 0 else None
        expected = server_total if server_total is not None else (None if framed else feed_total)
        if status == 200 or not meta:
            _write_sidecar(
                final,
                {
                    "url": url,
                    "etag": None if encoded else response.headers.get("ETag"),
                    "last_modified": None if encoded else response.headers.get("Last-Modified"),
                    "total": server_total,
                    "resumable": not encoded,  # decoded bytes do not line up with the server's ranges
                },
            )
        done = offset
        with open(part, "r+b" if offset else "wb") as out:
            out.seek(offset)
            out.truncate(offset)
            if progress:
                progress(done, expected)
            try:
                async for chunk in response.aiter_bytes():  # unbuffered: a drop loses no received bytes
                    if done == 0 and _DOCUMENT_START.match(chunk[:64]):
                        raise DownloadError(f"{url}: the server sent an HTML, XML or JSON document, not audio")
                    out.write(chunk)
                    done += len(chunk)
                    if expected is not None and done > expected:
                        raise DownloadError(
                            f"{url}: the server sent more than the expected {expected:,} bytes; kept as {part.name}"
                        )
                    if progress:
                        progress(done, expected)
            except httpx.HTTPError as exc:
                out.flush()
                raise DownloadError(
                    f"{describe_http_error(url, exc, settings.http_timeout)}; {done:,} bytes kept, run again to resume"
                ) from exc
    if done == 0:
        raise DownloadError(f"{url}: the server sent an empty file")
    if expected is not None and done != expected:
        source = "server" if server_total is not None else "feed"
        raise DownloadError(
            f"{url}: incomplete download: {done:,} of {expected:,} bytes (length from the {source});"
            f" kept as {part.name}"
        )
    return done


def _finish(final: Path) -> int:
    """fsync the .part, rename it into place, fsync the folder so the rename survives a crash."""
    part = _part(final)
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
        size = os.fstat(f.fileno()).st_size
    os.replace(part, final)
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(final.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _unlink(_sidecar(final))
    return size


async def fetch_enclosure(
    settings: Settings,
    episode: Episode,
    *,
    progress: Progress | None = None,
    client: httpx.AsyncClient | None = None,
) -> tuple[Path, int]:
    """Download (or resume) an episode's enclosure to its file and return (path, size). Touches no
    store, so it also runs where the library is not (a pipeline worker)."""
    url = episode.enclosure_url
    if not url:
        raise DownloadError(f"episode {episode.id} ({episode.title}) has no audio file to download")
    if not url.lower().startswith(("http://", "https://")):
        raise DownloadError(f"episode {episode.id}: cannot download {url!r} (only http:// and https://)")
    final = episode_path(settings, episode)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"{final.parent}: cannot create the folder: {exc}") from exc
    part = _part(final)
    offset = part.stat().st_size if part.exists() else 0
    meta = _read_sidecar(final)
    if offset and meta and (meta.get("url") != url or not meta.get("resumable", True)):
        offset = 0  # the enclosure moved, or the old bytes were decoded: nothing to resume

    async def run(http: httpx.AsyncClient) -> int:
        nonlocal offset
        for _ in range(2):
            try:
                return await _attempt(http, settings, episode, final, offset, progress)
            except _Restart:
                if offset == 0:
                    break
                offset = 0
                _unlink(_sidecar(final))
        raise DownloadError(f"{url}: the server's byte ranges do not match the file; cannot download")

    try:
        if client is not None:
            await run(client)
        else:
            async with make_download_client(settings) as http:
                await run(http)
        size = await asyncio.to_thread(_finish, final)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # failures before the body: connect, timeout, redirects
        raise DownloadError(describe_http_error(url, exc, settings.http_timeout)) from exc
    except DownloadError:
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # Keeping the partial file would keep the disk full; resuming it later saves little.
            _unlink(part)
            _unlink(_sidecar(final))
            raise DiskFullError(
                f"no space left on the disk of {final.parent} ({exc.strerror or exc}); the partial download"
                " was deleted. Make room (or set downloads_dir to a bigger disk) and process the episode again"
            ) from exc
        raise DownloadError(f"{final}: cannot write the download: {exc}") from exc
    return final, size


async def download_episode(
    library: Library,
    settings: Settings,
    episode_id: int,
    *,
    progress: Progress | None = None,
    client: httpx.AsyncClient | None = None,
) -> Download:
    """Download one episode (resuming a partial one) and record it. An episode already downloaded
    whose file still exists is returned as is, without touching the network."""
    episode = library.episode(episode_id)
    existing = library.download(episode_id)
    if existing is not None:
        if Path(existing.path).is_file():
            return existing
        library.forget_download(episode_id)  # the file was deleted behind our back: fetch again
    final, size = await fetch_enclosure(settings, episode, progress=progress, client=client)
    return library.record_download(episode_id, str(final), size)


async def download_many(
    library: Library,
    settings: Settings,
    episode_ids: Iterable[int],
    *,
    progress: ManyProgress | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[DownloadResult]:
    """Download several episodes, at most ``download_concurrency`` at a time. One failing does
    not stop the others; each result carries its record or its error."""
    ids = list(dict.fromkeys(episode_ids))  # the same episode twice would write one .part twice
    semaphore = asyncio.Semaphore(max(1, settings.download_concurrency))

    async def one(episode_id: int, http: httpx.AsyncClient) -> DownloadResult:
        report = (lambda done, total: progress(episode_id, done, total)) if progress else None
        async with semaphore:
            try:
                record = await download_episode(library, settings, episode_id, progress=report, client=http)
            except EarmarkError as exc:
                return DownloadResult(episode_id, None, str(exc))
        return DownloadResult(episode_id, record)

    if client is not None:
        return list(await asyncio.gather(*(one(i, client) for i in ids)))
    async with make_download_client(settings) as http:
        return list(await asyncio.gather(*(one(i, http) for i in ids)))


def delete_files(paths: Iterable[str], *, within: Path | None = None) -> int:
    """Delete a removed podcast's downloaded files (``Library.remove_podcast`` / ``unsubscribe``
    return their paths); with ``within``, only files inside that folder. Returns how many went; a
    file that cannot go is logged (the podcast is gone either way)."""
    root = within.resolve() if within is not None else None
    deleted = 0
    for name in paths:
        path = Path(name).resolve()
        if root is not None and not path.is_relative_to(root):
            continue
        try:
            deleted += _unlink(path)
        except OSError as exc:
            log.warning("cannot delete %s: %s", path, exc)
    return deleted


def delete_download(library: Library, settings: Settings, episode_id: int) -> bool:
    """Delete an episode's file, any partial download, and its record. Returns whether there was
    anything to delete."""
    episode = library.episode(episode_id)
    from earmark.store.uploads import UploadStore
    from earmark.uploads import UploadError

    if UploadStore(library).is_upload(episode_id):  # nothing to download it from again
        raise UploadError(f"episode {episode_id} is your own upload: its file is the only copy and is kept"
                          " (earmark remove PODCAST deletes the podcast with its files)")
    record = library.download(episode_id)
    removed = False
    paths = [Path(record.path)] if record else []
    try:
        final = episode_path(settings, episode)
        paths += [_part(final), _sidecar(final)]
    except DownloadError:
        pass
    for path in paths:
        try:
            removed = _unlink(path) or removed
        except OSError as exc:
            raise DownloadError(f"{path}: cannot delete: {exc}") from exc
    if record:
        library.forget_download(episode_id)
        removed = True
    return removed

"""Your own audio: files uploaded from the web page, ``earmark upload`` or a watched folder become
episodes of an uploads podcast ("My uploads", or one you name), already "downloaded", so
``earmark process`` runs the usual pipeline on them.

One path for all three: the bytes are streamed into a temp file under ``downloads_dir/.uploads``
(stopped at ``max_upload_bytes``), checked by decoding with PyAV (not by the name: a text file
called .mp3 is refused, and so is a truncated one), their tags read with mutagen (title, date,
artist, comment, chapters, embedded cover: earmark/audio_tags.py), and then the row is inserted and the file renamed into
``downloads_dir/<podcast id>/`` in one step (earmark/store/uploads.py). Anything interrupted
leaves only its temp file, which is deleted at once, or by ``clean_temp`` when a server starts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from earmark.audio_tags import Tags, parse_date, read_tags  # noqa: F401 (parse_date: imported from here)
from earmark.config import Settings
from earmark.errors import AudioError, EarmarkError
from earmark.models import Episode, Podcast
from earmark.store.library import OWNER_ID, Library
from earmark.store.uploads import UploadStore

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
TEMP_DIR = ".uploads"  # under downloads_dir: the same file system as the final place, so the rename is atomic
TEMP_MAX_AGE = 6 * 3600  # a temp file this old belongs to no upload still running

# PyAV's container format name → (MIME type, file extension). Only these are accepted.
FORMATS: dict[str, tuple[str, str]] = {
    "mp3": ("audio/mpeg", ".mp3"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("audio/mp4", ".m4a"),
    "aac": ("audio/aac", ".aac"),
    "ogg": ("audio/ogg", ".ogg"),
    "flac": ("audio/flac", ".flac"),
    "wav": ("audio/wav", ".wav"),
}
ACCEPTED = "MP3, M4A/AAC, Opus/Ogg, FLAC or WAV"


class UploadError(EarmarkError, ValueError):
    """An upload was refused: not audio, truncated, an unsupported format. The message says why."""


class UploadTooLarge(UploadError):
    """The upload is over ``max_upload_bytes``."""


@dataclass(frozen=True, slots=True)
class AudioCheck:
    duration: float
    codec: str
    mime: str
    extension: str


@dataclass(frozen=True, slots=True)
class UploadResult:
    episode: Episode
    podcast: Podcast
    created: bool  # False: the same file was already in this podcast


# -- receiving -----------------------------------------------------------------------------------


def temp_dir(settings: Settings) -> Path:
    return settings.downloads_dir / TEMP_DIR


def new_temp(settings: Settings) -> Path:
    folder = temp_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{uuid.uuid4().hex}.part"


def too_large(settings: Settings, size: int | None = None) -> UploadTooLarge:
    what = f"{size:,} bytes" if size is not None else "the file"
    return UploadTooLarge(f"{what} is over the upload limit of {settings.max_upload_bytes:,} bytes (max_upload_bytes)")


class TempWriter:
    """Writes chunks to a new temp file, refusing past ``max_upload_bytes`` and hashing as it goes.
    As a context manager it deletes the file unless ``keep()`` was called (an interrupted upload
    leaves nothing)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.path = new_temp(settings)
        self.size = 0
        self._hash = hashlib.sha256()
        self._file = open(self.path, "wb")
        self._kept = False

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.settings.max_upload_bytes:
            raise too_large(self.settings)
        self._hash.update(chunk)
        self._file.write(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()

    def keep(self) -> Path:
        self.close()
        self._kept = True
        return self.path

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> TempWriter:
        return self

    def __exit__(self, *exc) -> None:
        if not self._kept:
            self.discard()


def clean_temp(settings: Settings, max_age: float = TEMP_MAX_AGE) -> int:
    """Delete temp files left by uploads that were killed; returns how many."""
    removed = 0
    cutoff = time.time() - max_age
    for path in temp_dir(settings).glob("*.part"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass
    return removed


# -- checking ------------------------------------------------------------------------------------


def check_audio(path: Path, filename: str) -> AudioCheck:
    """Decode the file's header and first frame (and, where the header states the length, whether
    the audio is really there near the end): the file is what it claims, whatever its name."""
    import av

    from earmark.jobs.asr import probe_audio

    try:
        info = probe_audio(path)
    except AudioError as exc:
        message = str(exc).replace(path.name, filename, 1)
        if "truncated" in message:
            message = message.split("; to fetch it anew", 1)[0] + "; upload the whole file again"
        raise UploadError(message) from None
    try:
        with av.open(str(path)) as container:
            name = container.format.name or ""
    except av.error.FFmpegError as exc:  # pragma: no cover (probe_audio opened it)
        raise UploadError(f"{filename}: not a readable audio file ({exc})") from None
    if name not in FORMATS:
        raise UploadError(f"{filename}: {name or 'this'} files are not accepted; upload {ACCEPTED}")
    mime, extension = FORMATS[name]
    if name == "ogg" and info.codec == "opus":
        extension = ".opus"
    return AudioCheck(info.duration, info.codec, mime, extension)


# -- names ---------------------------------------------------------------------------------------


def _title_from_name(filename: str) -> str:
    stem = Path(filename).stem if "." in filename else filename
    return re.sub(r"[_]+", " ", stem).strip() or "Untitled upload"


def safe_filename(name: str | None) -> str:
    """The name the file was uploaded under, without folders or control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()[:255]
    return base or "upload"


# -- importing -----------------------------------------------------------------------------------


def _store_cover(settings: Settings, tags: Tags, sha256: str) -> str | None:
    """The embedded cover in the artwork cache; its source goes in Episode.image."""
    if not tags.cover:
        return None
    from earmark.artwork import store_original

    try:
        return store_original(settings, f"upload-{sha256[:32]}", tags.cover, tags.cover_type)
    except EarmarkError as exc:  # a broken cover does not refuse the audio
        log.warning("upload %s: cover art not kept: %s", sha256[:12], exc)
        return None


def import_temp(
    library: Library,
    settings: Settings,
    temp: Path,
    *,
    filename: str,
    sha256: str,
    podcast: str | None = None,
    source: str = "web",
    user_id: int = OWNER_ID,
) -> UploadResult:
    """Check ``temp`` (a complete upload), read its tags, and add it as an episode (of ``user_id``'s
    uploads podcast). ``temp`` is gone afterwards: moved into place, or deleted when refused or already there."""
    from earmark.downloads.fetcher import slugify

    filename = safe_filename(filename)
    try:
        check = check_audio(temp, filename)
        tags = read_tags(temp)
        store = UploadStore(library)
        show = store.podcast(podcast, user_id=user_id)
        if (existing := store.find(show.id, sha256)) is not None:
            return UploadResult(library.episode(existing), show, False)
        artwork = _store_cover(settings, tags, sha256)
        title = (tags.title or _title_from_name(filename))[:500]
        about = " — ".join(x for x in (tags.artist, tags.album) if x)
        description = "\n\n".join(x for x in (about, tags.comment) if x)
        size = temp.stat().st_size
        episode = Episode(
            guid=f"earmark-upload:{sha256}",
            title=title,
            published=tags.date or datetime.now(UTC).replace(microsecond=0),
            duration=round(check.duration),
            description=description,
            enclosure_type=check.mime,
            enclosure_length=size,
            image=artwork,
            chapters=tags.chapters,
            persons=[],
        )
        folder = settings.downloads_dir / str(int(show.id))

        def destination(episode_id: int) -> Path:
            return folder / f"{int(episode_id)}-{slugify(title)}{check.extension}"

        episode_id, created = store.add(
            show.id, episode, temp=temp, destination=destination, filename=filename, sha256=sha256,
            source=source, artwork=artwork, artwork_type=tags.cover_type if artwork else None,
        )
        return UploadResult(library.episode(episode_id), library.podcast(show.id), created)
    finally:
        temp.unlink(missing_ok=True)


def import_stream(
    library: Library,
    settings: Settings,
    chunks: Iterable[bytes],
    *,
    filename: str,
    podcast: str | None = None,
    source: str = "cli",
) -> UploadResult:
    """Stream ``chunks`` to a temp file (up to ``max_upload_bytes``), then :func:`import_temp`."""
    with TempWriter(settings) as writer:
        for chunk in chunks:
            writer.write(chunk)
        temp = writer.keep()
    return import_temp(library, settings, temp, filename=filename, sha256=writer.sha256, podcast=podcast, source=source)


def import_file(
    library: Library,
    settings: Settings,
    path: Path,
    *,
    podcast: str | None = None,
    source: str = "cli",
    progress: Callable[[int, int], None] | None = None,
) -> UploadResult:
    """Copy the file at ``path`` in (the original is left where it is) and add it."""
    path = Path(path)
    if not path.is_file():
        raise UploadError(f"{path}: no such file")
    total = path.stat().st_size
    if total > settings.max_upload_bytes:
        raise too_large(settings, total)

    def chunks():
        done = 0
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                done += len(chunk)
                if progress:
                    progress(done, total)
                yield chunk

    return import_stream(library, settings, chunks(), filename=path.name, podcast=podcast, source=source)


def is_upload(library: Library, episode_id: int) -> bool:
    return UploadStore(library).is_upload(episode_id)


# -- the watched folder --------------------------------------------------------------------------

PARTIAL_SUFFIXES = (".part", ".crdownload", ".download", ".tmp", ".partial")  # still being written by something


class FolderWatcher:
    """Imports audio files dropped into ``settings.watch_folder`` (run by ``earmark serve``).

    A polling thread: a file is taken once its size and modification time are the same on two
    looks in a row (a copy still under way keeps growing). Imported files are moved to
    ``imported/`` beside them, refused ones to ``failed/`` with a ``.error.txt`` saying why, so
    nothing is imported twice; the same bytes dropped again give the existing episode."""

    IMPORTED, FAILED = "imported", "failed"

    def __init__(self, settings: Settings, *, podcast: str | None = None):
        if settings.watch_folder is None:
            raise ValueError("no watch_folder in the settings")
        self.settings = settings
        self.folder = Path(settings.watch_folder)
        self.podcast = podcast
        self._seen: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._library: Library | None = None

    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = Library(self.settings.db_path)
        return self._library

    def scan(self) -> list[UploadResult]:
        """One look at the folder: import the files whose size held since the last look."""
        done: list[UploadResult] = []
        try:
            entries = sorted(self.folder.iterdir())
        except OSError as exc:
            log.warning("watch_folder %s: %s", self.folder, exc)
            return done
        present = set()
        for path in entries:
            if path.name.startswith(".") or path.name.lower().endswith(PARTIAL_SUFFIXES):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            if not path.is_file():
                continue
            present.add(path.name)
            mark = (stat.st_size, stat.st_mtime_ns)
            if stat.st_size == 0 or self._seen.get(path.name) != mark:
                self._seen[path.name] = mark  # new or still growing: look again next time
                continue
            del self._seen[path.name]
            if (result := self._import(path)) is not None:
                done.append(result)
        self._seen = {name: mark for name, mark in self._seen.items() if name in present}
        return done

    def _import(self, path: Path) -> UploadResult | None:
        try:
            result = import_file(self.library, self.settings, path, podcast=self.podcast, source="watch")
        except EarmarkError as exc:
            log.warning("watch_folder: %s", exc)
            moved = self._move(path, self.FAILED)
            if moved is not None:
                moved.with_name(moved.name + ".error.txt").write_text(str(exc) + "\n", "utf-8")
            return None
        except OSError as exc:  # the file went away or cannot be read: try again on a later look
            log.warning("watch_folder: %s: %s", path.name, exc)
            return None
        self._move(path, self.IMPORTED)
        log.info("watch_folder: %s → episode %s", path.name, result.episode.id)
        return result

    def _move(self, path: Path, where: str) -> Path | None:
        folder = self.folder / where
        try:
            folder.mkdir(exist_ok=True)
            target = folder / path.name
            n = 1
            while target.exists():
                target = folder / f"{path.stem} ({n}){path.suffix}"
                n += 1
            os.replace(path, target)
            return target
        except OSError as exc:
            log.warning("watch_folder: cannot move %s to %s/: %s", path.name, where, exc)
            return None

    def _run(self) -> None:
        while not self._stop.wait(self.settings.watch_interval):
            try:
                self.scan()
            except Exception:  # a bug must not end the watching
                log.exception("watch_folder: scan failed")

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="earmark-watch-folder", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._library is not None:
            self._library.close()

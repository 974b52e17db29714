"""Tags of an audio file, read with mutagen: title, artist, album, comment, date, embedded cover and
chapters, from ID3 (MP3, WAV), MP4 atoms or Vorbis comments (Ogg, Opus, FLAC). Uploads use them
(earmark/uploads.py) to make an episode of your own audio."""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from earmark.models import Chapter

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Tags:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    comment: str | None = None
    date: datetime | None = None
    cover: bytes | None = None
    cover_type: str | None = None
    chapters: list[Chapter] = field(default_factory=list)


_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def parse_date(text: str | None) -> datetime | None:
    """An ID3/MP4/Vorbis date ("2023", "2023-05-01", "2023-05-01T10:00:00Z") in UTC."""
    match = _DATE.match((text or "").strip())
    if not match:
        return None
    y, mo, d, h, mi, s = (int(v) if v else None for v in match.groups())
    try:
        return datetime(y, mo or 1, d or 1, h or 0, mi or 0, s or 0, tzinfo=UTC)
    except ValueError:
        return None


def _first(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


def read_tags(path: Path) -> Tags:
    """Title, artist, album, comment, date, embedded cover and chapters, from ID3 (MP3, WAV), MP4
    atoms or Vorbis comments (Ogg, Opus, FLAC). A file without tags gives empty Tags."""
    import mutagen

    from earmark.transcripts.publisher_chapters import chapters_from_audio

    tags = Tags()
    try:
        audio = mutagen.File(path)
    except Exception:  # mutagen raises many kinds on odd files; tags are a nicety
        audio = None
    if audio is not None and audio.tags is not None:
        t = audio.tags
        kind = type(t).__name__
        try:
            if kind == "ID3" or hasattr(t, "getall"):
                tags.title = _first(t.get("TIT2") and t["TIT2"].text)
                tags.artist = _first(t.get("TPE1") and t["TPE1"].text)
                tags.album = _first(t.get("TALB") and t["TALB"].text)
                date = t.get("TDRC") or t.get("TDRL") or t.get("TYER")
                tags.date = parse_date(_first(date.text) if date else None)
                comments = t.getall("COMM")
                tags.comment = _first(comments[0].text) if comments else None
                pictures = t.getall("APIC")
                front = [p for p in pictures if p.type == 3] or pictures
                if front:
                    tags.cover, tags.cover_type = bytes(front[0].data), front[0].mime or None
            elif kind == "MP4Tags":
                tags.title, tags.artist = _first(t.get("©nam")), _first(t.get("©ART"))
                tags.album, tags.date = _first(t.get("©alb")), parse_date(_first(t.get("©day")))
                tags.comment = _first(t.get("desc")) or _first(t.get("©cmt"))
                covers = t.get("covr") or []
                if covers:
                    from mutagen.mp4 import MP4Cover

                    tags.cover = bytes(covers[0])
                    tags.cover_type = "image/png" if covers[0].imageformat == MP4Cover.FORMAT_PNG else "image/jpeg"
            else:  # Vorbis comments: keys are case-insensitive
                get = lambda key: _first(t.get(key))  # noqa: E731
                tags.title, tags.artist, tags.album = get("title"), get("artist"), get("album")
                tags.date = parse_date(get("date"))
                tags.comment = get("description") or get("comment")
                pictures = list(getattr(audio, "pictures", []) or [])
                if not pictures and t.get("metadata_block_picture"):
                    from mutagen.flac import Picture

                    pictures = [Picture(base64.b64decode(v)) for v in t["metadata_block_picture"]]
                front = [p for p in pictures if p.type == 3] or pictures
                if front:
                    tags.cover, tags.cover_type = bytes(front[0].data), front[0].mime or None
        except Exception as exc:  # a damaged tag: keep what was read
            log.warning("%s: tags not fully read: %s", path.name, exc)
    tags.chapters = chapters_from_audio(path)
    return tags

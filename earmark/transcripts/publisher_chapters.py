"""Publisher chapters, in order of preference: Podlove ``psc:chapters`` in the feed, the
``podcast:chapters`` JSON document (fetched here, parsed by chapters.py), ID3 CHAP/CTOC or MP4
chapters in the audio file, timestamps listed in the show notes. Chapters generated from the
transcript when the publisher gave none are an AI task (earmark/ai/tasks/chapters.py)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

from earmark.config import Settings
from earmark.errors import ChaptersError
from earmark.models import Chapter, ChapterMark, Episode, EpisodeChapters
from earmark.transcripts.chapters import parse_chapters_json

_TS = r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})"
_LINE_TS_FIRST = re.compile(rf"^\W{{0,3}}[\(\[]?{_TS}[\)\]]?\s*(?:[-–—:|.)]\s*)?(?P<title>\S.*?)\s*$")
_LINE_TS_LAST = re.compile(rf"^(?P<title>\S.*?)\s*[-–—:|(\[]*\s*{_TS}[\)\]]?\s*$")


def _seconds(h: str | None, m: str, s: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s)


def _notes_lines(episode: Episode) -> list[str]:
    text = episode.description_html or episode.description or ""
    if "<" in text:
        text = re.sub(r"(?i)<br\s*/?>|</(p|li|div|h\d)>", "\n", text)
        text = re.sub(r"<[^>]+>", " ", text)
    return [html.unescape(line).strip() for line in text.splitlines() if line.strip()]


def chapters_from_show_notes(episode: Episode) -> list[Chapter]:
    """Lines such as ``00:00 Intro``, ``(1:02:03) Title``, ``[12:34] - Title`` or ``Title 12:34``:
    at least two, starting near the beginning and in increasing order."""
    found: list[Chapter] = []
    for line in _notes_lines(episode):
        match = _LINE_TS_FIRST.match(line)
        if match and int(match.group(3)) < 60:
            title = match["title"]
        else:
            match = _LINE_TS_LAST.match(line)
            if not match or int(match.group(4)) >= 60:
                continue
            title = match["title"].rstrip(" -–—:|([")
        start = _seconds(*match.group(*((1, 2, 3) if match.re is _LINE_TS_FIRST else (2, 3, 4))))
        title = title.strip()
        if title and len(title) <= 200:
            found.append(Chapter(start=float(start), title=title))
    if len(found) < 2 or any(b.start <= a.start for a, b in zip(found, found[1:])):
        return []
    if found[0].start > 600 or (episode.duration and found[-1].start >= episode.duration):
        return []
    return found


def chapters_from_audio(path: str | Path) -> list[Chapter]:
    """ID3 CHAP frames (in CTOC order when a top-level table of contents exists) or MP4 chapters."""
    import mutagen
    from mutagen.id3 import ID3, ID3NoHeaderError

    path = Path(path)
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = None
    except (mutagen.MutagenError, OSError):
        return []
    if tags is not None:
        chaps = {frame.element_id: frame for frame in tags.getall("CHAP")}
        order = list(chaps)
        for toc in tags.getall("CTOC"):
            if toc.flags & 2:  # top-level
                order = [i for i in toc.child_element_ids if i in chaps] or order
                break
        chapters = []
        for element_id in order:
            frame = chaps[element_id]
            title_frame = frame.sub_frames.get("TIT2")
            title = str(title_frame.text[0]) if title_frame and title_frame.text else element_id
            url_frame = next((v for k, v in frame.sub_frames.items() if k.startswith("WXXX")), None)
            chapters.append(Chapter(start=frame.start_time / 1000.0, title=title.strip(),
                                    href=getattr(url_frame, "url", None) or None))
        return sorted(chapters, key=lambda c: c.start)
    try:
        from mutagen.mp4 import MP4

        mp4 = MP4(path)
        return [Chapter(start=float(c.start), title=str(c.title)) for c in (mp4.chapters or [])]
    except Exception:  # not MP4 either: no chapters
        return []


MAX_CHAPTERS_BYTES = 4 * 1024 * 1024  # a chapters document with thousands of chapters is ~1 MB


def fetch_chapters_json(url: str, settings: Settings) -> list[Chapter]:
    from earmark import net

    with net.client(settings) as client:
        content = net.fetch_bytes(client, url, limit=MAX_CHAPTERS_BYTES, what="chapters document",
                                  error=ChaptersError, timeout=settings.http_timeout)
    return parse_chapters_json(content)


def publisher_chapters(episode: Episode, settings: Settings, audio: str | Path | None = None) -> EpisodeChapters | None:
    """The publisher's chapters, in order of preference; None when the publisher gave none."""
    sources: list[tuple[str, Callable[[], list[Chapter]]]] = [("psc", lambda: list(episode.chapters))]
    if episode.chapters_link is not None:
        sources.append(("podcast-chapters", lambda: fetch_chapters_json(episode.chapters_link.url, settings)))
    if audio is not None and Path(audio).is_file():
        sources.append(("id3", lambda: chapters_from_audio(audio)))
    sources.append(("show-notes", lambda: chapters_from_show_notes(episode)))
    for origin, get in sources:
        try:
            found = [c for c in get() if c.title or c.start >= 0]
        except ChaptersError:
            continue  # a broken or unreachable document: try the next source
        if found:
            return EpisodeChapters(_marks(found, origin, episode.duration), "publisher", origin)
    return None


def _marks(chapters: list[Chapter], origin: str, duration: float | None) -> list[ChapterMark]:
    chapters = sorted(chapters, key=lambda c: c.start)
    marks = []
    for n, c in enumerate(chapters):
        end = chapters[n + 1].start if n + 1 < len(chapters) else (float(duration) if duration else None)
        marks.append(ChapterMark(c.start, c.title, end, c.href, c.image, generated=False, origin=origin))
    return marks

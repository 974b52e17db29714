"""Chapters: the publisher's first (Podlove ``psc:chapters`` in the feed, ``podcast:chapters``
JSON, ID3 CHAP/CTOC or MP4 chapters in the audio file, timestamps listed in the show notes);
otherwise generated: topic changes from sentence embeddings and word use (topics.py), the model
asked only about borderline ones, each chapter titled from its own text (reading.py)."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, numbered, structured
from earmark.ai.tasks.reading import Reading, read_sections
from earmark.ai.tasks.topics import Embed as Embedder
from earmark.ai.tasks.topics import topic_changes
from earmark.ai.terms import STOPWORDS, words
from earmark.config import Settings
from earmark.errors import ChaptersError, LLMError
from earmark.models import Chapter, ChapterMark, Episode, EpisodeChapters, Segment, Transcript
from earmark.transcripts.sentences import sentence_units
from earmark.transcripts.timecode import format_clock

# -- publisher chapters ------------------------------------------------------------------------

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
    from earmark.transcripts.chapters import parse_chapters_json

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


# -- generated chapters ------------------------------------------------------------------------

_TOPIC_SCHEMA = {
    "type": "object",
    "properties": {"new_topic": {"type": "boolean"}},
    "required": ["new_topic"],
    "additionalProperties": False,
}
CONTEXT_SENTENCES = 3  # shown each side of a borderline boundary


def _confirm(ctx: Context, sentences: Sequence[Segment], index: int) -> bool:
    """Ask the model whether a borderline point starts a new topic (a few sentences each side)."""
    before = numbered(sentences[max(0, index - CONTEXT_SENTENCES):index])
    after = numbered(sentences[index:index + CONTEXT_SENTENCES])
    messages = [Message("system", ctx.use("system").text),
                Message("user", ctx.use("topic_change").format(before=before, after=after))]
    value = structured(ctx, messages, _TOPIC_SCHEMA, max_tokens=20, what="topic change")
    return bool(value["new_topic"])


def chapter_bounds(ctx: Context, sentences: Sequence[Segment], embed: Embedder | None, *,
                   min_seconds: float | None = None, language: str | None = "en") -> list[int]:
    """Sentence indexes where chapters start (0 first): clear topic changes, and borderline ones
    the model confirms."""
    found = topic_changes(sentences, embed, min_seconds=min_seconds, language=language)
    kept = [c.index for c in found if not c.borderline or _confirm(ctx, sentences, c.index)]
    return [0, *kept]


def _fallback_title(reading: Reading, sentences: Sequence[Segment]) -> str:
    """When the model's title failed its check: the section's most frequent content words."""
    counts = Counter(w for s in sentences[reading.first:reading.last + 1] for w in words(s.text)
                     if w not in STOPWORDS and len(w) > 3)
    top = [w for w, _ in counts.most_common(3)]
    return " ".join(top).capitalize() if top else f"Part at {format_clock(reading.start)}"


def generate_chapters(
    transcript: Transcript | Sequence[Segment], engine: LLMEngine, *, title: str = "",
    min_seconds: float | None = None, embed: Embedder | None = None, ctx: Context | None = None,
    notes: str = "",
) -> EpisodeChapters:
    """Chapters from the transcript: topic changes found from embeddings and word use (the model
    only settles the borderline ones), each chapter titled by the model from its own text."""
    segments = transcript.segments if isinstance(transcript, Transcript) else transcript
    language = transcript.language if isinstance(transcript, Transcript) else "en"
    sentences = sentence_units([s for s in segments if s.text.strip()])
    if not sentences:
        raise LLMError("no chapters to generate: the transcript is empty")
    ctx = ctx or Context(engine, title)
    ctx.grounding(sentences, notes, language=language)
    bounds = chapter_bounds(ctx, sentences, embed, min_seconds=min_seconds, language=language)
    readings = read_sections(ctx, sentences, bounds, notes=notes)
    end = sentences[-1].end
    marks: list[ChapterMark] = []
    for k, first in enumerate(bounds):
        reading = next(r for r in readings if r.first == first)
        chapter_title = reading.title or _fallback_title(reading, sentences)
        if marks and chapter_title.lower() == marks[-1].title.lower():
            ctx.drop("chapters", f"{format_clock(reading.start)} {chapter_title}", "same title as the chapter before: merged")
            continue  # the model sees no new topic here
        marks.append(ChapterMark(round(sentences[first].start, 2), chapter_title, None, generated=True, origin="llm"))
    for k, mark in enumerate(marks):
        mark.end = marks[k + 1].start if k + 1 < len(marks) else round(end, 2)
    marks[0].start = round(min(marks[0].start, sentences[0].start), 2)
    return EpisodeChapters(marks, "generated", "llm", engine.name, engine.model, ctx.prompt_version)

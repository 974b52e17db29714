"""Generated chapters, for episodes whose publisher gave none (the publisher's own are read by
earmark/transcripts/publisher_chapters.py, which comes first): topic changes from sentence
embeddings and word use (topics.py), the model asked only about borderline ones, each chapter
titled from its own text (reading.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, numbered, structured
from earmark.ai.tasks.reading import Reading, read_sections
from earmark.ai.tasks.topics import Embed as Embedder
from earmark.ai.tasks.topics import topic_changes
from earmark.ai.terms import STOPWORDS, words
from earmark.errors import LLMError
from earmark.models import ChapterMark, EpisodeChapters, Segment, Transcript
from earmark.transcripts.sentences import sentence_units
from earmark.transcripts.timecode import format_clock

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

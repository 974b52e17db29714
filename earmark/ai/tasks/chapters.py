"""Generated chapters, for episodes whose publisher gave none (the publisher's own are read by
earmark/transcripts/publisher_chapters.py, which comes first): topic changes from sentence
embeddings and word use (topics.py), each chapter titled by the model from its own text
(reading.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from earmark.ai.llm import LLMEngine
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.reading import Reading, read_sections
from earmark.ai.tasks.topics import Embed as Embedder
from earmark.ai.tasks.topics import topic_changes
from earmark.ai.terms import STOPWORDS, words
from earmark.errors import LLMError
from earmark.models import ChapterMark, EpisodeChapters, Segment, Transcript
from earmark.transcripts.sentences import sentence_units
from earmark.transcripts.timecode import format_clock


def chapter_bounds(sentences: Sequence[Segment], embed: Embedder | None, *, min_seconds: float | None = None,
                   language: str | None = "en") -> list[int]:
    """Sentence indexes where chapters start (0 first): the topic changes."""
    return [0, *(c.index for c in topic_changes(sentences, embed, min_seconds=min_seconds, language=language))]


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
    """Chapters from the transcript: topic changes found from embeddings and word use, each chapter
    titled by the model from its own text."""
    segments = transcript.segments if isinstance(transcript, Transcript) else transcript
    language = transcript.language if isinstance(transcript, Transcript) else "en"
    sentences = sentence_units([s for s in segments if s.text.strip()])
    if not sentences:
        raise LLMError("no chapters to generate: the transcript is empty")
    ctx = ctx or Context(engine, title)
    ctx.grounding(sentences, notes, language=language)
    bounds = chapter_bounds(sentences, embed, min_seconds=min_seconds, language=language)
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

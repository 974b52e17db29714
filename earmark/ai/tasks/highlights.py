"""Highlights: the episode's best moments (3–8 of them, 30–120 s each), aligned to sentences: the
model proposes start/end times, Earmark snaps them to segment boundaries and enforces the bounds."""

from __future__ import annotations

from collections.abc import Sequence

from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.chapters import _ends_sentence
from earmark.ai.tasks.common import Context, chunk_segments, fits, structured
from earmark.errors import LLMError
from earmark.models import Highlight, Segment, Transcript

MIN_SECONDS, MAX_SECONDS = 30.0, 120.0
MIN_COUNT, MAX_COUNT = 3, 8


def _schema(count_min: int, count_max: int) -> dict:
    return {
        "type": "object",
        "properties": {
            "highlights": {
                "type": "array",
                "minItems": count_min,
                "maxItems": count_max,
                "items": {
                    "type": "object",
                    "properties": {
                        "start": {"type": "number", "minimum": 0},
                        "end": {"type": "number", "minimum": 0},
                        "title": {"type": "string", "minLength": 1, "maxLength": 100},
                        "why": {"type": "string", "minLength": 1, "maxLength": 300},
                    },
                    "required": ["start", "end", "title", "why"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["highlights"],
        "additionalProperties": False,
    }


def snap_span(segments: Sequence[Segment], start: float, end: float) -> tuple[int, int] | None:
    """Segment index range [i, j] covering about start–end, starting at a sentence start and ending
    at a sentence end where possible, lasting MIN_SECONDS–MAX_SECONDS; None when impossible."""
    if end < start:
        start, end = end, start
    n = len(segments)
    # the segment the moment starts in (timestamps shown to the model are whole seconds: 1 s slack)
    i = max((k for k in range(n) if segments[k].start <= start + 1.0), default=0)
    # back up (a little) to a sentence start
    for back in range(0, 3):
        if i - back <= 0 or _ends_sentence(segments[i - back - 1].text):
            i -= back
            break
    j = min(range(i, n), key=lambda k: abs(segments[k].end - end))
    while j + 1 < n and segments[j].end - segments[i].start < MIN_SECONDS:
        j += 1
    # prefer ending on a sentence end, if that keeps the span in bounds
    for extra in range(0, 3):
        k = j + extra
        if k < n and _ends_sentence(segments[k].text) and segments[k].end - segments[i].start <= MAX_SECONDS:
            j = k
            break
    while j > i and segments[j].end - segments[i].start > MAX_SECONDS:
        j -= 1
    length = segments[j].end - segments[i].start
    if not MIN_SECONDS <= length <= MAX_SECONDS:
        return None
    return i, j


def find_highlights(
    transcript: Transcript | Sequence[Segment], engine: LLMEngine, *, title: str = "", ctx: Context | None = None,
) -> list[Highlight]:
    segments = [s for s in (transcript.segments if isinstance(transcript, Transcript) else transcript) if s.text.strip()]
    if not segments:
        raise LLMError("no highlights to find: the transcript is empty")
    ctx = ctx or Context(engine, title)
    duration = segments[-1].end - segments[0].start
    possible = int(duration // MIN_SECONDS)
    if possible < 1:
        return []
    want_max = max(1, min(MAX_COUNT, possible))
    want_min = min(MIN_COUNT, want_max)
    count = f"{want_min} to {want_max}" if want_min != want_max else str(want_min)
    instruction = ctx.use("highlights").format(count=count)
    max_tokens = 80 + 90 * want_max
    if fits(ctx, segments, engine.count_tokens(instruction), max_tokens):
        parts = [segments]
    else:
        budget = engine.context_size - ctx.prefix_tokens() - engine.count_tokens(instruction) - max_tokens
        parts = chunk_segments(segments, engine.count_tokens, budget)

    found: list[Highlight] = []
    for part in parts:
        result: list[Highlight] = []

        def check(value: dict, part=part, result=result) -> None:
            result.clear()
            rejected = []
            for item in value["highlights"]:
                span = snap_span(part, item["start"], item["end"])
                if span is None:
                    rejected.append(f"{item['start']:g}–{item['end']:g}")
                    continue
                i, j = span
                clash = [h for h in result if h.start < part[j].end and part[i].start < h.end]
                if clash:
                    # Snapping to 30 s often makes neighbouring picks overlap: move this one to
                    # the first sentence after the moment it collides with, same length.
                    after = max(h.end for h in clash)
                    k = next((k for k in range(len(part)) if part[k].start >= after - 0.01), None)
                    length = max(item["end"] - item["start"], MIN_SECONDS)
                    span = snap_span(part, part[k].start, part[k].start + length) if k is not None else None
                    if span is None or any(h.start < part[span[1]].end and part[span[0]].start < h.end for h in result):
                        continue  # nothing free after it
                    i, j = span
                quote = " ".join(s.text.strip() for s in part[i:j + 1])
                result.append(Highlight(part[i].start, part[j].end, item["title"].strip(), item["why"].strip(), quote))
            if len(result) < min(want_min, len(value["highlights"])) and len(parts) == 1:
                raise ValueError(
                    f"only {len(result)} usable moments; each must lie inside the transcript and last 30 to 120 s"
                    + (f" (unusable: {', '.join(rejected)})" if rejected else "")
                )

        structured(ctx, [*ctx.prefix(part), Message("user", instruction)], _schema(1 if len(parts) > 1 else want_min, want_max),
                   check=check, max_tokens=max_tokens, what="highlights")
        found.extend(result)
    found.sort(key=lambda h: h.start)
    if len(found) > MAX_COUNT:  # several parts: keep an even spread
        step = len(found) / MAX_COUNT
        found = [found[int(k * step)] for k in range(MAX_COUNT)]
    for h in found:
        h.engine, h.model, h.prompt_version = engine.name, engine.model, ctx.prompt_version
    return found

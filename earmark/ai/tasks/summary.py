"""Summary: 2–4 paragraphs and 3–7 key takeaways. A transcript longer than the engine's context is
cut into chunks on segment boundaries (by the engine's own token count); each chunk gives notes and
the notes are combined (again in parts when even the notes are too long)."""

from __future__ import annotations

from collections.abc import Sequence

from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, chunk_segments, clock, fits, structured
from earmark.errors import LLMError
from earmark.models import Segment, Summary, Transcript

SCHEMA = {
    "type": "object",
    "properties": {
        "paragraphs": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 700}, "minItems": 2, "maxItems": 4},
        "takeaways": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 200}, "minItems": 3, "maxItems": 7},
    },
    "required": ["paragraphs", "takeaways"],
    "additionalProperties": False,
}
NOTES_SCHEMA = {
    "type": "object",
    "properties": {"notes": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 10}},
    "required": ["notes"],
    "additionalProperties": False,
}
MAX_TOKENS = 1300  # fits the schema's length bounds (4 × 700 + 7 × 200 characters), so answers end
NOTES_MAX_TOKENS = 500


def _not_blank(value: dict) -> None:
    for key in ("paragraphs", "takeaways"):
        if any(not item.strip() for item in value[key]):
            raise ValueError(f"'{key}' holds an empty item")


def summarize(transcript: Transcript | Sequence[Segment], engine: LLMEngine, *, title: str = "", ctx: Context | None = None) -> Summary:
    segments = list(transcript.segments if isinstance(transcript, Transcript) else transcript)
    if not segments:
        raise LLMError("nothing to summarize: the transcript is empty")
    ctx = ctx or Context(engine, title)
    instruction = ctx.use("summary").text
    if fits(ctx, segments, engine.count_tokens(instruction), MAX_TOKENS):
        value = structured(ctx, [*ctx.prefix(segments), Message("user", instruction)], SCHEMA,
                           check=_not_blank, max_tokens=MAX_TOKENS, what="summary")
    else:
        value = _long(ctx, segments)
    return Summary(
        paragraphs=[p.strip() for p in value["paragraphs"]],
        takeaways=[t.strip() for t in value["takeaways"]],
        engine=engine.name, model=engine.model, prompt_version=ctx.prompt_version,
    )


def _budget(ctx: Context, instruction: str, max_tokens: int) -> int:
    budget = ctx.engine.context_size - ctx.prefix_tokens() - ctx.engine.count_tokens(instruction) - max_tokens
    if budget < 64:
        raise LLMError(f"{ctx.engine.name}: context of {ctx.engine.context_size} tokens is too small to summarize in parts")
    return budget


def _long(ctx: Context, segments: list[Segment]) -> dict:
    notes_prompt = ctx.use("summary_notes").text
    chunks = chunk_segments(segments, ctx.engine.count_tokens, _budget(ctx, notes_prompt, NOTES_MAX_TOKENS))
    notes: list[str] = []
    for n, chunk in enumerate(chunks, 1):
        part = f" (part {n} of {len(chunks)}, {clock(chunk[0].start)}–{clock(chunk[-1].end)})"
        value = structured(ctx, [*ctx.prefix(chunk, part), Message("user", notes_prompt)], NOTES_SCHEMA,
                           max_tokens=NOTES_MAX_TOKENS, what="notes")
        notes.extend(f"[{clock(chunk[0].start)}] {note.strip()}" for note in value["notes"])
    combine = ctx.use("summary_combine").text
    budget = _budget(ctx, combine, MAX_TOKENS)
    # Notes too long for one call: fold them in parts until they fit.
    for _ in range(4):
        text = "\n".join(notes)
        if ctx.engine.count_tokens(text) <= budget:
            break
        folded: list[str] = []
        for group in _group(notes, ctx.engine.count_tokens, budget):
            value = structured(ctx, [*ctx.prefix_text("\n".join(group), " (notes)"), Message("user", notes_prompt)],
                               NOTES_SCHEMA, max_tokens=NOTES_MAX_TOKENS, what="notes")
            folded.extend(value["notes"])
        if len(folded) >= len(notes):
            break
        notes = folded
    return structured(ctx, [*ctx.prefix_text("\n".join(notes), " (notes taken part by part)"), Message("user", combine)],
                      SCHEMA, check=_not_blank, max_tokens=MAX_TOKENS, what="summary")


def _group(lines: list[str], count, budget: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    used = 0
    for line in lines:
        cost = count(line) + 1
        if groups[-1] and used + cost > budget:
            groups.append([])
            used = 0
        groups[-1].append(line)
        used += cost
    return groups

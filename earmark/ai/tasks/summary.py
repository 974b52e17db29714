"""Summary: 2–4 paragraphs and 3–7 key takeaways, written the way a small model writes well.

Map: the episode is read section by section (reading.py: along the chapters, or topic sections
when there are none), each section pointing at its key sentences. Combine: the key sentences,
with their speakers, are the shared prefix of two short calls: one writes the paragraphs, one picks
the takeaways among the sentences by number and restates each — so every takeaway comes from one
transcript sentence and is checked against it. Adverts are left out.

Every paragraph sentence is checked: numbers and names must occur in the transcript or show notes,
no sentence may repeat an earlier one, and none may be cut off; a takeaway's numbers, names and
most of its words must be in its sentence. An answer with problems is asked for once more with them
fed back (with a frequency penalty when it looped); what is still at fault is dropped and recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from earmark.ai.grounding import (
    Source, drop_repeated_sentences, ends_sentence, explain, repeats, sentences, strip_speaker, supported_share,
    whole_sentences,
)
from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, clock, revise, structured
from earmark.ai.tasks.reading import Reading, read_sections
from earmark.ai.tasks.topics import Embed, topic_changes
from earmark.errors import LLMError
from earmark.models import Segment, Summary, Transcript
from earmark.transcripts.sentences import sentence_units

MIN_TAKEAWAYS, MAX_TAKEAWAYS = 3, 7
MIN_SUPPORT = 0.5  # share of a takeaway's content words its sentence must hold


PARAGRAPHS_SCHEMA = {
    "type": "object",
    "properties": {"paragraphs": {"type": "array", "items": {"type": "string", "minLength": 10}}},
    "required": ["paragraphs"],
    "additionalProperties": False,
}


def _paragraphs_schema(count: int) -> dict:
    schema = json.loads(json.dumps(PARAGRAPHS_SCHEMA))
    schema["properties"]["paragraphs"].update(minItems=count, maxItems=count)
    return schema


def _takeaways_schema(notes: int, low: int, high: int) -> dict:
    return {
        "type": "object",
        "properties": {"takeaways": {
            "type": "array", "minItems": low, "maxItems": high,
            "items": {"type": "object", "properties": {"note": {"type": "integer", "minimum": 1, "maximum": notes},
                                                       "text": {"type": "string", "minLength": 8}},
                      "required": ["note", "text"], "additionalProperties": False}}},
        "required": ["takeaways"],
        "additionalProperties": False,
    }


def paragraph_count(duration: float) -> int:
    return 2 if duration < 600 else 3 if duration < 2400 else 4


def sections_for(sentences: Sequence[Segment], chapter_starts: Sequence[float] | None, embed: Embed | None,
                 language: str | None = "en") -> list[int]:
    """Sentence indexes where sections start: at the given chapter starts, else at topic changes."""
    if chapter_starts:
        bounds = {0}
        for t in chapter_starts:
            k = min(range(len(sentences)), key=lambda i: abs(sentences[i].start - t))
            bounds.add(k)
        return sorted(bounds)
    return [0, *(c.index for c in topic_changes(sentences, embed, language=language))]


def summarize(
    transcript: Transcript | Sequence[Segment], engine: LLMEngine, *, title: str = "", ctx: Context | None = None,
    chapter_starts: Sequence[float] | None = None, embed: Embed | None = None, notes: str = "",
) -> Summary:
    segments = transcript.segments if isinstance(transcript, Transcript) else transcript
    language = transcript.language if isinstance(transcript, Transcript) else "en"
    units = sentence_units([s for s in segments if s.text.strip()])
    if not units:
        raise LLMError("nothing to summarize: the transcript is empty")
    ctx = ctx or Context(engine, title)
    source = ctx.grounding(units, notes, language=language)
    readings = read_sections(ctx, units, sections_for(units, chapter_starts, embed, language), notes=notes)
    keys = [(r, k) for r in readings if not r.advert for k in r.key] or [(r, k) for r in readings for k in r.key]
    if not keys:
        raise LLMError("nothing to summarize: no section pointed at a key sentence")
    prefix = [Message("system", ctx.use("system").text),
              Message("user", ctx.use("summary").format(title=title or ctx.title or "untitled",
                                                        notes=_listing(units, keys)))]
    paragraphs = _paragraphs(ctx, prefix, source, paragraph_count(units[-1].end - units[0].start))
    takeaways = _takeaways(ctx, prefix, units, [k for _, k in keys], language)
    if not paragraphs:
        raise LLMError("no sentence of the summary passed the checks")
    return Summary(paragraphs=paragraphs, takeaways=takeaways, engine=engine.name, model=engine.model,
                   prompt_version=ctx.prompt_version)


def _paragraphs(ctx: Context, prefix: list[Message], source, count: int) -> list[str]:
    messages = [*prefix, Message("user", ctx.use("summary_paragraphs").format(count=count))]
    schema = _paragraphs_schema(count)
    max_tokens = 170 * count + 40

    def problems(value: dict) -> list[tuple[str, str]]:
        found = []
        for paragraph in value["paragraphs"]:
            for sentence in sentences(paragraph):
                if bad := source.unsupported(sentence):
                    found.append((sentence, explain(bad)))
        if repeats(value["paragraphs"], n=8):
            found.append(("", "it repeats itself; write each thing once"))
        return found

    value = structured(ctx, messages, schema, max_tokens=max_tokens, what="summary")
    found = problems(value)
    if found:
        again = revise(ctx, messages, schema, value, [f'"{s}": {r}' if s else r for s, r in found],
                       max_tokens=max_tokens, what="summary",
                       frequency_penalty=0.5 if any(not s for s, _ in found) else 0.0)
        if len(problems(again)) <= len(found):
            value, found = again, problems(again)
    unsupported = {s: r for s, r in found if s}
    for sentence, reason in unsupported.items():
        ctx.drop("summary", sentence, reason)
    kept = []
    for paragraph in value["paragraphs"]:
        good = [s for s in sentences(whole_sentences(paragraph)) if s not in unsupported]
        if good:
            kept.append(" ".join(good))
    return drop_repeated_sentences(kept)


def _takeaways(ctx: Context, prefix: list[Message], units: Sequence[Segment], keys: list[int],
               language: str | None) -> list[str]:
    low, high = min(MIN_TAKEAWAYS, len(keys)), min(MAX_TAKEAWAYS, len(keys))
    messages = [*prefix, Message("user", ctx.use("summary_takeaways").format(takeaways=f"{low} to {high}"))]
    schema = _takeaways_schema(len(keys), low, high)

    def problems(value: dict) -> dict[int, str]:
        found = {}
        for n, item in enumerate(value["takeaways"]):
            unit = units[keys[item["note"] - 1]]
            text = item["text"].strip()
            if bad := Source.of(unit.text, unit.speaker or "", ctx.title, language=language).unsupported(text):
                found[n] = f'takeaway {n + 1} {explain(bad)} in sentence {item["note"]}'
            elif not ends_sentence(text):
                found[n] = f"takeaway {n + 1} must be one complete sentence"
            elif supported_share(text, unit.text + " " + (unit.speaker or ""), language) < MIN_SUPPORT:
                found[n] = f"takeaway {n + 1} says things sentence {item['note']} does not"
        return found

    value = structured(ctx, messages, schema, max_tokens=40 * high + 30, what="takeaways")
    found = problems(value)
    if found:
        again = revise(ctx, messages, schema, value, list(found.values()), max_tokens=40 * high + 30, what="takeaways")
        if len(problems(again)) <= len(found):
            value, found = again, problems(again)
    out = []
    for n, item in enumerate(value["takeaways"]):
        text = strip_speaker(item["text"].strip())
        if n in found:
            ctx.drop("summary", text, found[n])
        elif text not in out:
            out.append(text)
    return out


def _listing(units: Sequence[Segment], keys: list[tuple[Reading, int]]) -> str:
    lines, last = [], None
    for n, (reading, k) in enumerate(keys, 1):
        if reading is not last:
            heading = f'"{reading.title}" ' if reading.title else ""
            lines.append(f"Section {heading}({clock(reading.start)}–{clock(reading.end)}):")
            last = reading
        who = f"{units[k].speaker}: " if units[k].speaker else ""
        lines.append(f"[{n}] {who}{units[k].text.strip()}")
    return "\n".join(lines)

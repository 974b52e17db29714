"""Reading an episode section by section: the one pass of the model over the transcript that the
chapters, summary and highlights share. Small models are good at short, extractive steps, so each
call sees one section (a chapter, or part of a long one) and answers four small questions, three of
them by pointing at numbered sentences: a title, whether it is an advert, which sentences state its
key facts, and which is its most interesting one. Pointing costs a few generated tokens where
writing the facts out costs a hundred, and a pointed-at sentence cannot be invented.

The title is checked against the section (its numbers and names must occur in it, or in the show
notes); a title with problems is asked for once more with them fed back, then dropped (and
recorded on the context). The instruction comes first and the section last, so the engine's prompt
cache keeps the shared part across sections.

Readings (and what their checks dropped) are kept in memory for the last few episodes: the
chapters, summary and highlights stages of one job read each section once.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from earmark.ai.grounding import Source, explain
from earmark.ai.llm import Message
from earmark.ai.tasks.common import Context, LLMOutputError, clock, numbered, revise, structured
from earmark.models import Dropped, Segment

MAX_SECTION_TOKENS = 1400  # a longer chapter is read in parts of about this size
MAX_TOKENS = 80
_MEMO: OrderedDict[str, tuple[weakref.ref, Reading, list[Dropped]]] = OrderedDict()
_MEMO_SIZE = 256  # parts (a 30-minute episode has about 15)
_MEMO_LOCK = threading.Lock()


@dataclass(slots=True)
class Reading:
    first: int  # sentence indexes [first, last] of the part read
    last: int
    start: float
    end: float
    title: str
    advert: bool
    key: list[int] = field(default_factory=list)  # sentence indexes of its key facts, in order
    best: int | None = None  # sentence index of its most interesting sentence


def _schema(count: int) -> dict:
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 2},
            "advert": {"type": "boolean"},
            "key": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": count},
                    "minItems": 1, "maxItems": 4},
            "best": {"type": "integer", "minimum": 1, "maximum": count},
        },
        "required": ["title", "advert", "key", "best"],
        "additionalProperties": False,
    }


def parts(sentences: Sequence[Segment], bounds: Sequence[int]) -> list[tuple[int, int]]:
    """Sentence ranges [first, last] to read: each section of ``bounds`` (indexes where sections
    start), a long one cut in parts of at most MAX_SECTION_TOKENS (estimated from characters, so
    every stage cuts the same parts whether the model is loaded yet or not)."""
    edges = [*bounds, len(sentences)]
    out = []
    for a, b in zip(edges, edges[1:]):
        if a >= b:
            continue
        first, used = a, 0
        for k in range(a, b):
            cost = len(sentences[k].text) // 4 + 4
            if used and used + cost > MAX_SECTION_TOKENS:
                out.append((first, k - 1))
                first, used = k, 0
            used += cost
        out.append((first, b - 1))
    return out


def _key(ctx: Context, sentences: Sequence[Segment], first: int, last: int, notes: str, prompts: str) -> str:
    blob = json.dumps([ctx.engine.name, ctx.engine.model, ctx.title, notes, prompts, first,
                       [(round(s.start, 2), s.text, s.speaker) for s in sentences[first:last + 1]]], ensure_ascii=False)
    return hashlib.sha1(blob.encode()).hexdigest()


def read_sections(ctx: Context, sentences: Sequence[Segment], bounds: Sequence[int], *, notes: str = "") -> list[Reading]:
    """One Reading per part of each section, in order. A part read before by the same engine
    (another stage of the same job) is not read again."""
    prompts = "+".join(ctx.use(n).id for n in ("section", "section_text"))
    ranges = parts(sentences, bounds)
    readings = []
    for n, (first, last) in enumerate(ranges):
        key = _key(ctx, sentences, first, last, notes, prompts)
        with _MEMO_LOCK:
            hit = _MEMO.get(key)
            if hit is not None and hit[0]() is ctx.engine:  # the same engine, not one at a reused address
                _MEMO.move_to_end(key)
                readings.append(hit[1])
                ctx.dropped.extend(d for d in hit[2] if d not in ctx.dropped)
                continue
        before = len(ctx.dropped)
        reading = _read(ctx, sentences, first, last, n + 1, len(ranges), notes)
        with _MEMO_LOCK:
            _MEMO[key] = (weakref.ref(ctx.engine), reading, ctx.dropped[before:])
            while len(_MEMO) > _MEMO_SIZE:
                _MEMO.popitem(last=False)
        readings.append(reading)
    return readings


def _read(ctx: Context, sentences: Sequence[Segment], first: int, last: int, n: int, total: int, notes: str) -> Reading:
    chunk = list(sentences[first:last + 1])
    span = f"{clock(chunk[0].start)}–{clock(chunk[-1].end)}"
    system = ctx.use("system").text
    messages = [
        Message("system", system),
        Message("user", ctx.use("section").format(title=ctx.title or "untitled") + "\n\n"
                + ctx.use("section_text").format(part=f"{n} of {total}", span=span, sentences=numbered(chunk))),
    ]
    schema = _schema(len(chunk))
    speakers = " ".join(sorted({s.speaker for s in chunk if s.speaker}))
    source = Source.of("\n".join(s.text for s in chunk), speakers, notes, ctx.title,
                       language=ctx.source.language if ctx.source else "en")

    def problems(value: dict) -> list[str]:
        bad = source.unsupported(value["title"], title=True)
        return [f'the title {explain(bad)} in this section'] if bad else []

    try:
        value = structured(ctx, messages, schema, max_tokens=MAX_TOKENS, what="section reading")
    except LLMOutputError as exc:  # one unreadable part must not cost the episode its chapters
        ctx.drop("chapters", span, f"section not read: {exc}")
        return Reading(first, last, chunk[0].start, chunk[-1].end, "", False, [], None)
    if found := problems(value):
        again = revise(ctx, messages, schema, value, found, max_tokens=MAX_TOKENS, what="section reading")
        if not problems(again):
            value = again
    title = value["title"].strip().strip('"“”.').strip()
    if problems(value) or not title:
        ctx.drop("chapters", title, "; ".join(problems(value)) or "empty title")
        title = ""
    pick = lambda n: n - 1 + first if 1 <= n <= len(chunk) else None  # noqa: E731
    key = sorted({k for k in map(pick, value["key"]) if k is not None})
    return Reading(first, last, chunk[0].start, chunk[-1].end, title, bool(value["advert"]), key, pick(value["best"]))

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
from earmark.ai.tasks.common import Context, LLMOutputError, clock, numbered, revise, structured_many
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
    (another stage of the same job) is not read again; the others are read together (the engine
    decodes them at once where it can, llm.complete_all)."""
    prompts = "+".join(ctx.use(n).id for n in ("section", "section_text"))
    ranges = parts(sentences, bounds)
    readings: list[Reading | None] = [None] * len(ranges)
    keys = [_key(ctx, sentences, first, last, notes, prompts) for first, last in ranges]
    with _MEMO_LOCK:
        for n, key in enumerate(keys):
            hit = _MEMO.get(key)
            if hit is not None and hit[0]() is ctx.engine:  # the same engine, not one at a reused address
                _MEMO.move_to_end(key)
                readings[n] = hit[1]
                ctx.dropped.extend(d for d in hit[2] if d not in ctx.dropped)
    todo = [n for n in range(len(ranges)) if readings[n] is None]
    asks = [_ask(ctx, sentences, *ranges[n], n + 1, len(ranges), notes) for n in todo]
    answers = structured_many(ctx, [a.messages for a in asks], [a.schema for a in asks], max_tokens=MAX_TOKENS,
                              what="section reading")
    for n, ask, answer in zip(todo, asks, answers):  # one at a time, and its retry at once, on one slot
        before = len(ctx.dropped)
        readings[n] = reading = _read(ctx, ask, answer)
        with _MEMO_LOCK:
            _MEMO[keys[n]] = (weakref.ref(ctx.engine), reading, ctx.dropped[before:])
            while len(_MEMO) > _MEMO_SIZE:
                _MEMO.popitem(last=False)
    return readings


@dataclass(slots=True)
class _Ask:
    """One part's call and what its answer is checked against."""

    first: int
    last: int
    chunk: list[Segment]
    span: str
    messages: list[Message]
    schema: dict
    source: Source


def _ask(ctx: Context, sentences: Sequence[Segment], first: int, last: int, n: int, total: int, notes: str) -> _Ask:
    chunk = list(sentences[first:last + 1])
    span = f"{clock(chunk[0].start)}–{clock(chunk[-1].end)}"
    messages = [
        Message("system", ctx.use("system").text),
        Message("user", ctx.use("section").format(title=ctx.title or "untitled") + "\n\n"
                + ctx.use("section_text").format(part=f"{n} of {total}", span=span, sentences=numbered(chunk))),
    ]
    speakers = " ".join(sorted({s.speaker for s in chunk if s.speaker}))
    source = Source.of("\n".join(s.text for s in chunk), speakers, notes, ctx.title,
                       language=ctx.source.language if ctx.source else "en")
    return _Ask(first, last, chunk, span, messages, _schema(len(chunk)), source)


def _read(ctx: Context, ask: _Ask, value: dict | LLMOutputError) -> Reading:
    first, last, chunk = ask.first, ask.last, ask.chunk

    def problems(value: dict) -> list[str]:
        bad = ask.source.unsupported(value["title"], title=True)
        return [f'the title {explain(bad)} in this section'] if bad else []

    if isinstance(value, LLMOutputError):  # one unreadable part must not cost the episode its chapters
        ctx.drop("chapters", ask.span, f"section not read: {value}")
        return Reading(first, last, chunk[0].start, chunk[-1].end, "", False, [], None)
    if found := problems(value):
        again = revise(ctx, ask.messages, ask.schema, value, found, max_tokens=MAX_TOKENS, what="section reading")
        if not problems(again):
            value = again
    title = value["title"].strip().strip('"“”.').strip()
    if problems(value) or not title:
        ctx.drop("chapters", title, "; ".join(problems(value)) or "empty title")
        title = ""
    pick = lambda n: n - 1 + first if 1 <= n <= len(chunk) else None  # noqa: E731
    key = sorted({k for k in map(pick, value["key"]) if k is not None})
    return Reading(first, last, chunk[0].start, chunk[-1].end, title, bool(value["advert"]), key, pick(value["best"]))

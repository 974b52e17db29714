"""What the tasks share: structured output with schema validation and bounded retries (and an
answer cut off by the token limit closed where it stopped), numbered sentence listings, and the
grounding bookkeeping: the episode's source text that AI items are checked against, one more try
with the problems told to the model, and a record of what was dropped and why."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import jsonschema

from earmark.ai.grounding import Source
from earmark.ai.llm import Completion, LLMEngine, Message, Request, complete_all
from earmark.ai.prompts import load_prompt
from earmark.errors import LLMError
from earmark.models import Dropped, Segment

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # one try and two retries with the error fed back


class LLMOutputError(LLMError):
    """The model's answer did not satisfy the task's schema after every retry."""


def clock(seconds: float) -> str:
    """The prompts' time notation, "05:04" / "1:02:03" (the system prompt's [mm:ss]); what people
    read uses transcripts.timecode.format_clock."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


@dataclass(slots=True)
class Usage:
    """What the engine reported over a task's calls (for the benchmark and for logs)."""

    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    retries: int = 0

    def add(self, completion: Completion) -> None:
        self.calls += 1
        self.prompt_tokens += completion.prompt_tokens
        self.cached_tokens += completion.cached_tokens
        self.completion_tokens += completion.completion_tokens
        self.seconds += completion.seconds


@dataclass(slots=True)
class Context:
    """One task run: the engine, what AI texts may draw on (``source``: transcript, show notes,
    the feed's people), the prompts it used (for the stored prompt version), usage, and the items
    its checks dropped."""

    engine: LLMEngine
    title: str = ""
    prompts: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    source: Source | None = None
    dropped: list[Dropped] = field(default_factory=list)
    cut_off: bool = False  # the last structured answer was cut by the token limit, then closed

    def drop(self, task: str, text: str, reason: str) -> None:
        log.info("%s: dropped %r: %s", task, text[:120], reason)
        self.dropped.append(Dropped(task, text, reason))

    def grounding(self, segments: Sequence[Segment], *extra: str, language: str | None = "en") -> Source:
        """The episode's source (made once per context) from its transcript and ``extra`` texts."""
        if self.source is None:
            speakers = " ".join(sorted({s.speaker for s in segments if s.speaker}))
            self.source = Source.of("\n".join(s.text for s in segments), speakers, self.title, *extra, language=language)
        return self.source

    def use(self, name: str):
        prompt = load_prompt(name)
        if prompt.id not in self.prompts:
            self.prompts.append(prompt.id)
        return prompt

    @property
    def prompt_version(self) -> str:
        return "+".join(self.prompts)



def structured(
    ctx: Context,
    messages: list[Message],
    schema: dict,
    *,
    check: Callable[[dict], None] | None = None,
    max_tokens: int = 768,
    temperature: float = 0.0,
    attempts: int = MAX_ATTEMPTS,
    what: str = "answer",
    frequency_penalty: float = 0.0,
    answered: Completion | None = None,
) -> dict:
    """Ask for JSON matching ``schema``; validate it (and run ``check``, which raises ValueError
    for answers the schema cannot rule out). On invalid output, retry with the error told to the
    model, at most ``attempts`` calls in all; then raise LLMOutputError. ``answered``: the first
    call's answer, already made (see structured_many)."""
    conversation = list(messages)
    problem = ""
    for attempt in range(attempts):
        if attempt == 0 and answered is not None:
            completion = answered
        else:  # greedy first (repeatable results); a retry samples a little so it can differ
            heat = temperature if attempt == 0 else max(temperature, 0.3)
            completion = ctx.engine.complete(conversation, schema=schema, max_tokens=max_tokens, temperature=heat,
                                             frequency_penalty=frequency_penalty)
        ctx.usage.add(completion)
        value, problem, cut = _accept(completion.text, schema, check)
        if value is not None:
            if cut:
                log.info("%s: %s cut off; kept what was complete", ctx.engine.name, what)
            ctx.cut_off = cut
            return value
        log.info("%s: invalid %s on attempt %d: %s", ctx.engine.name, what, attempt + 1, problem)
        if attempt + 1 < attempts:
            ctx.usage.retries += 1
            conversation = [
                *messages,
                Message("assistant", completion.text[:4000]),
                Message("user", f"That {what} is invalid: {problem}. Answer again with corrected JSON only."),
            ]
    raise LLMOutputError(f"{ctx.engine.name} ({ctx.engine.model}) gave no valid {what} after {attempts} attempts: {problem}")


def structured_many(
    ctx: Context, asks: list[list[Message]], schema: dict | list[dict], *, max_tokens: int, what: str,
) -> Iterator[dict | LLMOutputError]:
    """:func:`structured` for independent calls, each result (the value, or the LLMOutputError its
    tries ended in) in turn. On an engine with several slots the first tries are decoded together
    (llm.complete_all); on one with a single slot each is made only when its result is asked for,
    so that the caller's retry of an answer comes while the engine's prompt cache holds its prompt."""
    schemas = schema if isinstance(schema, list) else [schema] * len(asks)
    firsts: list[Completion | None] = [None] * len(asks)
    if getattr(ctx.engine, "slots", 1) > 1:
        firsts = complete_all(ctx.engine, [Request(m, s, max_tokens, 0.0) for m, s in zip(asks, schemas)])
    for messages, one, first in zip(asks, schemas, firsts):
        try:
            yield structured(ctx, messages, one, max_tokens=max_tokens, what=what, answered=first)
        except LLMOutputError as exc:
            yield exc


def _accept(text: str, schema: dict, check: Callable[[dict], None] | None) -> tuple[dict | None, str, bool]:
    """(the answer, "", whether it was cut off and closed) when it is valid; else (None, what is wrong, False)."""
    validator = jsonschema.Draft202012Validator(schema)
    try:
        value, cut = json.loads(text), False
    except json.JSONDecodeError as exc:
        value, cut = salvage_json(text), True  # cut off by max_tokens: closed where it stopped
        if value is None or list(validator.iter_errors(value)):
            return None, f"the answer is not valid JSON ({exc.msg} at position {exc.pos})", False
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:  # tell the model every problem (a few), not just the first
        return None, "; ".join(
            f"at {'/'.join(str(p) for p in e.absolute_path) or 'the top level'}: {e.message}" for e in errors[:4]
        ), False
    try:
        if check is not None:
            check(value)
    except ValueError as exc:
        return None, str(exc), False
    return value, "", cut


def salvage_json(text: str):
    """A JSON document cut off mid-way (the token limit), closed where it stopped: the open
    string ended, the open arrays and objects closed. None when even that does not parse. Callers
    trim a cut string to its last whole sentence (grounding.whole_sentences)."""
    stack, in_string, escaped = [], False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append("]" if ch == "[" else "}")
        elif ch in "]}" and stack:
            stack.pop()
    tail = text.rstrip()
    if escaped:
        tail = tail[:-1]
    if not in_string:  # a number cut mid-digits ("best": 1 of 12) is no answer: leave it out
        tail = re.sub(r"[,:\[]?\s*-?\d+(?:\.\d*)?$", "", tail) if re.search(r"\d$", tail) else tail
    closing = ('"' if in_string else "") + "".join(reversed(stack))
    for candidate in (tail + closing, tail.rstrip(",:") + closing):
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    return None


def revise(
    ctx: Context, messages: list[Message], schema: dict, value: dict, problems: list[str], *,
    max_tokens: int, what: str, check: Callable[[dict], None] | None = None, frequency_penalty: float = 0.0,
) -> dict:
    """The one more try a checked answer gets: the model sees its answer and what is wrong with
    it, and answers again (valid JSON, or the first answer stands)."""
    ctx.usage.retries += 1
    feedback = "Problems with that answer: " + "; ".join(problems) + ". Answer again with corrected JSON only."
    conversation = [*messages, Message("assistant", json.dumps(value, ensure_ascii=False)), Message("user", feedback)]
    try:
        return structured(ctx, conversation, schema, check=check, max_tokens=max_tokens, what=what, attempts=1,
                          temperature=0.3, frequency_penalty=frequency_penalty)
    except LLMOutputError:
        return value


def numbered(sentences: Sequence[Segment], first: int = 1) -> str:
    """One line per sentence, "[n] Speaker: text", the speaker named where their turn starts."""
    lines, last = [], object()
    for n, s in enumerate(sentences, first):
        who = f"{s.speaker}: " if s.speaker and s.speaker != last else ""
        last = s.speaker
        lines.append(f"[{n}] {who}{s.text.strip()}")
    return "\n".join(lines)


"""A snip's AI card: a short title, 1–3 key takeaways, the best quote and its speaker, and (for
``auto`` bounds) the start the model picks among the candidate sentence starts. One structured call
through the LLM seam; the answer is checked against a JSON schema and a pydantic model, with bounded
retries (earmark.ai.tasks.common.structured). Store-free: the snips package (snips/service.py)
snaps the bounds, calls ``build_card`` and stores the card."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from earmark.ai.grounding import Source, ends_sentence, explain, strip_speaker
from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, clock, revise, structured
from earmark.models import Provenanced

if TYPE_CHECKING:  # annotations only: importing the snips package here would be an import cycle
    from earmark.snips.boundaries import Sentence, Snap

PROMPT = "snip_card"
CONTEXT_BEFORE = 3  # sentences shown before the earliest candidate start


class CardAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: int | None = None
    title: str = Field(min_length=1, max_length=120)
    takeaways: list[str] = Field(min_length=1, max_length=3)
    quote: str = Field(min_length=1, max_length=1000)
    speaker: str | None = None


@dataclass(slots=True)
class Card(Provenanced):
    title: str
    takeaways: list[str]
    quote: str
    quote_speaker: str | None
    start_index: int | None = None  # the start the model chose (auto bounds), a sentence index
    engine: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    retries: int = 0
    candidates: list[int] = field(default_factory=list)


def card_schema(candidates: Sequence[int] | None) -> dict:
    props: dict = {
        "title": {"type": "string", "minLength": 1, "maxLength": 120},
        "takeaways": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 3},
        "quote": {"type": "string", "minLength": 1, "maxLength": 1000},
        "speaker": {"type": ["string", "null"]},
    }
    required = ["title", "takeaways", "quote", "speaker"]
    if candidates:
        props = {"start": {"type": "integer", "enum": list(candidates)}, **props}
        required = ["start", *required]
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _line(n: int, s: Sentence) -> str:
    who = f" {s.speaker}:" if s.speaker else ""
    return f"S{n} [{clock(s.start)}]{who} {s.text}"


def build_card(
    engine: LLMEngine,
    sentences: Sequence[Sentence],
    snapped: Snap,
    *,
    tapped_at: float,
    podcast: str = "",
    episode: str = "",
    choose_start: bool = True,
) -> Card:
    """Ask the model for the card. ``choose_start``: offer the auto candidates (else the bounds
    are taken as they are, e.g. fixed lengths or the user's own). Raises LLMError (LLMOutputError
    after the retries) when no valid answer comes."""
    candidates = list(snapped.candidates) if choose_start and len(snapped.candidates) > 1 else []
    first = max(0, min([snapped.start_index, *candidates]) - (CONTEXT_BEFORE if candidates else 0))
    shown = range(first, snapped.end_index + 1)
    passage = "\n".join(_line(n, sentences[n]) for n in shown)
    if candidates:
        start_instruction = (
            "Choose where the moment starts so it holds one complete thought: write \"start\", one of the sentence "
            f"numbers {', '.join(str(c) for c in candidates)}."
        )
    else:
        start_instruction = f"The moment runs from sentence S{snapped.start_index} to S{snapped.end_index}."
    ctx = Context(engine, title=episode)
    system = ctx.use("system")
    prompt = ctx.use(PROMPT)
    messages = [
        Message("system", system.text),
        Message(
            "user",
            prompt.format(
                podcast=podcast or "untitled", episode=episode or "untitled", passage=passage,
                tapped=clock(tapped_at), end=snapped.end_index, start_instruction=start_instruction,
            ),
        ),
    ]
    schema = card_schema(candidates)

    def check(value: dict) -> None:
        CardAnswer.model_validate(value)  # pydantic's ValidationError is a ValueError: retried

    value = structured(ctx, messages, schema, check=check, max_tokens=400, what="snip card")
    shown_sentences = [sentences[n] for n in shown]
    source = Source.of("\n".join(s.text for s in shown_sentences),
                       " ".join({s.speaker for s in shown_sentences if s.speaker}), podcast, episode)
    if found := _problems(value, source):
        again = revise(ctx, messages, schema, value, list(found.values()), max_tokens=400, what="snip card", check=check)
        if len(_problems(again, source)) <= len(found):
            value = again
    found = _problems(value, source)  # what still fails is left out (a title falls back to the quote)
    answer = CardAnswer.model_validate(value)
    takeaways = list(dict.fromkeys(strip_speaker(t.strip()) for n, t in enumerate(answer.takeaways)
                                   if n not in found and t.strip()))
    start_index = answer.start if candidates and answer.start in candidates else None
    chosen = range(start_index if start_index is not None else snapped.start_index, snapped.end_index + 1)
    quote, speaker = _place_quote(answer.quote.strip(), answer.speaker, [sentences[n] for n in chosen])
    title = answer.title.strip().strip('"“”')
    if "title" in found:  # a title naming what the passage never says: the quote's opening instead
        words = quote.split()
        title = " ".join(words[:7]) + ("…" if len(words) > 7 else "")
    return Card(
        title=title,
        takeaways=takeaways[:3],
        quote=quote,
        quote_speaker=speaker,
        start_index=start_index,
        engine=engine.name,
        model=engine.model,
        prompt_version=ctx.prompt_version,
        retries=ctx.usage.retries,
        candidates=candidates,
    )


def _problems(value: dict, source: Source) -> dict:
    """Title / takeaway index → why it fails the grounding check."""
    found: dict = {}
    if bad := source.unsupported(value["title"], title=True):
        found["title"] = f"the title {explain(bad)}"
    for n, takeaway in enumerate(value["takeaways"]):
        if bad := source.unsupported(takeaway):
            found[n] = f"takeaway {n + 1} {explain(bad)}"
        elif not ends_sentence(takeaway.strip()):
            found[n] = f"takeaway {n + 1} must be one complete sentence"
    return found


def _place_quote(quote: str, speaker: str | None, sentences: Sequence[Sentence]) -> tuple[str, str | None]:
    """Keep the quote when it is in the passage (its speaker from the transcript when known);
    a paraphrase is replaced by the passage sentence sharing most words with it."""
    if not sentences:
        return quote, speaker
    wanted = _norm(quote)
    for s in sentences:
        if wanted and wanted in _norm(s.text):
            return quote, s.speaker or speaker
    if wanted and wanted in _norm(" ".join(s.text for s in sentences)):
        return quote, speaker
    words = set(wanted.split())
    best = max(sentences, key=lambda s: len(words & set(_norm(s.text).split())))
    return best.text, best.speaker or speaker

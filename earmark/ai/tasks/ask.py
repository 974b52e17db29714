"""Ask the episode: BM25 over overlapping windows of segments picks the passages; the model
answers from them alone, citing passages by their start times (the schema allows no other
times), or says the episode does not tell."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.chapters import _STOP
from earmark.ai.tasks.common import Context, clock, structured
from earmark.models import Answer, Citation, Passage, Segment, Transcript

WINDOW_SECONDS = 45.0
TOP_K = 4
NOT_SAID = "The episode doesn't say."
_WORD = re.compile(r"[a-zà-ÿ0-9']+")

Embedder = Callable[[list[str]], list[list[float]]]


def _tokens(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower()):
        w = w.strip("'")
        if len(w) < 2 or w in _STOP:
            continue
        out.append(w[:-1] if len(w) > 4 and w.endswith("s") else w)
    return out


def passages(segments: Sequence[Segment], window: float = WINDOW_SECONDS) -> list[Passage]:
    """Windows of consecutive segments about ``window`` seconds long, each starting at a segment,
    overlapping by half."""
    out: list[Passage] = []
    n = len(segments)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and segments[j + 1].end - segments[i].start <= window:
            j += 1
        out.append(Passage(segments[i].start, segments[j].end, " ".join(s.text.strip() for s in segments[i:j + 1])))
        if j + 1 >= n:
            break
        # next window starts about half way in
        k = i + 1
        while k <= j and segments[k].start - segments[i].start < window / 2:
            k += 1
        i = k
    return out


def retrieve(segments: Sequence[Segment], question: str, *, k: int = TOP_K, embed: Embedder | None = None) -> list[Passage]:
    """The ``k`` best passages for the question, not overlapping, in time order (BM25; blended
    with embedding similarity when an embedder is given). Passages scoring zero are left out."""
    candidates = passages(segments)
    docs = [_tokens(p.text) for p in candidates]
    query = _tokens(question)
    n = len(docs)
    avg = sum(len(d) for d in docs) / n if n else 0
    df = Counter(t for d in docs for t in set(d))
    k1, b = 1.2, 0.75
    for p, d in zip(candidates, docs):
        tf = Counter(d)
        score = 0.0
        for t in set(query):
            if t in tf:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * tf[t] * (k1 + 1) / (tf[t] + k1 * (1 - b + b * len(d) / (avg or 1)))
        p.score = score
    if embed is not None and candidates:
        vectors = embed([question] + [p.text for p in candidates])
        q = vectors[0]
        top = max((p.score for p in candidates), default=0) or 1.0
        for p, v in zip(candidates, vectors[1:]):
            dot = sum(x * y for x, y in zip(q, v))
            norm = math.sqrt(sum(x * x for x in q) * sum(y * y for y in v)) or 1.0
            p.score = p.score / top + dot / norm
    chosen: list[Passage] = []
    for p in sorted(candidates, key=lambda p: -p.score):
        if p.score <= 0 or len(chosen) >= k:
            break
        if any(p.start < c.end and c.start < p.end for c in chosen):
            continue
        chosen.append(p)
    return sorted(chosen, key=lambda p: p.start)


def _schema(starts: list[float]) -> dict:
    cite = {"enum": starts} if starts else {"type": "number"}
    return {
        "type": "object",
        "properties": {
            "answerable": {"type": "boolean"},
            "answer": {"type": "string", "minLength": 1, "maxLength": 1200},
            "citations": {"type": "array", "items": cite, "maxItems": max(1, len(starts))},
        },
        "required": ["answerable", "answer", "citations"],
        "additionalProperties": False,
    }


def _grounded(cited: list[Passage], found: list[Passage], answer: str) -> list[Passage]:
    """Check the model's citations against its answer: the retrieved passage sharing the most
    words with the answer is cited first (small models often point at the wrong neighbour), and a
    cited passage sharing none of its words is dropped unless nothing else is left."""
    words = set(_tokens(answer))
    overlap = {p.start: len(words & set(_tokens(p.text))) for p in found}
    best = max(found, key=lambda p: overlap[p.start])
    kept = [p for p in cited if overlap[p.start] > 0] or cited
    if overlap[best.start] > 0 and best not in kept:
        kept.insert(0, best)
    return sorted(kept, key=lambda p: -overlap[p.start])


def ask(
    transcript: Transcript | Sequence[Segment], question: str, engine: LLMEngine, *, title: str = "",
    embed: Embedder | None = None, ctx: Context | None = None,
) -> Answer:
    segments = [s for s in (transcript.segments if isinstance(transcript, Transcript) else transcript) if s.text.strip()]
    question = question.strip()
    found = retrieve(segments, question, embed=embed) if question else []
    ctx = ctx or Context(engine, title)
    prompt = ctx.use("ask")
    if not found:  # nothing in the episode shares a word with the question
        return Answer(question, NOT_SAID, False, [], [], engine.name, engine.model, ctx.prompt_version)
    starts = [round(p.start, 2) for p in found]
    listing = "\n\n".join(f"(start {s:g}, [{clock(s)}]) {p.text}" for s, p in zip(starts, found))
    system = ctx.use("system").text
    messages = [Message("system", system),
                Message("user", prompt.format(title=title or "untitled", passages=listing, question=question))]

    def check(value: dict) -> None:
        if value["answerable"] and not value["citations"]:
            raise ValueError("an answerable question needs at least one citation (a passage start time)")
        bad = [c for c in value["citations"] if c not in starts]
        if bad:
            raise ValueError(f"citations must be passage start times from {starts}; got {bad}")

    value = structured(ctx, messages, _schema(starts), check=check, max_tokens=300, what="answer")
    by_start = dict(zip(starts, found))
    citations = []
    if value["answerable"]:
        for p in _grounded([by_start[c] for c in dict.fromkeys(value["citations"])], found, value["answer"]):
            citations.append(Citation(p.start, p.end, p.text))
    answer = value["answer"].strip() if value["answerable"] or value["answer"].strip() else NOT_SAID
    return Answer(question, answer, bool(value["answerable"]), citations, found, engine.name, engine.model, ctx.prompt_version)

"""Ask the episode. Retrieval is hybrid: keyword (stemmed terms, BM25) and meaning (sentence
embeddings), fused by reciprocal rank — over the library's own search index (FTS5 and the stored
window vectors, earmark/search/episode.py) when the episode has one, else over its sentences in
memory. The best few passages, each with a sentence of context either side, are shown to the model
as numbered sentences; it says whether they answer the question, which sentences hold the answer,
and the answer. The citation is those sentences.

The answer is checked: it must cite a sentence (the sentences it copies, whatever numbers the
model gave), the cited sentences (or their neighbours) must share a word with the question, the
answer must say more than the question's own words and give what an English question asks for (a
number for "how many", money for "how much does it cost", a time for "when", what did not happen
for "how many did not …", a name for "who"), its numbers and
names must occur in what it cites, most of what it says beyond the question's own words must be in
the cited sentences — and the model, asked apart with the cited sentences alone, must agree that
they answer the question. Sentences it pastes with nothing of the question in them are left out.
A failing answer is asked for once more: without the sentences it cited, when those cannot answer
(the model apart says so, they share no word with the question, or they lack what it asks for),
else with the problems fed back. If it still fails, the episode "doesn't say" (the attempt is
recorded as dropped)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from earmark.ai.grounding import Source, explain, names, numbers, strip_speaker, supported_share
from earmark.ai.grounding import sentences as split_sentences
from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, clock, revise, structured
from earmark.ai.terms import terms
from earmark.models import Answer, Citation, Passage, Segment, Transcript
from earmark.transcripts.sentences import sentence_units

TOP_K = 4
NEIGHBOURS = 1  # sentences shown either side of a retrieved passage
WINDOW_SENTENCES = 3  # the in-memory retriever's passages
RRF_K = 60
NOT_SAID = "The episode doesn't say."
MIN_SUPPORT = 0.5  # share of the answer's own content words that the cited sentences must hold
# A question a bare "yes" or "no" answers may be answered in its own words ("Did it reopen?" "It reopened.").
_YES_NO = re.compile(r"\s*(?:did|does|do|is|are|was|were|can|could|will|would|has|have|had|should|must)\b", re.I)

class TextEmbedder(Protocol):  # earmark.search.embed.TextEmbedder
    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: list[str]) -> np.ndarray: ...


class Retriever(Protocol):
    def find(self, question: str, k: int) -> list[tuple[float, float]]:
        """Time spans (start, end) of the passages best matching ``question``, best first."""


def rrf(*rankings: Sequence[int]) -> list[int]:
    """Reciprocal rank fusion of lists of item ids (best first)."""
    scores: Counter = Counter()
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] += 1.0 / (RRF_K + rank + 1)
    return [item for item, _ in scores.most_common()]


class SentenceRetriever:
    """In memory: windows of WINDOW_SENTENCES sentences, BM25 on stemmed terms fused with
    embedding similarity (when an embedder is given)."""

    def __init__(self, sentences: Sequence[Segment], embedder: TextEmbedder | None = None, language: str | None = "en"):
        self.language = language
        self.windows = [(k, min(k + WINDOW_SENTENCES, len(sentences)) - 1) for k in range(0, len(sentences), 2)]
        self.spans = [(sentences[a].start, sentences[b].end) for a, b in self.windows]
        self.docs = [terms(" ".join(s.text for s in sentences[a:b + 1]), language) for a, b in self.windows]
        self.texts = [" ".join(s.text for s in sentences[a:b + 1]) for a, b in self.windows]
        self.embedder = embedder
        self._vectors = None

    def _bm25(self, question: str) -> list[int]:
        query = set(terms(question, self.language))
        n = len(self.docs)
        avg = sum(len(d) for d in self.docs) / n if n else 0
        df = Counter(t for d in self.docs for t in set(d))
        scores = []
        for k, d in enumerate(self.docs):
            tf = Counter(d)
            score = sum(
                math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * len(d) / (avg or 1)))
                for t in query if t in tf)
            if score > 0:
                scores.append((score, k))
        return [k for _, k in sorted(scores, reverse=True)]

    def find(self, question: str, k: int) -> list[tuple[float, float]]:
        rankings = [self._bm25(question)]
        if self.embedder is not None and self.texts:
            if self._vectors is None:
                self._vectors = np.asarray(self.embedder.passages(self.texts), dtype=np.float32)
            q = np.asarray(self.embedder.query(question), dtype=np.float32)
            rankings.append([int(i) for i in np.argsort(-(self._vectors @ q))[: 4 * k]])
        return [self.spans[i] for i in rrf(*rankings)[:k]]


CHECK_SCHEMA = {
    "type": "object",
    "properties": {"answers": {"type": "boolean"}},
    "required": ["answers"],
    "additionalProperties": False,
}


def _schema(numbers: list[int]) -> dict:
    return {
        "type": "object",
        "properties": {
            "answerable": {"type": "boolean"},
            "evidence": {"type": "array", "items": {"enum": numbers}, "maxItems": 3},
            "answer": {"type": "string", "minLength": 1},
        },
        "required": ["answerable", "evidence", "answer"],
        "additionalProperties": False,
    }


_MONEY = r"(?:pounds?|euros?|dollars?|pence|cents?|francs?|yen|free)\b|[£€$¥]"
_AMOUNT = (r"(?:\d[\d,.]*|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|\w+ty|hundred"
           r"|thousand|million|few|several|many|couple of)[\s-]+")  # "40 minutes", "fourteen months"; not "this year"
_DURATION = _AMOUNT + r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies)|nights?)\b"
_LENGTH = _AMOUNT + r"(?:(?:kilo|centi|milli)?met(?:re|er)s?|km|miles?|feet|foot|inch(?:es)?|yards?)\b"
_SPEED = r"(?:km/h|kph|mph|knots?)\b|" + _LENGTH + r"\s+(?:an|a|per)\s+(?:hour|second)"
_WHEN = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday"
         r"|wednesday|thursday|friday|saturday|sunday|morning|afternoon|evening|night|noon|midnight|o'clock|spring"
         r"|summer|autumn|winter|today|yesterday|tomorrow|ago|week|month|year|decade|century)\b")
_ANYONE = ({"peopl"}, {"person"}, {"time"})  # "How many people work there?" "It employs 48 staff."
# What an English question asks for, and what its answer must then hold: (question, kind, answer).
# "How many passengers did Lumen Rail carry?" is not answered by "it went from two routes to 11".
_ASKS_FOR = [
    (re.compile(r"^how much\b.*\b(?:cost|costs|pay|paid|price|charge|spend|spent|sell|sold|worth|fee|earn)", re.I),
     "an amount of money", re.compile(_MONEY, re.I)),
    (re.compile(r"^how (?:fast|quickly)\b", re.I), "a speed or a time", re.compile(_SPEED + "|" + _DURATION, re.I)),
    (re.compile(r"^how long\b", re.I), "a length or a time", re.compile(_DURATION + "|" + _LENGTH, re.I)),
    (re.compile(r"^(?:when|what year|which year|in what year|what time)\b", re.I), "a time", re.compile(_WHEN, re.I)),
]


# A question about what did not happen ("How many runners did not finish?") is not answered by
# what did ("Just over 4,300 runners took part."). Not for "why": "Why couldn't the beams be
# patched?" is answered by a reason ("They were badly corroded").
_NEGATED_ASK = re.compile(r"^(?:how (?:many|much)|who|which|what)\b.*\b(?:not|never|\w+n't)\b", re.I)
_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|without|neither|nor|fail\w*|unable|refus\w*|miss\w*"
                       r"|drop(?:ped|s)? out|quit|retired|den(?:y|ies|ied)|cannot|\w+n't)\b", re.I)


def _lacks(question: str, answer: str, cited: str, language: str | None) -> str | None:
    """What the question asks for that the answer does not give (English questions only)."""
    if (language or "en").split("-")[0] != "en":
        return None
    question = question.strip()
    if re.match(r"how (?:many|much|old|far|tall|big|high|deep|heavy)\b", question, re.I) and not numbers(answer, language):
        return "the question asks for a number and the answer gives none"
    if m := re.match(r"how many\s+([\w'-]+)(\s+[\w'-]+)?", question, re.I):  # what it counts must be said
        head = set(terms(m.group(1), language))
        counted = head | set(terms(m.group(2) or "", language))  # "how many old trees": old or trees
        if head and head not in _ANYONE and not counted & set(terms(answer + " " + cited, language)):
            return f'the question asks how many {m.group(1).split()[0]}, and the answer counts something else'
    if re.match(r"who\b", question, re.I) and not names(answer):  # d3: "The company claims rising energy costs."
        return "the question asks who, and the answer names nobody"
    if _NEGATED_ASK.match(question) and not _NEGATION.search(answer + " " + cited):
        return "the question asks about what did not happen, and the answer says what did"
    for asks, kind, holds in _ASKS_FOR:
        if asks.match(question) and not holds.search(answer) and not (kind == "a time" and numbers(answer, language)):
            return f"the question asks for {kind} and the answer gives none"
    return None


def _copies(answer: str, sentence: str, language: str | None) -> bool:
    """Whether the answer repeats the sentence: nearly all of its content words, at least three."""
    return len(terms(sentence, language)) >= 3 and supported_share(sentence, answer, language) >= 0.8


def _to_the_point(answer: str, shown: list[str], asked: set[str], language: str | None) -> str:
    """The answer without the sentences it copies that have nothing of the question in them: the
    model pastes the line before the answer too ("In 2022 I took about 1900 kilograms. I sell …
    the lime honey for 9 pounds." to "How much does a jar of lime honey cost?")."""
    said = split_sentences(answer)
    off = [x for x in said if not asked & set(terms(x, language)) and any(_copies(x, s, language) for s in shown)]
    return " ".join(x for x in said if x not in off) if len(off) < len(said) else answer


def _shown(sentences: Sequence[Segment], spans: list[tuple[float, float]]) -> list[list[int]]:
    """Sentence index runs to show: each span's sentences and a neighbour either side, merged."""
    picked: set[int] = set()
    for start, end in spans:
        inside = [k for k, s in enumerate(sentences) if s.end > start and s.start < end]
        if not inside:
            continue
        lo, hi = max(0, inside[0] - NEIGHBOURS), min(len(sentences) - 1, inside[-1] + NEIGHBOURS)
        picked.update(range(lo, hi + 1))
    runs: list[list[int]] = []
    for k in sorted(picked):
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


def ask(
    transcript: Transcript | Sequence[Segment], question: str, engine: LLMEngine, *, title: str = "",
    embedder: TextEmbedder | None = None, retriever: Retriever | None = None, ctx: Context | None = None,
    notes: str = "",
) -> Answer:
    segments = transcript.segments if isinstance(transcript, Transcript) else transcript
    language = transcript.language if isinstance(transcript, Transcript) else "en"
    sentences = sentence_units([s for s in segments if s.text.strip()])
    question = question.strip()
    ctx = ctx or Context(engine, title)
    prompt = ctx.use("ask")
    retriever = retriever or SentenceRetriever(sentences, embedder, language)
    runs = _shown(sentences, retriever.find(question, TOP_K)) if question and sentences else []
    passages = [Passage(sentences[r[0]].start, sentences[r[-1]].end, " ".join(sentences[k].text for k in r)) for r in runs]
    if not runs:  # nothing in the episode is near the question
        return Answer(question, NOT_SAID, False, [], [], engine.name, engine.model, ctx.prompt_version)

    def shown(skip: set[int]) -> tuple[list[Message], dict, dict[int, int]]:
        """The prompt over the retrieved runs less the sentences in ``skip``, its schema, and which
        sentence each shown number is."""
        number: dict[int, int] = {}
        blocks = []
        for run in runs:
            lines = []
            for k in run:
                if k in skip:
                    continue
                number[len(number) + 1] = k
                s = sentences[k]
                who = f"{s.speaker}: " if s.speaker else ""
                lines.append(f"[{len(number)}] ({clock(s.start)}) {who}{s.text}")
            if lines:
                blocks.append("\n".join(lines))
        messages = [Message("system", ctx.use("system").text),
                    Message("user", prompt.format(title=title or ctx.title or "untitled", passages="\n…\n".join(blocks),
                                                  question=question))]
        return messages, _schema(list(number)), number

    messages, schema, number = shown(set())
    asked = set(terms(question, language))

    def evidence_of(value: dict) -> list[int]:
        """The sentences the answer cites: those it copies where it copies some (the model's numbers
        were seen one line off: it cited [5, 6] and copied 4 and 5), else the ones it names."""
        copied = [k for k in number.values() if _copies(value["answer"], sentences[k].text, language)]
        return copied or list(dict.fromkeys(number[n] for n in value["evidence"] if n in number))

    def problems(value: dict) -> list[str]:
        if not value["answerable"]:
            return []
        cited = evidence_of(value)
        if not cited:
            return ["an answerable question needs the numbers of the sentences that hold the answer"]
        evidence = " ".join(sentences[k].text for k in cited)
        speakers = " ".join({sentences[k].speaker for k in cited if sentences[k].speaker})
        found = []
        if bad := Source.of(evidence, speakers, question, notes, language=language).unsupported(value["answer"]):
            found.append(f"the answer {explain(bad)} in the sentences it cites")
        around = " ".join(sentences[j].text for k in cited for j in (k - 1, k, k + 1) if 0 <= j < len(sentences))
        if asked and not asked & set(terms(around, language)):
            found.append("the cited sentences share no word with the question: they do not answer it; "
                         "cite the sentences that do, or set answerable to false")
        own = [t for t in terms(value["answer"], language) if t not in asked]
        held = set(terms(evidence + " " + speakers, language))
        if lack := _lacks(question, value["answer"], evidence, language):
            found.append(f"{lack}: give it, or set answerable to false")
        if not own and not _YES_NO.match(question):  # "Which variety does the farm grow?" "The farm grows olives."
            found.append("the answer only repeats the question's own words: give what it asks for, "
                         "or set answerable to false")
        elif own and sum(t in held for t in own) / len(own) < MIN_SUPPORT:
            found.append("most of the answer is not in the sentences it cites: cite the sentences that hold it, "
                         "or set answerable to false")
        return found

    def answers_it(value: dict) -> list[str]:
        """The model, asked apart and about the cited sentences alone, agrees they answer it."""
        if not value["answerable"] or problems(value):
            return []
        cited = " ".join(sentences[k].text for k in evidence_of(value))
        check = [Message("system", ctx.use("system").text),
                 Message("user", ctx.use("ask_check").format(question=question, evidence=cited))]
        if structured(ctx, check, CHECK_SCHEMA, max_tokens=12, what="answer check")["answers"]:
            return []
        return ["the cited sentences do not answer the question: cite the ones that do, or set answerable to false"]

    value = structured(ctx, messages, schema, max_tokens=200, what="answer")
    found = problems(value) or answers_it(value)
    cited = evidence_of(value) if value["answerable"] else []
    evidence = " ".join(sentences[k].text for k in cited)
    if found and cited and (any(f.startswith("the cited sentences") for f in found)
                            or _lacks(question, evidence, evidence, language)):
        # The sentences it cites cannot answer the question. Told so, the model cited them again
        # (d3: "Who spoke for the workers?" "The company claims rising energy costs."), so it is
        # asked once more without them.
        ctx.usage.retries += 1
        messages, schema, number = shown(set(cited))
        value = (structured(ctx, messages, schema, max_tokens=200, what="answer") if number
                 else {"answerable": False, "evidence": [], "answer": NOT_SAID})
        found = problems(value) or answers_it(value)
    elif found:
        value = revise(ctx, messages, schema, value, found, max_tokens=200, what="answer")
        found = problems(value) or answers_it(value)
    if found:
        ctx.drop("answer", value["answer"], "; ".join(found))
        value = {"answerable": False, "evidence": [], "answer": NOT_SAID}
    if value["answerable"]:
        pointed = _to_the_point(value["answer"], [sentences[k].text for k in number.values()], asked, language)
        if not _lacks(question, pointed, pointed, language):  # what the question asks for stays in
            value = {**value, "answer": pointed}
    citations = []
    if value["answerable"]:
        for k in evidence_of(value):
            s = sentences[k]
            citations.append(Citation(s.start, s.end, s.text))
    answer = strip_speaker(value["answer"].strip()) if value["answerable"] else NOT_SAID
    return Answer(question, answer, bool(value["answerable"]), citations, passages, engine.name, engine.model,
                  ctx.prompt_version)

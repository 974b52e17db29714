"""Ask the episode. Retrieval is hybrid: keyword (stemmed terms, BM25) and meaning (sentence
embeddings), fused by reciprocal rank — over the library's own search index (FTS5 and the stored
window vectors, earmark/search/episode.py) when the episode has one, else over its sentences in
memory. The best few passages, each with a sentence of context either side, are shown to the model
as numbered sentences.

A small model answers best in short extractive steps, each checked (measured in
bench/bench_quality.py: one step that judged, cited and wrote at once declined half the questions
whose answer it was shown): it picks the one sentence that states the answer (or none); asked apart
with that sentence alone, it must agree the sentence gives the answer; it writes the answer from
that sentence alone — an answer with a number or name the sentence lacks, most of its words not in
the sentence, or nothing the question did not already say is replaced by the sentence itself; and
read beside the question, the answer must answer the question asked, not a neighbouring one. The
citation is that sentence. Any "no" and the episode "doesn't say" (what was turned down is recorded
as dropped)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from earmark.ai.grounding import Source, explain, strip_speaker
from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, structured
from earmark.ai.terms import terms
from earmark.models import Answer, Citation, Passage, Segment, Transcript
from earmark.transcripts.sentences import sentence_units

TOP_K = 4
NEIGHBOURS = 1  # sentences shown either side of a retrieved passage
WINDOW_SENTENCES = 3  # the in-memory retriever's passages
RRF_K = 60
NOT_SAID = "The episode doesn't say."
MIN_SUPPORT = 0.5  # share of the answer's own content words that the cited sentences must hold

class TextEmbedder(Protocol):  # earmark.search.embed.Embedder
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


def _pick_schema(numbers: list[int]) -> dict:
    return {
        "type": "object",
        "properties": {"sentence": {"enum": [0, *numbers]}},
        "required": ["sentence"],
        "additionalProperties": False,
    }


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "minLength": 1}},
    "required": ["answer"],
    "additionalProperties": False,
}


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
    number = {}  # shown number → sentence index
    blocks = []
    for run in runs:
        lines = []
        for k in run:
            number[len(number) + 1] = k
            s = sentences[k]
            who = f"{s.speaker}: " if s.speaker else ""
            lines.append(f"[{len(number)}] {who}{s.text}")
        blocks.append("\n".join(lines))
    system = Message("system", ctx.use("system").text)

    def declined() -> Answer:
        return Answer(question, NOT_SAID, False, [], passages, engine.name, engine.model, ctx.prompt_version)

    def yes(prompt: str, **values) -> bool:
        check = [system, Message("user", ctx.use(prompt).format(question=question, **values))]
        return structured(ctx, check, CHECK_SCHEMA, max_tokens=12, what="answer check")["answers"]

    # 1. Which one sentence states the answer (0: none does).
    pick = [system, Message("user", prompt.format(title=title or ctx.title or "untitled",
                                                  passages="\n…\n".join(blocks), question=question))]
    chosen = structured(ctx, pick, _pick_schema(list(number)), max_tokens=12, what="sentence choice")["sentence"]
    if not chosen:
        return declined()
    cited = sentences[number[chosen]]
    # 2. Asked apart, with that sentence alone: does it give the answer (not just the subject)?
    if not yes("ask_check", evidence=cited.text):
        ctx.drop("answer", cited.text, "the chosen sentence does not answer the question")
        return declined()
    # 3. The answer, from that sentence alone; where it adds what the sentence does not hold (a
    # number, a name, most of its words) or says nothing the question did not, the sentence itself.
    write = [system, Message("user", ctx.use("ask_answer").format(question=question, evidence=cited.text))]
    answer = strip_speaker(structured(ctx, write, ANSWER_SCHEMA, max_tokens=80, what="answer")["answer"].strip())
    speaker = cited.speaker or ""
    asked = set(terms(question, language))
    own = [t for t in terms(answer, language) if t not in asked]
    held = set(terms(f"{cited.text} {speaker}", language))
    if bad := Source.of(cited.text, speaker, question, notes, language=language).unsupported(answer):
        ctx.drop("answer", answer, f"the answer {explain(bad)} in the sentence it cites; the sentence stands")
        answer = cited.text
    elif not own or sum(t in held for t in own) / len(own) < MIN_SUPPORT:
        answer = cited.text
    # 4. The answer, read beside the question: an answer to it, not to a neighbouring question?
    if not yes("ask_answer_check", answer=answer):
        ctx.drop("answer", answer, "the answer does not answer the question asked")
        return declined()
    return Answer(question, answer, True, [Citation(cited.start, cited.end, cited.text)], passages, engine.name,
                  engine.model, ctx.prompt_version)

"""Where the topic changes: topic segmentation over the transcript's sentences that does not rest on
one judgement of a small model.

Each sentence start is scored by how different the talk before it is from the talk after it, in two
independent ways: sentence embeddings (multilingual-e5-small, averaged over a time window each side)
and lexical cohesion (stemmed content words, TextTiling style). The two gap curves are turned into
depth scores (how far each point dips below the peaks around it), standardised and added; a new
turn by another speaker, a question and a transition cue ("let's turn to", "moving on") add a
little, since that is where people change the subject. Boundaries are the best-scoring points at
least ``min_seconds`` apart.

No language model is asked. The bundled one was, on the benchmark's development episodes, about
the 14 points found (9 real changes, 5 within a topic: "That's right."), at about 10 s a question.
Asked "does AFTER start a new topic?" it said yes to all 14, also when asked to name both topics
first; asked "is AFTER still on the same subject?" it said yes to 9, which would have dropped 5 of
the 9 real changes to drop 4 false ones. The cut-off alone does better.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from earmark.ai.terms import terms
from earmark.models import Segment

Embed = Callable[[list[str]], np.ndarray]  # texts → (n, dim) rows, L2-normalised
EMBEDDING_WEIGHT = 0.5
# Weights, window and cut-off were chosen on the benchmark's development episodes
# (bench/bench_quality.py --split dev), never on the held-out ones.

_CUES = re.compile(
    r"\b(let'?s (?:turn|move|talk|switch|shift|get|go|look|dig|come)|mov(?:e|ing) on|turning to|turn(?:ing)? now"
    r"|switch(?:ing)? (?:gears|topics|to)|change (?:the )?(?:subject|topic)|next (?:up|question|topic|story)"
    r"|another (?:thing|topic|story|question)|our (?:next|last|final) (?:story|topic|question)|in other news"
    r"|before we (?:go|wrap|finish)|brought to you by|our sponsor|a word from|that'?s (?:all|it) for"
    r"|thanks? (?:you )?for listening|back to|now,? (?:let'?s|on to|to)|finally,|last(?:ly)?,? (?:let'?s|I want))",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    index: int  # sentence index where the new topic starts
    start: float
    score: float  # standardised depth (+ cues); higher is a clearer change


def default_min_seconds(duration: float) -> float:
    """Shortest chapter: 25 s in a 4-minute episode, up to 90 s in long ones."""
    return max(25.0, min(90.0, duration / 12))


def _window(duration: float) -> float:
    return max(20.0, min(60.0, duration / 6))


def _depth(sims: np.ndarray) -> np.ndarray:
    """TextTiling depth: for each point, how far it dips below the highest similarity reached
    going left and going right without climbing down first."""
    n = len(sims)
    depth = np.zeros(n)
    for i in range(n):
        left = sims[i]
        for j in range(i - 1, -1, -1):
            if sims[j] < left:
                break
            left = sims[j]
        right = sims[i]
        for j in range(i + 1, n):
            if sims[j] < right:
                break
            right = sims[j]
        depth[i] = (left - sims[i]) + (right - sims[i])
    return depth


def _z(values: np.ndarray) -> np.ndarray:
    sd = float(values.std())
    return (values - values.mean()) / sd if sd > 1e-9 else np.zeros_like(values)


def _smooth(values: np.ndarray) -> np.ndarray:
    if len(values) < 3:
        return values
    padded = np.concatenate([values[:1], values, values[-1:]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3


def _blocks(sentences: Sequence[Segment], window: float) -> list[tuple[list[int], list[int]]]:
    """For each sentence start i (i ≥ 1): the sentences in the ``window`` seconds before and after."""
    starts = [s.start for s in sentences]
    out = []
    for i in range(1, len(sentences)):
        t = starts[i]
        left = [k for k in range(i) if starts[k] >= t - window] or [i - 1]
        right = [k for k in range(i, len(sentences)) if starts[k] < t + window] or [i]
        out.append((left, right))
    return out


def _embedding_similarity(vectors: np.ndarray, blocks) -> np.ndarray:
    sims = []
    for left, right in blocks:
        a, b = vectors[left].mean(axis=0), vectors[right].mean(axis=0)
        sims.append(float(a @ b / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0)))
    return np.array(sims)


def _lexical_similarity(sentences: Sequence[Segment], blocks, language: str | None) -> np.ndarray:
    bags = [Counter(terms(s.text, language)) for s in sentences]
    df = Counter(t for bag in bags for t in bag)
    n = len(bags)
    idf = {t: math.log(1 + n / c) for t, c in df.items()}
    sims = []
    for left, right in blocks:
        a: Counter = Counter()
        b: Counter = Counter()
        for k in left:
            a.update(bags[k])
        for k in right:
            b.update(bags[k])
        dot = sum(v * b[t] * idf[t] ** 2 for t, v in a.items() if t in b)
        na = math.sqrt(sum((v * idf[t]) ** 2 for t, v in a.items()))
        nb = math.sqrt(sum((v * idf[t]) ** 2 for t, v in b.items()))
        sims.append(dot / (na * nb) if na and nb else 0.0)
    return np.array(sims)


def _cue_bonus(sentences: Sequence[Segment], i: int) -> float:
    here, before = sentences[i], sentences[i - 1]
    bonus = 0.0
    new_turn = here.speaker is not None and here.speaker != before.speaker
    if new_turn:
        bonus += 0.5
    if _CUES.search(here.text):
        bonus += 1.0
    if here.text.rstrip().endswith("?") and new_turn:
        bonus += 0.25
    return bonus


def _refine(sentences: Sequence[Segment], i: int, reach: int = 2, seconds: float = 15.0) -> int:
    """Peaks are a sentence or two off: move to a nearby transition cue ("let's turn to …"), else
    to the nearest new turn, since a topic usually changes where a speaker starts talking."""
    near = [j for j in (i + o for o in (0, 1, -1, 2, -2)[: 2 * reach + 1])
            if 1 <= j < len(sentences) and abs(sentences[j].start - sentences[i].start) <= seconds]
    for j in near:
        if _CUES.search(sentences[j].text):
            return j
    for j in near:
        if sentences[j].speaker is not None and sentences[j].speaker != sentences[j - 1].speaker:
            return j
    return i


def topic_changes(
    sentences: Sequence[Segment], embed: Embed | None, *, min_seconds: float | None = None,
    language: str | None = "en", cutoff: float = 0.3,
) -> list[Candidate]:
    """Likely topic changes in time order: the points scoring over ``cutoff`` (standard deviations)."""
    n = len(sentences)
    if n < 4:
        return []
    first, last = sentences[0].start, sentences[-1].end
    duration = last - first
    min_seconds = default_min_seconds(duration) if min_seconds is None else min_seconds
    blocks = _blocks(sentences, _window(duration))
    score = _z(_depth(_smooth(_lexical_similarity(sentences, blocks, language))))
    if embed is not None:  # half weight: e5 sees most of one episode as one subject
        vectors = np.asarray(embed([s.text for s in sentences]), dtype=np.float32)
        score = score + EMBEDDING_WEIGHT * _z(_depth(_smooth(_embedding_similarity(vectors, blocks))))
    score = score + np.array([_cue_bonus(sentences, i) for i in range(1, n)])
    chosen: list[Candidate] = []
    for k in np.argsort(-score):
        value = float(score[k])
        if value < cutoff:
            break
        i = _refine(sentences, int(k) + 1)
        t = sentences[i].start
        if t - first < min_seconds or last - t < min_seconds:
            continue
        if any(abs(t - c.start) < min_seconds for c in chosen):
            continue
        chosen.append(Candidate(i, t, value))
    return sorted(chosen, key=lambda c: c.start)

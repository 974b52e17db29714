"""Where a snip starts and ends. Store-free: segments in, times out.

Segments (cues, paragraphs or ASR segments, with word times when known) are first split into
sentences; a snip always starts at a sentence start and ends at a sentence end, so it never cuts a
sentence or a word. Without word times, a segment's words get times spread over the segment by
their length, so a sentence split inside a long cue still falls between two words.

- ``auto``: end at the end of the sentence being spoken at the tap (in a pause: the sentence just
  before); start at a sentence start 20–120 s earlier. An LLM may choose among those candidates
  (``Snap.candidates``); without one, ``fallback_start`` chooses deterministically.
- ``fixed:N`` (N = 30, 60, 90 or 120 seconds): end at the first sentence end at/after the tap, start at the sentence
  start nearest to end − N.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from earmark.models import Segment

MIN_AUTO, MAX_AUTO = 20.0, 120.0  # auto: candidate starts this many seconds before the end
FALLBACK_MIN, FALLBACK_TARGET, FALLBACK_MAX = 30.0, 45.0, 90.0
PAUSE = 1.0  # seconds of silence that count as a pause before a sentence
LONG_SENTENCE = 30.0  # a run without punctuation is cut at a segment end after this long
PROVISIONAL_BEFORE, PROVISIONAL_AFTER = 45.0, 5.0  # bounds before any transcript exists
WINDOW_BEFORE, WINDOW_AFTER = 150.0, 30.0  # what is transcribed around a tap when no transcript exists
CONTEXT = 60.0  # extra transcript read around a window, so its first sentence is whole

_TERMINAL = re.compile(r"[.?!…][\"'”’)\]]*$")


@dataclass(frozen=True, slots=True)
class Token:
    start: float
    end: float
    text: str
    speaker: str | None
    segment_end: bool  # last word of its segment


@dataclass(slots=True)
class Sentence:
    start: float
    end: float
    text: str
    speaker: str | None = None
    turn: bool = False  # begins a speaker turn (the speaker differs from the sentence before)
    gap_before: float = 0.0  # seconds of silence before it


@dataclass(slots=True)
class Snap:
    start: float
    end: float
    excerpt: str
    end_index: int  # sentence the snip ends with
    start_index: int
    candidates: list[int] = field(default_factory=list)  # auto: sentence indices the start may move to


FIXED_LENGTHS = (30, 60, 90, 120)  # seconds: the lengths the settings, CLI and API offer


def parse_boundary(value: str | None) -> tuple[str, float | None]:
    """("auto", None) or ("fixed", seconds). Raises ValueError for anything else."""
    value = (value or "auto").strip().lower()
    if value == "auto":
        return "auto", None
    kind, _, seconds = value.partition(":")
    if kind == "fixed" and seconds in {str(n) for n in FIXED_LENGTHS}:
        return "fixed", float(seconds)
    raise ValueError(f"boundary must be 'auto' or one of {', '.join(f'fixed:{n}' for n in FIXED_LENGTHS)}, not {value!r}")


def _tokens(segments: Sequence[Segment]) -> list[Token]:
    tokens: list[Token] = []
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.words:
            words = [(w.start, w.end, w.text.strip()) for w in seg.words if w.text.strip()]
        else:
            parts = seg.text.split()
            total = sum(len(p) + 1 for p in parts) or 1
            span = max(0.0, seg.end - seg.start)
            words, at = [], seg.start
            for p in parts:
                width = span * (len(p) + 1) / total
                words.append((at, at + width, p))
                at += width
        for n, (start, end, text) in enumerate(words):
            tokens.append(Token(start, max(start, end), text, seg.speaker, n == len(words) - 1))
    return tokens


def split_sentences(segments: Sequence[Segment]) -> list[Sentence]:
    """Sentences across segments: a sentence ends at . ? ! (or …), at a change of speaker, or at a
    segment end once it has run ``LONG_SENTENCE`` seconds without punctuation."""
    sentences: list[Sentence] = []
    current: list[Token] = []

    def close() -> None:
        if not current:
            return
        previous = sentences[-1] if sentences else None
        speaker = current[0].speaker
        sentences.append(
            Sentence(
                start=round(current[0].start, 3),
                end=round(current[-1].end, 3),
                text=" ".join(t.text for t in current),
                speaker=speaker,
                turn=previous is None or (speaker is not None and speaker != previous.speaker),
                gap_before=round(current[0].start - previous.end, 3) if previous else current[0].start,
            )
        )
        current.clear()

    for token in _tokens(segments):
        if current and token.speaker != current[-1].speaker:
            close()
        current.append(token)
        if _TERMINAL.search(token.text) or (token.segment_end and token.end - current[0].start >= LONG_SENTENCE):
            close()
    close()
    return sentences


def excerpt(sentences: Sequence[Sentence], start: float, end: float) -> str:
    """The text of the sentences lying within [start, end] (a little slack for rounding)."""
    return " ".join(s.text for s in sentences if s.start >= start - 0.05 and s.end <= end + 0.05)


def overlap_excerpt(sentences: Sequence[Sentence], start: float, end: float) -> str:
    """For bounds a user set (possibly inside sentences): every sentence they touch."""
    return " ".join(s.text for s in sentences if s.end > start and s.start < end)


def _tapped(sentences: Sequence[Sentence], position: float) -> int:
    """The sentence being spoken at ``position``; in a pause, the one before; before any speech, the first."""
    index = 0
    for n, s in enumerate(sentences):
        if s.start <= position:
            index = n
        else:
            break
    return index


def auto_candidates(sentences: Sequence[Sentence], end_index: int) -> list[int]:
    """Sentence indices whose start lies 20–120 s before the end sentence's end. When none does
    (the snip is near the episode's start, or the sentences are very long), the longest starts
    within 120 s, or the end sentence itself."""
    end = sentences[end_index].end
    window = [j for j in range(end_index + 1) if MIN_AUTO <= end - sentences[j].start <= MAX_AUTO]
    if window:
        return window
    shorter = [j for j in range(end_index + 1) if end - sentences[j].start < MIN_AUTO]
    return shorter[:1] or [end_index]


def fallback_start(sentences: Sequence[Sentence], end_index: int, candidates: Sequence[int]) -> int:
    """The deterministic choice: walking back from 30 s before the end (up to 90 s), the first
    sentence that begins a speaker turn or follows a pause; else the candidate nearest 45 s."""
    end = sentences[end_index].end
    for j in sorted(candidates, reverse=True):
        length = end - sentences[j].start
        if FALLBACK_MIN <= length <= FALLBACK_MAX and (sentences[j].turn or sentences[j].gap_before >= PAUSE):
            return j
    return min(candidates, key=lambda j: (abs(end - sentences[j].start - FALLBACK_TARGET), -j))


def snap(
    segments_or_sentences: Sequence[Segment] | Sequence[Sentence], position: float, boundary: str | None = "auto"
) -> Snap | None:
    """Snap a tap at ``position`` to sentence bounds; None when there is no text at all."""
    sentences = _as_sentences(segments_or_sentences)
    if not sentences:
        return None
    kind, length = parse_boundary(boundary)
    if kind == "auto":
        end_index = _tapped(sentences, position)
        candidates = auto_candidates(sentences, end_index)
        start_index = fallback_start(sentences, end_index, candidates)
    else:
        assert length is not None
        end_index = next((n for n, s in enumerate(sentences) if s.end >= position), len(sentences) - 1)
        target = sentences[end_index].end - length
        start_index = min(range(end_index + 1), key=lambda j: (abs(sentences[j].start - target), -j))
        candidates = []
    return _result(sentences, start_index, end_index, candidates)


def choose_start(sentences: Sequence[Sentence], snapped: Snap, index: int) -> Snap:
    """The snap with its start moved to candidate ``index`` (the LLM's pick)."""
    if index not in snapped.candidates:
        raise ValueError(f"sentence {index} is not one of the candidate starts")
    return _result(sentences, index, snapped.end_index, snapped.candidates)


def resnap(segments_or_sentences: Sequence[Segment] | Sequence[Sentence], start: float, end: float) -> Snap | None:
    """Bounds found on one transcript (a window's ASR) moved onto another (the full transcript):
    the nearest sentence start to ``start`` and the nearest sentence end to ``end``. Idempotent."""
    sentences = _as_sentences(segments_or_sentences)
    if not sentences:
        return None
    end_index = min(range(len(sentences)), key=lambda n: (abs(sentences[n].end - end), n))
    start_index = min(range(end_index + 1), key=lambda n: (abs(sentences[n].start - start), -n))
    return _result(sentences, start_index, end_index, [])


def provisional(position: float, duration: float | None = None) -> tuple[float, float]:
    """Bounds before any transcript: [position − 45, position + 5], inside the episode."""
    position = max(0.0, position)
    if duration:
        position = min(position, float(duration))
    start = max(0.0, position - PROVISIONAL_BEFORE)
    end = position + PROVISIONAL_AFTER
    if duration:
        end = min(end, float(duration))
    if end <= start:
        end = start + PROVISIONAL_AFTER
    return round(start, 3), round(end, 3)


def window(position: float, duration: float | None = None) -> tuple[float, float]:
    """The stretch of audio transcribed for a tap at ``position`` when no transcript exists."""
    lo = max(0.0, position - WINDOW_BEFORE)
    hi = position + WINDOW_AFTER
    if duration:
        hi = min(hi, float(duration))
        lo = min(lo, max(0.0, hi - 1.0))
    return round(lo, 3), round(max(hi, lo + 1.0), 3)


def _as_sentences(items) -> list[Sentence]:
    items = list(items)
    if items and isinstance(items[0], Sentence):
        return items
    return split_sentences(items)


def _result(sentences: Sequence[Sentence], start_index: int, end_index: int, candidates: list[int]) -> Snap:
    start, end = sentences[start_index].start, sentences[end_index].end
    return Snap(start, end, excerpt(sentences, start, end), end_index, start_index, candidates)

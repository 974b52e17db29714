"""Word-level timings → readable sentence segments that keep their words."""

from __future__ import annotations

import re

from earmark.models import Segment, Word

_SENTENCE_END = re.compile(r"[.!?…。？！][\"'”’)\]]*$")
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "e.g.", "i.e."}
_ATTACHES_LEFT = re.compile(r"[.,!?;:…%)\]”’]+")

PAUSE_S = 2.0  # a silence this long ends a segment even without punctuation
MAX_WORDS = 80  # unpunctuated text still breaks into lines a reader can follow


def join_words(texts: list[str]) -> str:
    """Words joined by spaces, except that a lone punctuation token ("podcast ." in Buzzsprout's
    word lists) sticks to the word before it."""
    out = ""
    for text in texts:
        if out and not _ATTACHES_LEFT.fullmatch(text):
            out += " "
        out += text
    return out


def ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text)) and text.lower() not in _ABBREVIATIONS


def group_words(
    words: list[tuple[str | None, Word]], pause: float = PAUSE_S, max_words: int = MAX_WORDS
) -> list[Segment]:
    """Split before a speaker change or a long pause, and after sentence-ending punctuation."""
    segments: list[Segment] = []
    current: list[Word] = []
    speaker: str | None = None

    def flush() -> None:
        if current:
            text = join_words([w.text for w in current])
            segments.append(
                Segment(
                    current[0].start,
                    max(current[-1].end, current[0].start),
                    text,
                    speaker,
                    list(current),
                )
            )
            current.clear()

    for who, word in words:
        if current and (who != speaker or word.start - current[-1].end > pause):
            flush()
        if not current:
            speaker = who
        current.append(word)
        if ends_sentence(word.text) or len(current) >= max_words:
            flush()
    flush()
    return segments


_INNER_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")
MAX_SENTENCE_SECONDS = 40.0  # a run-on "sentence" (no punctuation) still breaks into readable units


def _split_segment(seg: Segment) -> list[Segment]:
    """A segment holding several sentences, cut into one segment per sentence: at the words when
    the segment has them, else at the punctuation, times shared out by length."""
    if seg.words:
        out, current = [], []
        for word in seg.words:
            current.append(word)
            if ends_sentence(word.text):
                out.append(current)
                current = []
        if current:
            out.append(current)
        if len(out) == 1:
            return [seg]
        return [Segment(ws[0].start if k else seg.start, ws[-1].end if k < len(out) - 1 else seg.end,
                        join_words([w.text for w in ws]), seg.speaker, ws, seg.label) for k, ws in enumerate(out)]
    parts = [p.strip() for p in _INNER_END.split(seg.text) if p.strip()]
    if len(parts) <= 1:
        return [seg]
    total = sum(len(p) for p in parts)
    out, t = [], seg.start
    for part in parts:
        length = (seg.end - seg.start) * len(part) / total
        out.append(Segment(t, t + length, part, seg.speaker, [], seg.label))
        t += length
    return out


def sentence_units(segments: list[Segment]) -> list[Segment]:
    """The transcript as sentences, whatever its segments were: subtitle cues that stop
    mid-sentence are joined (same speaker, up to ``MAX_SENTENCE_SECONDS``), segments holding
    several sentences are split. The understanding tasks read and cite these units."""
    pieces = [p for seg in segments if seg.text.strip() for p in _split_segment(seg)]
    units: list[Segment] = []
    for piece in pieces:
        last = units[-1] if units else None
        if (last is not None and not ends_sentence(last.text.rstrip()) and last.speaker == piece.speaker
                and piece.end - last.start <= MAX_SENTENCE_SECONDS):
            units[-1] = Segment(last.start, piece.end, f"{last.text.rstrip()} {piece.text.strip()}", last.speaker,
                                last.words + piece.words, last.label)
        else:
            units.append(Segment(piece.start, piece.end, piece.text.strip(), piece.speaker, list(piece.words), piece.label))
    return units

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

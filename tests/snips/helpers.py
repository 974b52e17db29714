"""Transcripts with known sentences for the snip tests."""

from __future__ import annotations

from earmark.models import Segment, Word

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"]


def sentence_text(n: int, words: int) -> str:
    body = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(words - 1))
    return f"Sentence{n} {body}."


def transcript(count: int = 60, *, words: int = 8, word_seconds: float = 0.5, gap: float = 0.3,
               pauses: dict[int, float] | None = None, speakers: dict[int, str] | None = None,
               start: float = 0.0) -> tuple[list[Segment], list[tuple[float, float, str]]]:
    """One segment per sentence, with word times. Returns (segments, [(start, end, text)] per sentence).
    ``pauses``: extra silence before sentence n; ``speakers``: the speaker from sentence n on."""
    segments, truth = [], []
    at = start
    speaker = "Host"
    for n in range(count):
        at += (pauses or {}).get(n, 0.0)
        speaker = (speakers or {}).get(n, speaker)
        text = sentence_text(n, words)
        ws = []
        for i, w in enumerate(text.split()):
            ws.append(Word(round(at + i * word_seconds, 3), round(at + (i + 1) * word_seconds - 0.05, 3), w))
        seg = Segment(ws[0].start, ws[-1].end, text, speaker, ws)
        segments.append(seg)
        truth.append((seg.start, seg.end, text))
        at = ws[-1].end + gap
    return segments, truth

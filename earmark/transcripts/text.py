"""Plain-text transcripts: paragraphs, each optionally opened by a time stamp and/or a speaker.

Understood openings: ``[00:00:53] Sarah: text`` (what ``write.to_text`` writes), ``00:53 text``,
``(0:53) Sarah: text``, and header lines ``Sarah (00:00:53):`` / ``Sarah 0:53`` (Rev, Otter).
A paragraph without a stamp starts where the one before it did; each ends where the next starts.
"""

from __future__ import annotations

import re

from earmark.errors import TranscriptError
from earmark.models import Segment
from earmark.transcripts.speakers import is_speaker_label, label_segments
from earmark.transcripts.timecode import parse_clock

_CLOCK = r"\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_STAMP_FIRST = re.compile(rf"^[\[(]?({_CLOCK})[\])]?(?:\s*[-–—]\s*|\s+|$)")
_HEADER = re.compile(rf"^([^\d\s:][^:\n]*?)\s*[\[(]?({_CLOCK})[\])]?\s*:?\s*(?:\n|$)")


def split_paragraphs(text: str) -> list[str]:
    """Blank-line paragraphs; a file with none (one turn per line) is split per line."""
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    if len(paragraphs) == 1 and paragraphs[0].count("\n") >= 2:
        paragraphs = [line.strip() for line in paragraphs[0].split("\n") if line.strip()]
    return paragraphs


def opening(paragraph: str) -> tuple[float | None, str | None, str]:
    """(stamp, speaker from a header line, the rest) of one paragraph."""
    m = _STAMP_FIRST.match(paragraph)
    if m:
        return parse_clock(m.group(1)), None, paragraph[m.end() :]
    m = _HEADER.match(paragraph)
    if m and is_speaker_label(m.group(1).strip()):
        return parse_clock(m.group(2)), m.group(1).strip(), paragraph[m.end() :]
    return None, None, paragraph


def timed_items(
    openings: list[tuple[float | None, str | None, str]],
) -> list[tuple[float, float, str, str | None]]:
    """Fill missing starts from the paragraph before; end each item at the next start."""
    starts: list[float] = []
    last = 0.0
    for stamp, _, _ in openings:
        if stamp is not None and stamp >= last:
            last = stamp
        starts.append(last)
    # Starts never go down, so walking back, the last larger start seen is the next one.
    ends: list[float] = []
    following: float | None = None
    previous: float | None = None
    for start in reversed(starts):
        if previous is not None and previous > start:
            following = previous
        ends.append(following if following is not None else start)
        previous = start
    ends.reverse()
    return [
        (start, end, body, speaker)
        for start, end, (_, speaker, body) in zip(starts, ends, openings, strict=True)
    ]


def read_text(text: str) -> list[Segment]:
    segments = label_segments(timed_items([opening(p) for p in split_paragraphs(text)]))
    if not segments:
        raise TranscriptError("plain-text transcript has no text")
    return segments

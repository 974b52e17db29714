"""Timed blocks shared by SRT and WebVTT: an optional id line, ``start --> end``, text lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from earmark.transcripts.timecode import parse_clock

# Both notations: 00:00:02,400 (SRT) and 00:02.400 / 00:00:02.400 (VTT); settings may follow.
_TIMING = re.compile(
    r"^\s*(\d+(?::\d{1,2}){1,2}(?:[.,]\d+)?)\s*-->\s*(\d+(?::\d{1,2}){1,2}(?:[.,]\d+)?)(?:\s.*)?$"
)


@dataclass(slots=True)
class Cue:
    start: float
    end: float
    text: str  # raw lines joined by "\n", markup still in


def is_timing_line(line: str) -> bool:
    return _TIMING.match(line) is not None


def read_cues(text: str) -> list[Cue]:
    """Every block that has a timing line; blocks without one (WEBVTT header, NOTE, STYLE,
    REGION, stray numbers) are skipped. Cues come back sorted by start, end never before start."""
    cues: list[Cue] = []
    for block in re.split(r"\n[ \t]*\n", text):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            m = _TIMING.match(line)
            if m:
                start, end = parse_clock(m.group(1)), parse_clock(m.group(2))
                if start is not None and end is not None:
                    body = "\n".join(lines[i + 1 :])
                    cues.append(Cue(start, max(start, end), body))
                break
    cues.sort(key=lambda c: c.start)  # stable: equal starts keep document order
    return cues

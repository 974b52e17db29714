"""WebVTT: ``<v Name>`` voice tags, and inline ``Name:`` labels in cues without one."""

from __future__ import annotations

import re

from earmark.errors import TranscriptError
from earmark.models import Segment
from earmark.transcripts.cues import read_cues
from earmark.transcripts.markup import strip_markup
from earmark.transcripts.speakers import label_segments

_VOICE = re.compile(r"<v(?:\.[\w.-]+)?[ \t]+([^>]*)>")
_LANGUAGE = re.compile(r"^Language:\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\s*$", re.M)


def read_vtt(text: str) -> list[Segment]:
    # A missing "WEBVTT" header is tolerated: files in the wild lack it; the cues are what matter.
    cues = read_cues(text)
    if not cues:
        raise TranscriptError("no WebVTT cues found (no '00:00.000 --> 00:01.000' timing lines)")
    voiced = any(_VOICE.search(c.text) for c in cues)
    items: list[tuple[float, float, str, str | None]] = []
    for cue in cues:
        items.extend(
            _voice_items(cue.start, cue.end, cue.text)
            if voiced
            else [(cue.start, cue.end, strip_markup(cue.text), None)]
        )
    return label_segments(items)


def vtt_language(text: str) -> str | None:
    """The ``Language:`` header some producers (YouTube) write before the first cue."""
    header = text.split("\n\n", 1)[0]
    m = _LANGUAGE.search(header)
    return m.group(1) if m else None


def _voice_items(start: float, end: float, raw: str) -> list[tuple[float, float, str, str | None]]:
    """One item per voice span; a cue holding several voices shares its time by characters."""
    marks = list(_VOICE.finditer(raw))
    if not marks:
        return [(start, end, strip_markup(raw), None)]
    # (time from, text from, text to, speaker): a span's time starts at its tag.
    spans = []
    if strip_markup(raw[: marks[0].start()]).strip():
        spans.append((0, 0, marks[0].start(), None))
    for i, m in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(raw)
        name = " ".join(strip_markup(m.group(1)).split()) or None
        spans.append((m.start() if spans else 0, m.end(), stop, name))
    size, span = len(raw), end - start
    return [
        (
            round(start + span * t / size, 3),
            end if b == size else round(start + span * b / size, 3),
            strip_markup(raw[a:b]),
            name,
        )
        for t, a, b, name in spans
    ]

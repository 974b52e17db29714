"""SubRip (.srt): numbered cues, ``00:00:02,400 --> 00:00:04,799``, speaker as ``Name:`` text."""

from __future__ import annotations

from earmark.errors import TranscriptError
from earmark.models import Segment
from earmark.transcripts.cues import read_cues
from earmark.transcripts.markup import strip_markup
from earmark.transcripts.speakers import label_segments


def read_srt(text: str) -> list[Segment]:
    cues = read_cues(text)
    if not cues:
        raise TranscriptError("no SRT cues found (no '00:00:00,000 --> 00:00:01,000' timing lines)")
    return label_segments([(c.start, c.end, strip_markup(c.text), None) for c in cues])

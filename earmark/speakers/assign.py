"""Give ASR segments (and their words) the speaker of the turns they overlap, splitting a segment
where its words show a turn change."""

from __future__ import annotations

from earmark.models import Segment, Word
from earmark.speakers.diarize import Turn


def _speaker_at(turns: list[Turn], start: float, end: float) -> int | None:
    """The turn overlapping [start, end] most; the nearest one when none overlaps."""
    if not turns:
        return None
    best, overlap = None, 0.0
    for t in turns:
        o = min(end, t.end) - max(start, t.start)
        if o > overlap:
            best, overlap = t.speaker, o
    if best is not None:
        return best
    mid = (start + end) / 2
    return min(turns, key=lambda t: min(abs(mid - t.start), abs(mid - t.end))).speaker


def label(speaker: int | None) -> str | None:
    return None if speaker is None else f"Speaker {speaker + 1}"


def assign_speakers(segments: list[Segment], turns: list[Turn], *, min_words: int = 2) -> list[Segment]:
    """Segments labelled "Speaker N" (N = turn speaker + 1); a segment whose words fall in
    different turns is split there, as long as each part keeps ``min_words`` words."""
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(Segment(seg.start, seg.end, seg.text, label(_speaker_at(turns, seg.start, seg.end)), []))
            continue
        who = [_speaker_at(turns, w.start, w.end) for w in seg.words]
        # runs of words by speaker; runs too short to stand alone join the previous (or next) one
        runs: list[list[int]] = []
        for k, s in enumerate(who):
            if runs and who[runs[-1][0]] == s:
                runs[-1].append(k)
            else:
                runs.append([k])
        merged: list[list[int]] = []
        for run in runs:
            if merged and (len(run) < min_words or who[merged[-1][0]] == who[run[0]]):
                merged[-1] += run
            else:
                merged.append(run)
        if len(merged) > 1 and len(merged[0]) < min_words:
            merged[1] = merged[0] + merged[1]
            merged.pop(0)
        for run in merged:
            words: list[Word] = [seg.words[k] for k in run]
            speaker = _speaker_at(turns, words[0].start, words[-1].end)
            text = seg.text if len(merged) == 1 else " ".join(w.text for w in words)
            start = seg.start if run is merged[0] else words[0].start
            end = seg.end if run is merged[-1] else words[-1].end
            out.append(Segment(start, end, text, label(speaker), words))
    return out

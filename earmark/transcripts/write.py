"""Transcript → SRT, WebVTT, Podcasting 2.0 JSON or plain text.

SRT and VTT get one cue per segment with the speaker on every cue (readers carry a speaker
forward, so a cue without one would silently inherit the previous speaker's name).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from earmark.models import Segment, Transcript
from earmark.transcripts.sentences import ends_sentence
from earmark.transcripts.timecode import format_srt, format_stamp, format_vtt

PARAGRAPH_S = 60.0  # plain text starts a new paragraph after this long, at a sentence end


def to_srt(transcript: Transcript) -> str:
    blocks = []
    for i, seg in enumerate(transcript.segments, 1):
        text = f"{seg.speaker}: {_one_line(seg.text)}" if seg.speaker else _one_line(seg.text)
        blocks.append(f"{i}\n{format_srt(seg.start)} --> {format_srt(seg.end)}\n{text}\n")
    return "\n".join(blocks)


def _one_line(text: str) -> str:
    return " ".join(text.split())  # a blank line inside a cue would end it


def _vtt_escape(text: str) -> str:
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    out = [f"WEBVTT\nLanguage: {transcript.language}\n" if transcript.language else "WEBVTT\n"]
    for seg in transcript.segments:
        voice = f"<v {_vtt_escape(seg.speaker)}>" if seg.speaker else ""
        out.append(
            f"{format_vtt(seg.start)} --> {format_vtt(seg.end)}\n{voice}{_vtt_escape(seg.text)}\n"
        )
    return "\n".join(out)


def to_p20_json(transcript: Transcript) -> str:
    segments = []
    for seg in transcript.segments:
        item: dict = {"speaker": seg.speaker} if seg.speaker else {}
        item.update(startTime=round(seg.start, 3), endTime=round(seg.end, 3), body=seg.text)
        segments.append(item)
    doc: dict = {"version": "1.0.0", "segments": segments}
    if transcript.language:
        doc["language"] = transcript.language
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def paragraphs(segments: list[Segment]) -> list[list[Segment]]:
    """Speaker turns, long turns broken at a sentence end once they pass PARAGRAPH_S."""
    groups: list[list[Segment]] = []
    for seg in segments:
        last = groups[-1] if groups else None
        if (
            last
            and last[-1].speaker == seg.speaker
            and not (
                seg.start - last[0].start >= PARAGRAPH_S
                and ends_sentence(last[-1].text.split()[-1])
            )
        ):
            last.append(seg)
        else:
            groups.append([seg])
    return groups


def to_text(transcript: Transcript) -> str:
    """``[hh:mm:ss] Speaker: text`` paragraphs separated by blank lines."""
    out = []
    for group in paragraphs(transcript.segments):
        label = f"{group[0].speaker}: " if group[0].speaker else ""
        body = " ".join(seg.text for seg in group)
        out.append(f"[{format_stamp(group[0].start)}] {label}{body}\n")
    return "\n".join(out)


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "srt": to_srt,
    "vtt": to_vtt,
    "json": to_p20_json,
    "text": to_text,
}


def write_transcript(transcript: Transcript, fmt: str) -> str:
    if fmt not in WRITERS:
        raise ValueError(f"unknown transcript format {fmt!r}; choose from {', '.join(WRITERS)}")
    return WRITERS[fmt](transcript)

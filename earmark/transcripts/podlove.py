"""Podlove Web Player transcripts: a JSON list of ``{start, start_ms, end, end_ms, speaker,
voice, text}``; ``speaker`` is a contributor id, ``voice`` a name or slug."""

from __future__ import annotations

import json
from typing import Any

from earmark.errors import TranscriptError
from earmark.models import Segment
from earmark.transcripts.decode import decode_text
from earmark.transcripts.markup import collapse
from earmark.transcripts.timecode import parse_clock


def is_podlove(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and any(isinstance(x, dict) for x in doc)
        and all(
            "text" in x and ("start" in x or "start_ms" in x) for x in doc if isinstance(x, dict)
        )
    )


def read_podlove(doc: Any, speakers: dict[str, str] | None = None) -> list[Segment]:
    """``speakers`` maps contributor ids to names (see ``contributor_names``); without it the
    document's ``voice`` is used, else "Speaker <id>"."""
    if not is_podlove(doc):
        raise TranscriptError("not a Podlove transcript: expected a list of {start, end, text}")
    speakers = speakers or {}
    segments = []
    for item in doc:
        if not isinstance(item, dict):
            continue
        text = collapse(str(item.get("text") or ""))  # plain text, kept as written
        start = _time(item, "start")
        if not text or start is None:
            continue
        end = _time(item, "end")
        segments.append(
            Segment(
                start, start if end is None else max(end, start), text, _speaker(item, speakers)
            )
        )
    if not segments:
        raise TranscriptError("Podlove transcript has no timed text")
    segments.sort(key=lambda s: s.start)
    return segments


def contributor_names(config: bytes | str | dict) -> dict[str, str]:
    """Contributor id → name from a Podlove Web Player episode config."""
    if not isinstance(config, dict):
        try:
            config = json.loads(decode_text(config, "Podlove player config"))
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"Podlove player config is not valid JSON: {exc}") from None
    people = config.get("contributors") if isinstance(config, dict) else None
    names = {}
    for person in people if isinstance(people, list) else []:
        if isinstance(person, dict) and person.get("id") is not None and person.get("name"):
            names[str(person["id"])] = collapse(str(person["name"]))
    return names


def _time(item: dict, key: str) -> float | None:
    # Milliseconds are exact; the clock string is the fallback.
    ms = item.get(f"{key}_ms")
    if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
        return ms / 1000
    return parse_clock(item.get(key))


def _speaker(item: dict, speakers: dict[str, str]) -> str | None:
    sid = item.get("speaker")
    sid = str(sid).strip() if sid not in (None, "") else None
    if sid and sid in speakers:
        return speakers[sid]
    voice = collapse(str(item.get("voice") or ""))
    if voice:
        return voice
    return f"Speaker {sid}" if sid else None

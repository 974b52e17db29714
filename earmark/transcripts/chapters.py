"""JSON chapters: Podcasting 2.0 (``{"chapters": [{"startTime", "title", "img", "url", "toc"}]}``,
also the 2020 draft's ``marker``) and Podlove (a list, or a Web Player config's ``chapters``,
with ``start`` clock strings such as "00:01:02.500").

``toc: false`` chapters are spec'd as not for the table of contents or as jump-to points (they
change artwork or location mid-chapter). ``Chapter`` has no flag for that, so they are left out
unless ``include_hidden`` asks for them.
"""

from __future__ import annotations

import json
from typing import Any

from earmark.errors import ChaptersError, TranscriptError
from earmark.models import Chapter
from earmark.transcripts.decode import decode_text
from earmark.transcripts.markup import collapse
from earmark.transcripts.timecode import parse_clock


def parse_chapters_json(
    content: bytes | str | dict | list, include_hidden: bool = False
) -> list[Chapter]:
    """Chapters sorted by start. Raises ChaptersError when the document holds none."""
    doc = content if isinstance(content, (dict, list)) else _load(content)
    entries = doc.get("chapters") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise ChaptersError("no chapters: expected a 'chapters' list or a list of chapters")
    chapters = []
    timed = 0
    for entry in entries:
        start = _start(entry) if isinstance(entry, dict) else None
        if start is None:
            continue
        timed += 1
        if entry.get("toc") is False and not include_hidden:
            continue
        chapters.append(
            Chapter(
                start=start,
                title=collapse(str(entry.get("title") or "")),
                href=_url(entry.get("url") or entry.get("href")),
                image=_url(entry.get("img") or entry.get("image")),
            )
        )
    if not timed and entries:
        raise ChaptersError(f"none of {len(entries)} chapter entries has a readable start time")
    chapters.sort(key=lambda c: c.start)
    return chapters


def _load(content: bytes | str) -> Any:
    try:
        text = decode_text(content, "chapters document")
    except TranscriptError as exc:
        raise ChaptersError(str(exc)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChaptersError(f"chapters document is not valid JSON: {exc}") from None


def _start(entry: dict) -> float | None:
    for key in ("startTime", "marker", "start"):  # spec, 2020 draft, Podlove
        if key in entry:
            return parse_clock(entry[key])
    return None


def _url(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None

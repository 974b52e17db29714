"""``parse_transcript``: any publisher transcript document → a ``Transcript``."""

from __future__ import annotations

import json
import re

from earmark.errors import TranscriptError
from earmark.models import Segment, Transcript
from earmark.transcripts.decode import decode_text
from earmark.transcripts.formats import (
    HTML,
    JSON,
    SRT,
    TEXT,
    VTT,
    format_from_mime,
    format_from_url,
    sniff,
)
from earmark.transcripts.html import read_html
from earmark.transcripts.p20json import is_p20, read_p20
from earmark.transcripts.podlove import is_podlove, read_podlove
from earmark.transcripts.speakers import unify_names
from earmark.transcripts.srt import read_srt
from earmark.transcripts.text import read_text
from earmark.transcripts.vtt import read_vtt, vtt_language


def parse_transcript(
    content: bytes | str,
    mime_type: str = "",
    url: str = "",
    *,
    language: str | None = None,
    speakers: dict[str, str] | None = None,
) -> Transcript:
    """Read a ``podcast:transcript`` document.

    The format comes from the content when it proves one (a WEBVTT header, JSON, HTML tags, an
    SRT timing line), else from ``mime_type``, else from the URL's extension, else plain text.
    ``language`` is the link's; ``speakers`` maps Podlove contributor ids to names. Raises
    TranscriptError saying what is wrong when nothing readable is found.
    """
    text = decode_text(content)
    fmt = sniff(text) or format_from_mime(mime_type) or format_from_url(url) or TEXT
    if fmt == HTML and not re.search(r"<[A-Za-z]", text):
        fmt = TEXT  # labelled HTML but not a tag in it: newlines matter, so read it as text
    if fmt == JSON:
        return _read_json(text, language, speakers)
    if fmt == VTT:
        return _checked(read_vtt(text), "vtt", language or vtt_language(text))
    if fmt == SRT:
        return _checked(read_srt(text), "srt", language)
    if fmt == HTML:
        segments, lang = read_html(text)
        return _checked(segments, "html", language or lang)
    return _checked(read_text(text), "text", language)


def _read_json(text: str, language: str | None, speakers: dict[str, str] | None) -> Transcript:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"transcript is not valid JSON: {exc}") from None
    if is_p20(doc):
        lang = doc.get("language") if isinstance(doc.get("language"), str) else None
        return _checked(read_p20(doc), "json", language or lang)
    if is_podlove(doc):
        return _checked(read_podlove(doc, speakers), "podlove", language)
    if isinstance(doc, dict) and "chapters" in doc:
        raise TranscriptError("this JSON is a chapters document, not a transcript")
    raise TranscriptError(
        "JSON is neither a Podcasting 2.0 transcript ({'segments': [...]}) nor a Podlove "
        "transcript ([{'start', 'end', 'text'}, ...])"
    )


def _checked(segments: list[Segment], fmt: str, language: str | None) -> Transcript:
    if not segments:
        raise TranscriptError(f"no transcript text found in this {fmt} document")
    unify_names(segments)
    return Transcript(segments=segments, source="publisher", format=fmt, language=language)

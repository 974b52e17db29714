"""Which format a transcript is in: its MIME type, its URL, and a look at the content itself
(servers send SRT as text/plain or application/octet-stream often enough to matter)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlparse

from earmark.models import TranscriptLink
from earmark.transcripts.cues import is_timing_line

SRT, VTT, JSON, HTML, TEXT = "srt", "vtt", "json", "html", "text"

MIME_FORMATS = {
    "application/x-subrip": SRT,
    "application/srt": SRT,
    "application/x-srt": SRT,
    "text/srt": SRT,
    "text/x-srt": SRT,
    "text/vtt": VTT,
    "text/webvtt": VTT,
    "application/json": JSON,
    "text/json": JSON,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "text/plain": TEXT,
}
EXTENSIONS = {".srt": SRT, ".vtt": VTT, ".json": JSON, ".html": HTML, ".htm": HTML, ".txt": TEXT}

# Speaker-labelled, timed formats first; plain text has neither reliable times nor speakers.
PREFERENCE = (JSON, VTT, SRT, HTML, TEXT)


def format_from_mime(mime_type: str | None) -> str | None:
    mime = (mime_type or "").split(";", 1)[0].strip().lower()
    if mime.endswith("+json"):  # application/transcript+json and friends
        return JSON
    return MIME_FORMATS.get(mime)


def format_from_url(url: str | None) -> str | None:
    ext = posixpath.splitext(urlparse(url or "").path)[1].lower()
    return EXTENSIONS.get(ext)


def sniff(text: str) -> str | None:
    """A format the content proves, or None when it could be several (plain text is never
    proven: it is what is left)."""
    head = text.lstrip()[:4096]
    if head.startswith("WEBVTT"):
        return VTT
    if head.startswith("{") or re.match(r"\[\s*[{\]]", head):
        return JSON
    if re.match(r"<[!?A-Za-z]", head) and re.search(r"</[A-Za-z][\w-]*\s*>", head):
        return HTML
    for line in head.split("\n")[:4]:  # an SRT index line, then the timing line
        if is_timing_line(line):
            return SRT if "," in line.split("-->")[0] else VTT
    return None


def link_format(link: TranscriptLink) -> str | None:
    return format_from_mime(link.type) or format_from_url(link.url)


def rank_transcripts(links: list[TranscriptLink]) -> list[TranscriptLink]:
    """Best first: JSON or VTT (they carry speakers) over SRT over HTML over plain text; unknown
    types last. Ties keep the feed's order. Callers should fall back down the list when one
    fails to parse (Buzzsprout's older JSON carries timings without text)."""

    def key(link: TranscriptLink) -> int:
        fmt = link_format(link)
        return PREFERENCE.index(fmt) if fmt in PREFERENCE else len(PREFERENCE)

    return sorted(links, key=key)

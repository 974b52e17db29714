"""HTML transcripts: Buzzsprout's ``<cite>Name:</cite><time>0:53</time><p>…</p>`` and the common
``<p><strong>Name:</strong> …</p>`` shape (it reads as a ``Name:`` label once tags are gone)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from earmark.errors import TranscriptError
from earmark.models import Segment
from earmark.transcripts.markup import collapse
from earmark.transcripts.speakers import label_segments
from earmark.transcripts.text import opening, timed_items
from earmark.transcripts.timecode import parse_clock

_SKIP = set("script style head title noscript template nav header footer h1 h2 h3 h4 h5 h6".split())
_BLOCK = set(
    "p div li ul ol blockquote section article main br tr td dd dt dl table body html hr pre "
    "figure".split()
)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*$")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[tuple[float | None, str | None, str]] = []
        self.language: str | None = None
        self._skip = 0
        self._text: list[str] = []
        self._field: str | None = None  # "cite" or "time" while inside one
        self._field_text: list[str] = []
        self._field_attr: str | None = None
        self._speaker: str | None = None
        self._time: float | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html" and self.language is None:
            lang = (dict(attrs).get("lang") or "").strip()
            self.language = lang if _LANG.match(lang) else None
        if tag in _SKIP:
            self._skip += 1
        elif tag in ("cite", "time") and not self._skip and not "".join(self._text).strip():
            # Between paragraphs they label the next one (Buzzsprout); inside running text they
            # are just text ("as <cite>the book</cite> says").
            self._field, self._field_text = tag, []
            self._field_attr = dict(attrs).get("datetime")
        elif tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == self._field:
            value = collapse("".join(self._field_text))
            if tag == "cite":
                self._speaker = value.rstrip(":").strip() or self._speaker
            else:
                self._time = parse_clock(value)
                if self._time is None:
                    self._time = parse_clock(self._field_attr)
            self._field = None
        elif tag in _BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        (self._field_text if self._field else self._text).append(data)

    def _flush(self) -> None:
        text = "".join(self._text).strip()
        self._text = []
        if not text:
            return
        stamp, header_speaker, body = opening(collapse(text))
        if self._time is not None:
            stamp = self._time
        self.paragraphs.append((stamp, self._speaker or header_speaker, body))
        self._speaker = self._time = None

    def close(self) -> None:
        super().close()
        self._flush()


def read_html(text: str) -> tuple[list[Segment], str | None]:
    """Segments and the document's ``<html lang>``."""
    collector = _Collector()
    collector.feed(text)
    collector.close()
    segments = label_segments(timed_items(collector.paragraphs))
    if not segments:
        raise TranscriptError("HTML transcript has no paragraphs of text")
    return segments, collector.language

"""Removing markup from cue and paragraph text: tags, entities, stray whitespace."""

from __future__ import annotations

import html
import re

# Real tags only (<i>, </font>, <c.yellow>, <v Name>): a tag starts with a letter or "/", so
# "I <3 podcasts" survives. VTT karaoke timestamps (<00:00:01.500>) go too.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?>")
_SPACE = re.compile(r"\s+")


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def strip_markup(text: str) -> str:
    """Tags removed, then entities decoded (so an escaped "&lt;b&gt;" stays as text)."""
    return html.unescape(_TAG.sub("", text)).replace("\u00a0", " ").replace("\ufeff", "")

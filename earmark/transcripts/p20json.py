"""Podcasting 2.0 JSON transcripts:
``{"version", "segments": [{speaker, startTime, endTime, body}]}``.

Segments may be whole phrases or single words (the spec's own example is word-level); word
lists are merged into sentences that keep their words.
"""

from __future__ import annotations

from typing import Any

from earmark.errors import TranscriptError
from earmark.models import Segment, Word
from earmark.transcripts.markup import collapse
from earmark.transcripts.sentences import group_words
from earmark.transcripts.timecode import parse_clock

WORD_LEVEL_SHARE = 0.8  # this share of one-token bodies marks a word list, not phrases


def is_p20(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("segments"), list)


def timed_items(doc: Any) -> list[tuple[str | None, float, float, dict]]:
    """(speaker, start, end, item) for every segment with a usable start, in time order."""
    if not is_p20(doc):
        raise TranscriptError("not a Podcasting 2.0 transcript: no top-level 'segments' list")
    items = []
    for item in doc["segments"]:
        if not isinstance(item, dict):
            continue
        start = parse_clock(item.get("startTime"))
        if start is None:
            continue
        end = parse_clock(item.get("endTime"))
        speaker = collapse(str(item.get("speaker") or "")) or None
        items.append((speaker, start, start if end is None else max(end, start), item))
    items.sort(key=lambda t: t[1])
    return items


def read_p20(doc: Any) -> list[Segment]:
    items = timed_items(doc)
    # The spec's body is plain text: kept as written ("<3" and "&" included), spaces tidied.
    texts = [collapse(str(item.get("body") or "")) for *_, item in items]
    with_text = [(it, text) for it, text in zip(items, texts, strict=True) if text]
    if not with_text:
        if items:
            raise TranscriptError(
                f"Podcasting 2.0 JSON has {len(items)} timed segments but none has a 'body' "
                "(timings without text); pair it with a text transcript of the same episode "
                "via earmark.transcripts.attach_words"
            )
        raise TranscriptError("Podcasting 2.0 JSON has no timed segments")
    single = sum(1 for _, text in with_text if " " not in text)
    if single / len(with_text) >= WORD_LEVEL_SHARE:
        return group_words(
            [(sp, Word(start, end, text)) for (sp, start, end, _), text in with_text]
        )
    return [Segment(start, end, text, sp) for (sp, start, end, _), text in with_text]

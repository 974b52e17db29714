"""Buzzsprout's older JSON: one segment per word with speaker and times but no ``body``.

The same episode's SRT/VTT/HTML has the words (2,492 timings ↔ 2,502 SRT tokens less 10
speaker labels in the corpus pair), so the text is dealt out to the timings in order and then
merged into sentences that keep their word times.
"""

from __future__ import annotations

import json

from earmark.errors import TranscriptError
from earmark.models import Transcript, Word
from earmark.transcripts.decode import decode_text
from earmark.transcripts.p20json import timed_items
from earmark.transcripts.sentences import group_words


def attach_words(timings: bytes | str, text: Transcript) -> Transcript:
    """Word timings (Podcasting 2.0 JSON) + a transcript of the same words → sentences with
    words. Raises TranscriptError when the word counts differ: without text in the timings
    there is nothing else to align on."""
    try:
        doc = json.loads(decode_text(timings, "word-timing JSON"))
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"word-timing JSON is not valid JSON: {exc}") from None
    items = timed_items(doc)
    tokens = [(seg.speaker, token) for seg in text.segments for token in seg.text.split()]
    if not items or len(items) != len(tokens):
        raise TranscriptError(
            f"word timings do not match the text: {len(items)} timings, {len(tokens)} words"
        )
    words = [
        (speaker or text_speaker, Word(start, end, token))
        for (speaker, start, end, _), (text_speaker, token) in zip(items, tokens, strict=True)
    ]
    return Transcript(group_words(words), source="publisher", format="json", language=text.language)

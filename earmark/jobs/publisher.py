"""Transcript stage, first half: the publisher's ``podcast:transcript`` documents, best first,
falling back down the list when one cannot be fetched or read. Store-free."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from earmark.config import Settings
from earmark.errors import TranscriptError
from earmark import net
from earmark.net import fetch_bytes
from earmark.models import Episode, Transcript, TranscriptLink
from earmark.transcripts import attach_words, parse_transcript, rank_transcripts
from earmark.transcripts.decode import decode_text
from earmark.transcripts.p20json import timed_items

MAX_TRANSCRIPT_BYTES = 32 * 1024 * 1024


@dataclass(slots=True)
class PublisherResult:
    transcript: Transcript | None  # None: nothing usable, run ASR
    url: str | None = None
    problems: list[str] = field(default_factory=list)  # why better-ranked links were skipped


def _fetch(client: httpx.Client, link: TranscriptLink, settings: Settings) -> bytes:
    return fetch_bytes(client, link.url, limit=MAX_TRANSCRIPT_BYTES, what="transcript", error=TranscriptError,
                       timeout=settings.http_timeout)


def _word_timings(content: bytes) -> bool:
    """Buzzsprout's older JSON: word timings without text. Useless alone, but the same episode's
    SRT/VTT gives the words (``attach_words``)."""
    try:
        doc = json.loads(decode_text(content, "word-timing JSON"))
        items = timed_items(doc)
    except (ValueError, TranscriptError):
        return False
    return bool(items) and not any(str(item.get("body") or "").strip() for *_, item in items)


def publisher_transcript(episode: Episode, settings: Settings, *, client: httpx.Client | None = None) -> PublisherResult:
    result = PublisherResult(None)
    if not episode.transcripts:
        return result
    own = client is None
    http = client or net.client(settings)
    timings: bytes | None = None
    try:
        for link in rank_transcripts(episode.transcripts):
            try:
                content = _fetch(http, link, settings)
                try:
                    transcript = parse_transcript(content, link.type, link.url, language=link.language)
                except TranscriptError:
                    if timings is None and _word_timings(content):
                        timings = content
                        result.problems.append(f"{link.url}: word timings without text; looking for the text")
                        continue
                    raise
            except TranscriptError as exc:
                result.problems.append(str(exc))
                continue
            if timings is not None and not any(s.words for s in transcript.segments):
                try:
                    transcript = attach_words(timings, transcript)
                except TranscriptError as exc:
                    result.problems.append(f"word timings not used: {exc}")
            result.transcript, result.url = transcript, link.url
            return result
    finally:
        if own:
            http.close()
    return result

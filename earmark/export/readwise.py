"""Readwise: snips as podcast highlights through the highlights API v2.

Contract (readwise.io/api_deets, "Highlight CREATE"): ``POST {base}/api/v2/highlights/`` with
``Authorization: Token <token>`` and ``{"highlights": [{text, title, author, source_url,
source_type, category, note, location, location_type, highlighted_at, highlight_url}]}``;
``category`` "podcasts" and ``location_type`` "time_offset" (seconds) fit snips. Rate limits are
answered with 429 and ``Retry-After`` (seconds). Readwise de-duplicates on text + title + author +
source_url, so re-sending a snip whose note or position changed updates its highlight.

Only new or changed snips are sent (a hash of the highlight in ``export_state``), in batches; a
batch is recorded only after Readwise answered 2xx, so an error, a rate limit that does not clear
or a crash leaves the rest for the next run — nothing is lost and nothing is sent twice.
Limitation: a snip deleted in Earmark stays in Readwise, and a changed quote makes a new highlight
next to the old one (Readwise's de-duplication key includes the text).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from earmark.config import Settings
from earmark.export import (
    ExportError,
    ExportReport,
    ExportState,
    all_snips,
    by_episode,
    content_hash,
    episode_url,
    timestamp_link,
)
from earmark.export._http import request
from earmark.models import Episode, Podcast, Snip
from earmark.store.library import Library

TARGET = "readwise"
BATCH = 100
SOURCE_TYPE = "earmark"  # Readwise: "a unique identifier for your app", 3–64 characters
# Field limits from the API documentation (characters).
LIMITS = {"text": 8191, "title": 511, "author": 1024, "note": 8191, "source_url": 2047, "highlight_url": 4095}


def _note(snip: Snip) -> str:
    parts = []
    if snip.title.strip():
        parts.append(snip.title.strip())
    if snip.takeaways:
        parts.append("\n".join(f"• {t.strip()}" for t in snip.takeaways if t.strip()))
    if snip.quote.strip() and snip.quote_speaker:
        parts.append(f"— {snip.quote_speaker}")
    if snip.note.strip():
        parts.append(snip.note.strip())
    return "\n\n".join(parts)


def highlight(snip: Snip, podcast: Podcast, episode: Episode, base_url: str) -> dict | None:
    """The highlight for a snip; None while it has no text yet (no quote or transcript excerpt)."""
    text = (snip.quote or "").strip() or (snip.excerpt or "").strip()
    if not text:
        return None
    item = {
        "text": text,
        "title": episode.title or "Untitled episode",
        "author": podcast.title or podcast.author or "Unknown podcast",
        "source_type": SOURCE_TYPE,
        "category": "podcasts",
        "note": _note(snip),
        "location": int(snip.start),
        "location_type": "time_offset",
        "highlighted_at": snip.created_at.isoformat() if snip.created_at else None,
        "highlight_url": timestamp_link(base_url, snip),
    }
    if episode_url(episode):
        item["source_url"] = episode_url(episode)
    for name, limit in LIMITS.items():
        if isinstance(item.get(name), str) and len(item[name]) > limit:
            item[name] = item[name][: limit - 1] + "…"
    return {k: v for k, v in item.items() if v is not None}


def export_readwise(
    library: Library,
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ExportReport:
    if not settings.readwise_token:
        raise ExportError("no Readwise token: set readwise_token in settings.toml (https://readwise.io/access_token)")
    state = ExportState(library, TARGET)
    report = ExportReport(TARGET)
    known = state.all("snip:")
    pending: list[tuple[str, dict, str]] = []  # key, highlight, hash
    for podcast, episode, snips in by_episode(library, all_snips(library)):
        for snip in snips:
            key = f"snip:{snip.id}"
            item = highlight(snip, podcast, episode, settings.public_base_url)
            if item is None:
                report.waiting.append(key)
                continue
            digest = content_hash(item)
            if key in known and known[key].content_hash == digest:
                report.skipped.append(key)
            else:
                pending.append((key, item, digest))
    if not pending:
        return report
    own = client is None
    http = client or httpx.Client(
        base_url=settings.readwise_base_url.rstrip("/"),
        timeout=settings.http_timeout,
        headers={"User-Agent": settings.user_agent},
    )
    headers = {"Authorization": f"Token {settings.readwise_token}"}
    http.headers.update(headers)
    try:
        for first in range(0, len(pending), BATCH):
            batch = pending[first : first + BATCH]
            try:
                request(http, "POST", "/api/v2/highlights/", target="Readwise",
                        json={"highlights": [item for _, item, _ in batch]}, sleep=sleep)
            except ExportError as exc:
                report.error = str(exc)
                report.waiting += [key for key, _, _ in pending[first:]]
                break
            for key, _, digest in batch:  # accepted: only now is the snip recorded
                (report.updated if key in known else report.created).append(key)
                state.put(key, digest)
    finally:
        if own:
            http.close()
    return report

"""Readwise: snips as podcast highlights through the highlights API v2.

Contract (readwise.io/api_deets, "Highlight CREATE"): ``POST {base}/api/v2/highlights/`` with
``Authorization: Token <token>`` and ``{"highlights": [{text, title, author, source_url,
source_type, category, note, location, location_type, highlighted_at, highlight_url}]}``;
``category`` "podcasts" and ``location_type`` "time_offset" (seconds) fit snips. Rate limits are
answered with 429 and ``Retry-After`` (seconds). Readwise de-duplicates on text + title + author +
source_url, so re-sending a snip whose note or position changed updates its highlight.

Only new or changed snips are sent (a hash of the highlight in ``export_state``), in batches; a
batch is recorded only after Readwise answered 2xx, so an error, a rate limit that does not clear
or a crash leaves the rest for the next run — nothing is lost.

Nor is anything sent twice: before a batch is posted its highlights are written down as in flight
(``sending:snip:ID`` rows with the hash and what identifies the highlight), and the transaction
that records Readwise's answer forgets them. A run killed (or cut off) with a batch in flight
leaves those rows; the next run first lists the highlights Readwise holds from that time
(``GET /api/v2/highlights/`` with ``highlighted_at__gt/__lt``, the snips' own times, so no clock
skew matters), records the ones that arrived as sent, and sends only the rest. If that listing
fails, the in-flight ones are sent again, and Readwise's de-duplication (text, title, author,
source_url) updates them rather than adding a second copy — unless they changed meanwhile.
Limitation: a snip deleted in Earmark stays in Readwise, and a changed quote makes a new highlight
next to the old one (Readwise's de-duplication key includes the text).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

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
    state_target,
    timestamp_link,
)
from earmark.export._http import RequestError, api_client, request
from earmark.models import Episode, Podcast, Snip
from earmark.store.library import OWNER_ID, Library

log = logging.getLogger(__name__)

TARGET = "readwise"
BATCH = 100
SENDING = "sending:"  # export_state keys of highlights posted but not yet confirmed
LIST_PAGE = 1000  # highlights per page when looking for in-flight ones (the API's maximum)
MAX_LIST_PAGES = 20
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


def _sent_as(item: dict) -> str:
    """What identifies a highlight in Readwise's listing, kept with the in-flight row."""
    return json.dumps({"text": item["text"], "location": item.get("location"), "url": item.get("highlight_url"),
                       "highlighted_at": item.get("highlighted_at"), "note": item.get("note") or ""}, ensure_ascii=False)


def _parse_time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def settle_in_flight(state: ExportState, http: httpx.Client, sleep: Callable[[float], None]) -> int:
    """Highlights an earlier run posted without learning the answer: those Readwise holds are
    recorded as sent (with the hash they were sent with); the rest are left to be sent. Returns
    how many were found. A listing that fails leaves them all to be sent again."""
    flying = state.all(SENDING)
    if not flying:
        return 0
    # (text, location) → (key, hash, url, note). The note must match too: an edited note on a
    # highlight sent before would otherwise be taken for arrived. A mismatch only resends, which
    # Readwise merges into the highlight it has.
    wanted: dict[tuple, tuple[str, str, str | None, str]] = {}
    times = []
    for key, row in flying.items():
        try:
            sent = json.loads(row.remote_id or "{}")
        except ValueError:
            continue
        wanted[(sent.get("text"), sent.get("location"))] = (key[len(SENDING):], row.content_hash, sent.get("url"),
                                                            sent.get("note") or "")
        times.append(_parse_time(sent.get("highlighted_at")) if sent.get("highlighted_at") else None)
    params: dict = {"page_size": LIST_PAGE}
    if times and all(times):
        params["highlighted_at__gt"] = (min(times) - timedelta(seconds=1)).isoformat()
        params["highlighted_at__lt"] = (max(times) + timedelta(seconds=1)).isoformat()
    found: list[tuple[str, str, str | None]] = []
    url: str | None = "/api/v2/highlights/"
    try:
        for _ in range(MAX_LIST_PAGES):
            body = request(http, "GET", url, target="Readwise", params=params, sleep=sleep).json()
            for held in body.get("results") or []:
                match = wanted.pop((held.get("text"), held.get("location")), None)
                if match and (not match[2] or not held.get("url") or held["url"] == match[2]) \
                        and (held.get("note") or "") == match[3]:
                    found.append((match[0], match[1], None))
            url, params = body.get("next"), None
            if not url or not wanted:
                break
    except (ExportError, ValueError, AttributeError, TypeError) as exc:
        log.warning("readwise: could not list the highlights a stopped run had in flight (%s); sending them again", exc)
        return 0
    state.put_many(found, forget=list(flying))
    return len(found)


def export_readwise(
    library: Library,
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    user_id: int = OWNER_ID,
) -> ExportReport:
    """``user_id``'s snips to the Readwise account of ``settings.readwise_token``."""
    if not settings.readwise_token:
        raise ExportError("no Readwise token: set readwise_token in settings.toml (https://readwise.io/access_token)")
    state = ExportState(library, state_target(TARGET, user_id))
    report = ExportReport(TARGET)
    headers = {"Authorization": f"Token {settings.readwise_token}"}
    with api_client(settings, client, base_url=settings.readwise_base_url, headers=headers) as http:
        _export(library, settings, state, report, http, sleep, user_id)
    return report


def _export(library: Library, settings: Settings, state: ExportState, report: ExportReport, http: httpx.Client,
            sleep: Callable[[float], None], user_id: int) -> None:
    settle_in_flight(state, http, sleep)
    known = state.all("snip:")
    pending: list[tuple[str, dict, str]] = []  # key, highlight, hash
    for podcast, episode, snips in by_episode(library, all_snips(library, user_id)):
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
    for first in range(0, len(pending), BATCH):
        batch = pending[first : first + BATCH]
        flying = [SENDING + key for key, _, _ in batch]
        state.put_many([(SENDING + key, digest, _sent_as(item)) for key, item, digest in batch])
        try:
            request(http, "POST", "/api/v2/highlights/", target="Readwise",
                    json={"highlights": [item for _, item, _ in batch]}, sleep=sleep)
        except ExportError as exc:
            if not (isinstance(exc, RequestError) and exc.uncertain):
                state.put_many([], forget=flying)  # answered with a refusal: nothing arrived
            report.error = str(exc)
            report.waiting += [key for key, _, _ in pending[first:]]
            break
        # Accepted: only now are the snips recorded, the whole batch at once.
        state.put_many([(key, digest, None) for key, _, digest in batch], forget=flying)
        for key, _, _ in batch:
            (report.updated if key in known else report.created).append(key)

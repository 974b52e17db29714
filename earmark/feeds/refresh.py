"""Subscribing and refreshing: fetch → parse → store, each podcast on its own.

Fetches run concurrently (bounded by ``refresh_concurrency``); every store call, parsing and
saving run in worker threads so the event loop stays free (a write may wait for the lock), and the
Library's lock keeps a single writer. A failure is
recorded on its podcast and never stops the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable

import httpx

from earmark.config import Settings
from earmark.errors import EarmarkError, FeedError, FetchError, NotFound
from earmark.feeds.fetch import fetch_feed, make_client, normalize_url
from earmark.feeds.parse import parse_feed
from earmark.models import Podcast, RefreshResult
from earmark.store.library import OWNER_ID, Library
from earmark.store.sync import SyncStore

Progress = Callable[[RefreshResult], None]

log = logging.getLogger(__name__)


async def refresh_podcast(
    library: Library, settings: Settings, client: httpx.AsyncClient, podcast_id: int
) -> RefreshResult:
    try:
        state, kind = await asyncio.to_thread(lambda: (library.fetch_state(podcast_id), library.podcast(podcast_id).kind))
        if kind != "feed":  # your own uploads: no feed, nothing to fetch
            return RefreshResult(podcast_id, state.url, "unchanged")
    except NotFound as exc:  # removed while a refresh of everything was under way
        return RefreshResult(podcast_id, "", "error", error=str(exc))
    try:
        fetched = await fetch_feed(
            client, state.url, settings, etag=state.etag, last_modified=state.last_modified
        )
        if fetched.not_modified:
            await asyncio.to_thread(
                library.record_unchanged, podcast_id, url=fetched.url, etag=fetched.etag, last_modified=fetched.last_modified
            )
            return RefreshResult(podcast_id, fetched.url, "not-modified")
        digest = hashlib.sha256(fetched.content).hexdigest()
        if digest == state.content_hash:
            # The server has no validators but sent the same bytes: nothing to parse.
            await asyncio.to_thread(
                library.record_unchanged, podcast_id, url=fetched.url, etag=fetched.etag, last_modified=fetched.last_modified
            )
            return RefreshResult(podcast_id, fetched.url, "unchanged")
        # Parsing and saving a big feed take seconds: off the event loop, so a server keeps answering.
        feed = await asyncio.to_thread(parse_feed, fetched.content, fetched.url)
        url = fetched.url
        if feed.new_url and feed.new_url != url:
            try:
                url = normalize_url(feed.new_url)  # itunes:new-feed-url: the publisher moved the feed
            except FeedError:
                pass  # a broken new-feed-url is ignored, as other players do
        new, updated = await asyncio.to_thread(
            library.save_feed,
            podcast_id,
            feed,
            url=url,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            content_hash=digest,
        )
        if new:  # play actions a phone sent for episodes this refresh brought
            await asyncio.to_thread(SyncStore(library).attach_pending, podcast_id)
        return RefreshResult(podcast_id, url, "updated", new_episodes=new, updated_episodes=updated)
    except EarmarkError as exc:
        await asyncio.to_thread(library.record_error, podcast_id, str(exc))
        return RefreshResult(
            podcast_id, state.url, "error", error=str(exc), unreachable=isinstance(exc, FetchError)
        )
    except Exception as exc:
        # A bug or an error nobody anticipated still belongs to this podcast alone: record it
        # rather than let it abort refresh_many's gather and every other podcast with it.
        log.exception("refreshing %s", state.url)
        message = f"{state.url}: unexpected error: {type(exc).__name__}: {exc}"
        await asyncio.to_thread(library.record_error, podcast_id, message)
        return RefreshResult(podcast_id, state.url, "error", error=message)


def refresh_targets(library: Library) -> list[int]:
    """The podcasts a refresh of everything checks, in the order it starts them (not the uploads
    podcasts: they have no feed)."""
    local = {row[0] for row in library.conn.execute("SELECT id FROM podcasts WHERE kind != 'feed'")}
    return [i for i in library.podcast_ids() if i not in local]


async def refresh_many(
    library: Library,
    settings: Settings,
    podcast_ids: Iterable[int] | None = None,
    *,
    progress: Progress | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[RefreshResult]:
    """Refresh the given podcasts (default: all), at most ``refresh_concurrency`` at a time."""
    ids = list(podcast_ids) if podcast_ids is not None else refresh_targets(library)
    semaphore = asyncio.Semaphore(settings.refresh_concurrency)

    async def one(podcast_id: int, http: httpx.AsyncClient) -> RefreshResult:
        async with semaphore:
            result = await refresh_podcast(library, settings, http, podcast_id)
        if progress:
            progress(result)
        return result

    if client is not None:
        return list(await asyncio.gather(*(one(i, client) for i in ids)))
    async with make_client(settings) as http:
        return list(await asyncio.gather(*(one(i, http) for i in ids)))


async def subscribe(
    library: Library, settings: Settings, url: str, *, user_id: int = OWNER_ID
) -> tuple[Podcast, RefreshResult]:
    """Subscribe ``user_id`` to a feed and load its episodes. If the first fetch fails, nothing is
    kept and the FeedError says why; subscribing twice returns the existing podcast, and one the
    library has for another user is shared."""
    url = normalize_url(url)

    def add() -> tuple[Podcast, RefreshResult | None]:  # the store work, in a worker thread
        existing = library.podcast_by_url(url)
        if existing is not None:
            subscribed = library.is_subscribed(user_id, existing.id)
            library.add_podcast(url, user_id=user_id)
            return existing, RefreshResult(existing.id, url, "exists" if subscribed else "shared")
        return library.add_podcast(url, user_id=user_id)[0], None

    podcast, known = await asyncio.to_thread(add)
    if known is not None:
        return podcast, known
    async with make_client(settings) as client:
        result = await refresh_podcast(library, settings, client, podcast.id)

    def settle() -> tuple[Podcast, RefreshResult]:
        if result.status == "error":
            library.remove_podcast(podcast.id)
            raise (FetchError if result.unreachable else FeedError)(result.error)
        if result.url != url and (moved := library.podcast_by_url(result.url)) and moved.id != podcast.id:
            # The feed moved (permanent redirect or itunes:new-feed-url) to an address we already
            # follow: the same podcast under its old address; keep the one subscription.
            library.remove_podcast(podcast.id)
            library.add_podcast(moved.url, user_id=user_id)
            return moved, RefreshResult(moved.id, moved.url, "exists")
        return library.podcast(podcast.id), result

    return await asyncio.to_thread(settle)

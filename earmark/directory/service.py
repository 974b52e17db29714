"""Discover: search and trending over every directory at once, merged and de-duplicated by feed
address, cached for a day; and a preview of a show's feed before subscribing.

Ranking merges as AntennaPod does: a show scores the sum of 1/(rank+1) over the directories that
list it, so one near the top of both beats one near the top of one. A directory that fails leaves
the others' results standing (with a copy of its own from the last 30 days when there is one); only
when none can answer is it a DirectoryError.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import anyio

from earmark.config import Settings
from earmark.directory import http as directory_http
from earmark.directory import itunes, podcastindex
from earmark.directory.records import (
    ITUNES,
    PODCASTINDEX,
    SOURCE_NAMES,
    DirectoryError,
    DirectoryResults,
    DirectoryShow,
    FeedPreview,
    PreviewEpisode,
    SourceError,
    SourceStatus,
    feed_key,
)

log = logging.getLogger(__name__)

FRESH_SECONDS = 24 * 3600  # a directory is asked again after a day
KEEP_SECONDS = 30 * 24 * 3600  # older copies still stand in while a directory is down; then deleted
MAX_QUERY = 200

# Discover's categories: (label, Apple genre id, Podcast Index ``cat`` names).
CATEGORIES: dict[str, tuple[str, int, str]] = {
    "arts": ("Arts", 1301, "Arts"),
    "business": ("Business", 1321, "Business"),
    "comedy": ("Comedy", 1303, "Comedy"),
    "education": ("Education", 1304, "Education"),
    "fiction": ("Fiction", 1483, "Fiction"),
    "government": ("Government", 1511, "Government"),
    "health": ("Health & Fitness", 1512, "Health,Fitness"),
    "history": ("History", 1487, "History"),
    "kids": ("Kids & Family", 1305, "Kids,Family"),
    "leisure": ("Leisure", 1502, "Leisure"),
    "music": ("Music", 1310, "Music"),
    "news": ("News", 1489, "News"),
    "religion": ("Religion & Spirituality", 1314, "Religion,Spirituality"),
    "science": ("Science", 1533, "Science"),
    "society": ("Society & Culture", 1324, "Society,Culture"),
    "sports": ("Sports", 1545, "Sports"),
    "technology": ("Technology", 1318, "Technology"),
    "true-crime": ("True Crime", 1488, "True Crime"),
    "tv-film": ("TV & Film", 1309, "Tv,Film"),
}


# -- cache ------------------------------------------------------------------------------------------


class Cache:
    """One JSON file per directory request under ``$EARMARK_HOME/cache/directory``."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def get(self, key: str) -> tuple[list[DirectoryShow], float] | None:
        """The shows saved for ``key`` and their age in seconds (None: none, unreadable or too old)."""
        try:
            data = json.loads(self._path(key).read_text("utf-8"))
            age = time.time() - float(data["saved"])
            if data["key"] != key or age > KEEP_SECONDS:
                return None
            shows = [
                DirectoryShow(**{**item, "categories": tuple(item["categories"]), "sources": tuple(item["sources"])})
                for item in data["shows"]
            ]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, damaged, or written by another version: ask the directory
        return shows, max(0.0, age)

    def put(self, key: str, shows: list[DirectoryShow]) -> None:
        data = {"key": key, "saved": time.time(), "shows": [dataclasses.asdict(s) for s in shows]}
        path = self._path(key)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
            os.replace(tmp, path)  # readers see the old file or the new one, never half of one
            self._prune()
        except OSError as exc:  # a cache that cannot be written only costs a request next time
            log.warning("directory cache: cannot write %s: %s", path, exc)

    def _prune(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for old in self.root.glob("*.json"):
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except OSError:
                pass


def cache_for(settings: Settings) -> Cache:
    return Cache(settings.home / "cache" / "directory")


# -- merging ----------------------------------------------------------------------------------------


def _prefer_https(a: str, b: str) -> str:
    return b if not a.lower().startswith("https:") and b.lower().startswith("https:") else a


def _combine(a: DirectoryShow, b: DirectoryShow) -> DirectoryShow:
    counts = [c for c in (a.episode_count, b.episode_count) if c is not None]
    return dataclasses.replace(
        a,
        feed_url=_prefer_https(a.feed_url, b.feed_url),
        title=a.title or b.title,
        author=a.author or b.author,
        artwork=a.artwork or b.artwork,
        episode_count=max(counts) if counts else None,
        categories=tuple(dict.fromkeys(a.categories + b.categories)),
        description=a.description or b.description,
        link=a.link or b.link,
        itunes_id=a.itunes_id or b.itunes_id,
        podcastindex_id=a.podcastindex_id or b.podcastindex_id,
        sources=tuple(dict.fromkeys(a.sources + b.sources)),
    )


def merge(lists: list[list[DirectoryShow]]) -> list[DirectoryShow]:
    """One list, one entry per feed (by :func:`feed_key`), best merged rank first."""
    merged: dict[str, DirectoryShow] = {}
    scores: dict[str, float] = {}
    for shows in lists:
        seen: set[str] = set()
        rank = 0
        for show in shows:
            key = feed_key(show.feed_url)
            if key in seen:  # a directory listing a feed twice counts it once
                merged[key] = _combine(merged[key], show)
                continue
            seen.add(key)
            scores[key] = scores.get(key, 0.0) + 1.0 / (rank + 1)
            rank += 1
            merged[key] = _combine(merged[key], show) if key in merged else show
    out = [dataclasses.replace(show, score=round(scores[key], 6)) for key, show in merged.items()]
    out.sort(key=lambda s: -s.score)  # stable: ties keep the first directory's order
    return out


def subscriptions(library, *user: int) -> dict[str, int]:
    """The subscriptions' feeds (``library.podcasts(*user)``) by :func:`feed_key` → podcast id."""
    return {feed_key(p.url): p.id for p in library.podcasts(*user)}


def mark_subscribed(shows: list[DirectoryShow], subscribed: dict[str, int]) -> list[DirectoryShow]:
    return [dataclasses.replace(s, podcast_id=subscribed.get(feed_key(s.feed_url))) for s in shows]


# -- asking the directories -------------------------------------------------------------------------


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


async def _ask(cache: Cache, source: str, key: str, fetch: Callable[[], Awaitable[list[DirectoryShow]]]
               ) -> tuple[list[DirectoryShow], SourceStatus]:
    saved = cache.get(key)
    if saved is not None and saved[1] < FRESH_SECONDS:
        return saved[0], SourceStatus(source, "cached", count=len(saved[0]))
    try:
        shows = await fetch()
    except SourceError as exc:
        if saved is not None:
            return saved[0], SourceStatus(source, "stale", f"{exc}; showing its results from {_age(saved[1])} ago",
                                          count=len(saved[0]))
        return [], SourceStatus(source, "error", str(exc))
    cache.put(key, shows)
    return shows, SourceStatus(source, "ok", count=len(shows))


async def _gather(settings: Settings, asks: list[tuple[str, str, Callable]], skipped: list[SourceStatus],
                  query: str | None, category: str | None) -> DirectoryResults:
    cache = cache_for(settings)
    bases = {ITUNES: settings.itunes_base_url, PODCASTINDEX: settings.podcastindex_base_url}
    answers = await asyncio.gather(
        *(_ask(cache, source, f"{bases[source]} {key}", fetch) for source, key, fetch in asks))
    statuses = [status for _, status in answers] + skipped
    order = {ITUNES: 0, PODCASTINDEX: 1}
    statuses.sort(key=lambda s: order.get(s.source, 9))
    if asks and all(status.state == "error" for _, status in answers):
        raise DirectoryError("no directory could answer: " + "; ".join(s.message or s.name for s in statuses))
    return DirectoryResults(query=query, category=category, shows=merge([shows for shows, _ in answers]),
                            sources=statuses)


def clean_query(query: str) -> str:
    text = " ".join(query.split())[:MAX_QUERY]
    if not re.search(r"\w", text):
        raise DirectoryError(f"nothing to search for in {query!r}: type a name or a topic")
    return text


async def search(settings: Settings, query: str, *, limit: int = 25, country: str | None = None) -> DirectoryResults:
    """Search every configured directory for ``query`` (a name, a topic, an Apple Podcasts page
    address or a feed address). Raises DirectoryError when none can answer."""
    query = clean_query(query)
    key_query = query.lower()
    country = country or settings.directory_country
    async with directory_http.client(settings) as http:
        asks: list[tuple[str, str, Callable]] = []
        skipped: list[SourceStatus] = []
        apple_id = itunes.page_id(query)
        is_url = query.lower().startswith(("http://", "https://"))
        if apple_id is not None:
            asks.append((ITUNES, f"itunes lookup {apple_id} {country}",
                         lambda: itunes.lookup(http, settings, [apple_id], country=country)))
        elif is_url:
            skipped.append(SourceStatus(ITUNES, "skipped", "Apple Podcasts cannot look up a feed address"))
        else:
            asks.append((ITUNES, f"itunes search {limit} {country} {key_query}",
                         lambda: itunes.search(http, settings, query, limit=limit, country=country)))
        if not podcastindex.configured(settings):
            skipped.append(SourceStatus(PODCASTINDEX, "skipped", podcastindex.SETUP_HINT))
        elif is_url and apple_id is None:
            async def by_url() -> list[DirectoryShow]:
                found = await podcastindex.by_feed_url(http, settings, query)
                return [found] if found else []
            asks.append((PODCASTINDEX, f"podcastindex byfeedurl {query}", by_url))
        elif apple_id is None:
            asks.append((PODCASTINDEX, f"podcastindex search {limit} {key_query}",
                         lambda: podcastindex.search(http, settings, query, limit=limit)))
        results = await _gather(settings, asks, skipped, query, None)
    results.shows = results.shows[:limit]
    return results


async def trending(settings: Settings, category: str | None = None, *, limit: int = 25,
                   country: str | None = None) -> DirectoryResults:
    """What is popular now (in a category of :data:`CATEGORIES`): Podcast Index's trending feeds
    and Apple's top chart, merged."""
    if category is not None and category not in CATEGORIES:
        raise DirectoryError(f"no category {category!r}; one of: {', '.join(CATEGORIES)}")
    _, genre, pi_cat = CATEGORIES[category] if category else (None, None, None)
    country = country or settings.directory_country
    async with directory_http.client(settings) as http:
        asks: list[tuple[str, str, Callable]] = [
            (ITUNES, f"itunes top {limit} {country} {genre}",
             lambda: itunes.top(http, settings, genre=genre, limit=limit, country=country)),
        ]
        skipped: list[SourceStatus] = []
        if podcastindex.configured(settings):
            asks.insert(0, (PODCASTINDEX, f"podcastindex trending {limit} {pi_cat}",
                            lambda: podcastindex.trending(http, settings, category=pi_cat, limit=limit)))
        else:
            skipped.append(SourceStatus(PODCASTINDEX, "skipped", podcastindex.SETUP_HINT))
        results = await _gather(settings, asks, skipped, None, category)
    results.shows = results.shows[:limit]
    return results


# -- preview ----------------------------------------------------------------------------------------

PREVIEW_TEXT = 400  # characters of each episode's notes in a preview


async def preview(settings: Settings, url: str, *, limit: int = 10) -> FeedPreview:
    """Fetch and read a feed (through the feed client and its outbound policy) without subscribing.
    Raises FeedError (FetchError when its host cannot be reached) like subscribing would."""
    from earmark.feeds.fetch import fetch_feed, make_client, normalize_url
    from earmark.feeds.parse import parse_feed

    url = normalize_url(url)
    async with make_client(settings) as http:
        fetched = await fetch_feed(http, url, settings)
    assert fetched.content is not None  # no validators were sent, so never 304
    parsed = await anyio.to_thread.run_sync(parse_feed, fetched.content, fetched.url)
    oldest = datetime.min.replace(tzinfo=UTC)
    latest = sorted(parsed.episodes, key=lambda e: e.published or oldest, reverse=True)[:limit]
    podcast = parsed.podcast
    return FeedPreview(
        feed_url=fetched.url,
        title=podcast.title or fetched.url,
        author=podcast.author,
        description=_short(podcast.description, 1000),
        image=directory_http.web_url(podcast.image),
        link=directory_http.web_url(podcast.link),
        categories=tuple(podcast.categories),
        episode_count=len(parsed.episodes),
        episodes=tuple(
            PreviewEpisode(e.title, e.published, e.duration, _short(e.description, PREVIEW_TEXT)) for e in latest
        ),
    )


def _short(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


__all__ = ["CATEGORIES", "SOURCE_NAMES", "cache_for", "mark_subscribed", "merge", "preview", "search",
           "subscriptions", "trending"]

"""Podcast Index (https://podcastindex-org.github.io/docs-api/): ``/search/byterm``,
``/podcasts/trending`` and ``/podcasts/byfeedurl``. Every request carries the documented auth:
``X-Auth-Key``, ``X-Auth-Date`` (Unix seconds), ``Authorization`` = sha1 hex of key + secret +
date, and a ``User-Agent``. Without ``podcastindex_key`` and ``podcastindex_secret`` it is skipped."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx

from earmark.config import Settings
from earmark.directory.http import get_json, integer, text, web_url
from earmark.directory.records import PODCASTINDEX, DirectoryShow, SourceError

MAX_RESULTS = 1000  # the API's cap on max
SETUP_HINT = ("Podcast Index is off: set podcastindex_key and podcastindex_secret in settings.toml"
              " (a free key: https://api.podcastindex.org)")


def configured(settings: Settings) -> bool:
    return bool(settings.podcastindex_key and settings.podcastindex_secret)


def auth_headers(key: str, secret: str, now: float | None = None) -> dict[str, str]:
    date = str(int(time.time() if now is None else now))
    return {
        "X-Auth-Key": key,
        "X-Auth-Date": date,
        "Authorization": hashlib.sha1((key + secret + date).encode("utf-8")).hexdigest(),
    }


def show(feed: Any) -> DirectoryShow | None:
    if not isinstance(feed, dict):
        return None
    url = web_url(feed.get("url")) or web_url(feed.get("originalUrl"))
    if url is None:
        return None
    categories = feed.get("categories")
    names = tuple(
        v.strip() for v in (categories.values() if isinstance(categories, dict) else [])
        if isinstance(v, str) and v.strip()
    )
    return DirectoryShow(
        feed_url=url,
        title=text(feed.get("title")) or url,
        author=text(feed.get("author")) or text(feed.get("ownerName")),
        artwork=web_url(feed.get("artwork")) or web_url(feed.get("image")),
        episode_count=integer(feed.get("episodeCount")),
        categories=names,
        description=text(feed.get("description")),
        link=web_url(feed.get("link")),
        itunes_id=integer(feed.get("itunesId")),
        podcastindex_id=integer(feed.get("id")),
        sources=(PODCASTINDEX,),
    )


async def _get(http: httpx.AsyncClient, settings: Settings, path: str, params: dict) -> dict:
    if not configured(settings):
        raise SourceError(SETUP_HINT)
    headers = auth_headers(settings.podcastindex_key, settings.podcastindex_secret)  # type: ignore[arg-type]
    url = settings.podcastindex_base_url.rstrip("/") + path
    try:
        answer = await get_json(http, PODCASTINDEX, url, params=params, headers=headers, timeout=settings.directory_timeout)
    except SourceError as exc:
        if "(HTTP 401)" in str(exc) or "(HTTP 403)" in str(exc):
            raise SourceError(f"{exc}: check podcastindex_key and podcastindex_secret (and the clock)") from None
        raise
    if not isinstance(answer, dict):
        raise SourceError("Podcast Index answered with something other than a JSON object")
    if str(answer.get("status", "true")).lower() == "false":
        raise SourceError(f"Podcast Index: {text(answer.get('description')) or 'the request failed'}")
    return answer


def _feeds(answer: dict) -> list[DirectoryShow]:
    feeds = answer.get("feeds", [])
    if not isinstance(feeds, list):
        raise SourceError("Podcast Index answered without a list of feeds")
    return [s for s in map(show, feeds) if s is not None]


async def search(http: httpx.AsyncClient, settings: Settings, term: str, *, limit: int = 25) -> list[DirectoryShow]:
    return _feeds(await _get(http, settings, "/search/byterm", {"q": term, "max": str(min(limit, MAX_RESULTS))}))


async def trending(http: httpx.AsyncClient, settings: Settings, *, category: str | None = None, limit: int = 25,
                   lang: str | None = None) -> list[DirectoryShow]:
    params = {"max": str(min(limit, MAX_RESULTS))}
    if category:
        params["cat"] = category
    if lang:
        params["lang"] = lang
    return _feeds(await _get(http, settings, "/podcasts/trending", params))


async def by_feed_url(http: httpx.AsyncClient, settings: Settings, url: str) -> DirectoryShow | None:
    answer = await _get(http, settings, "/podcasts/byfeedurl", {"url": url})
    return show(answer.get("feed"))

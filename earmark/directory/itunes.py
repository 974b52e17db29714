"""Apple's iTunes Search API (no key): ``/search?media=podcast&entity=podcast``, ``/lookup?id=``,
and the top-podcasts charts (``/{country}/rss/toppodcasts/limit=N[/genre=G]/json``, the JSON
feed AntennaPod reads; Apple does not document it, so a failure there only leaves trending to
Podcast Index). Results without a ``feedUrl`` (shows Apple hosts only) are skipped."""

from __future__ import annotations

import re
from typing import Any

import httpx

from earmark.config import Settings
from earmark.directory.http import get_json, integer, text, web_url
from earmark.directory.records import ITUNES, DirectoryShow, SourceError

# An Apple Podcasts page, as people paste it: https://podcasts.apple.com/us/podcast/name/id1234567
APPLE_PAGE = re.compile(r"^https?://(?:podcasts|itunes)\.apple\.com/\S*?/id(\d{1,12})(?:[/?#]\S*)?$", re.IGNORECASE)
MAX_LIMIT = 200  # Apple's own cap on limit


def _base(settings: Settings) -> str:
    return settings.itunes_base_url.rstrip("/")


def _country(settings: Settings, country: str | None) -> str:
    code = (country or settings.directory_country or "us").strip().lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else "us"


def show(item: Any) -> DirectoryShow | None:
    """One search/lookup result, or None when it is not a podcast with a feed."""
    if not isinstance(item, dict):
        return None
    feed = web_url(item.get("feedUrl"))
    if feed is None:
        return None
    genres = item.get("genres")
    categories = tuple(
        g.strip() for g in (genres if isinstance(genres, list) else [])
        if isinstance(g, str) and g.strip() and g.strip() != "Podcasts"
    ) or ((text(item.get("primaryGenreName")),) if text(item.get("primaryGenreName")) else ())
    return DirectoryShow(
        feed_url=feed,
        title=text(item.get("collectionName")) or text(item.get("trackName")) or feed,
        author=text(item.get("artistName")),
        artwork=web_url(item.get("artworkUrl600")) or web_url(item.get("artworkUrl100")),
        episode_count=integer(item.get("trackCount")),
        categories=categories,
        link=web_url(item.get("collectionViewUrl")),
        itunes_id=integer(item.get("collectionId")) or integer(item.get("trackId")),
        sources=(ITUNES,),
    )


def _shows(answer: Any) -> list[DirectoryShow]:
    if not isinstance(answer, dict) or not isinstance(answer.get("results", []), list):
        raise SourceError("Apple Podcasts answered without a list of results")
    return [s for s in map(show, answer.get("results", [])) if s is not None]


async def search(http: httpx.AsyncClient, settings: Settings, term: str, *, limit: int = 25,
                 country: str | None = None) -> list[DirectoryShow]:
    params = {"media": "podcast", "entity": "podcast", "term": term, "limit": str(min(limit, MAX_LIMIT)),
              "country": _country(settings, country)}
    answer = await get_json(http, ITUNES, f"{_base(settings)}/search", params=params, timeout=settings.directory_timeout)
    return _shows(answer)


async def lookup(http: httpx.AsyncClient, settings: Settings, ids: list[int], *,
                 country: str | None = None) -> list[DirectoryShow]:
    """Shows by Apple id, in the order of ``ids`` (one request for up to 200)."""
    if not ids:
        return []
    params = {"id": ",".join(str(i) for i in ids[:MAX_LIMIT]), "entity": "podcast", "country": _country(settings, country)}
    answer = await get_json(http, ITUNES, f"{_base(settings)}/lookup", params=params, timeout=settings.directory_timeout)
    found = {s.itunes_id: s for s in _shows(answer)}
    return [found[i] for i in ids if i in found]


def chart_ids(answer: Any) -> list[int]:
    """Apple ids from a top-podcasts chart, in chart order."""
    feed = answer.get("feed") if isinstance(answer, dict) else None
    entries = feed.get("entry", []) if isinstance(feed, dict) else None
    if isinstance(entries, dict):  # a chart of one entry is an object, not a list
        entries = [entries]
    if not isinstance(entries, list):
        raise SourceError("Apple Podcasts answered a chart without entries")
    ids = []
    for entry in entries:
        ident = entry.get("id") if isinstance(entry, dict) else None
        attributes = ident.get("attributes") if isinstance(ident, dict) else None
        number = integer(attributes.get("im:id")) if isinstance(attributes, dict) else None
        if number is not None and number not in ids:
            ids.append(number)
    return ids


async def top(http: httpx.AsyncClient, settings: Settings, *, genre: int | None = None, limit: int = 25,
              country: str | None = None) -> list[DirectoryShow]:
    """Apple's top podcasts (in a genre), with their feeds from one lookup."""
    country = _country(settings, country)
    path = f"/{country}/rss/toppodcasts/limit={min(limit, MAX_LIMIT)}" + (f"/genre={genre}" if genre else "") + "/json"
    answer = await get_json(http, ITUNES, _base(settings) + path, timeout=settings.directory_timeout)
    return await lookup(http, settings, chart_ids(answer), country=country)


def page_id(query: str) -> int | None:
    """The Apple id in an Apple Podcasts page address (pasted into the search box), else None."""
    match = APPLE_PAGE.match(query.strip())
    return int(match.group(1)) if match else None

"""Fetching a feed over HTTP: conditional GET, redirects, size limit, and errors a user can read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import podcastparser

from earmark.config import Settings
from earmark.errors import FeedError, FetchError
from earmark.net import async_client, describe_http_error

PERMANENT_REDIRECTS = {301, 308}


@dataclass(frozen=True)
class FetchedFeed:
    url: str  # where the feed now lives: the end of any chain of permanent redirects
    content: bytes | None  # None for 304 Not Modified
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.content is None


# "feed:https://host/x" wraps a whole URL; podcastparser would turn it into "http:///https://…".
_WRAPPED = re.compile(r"^(?:feed|itpc|pcast|podcast):(?://)?(https?://.+)$", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """``feed://``, ``feed:https://``, ``itpc://``, a missing scheme and stray spaces → a plain
    http(s) URL. Raises FeedError for anything that is not a usable http(s) address."""
    text = url.strip()
    if match := _WRAPPED.match(text):
        text = match.group(1)
    problem = "expected an http:// or https:// URL"
    try:
        normalized = podcastparser.normalize_feed_url(text)
    except ValueError as exc:  # urlsplit: "Invalid IPv6 URL" and the like
        normalized, problem = None, str(exc)
    if normalized and normalized.startswith(("http://", "https://")):
        try:
            parts = urlsplit(normalized)
            parts.port  # raises ValueError when out of range or not a number
            httpx.URL(normalized)
        except (ValueError, httpx.InvalidURL) as exc:
            problem = str(exc)
        else:
            if parts.hostname:
                return normalized
            problem = "no host name"
    raise FeedError(f"{url!r} is not a feed address ({problem})")


def make_client(settings: Settings) -> httpx.AsyncClient:
    return async_client(settings, connections=settings.refresh_concurrency * 2)


def _moved_to(url: str, response: httpx.Response) -> str:
    """Follow the redirect chain while every hop is permanent; a temporary hop stops it."""
    targets = [str(r.url) for r in response.history[1:]] + [str(response.url)]
    for hop, target in zip(response.history, targets):
        if hop.status_code not in PERMANENT_REDIRECTS:
            break
        url = target
    return url


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchedFeed:
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with client.stream("GET", url, headers=headers) as response:
            final_url = _moved_to(url, response)
            new_etag = response.headers.get("ETag")
            new_last_modified = response.headers.get("Last-Modified")
            if response.status_code == 304:
                return FetchedFeed(final_url, None, new_etag or etag, new_last_modified or last_modified)
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code} {response.reason_phrase}".rstrip())
            if response.status_code != 200:
                raise FetchError(f"{url}: unexpected HTTP {response.status_code} {response.reason_phrase}")
            limit = settings.max_feed_bytes
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit and "Content-Encoding" not in response.headers:
                raise FetchError(f"{url}: the feed is {int(declared):,} bytes, over the limit of {limit:,}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():  # decoded: the limit also stops gzip bombs
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"{url}: the feed is over the limit of {limit:,} bytes; refused")
                chunks.append(chunk)
            return FetchedFeed(final_url, b"".join(chunks), new_etag, new_last_modified)
    except httpx.HTTPError as exc:
        raise FetchError(describe_http_error(url, exc, settings.http_timeout)) from exc
    except httpx.InvalidURL as exc:  # not an HTTPError; e.g. a redirect to a malformed address
        raise FetchError(f"{url}: not a valid address ({exc})") from exc

"""Fetching a feed over HTTP: conditional GET, redirects, size limit, and errors a user can read."""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import podcastparser

from earmark.config import Settings
from earmark.errors import FeedError, FetchError

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
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(settings.http_timeout),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        limits=httpx.Limits(max_connections=settings.refresh_concurrency * 2),
    )


def _moved_to(url: str, response: httpx.Response) -> str:
    """Follow the redirect chain while every hop is permanent; a temporary hop stops it."""
    targets = [str(r.url) for r in response.history[1:]] + [str(response.url)]
    for hop, target in zip(response.history, targets):
        if hop.status_code not in PERMANENT_REDIRECTS:
            break
        url = target
    return url


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current = exc.__cause__ or exc.__context__
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe_http_error(url: str, exc: Exception, timeout: float) -> str:
    """One line saying what went wrong talking to ``url``."""
    if isinstance(exc, httpx.TimeoutException):
        return f"{url}: timed out after {timeout:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"{url}: too many redirects"
    if isinstance(exc, httpx.ConnectError):
        causes = _causes(exc)
        text = str(exc) or next((str(c) for c in causes if str(c)), "")
        tls = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
        if tls is not None or "SSL" in text or "CERTIFICATE" in text.upper():
            return f"{url}: TLS error: {tls or text}"
        # httpx often says only "All connection attempts failed"; the OSError beneath says why.
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return f"{url}: cannot connect: connection refused"
        if lookup := next((c for c in causes if isinstance(c, socket.gaierror)), None):
            return f"{url}: cannot connect: host not found ({lookup.strerror or lookup})"
        return f"{url}: cannot connect: {text or 'connection failed'}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{url}: the server closed the connection mid-response ({exc})"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"{url}: unsupported address ({exc})"
    return f"{url}: {type(exc).__name__}: {exc}"


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

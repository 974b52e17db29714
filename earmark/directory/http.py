"""GET a directory's JSON: one timeout, a size cap, and every failure as a SourceError saying which
directory failed and how (offline, timed out, rate-limited, down, refused the key, not JSON).

Directories are services the user configures (like an LLM endpoint), so their client is
earmark/net.py's service client, not under the feed outbound policy; the feed addresses they
return are, when fetched."""

from __future__ import annotations

import json
from typing import Any

import httpx

from earmark.config import Settings
from earmark.directory.records import SOURCE_NAMES, SourceError
from earmark.net import async_service_client, describe_http_error

MAX_ANSWER_BYTES = 8 * 1024 * 1024  # a page of 200 results is ~1 MB; more is not a directory answer


def client(settings: Settings) -> httpx.AsyncClient:
    return async_service_client(settings, timeout=settings.directory_timeout, headers={"Accept": "application/json"},
                                follow_redirects=True)


async def get_json(
    http: httpx.AsyncClient, source: str, url: str, *, params: dict | None = None, headers: dict | None = None,
    timeout: float,
) -> Any:
    name = SOURCE_NAMES.get(source, source)
    try:
        async with http.stream("GET", url, params=params, headers=headers) as response:
            status = response.status_code
            if status != 200:
                raise SourceError(_status_message(name, status, response.headers.get("Retry-After")))
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise SourceError(f"{name}: the answer is over {MAX_ANSWER_BYTES:,} bytes; refused")
                chunks.append(chunk)
    except SourceError:
        raise
    except httpx.HTTPError as exc:
        why = describe_http_error(url, exc, timeout)
        hint = " (offline?)" if isinstance(exc, httpx.ConnectError) else ""
        raise SourceError(f"{name} cannot be reached{hint}: {why}") from exc
    except httpx.InvalidURL as exc:
        raise SourceError(f"{name}: not a valid address {url!r} ({exc}); check the base URL setting") from exc
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise SourceError(f"{name} answered with something that is not JSON") from None


def _status_message(name: str, status: int, retry_after: str | None) -> str:
    if status == 429:
        wait = f" (it asks to wait {retry_after} s)" if retry_after and retry_after.isdigit() else ""
        return f"{name} is limiting requests (HTTP 429){wait}; try again in a minute"
    if status in (401, 403):
        return f"{name} refused the request (HTTP {status})"
    if status >= 500:
        return f"{name} is down or failing (HTTP {status}); try again later"
    return f"{name} answered HTTP {status}"


# -- reading loosely typed answers: a field may be missing, null or of another type ---------------


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def web_url(value: Any) -> str | None:
    """An http(s) address, or None: a directory's ``javascript:`` or ``data:`` is never passed on."""
    value = text(value)
    return value if value.lower().startswith(("http://", "https://")) else None

"""One request to an export API with the retry rules both Readwise and Notion document:

- 429: wait ``Retry-After`` seconds (Notion: "an integer number of seconds"; Readwise answers its
  rate limit the same way), then try again;
- 5xx and connection errors: bounded retries with exponential backoff — except that a request
  which creates something (POST, PATCH) is not sent again once it may have arrived (the connection
  failed after it was sent: no answer, a timeout reading it): neither service de-duplicates
  everything, so that ends the run with an "uncertain" error, and the next run first asks the
  service what arrived (the in-flight notes of readwise.py and notion.py);
- 401/403 and other 4xx: no retry — an ``ExportError`` that names the target and quotes the
  server's message (Notion's error JSON is ``{"object":"error","status","code","message"}``).

``sleep`` is injectable so tests do not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from earmark.config import Settings
from earmark.export import ExportError
from earmark.net import service_client

MAX_ATTEMPTS = 5
CREATING_METHODS = {"POST", "PATCH"}
# Failures that happen before a request is on its way: always safe to try again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_RETRY_AFTER = 300.0  # a longer Retry-After is capped, not ignored


class AuthError(ExportError):
    """The target refused the token (401/403)."""


class RequestError(ExportError):
    """``uncertain``: the last try ended without an answer (the connection failed or timed out
    after the request may have arrived), so the target may have carried it out after all."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None, *, uncertain: bool = False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.uncertain = uncertain


@contextmanager
def api_client(settings: Settings, client: httpx.Client | None, *, base_url: str, headers: dict) -> Iterator[httpx.Client]:
    """``client`` (a test's, left open) with ``headers`` set, else a service client for ``base_url``
    (earmark/net.py), closed afterwards."""
    if client is not None:
        client.headers.update(headers)
        yield client
        return
    with service_client(settings, base_url=base_url.rstrip("/"), headers=headers) as http:
        yield http


def _message(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip(), None
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail") or body.get("error") or body
        return str(message)[:500], body.get("code")
    return str(body)[:300], None


def _retry_after(response: httpx.Response, fallback: float) -> float:
    value = response.headers.get("Retry-After")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value is not None else fallback
    except ValueError:
        return fallback  # an HTTP date: rare for these APIs; back off instead


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    target: str,
    json: dict | None = None,
    params: dict | None = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = MAX_ATTEMPTS,
    backoff: float = 1.0,
    resend_on_5xx: bool = True,
) -> httpx.Response:
    """The 2xx response, or an ExportError once retries are spent or the error is not retryable.
    ``resend_on_5xx=False``: a POST/PATCH answered 500/502/504 is not sent again (the target may
    have carried it out; Notion would then hold it twice): an uncertain error instead."""
    last = ""
    uncertain = False
    for attempt in range(attempts):
        delay = backoff * (2**attempt)
        try:
            response = client.request(method, url, json=json, params=params)
        except httpx.TransportError as exc:
            if method in CREATING_METHODS and not isinstance(exc, NOT_SENT):
                raise RequestError(
                    f"the connection to {target} failed after the request was sent ({exc.__class__.__name__}: {exc});"
                    " run the export again: it checks what arrived before sending anything twice",
                    uncertain=True,
                ) from exc
            last = f"could not reach {target} ({exc.__class__.__name__}: {exc})"
            uncertain = not isinstance(exc, NOT_SENT)
            if attempt + 1 < attempts:
                sleep(delay)
            continue
        uncertain = False
        if response.is_success:
            return response
        message, code = _message(response)
        if response.status_code in (401, 403):
            raise AuthError(
                f"{target} refused the token (HTTP {response.status_code}: {message}); check the {target.lower()}_token setting",
            )
        if response.status_code == 429:
            last = f"{target} rate limit (HTTP 429: {message})"
            if attempt + 1 < attempts:
                sleep(_retry_after(response, delay))
            continue
        if response.status_code in (500, 502, 504) and method in CREATING_METHODS and not resend_on_5xx:
            # A gateway's timeout may come after the page was made or the blocks appended: not
            # sent again now; the next run checks what arrived first.
            raise RequestError(
                f"{target} server error after the request was sent (HTTP {response.status_code}: {message});"
                " run the export again: it checks what arrived before sending anything twice",
                response.status_code, code, uncertain=True,
            )
        if response.status_code >= 500:
            last = f"{target} server error (HTTP {response.status_code}: {message})"
            if attempt + 1 < attempts:
                sleep(delay)
            continue
        raise RequestError(f"{target} rejected the request (HTTP {response.status_code}: {message})",
                           response.status_code, code)
    raise RequestError(f"{last}; gave up after {attempts} attempts — nothing is lost, run the export again later",
                       uncertain=uncertain)

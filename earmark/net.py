"""Every request Earmark makes for an address it found in a feed (the feed itself, enclosures,
transcripts, chapters, artwork) goes out through here:

- one client factory (timeouts, redirects, User-Agent, connection limits);
- bodies read as a stream and stopped at a size cap (:func:`fetch_bytes`), never read whole first;
- the outbound address policy, checked on every hop of a redirect chain: only http and https; never
  this process's own server port on a loopback address (a feed must not make Earmark read its own
  API); and with ``block_private_hosts`` (on by default when serving beyond loopback) no host that
  resolves to a loopback, private, link-local, multicast or reserved address. The address checked
  is the one connected to, so a name that resolves differently a moment later cannot slip past.

Services the user configured (an LLM endpoint, Readwise, Notion, podcast directories) are trusted,
so their clients (:func:`service_client`, :func:`async_service_client`) skip the address policy:
they are often on this machine on purpose (Ollama on 127.0.0.1). They get the same User-Agent,
redirect limit and connection limit, and every answer body is stopped at a size cap.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable

import httpx

from earmark.config import Settings
from earmark.errors import EarmarkError

_own_ports: set[int] = set()  # ports this process serves on (earmark serve registers its own)


def serving_on(port: int) -> None:
    """Record that this process serves HTTP on ``port``: outbound requests never go there on a
    loopback or unspecified address."""
    _own_ports.add(int(port))


class RefusedAddress(httpx.TransportError):
    """The outbound policy refused the address (an httpx error, so callers report it as any other
    connection failure)."""


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current = exc.__cause__ or exc.__context__
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe_http_error(url: str, exc: Exception, timeout: float) -> str:
    """One line saying what went wrong talking to ``url``."""
    if isinstance(exc, RefusedAddress):
        return f"{url}: {exc}"
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


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def _why_blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return _why_blocked(mapped)
        if address.teredo is not None:
            return _why_blocked(address.teredo[1])
    for flag, what in (
        ("is_loopback", "a loopback"), ("is_link_local", "a link-local"), ("is_unspecified", "an unspecified"),
        ("is_multicast", "a multicast"), ("is_reserved", "a reserved"), ("is_private", "a private"),
    ):
        if getattr(address, flag):
            return what
    return None if address.is_global else "a non-public"  # e.g. 100.64.0.0/10, shared by carriers


class Policy:
    """Which addresses requests may go to. :meth:`resolve` returns the address to connect to."""

    def __init__(self, block_private: bool, own_ports: Iterable[int] | None = None):
        self.block_private = block_private
        self.own_ports = _own_ports if own_ports is None else set(own_ports)

    def looks_up(self, url: httpx.URL) -> bool:
        """Whether checking ``url`` needs a name lookup (blocking I/O)."""
        return self.block_private or (url.port or (443 if url.scheme == "https" else 80)) in self.own_ports

    def resolve(self, url: httpx.URL) -> str | None:
        """The checked IP address to connect to instead of the name (None: connect as usual).
        Raises RefusedAddress."""
        if url.scheme not in ("http", "https"):
            raise RefusedAddress(f"only http:// and https:// addresses are fetched, not {url.scheme}://")
        if not self.looks_up(url):
            return None
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found = _addresses(url.host, port)
        except (OSError, UnicodeError):
            return None  # unresolvable: the connection attempt reports it the usual way
        for address in found:
            if port in self.own_ports and _why_blocked(address) in ("a loopback", "an unspecified"):
                raise RefusedAddress(f"{url.host}:{port} is this Earmark server itself; refused")
            if self.block_private and (why := _why_blocked(address)):
                raise RefusedAddress(
                    f"{url.host} is {why} address ({address}); refused (block_private_hosts is on)")
        return str(found[0]) if self.block_private and found else None


def _pinned(request: httpx.Request, address: str | None) -> httpx.Request:
    """The request sent to ``address`` (the checked IP), with its Host header and TLS name kept."""
    if address is None:
        return request
    extensions = dict(request.extensions)
    if request.url.scheme == "https":
        extensions["sni_hostname"] = request.url.host
    return httpx.Request(request.method, request.url.copy_with(host=address), headers=request.headers,
                         stream=request.stream, extensions=extensions)


class _Transport(httpx.HTTPTransport):
    def __init__(self, policy: Policy, **options):
        super().__init__(**options)
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            address = self.policy.resolve(request.url)
        except RefusedAddress as exc:
            exc.request = request
            raise
        return super().handle_request(_pinned(request, address))


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: Policy, **options):
        super().__init__(**options)
        self.policy = policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import anyio

        try:
            if self.policy.looks_up(request.url):  # getaddrinfo blocks: off the event loop
                address = await anyio.to_thread.run_sync(self.policy.resolve, request.url)
            else:
                address = self.policy.resolve(request.url)
        except RefusedAddress as exc:
            exc.request = request
            raise
        return await super().handle_async_request(_pinned(request, address))


def policy(settings: Settings) -> Policy:
    return Policy(bool(settings.block_private_hosts))


def _options(settings: Settings) -> dict:
    return {
        "headers": {"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        "timeout": httpx.Timeout(settings.http_timeout),
        "follow_redirects": True,
        "max_redirects": settings.max_redirects,
    }


def client(settings: Settings, *, connections: int = 10) -> httpx.Client:
    """A client for addresses found in feeds, under the outbound policy."""
    limits = httpx.Limits(max_connections=connections)
    return httpx.Client(transport=_Transport(policy(settings), limits=limits), **_options(settings))


def async_client(settings: Settings, *, connections: int = 10) -> httpx.AsyncClient:
    """The async twin of :func:`client` (refreshes, downloads)."""
    limits = httpx.Limits(max_connections=connections)
    return httpx.AsyncClient(transport=_AsyncTransport(policy(settings), limits=limits),
                             **_options(settings))


def fetch_bytes(client: httpx.Client, url: str, *, limit: int, what: str, error: type[EarmarkError],
                timeout: float) -> bytes:
    """GET ``url`` and return its body, read as a stream and stopped at ``limit`` bytes (after
    decoding, so a gzip bomb stops too). Every failure — a bad address, a refused one, a dead host,
    an HTTP error status, a body over the limit — raises ``error`` with one line saying why."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise error(f"{url}: HTTP {response.status_code} {response.reason_phrase}".rstrip())
            declared = response.headers.get("Content-Length", "")
            encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
            if declared.isdigit() and int(declared) > limit and not encoded:
                raise error(f"{url}: the {what} is {int(declared):,} bytes, over the limit of {limit:,}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise error(f"{url}: the {what} is larger than {limit:,} bytes; refused")
                chunks.append(chunk)
            return b"".join(chunks)
    except EarmarkError:
        raise
    except httpx.HTTPError as exc:
        raise error(describe_http_error(url, exc, timeout)) from exc
    except (httpx.InvalidURL, ValueError) as exc:  # a control character, a bad port, no host …
        raise error(f"{url!r}: not a valid address ({exc})") from exc


# -- clients for services the user configured ------------------------------------------------

MAX_SERVICE_BYTES = 64 * 1024 * 1024  # an LLM answer or an export API page is far smaller


class AnswerTooLarge(httpx.TransportError):
    """A service's answer went over the size cap (an httpx error: reported as a failed request)."""


class _CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, stream, limit: int, url: httpx.URL):
        self._stream, self._limit, self._url = stream, limit, url

    def _count(self, size: int, chunk: bytes) -> int:
        size += len(chunk)
        if size > self._limit:
            raise AnswerTooLarge(f"{self._url}: the answer is over {self._limit:,} bytes; refused")
        return size

    def __iter__(self):
        size = 0
        for chunk in self._stream:
            size = self._count(size, chunk)
            yield chunk

    async def __aiter__(self):
        size = 0
        async for chunk in self._stream:
            size = self._count(size, chunk)
            yield chunk

    def close(self) -> None:
        self._stream.close()

    async def aclose(self) -> None:
        await self._stream.aclose()


class _CappedTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, limit: int):
        self._inner, self._limit = inner, limit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.stream = _CappedStream(response.stream, self._limit, request.url)
        return response

    def close(self) -> None:
        self._inner.close()


class _AsyncCappedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int):
        self._inner, self._limit = inner, limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        response.stream = _CappedStream(response.stream, self._limit, request.url)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _service_options(settings: Settings, timeout: float | httpx.Timeout | None, headers: dict | None,
                     follow_redirects: bool, base_url: str) -> dict:
    return {
        "base_url": base_url,
        "headers": {"User-Agent": settings.user_agent, **(headers or {})},
        "timeout": timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(
            settings.http_timeout if timeout is None else timeout),
        "follow_redirects": follow_redirects,
        "max_redirects": settings.max_redirects,
    }


def service_client(settings: Settings, *, base_url: str = "", timeout: float | httpx.Timeout | None = None,
                   headers: dict | None = None, follow_redirects: bool = False, connections: int = 10,
                   max_bytes: int = MAX_SERVICE_BYTES, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A client for a service the user configured (no address policy; see the module docstring).
    ``timeout`` defaults to ``http_timeout``; ``transport`` lets tests answer in-process."""
    inner = transport or httpx.HTTPTransport(limits=httpx.Limits(max_connections=connections))
    return httpx.Client(transport=_CappedTransport(inner, max_bytes),
                        **_service_options(settings, timeout, headers, follow_redirects, base_url))


def async_service_client(settings: Settings, *, base_url: str = "", timeout: float | httpx.Timeout | None = None,
                         headers: dict | None = None, follow_redirects: bool = False, connections: int = 10,
                         max_bytes: int = MAX_SERVICE_BYTES,
                         transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The async twin of :func:`service_client` (podcast directories)."""
    inner = transport or httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=connections))
    return httpx.AsyncClient(transport=_AsyncCappedTransport(inner, max_bytes),
                             **_service_options(settings, timeout, headers, follow_redirects, base_url))

"""The web app: the JSON API under /api/v1 (OpenAPI at /openapi.json), the pages (earmark/web/pages.py)
and their static player (earmark/web/static).

- One Library per app (``app.state.library``), handed to endpoints by a dependency. Endpoints are
  ``async``: the store's connection is used from the event loop thread only, the same thread the
  feed refreshes write from.
- Errors are always JSON ``{"error": {"code", "message"}}``: EarmarkError subclasses are mapped
  to statuses in one handler; validation errors are 422; bodies over the limit 413.
- With an access token required (any non-loopback address), every request must carry it:
  ``Authorization: Bearer …``, or the ``earmark_token`` cookie, which ``?token=…`` sets once.
  Unsafe requests from another origin are refused whether or not a token is required, and so is
  any request whose Host is not this server (DNS rebinding), before any route runs.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import secrets
import socket
from contextlib import asynccontextmanager
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from earmark import __version__
from earmark.config import Settings
from earmark.errors import (
    ChaptersError,
    ConfigError,
    DownloadError,
    EarmarkError,
    FeedError,
    FetchError,
    LLMError,
    NotFound,
    OPMLError,
    TranscriptError,
)
from earmark.feeds.opml import MAX_OPML_BYTES
from earmark.store.library import OWNER_ID, Library
from earmark.jobs.worker import Workers
from earmark.web import contract
from earmark.web.api import router as api_router
from earmark.web.artwork import router as artwork_router
from earmark.web.feeds import router as feeds_router
from earmark.web.pages import STATIC_DIR
from earmark.web.pages import router as pages_router
from earmark.web.deps import APIError
from earmark.accounts import Authenticator
from earmark.store.accounts import AccountStore
from earmark.sync.service import SyncError, SyncService
from earmark.web import login as login_page
from earmark.web import pwa
from earmark.web import sync_api

JSON_BODY_LIMIT = 1024 * 1024
OPML_BODY_LIMIT = MAX_OPML_BYTES + 64 * 1024  # room for multipart framing
TOKEN_COOKIE = "earmark_token"
UPLOADS_PATH = "/api/v1/uploads"
FEED_PATHS = ("/feeds/", "/artwork/")  # a podcast app's reads: a user's feed token may come as ?feed=

# Most specific first: FetchError is a FeedError.
ERROR_STATUS: list[tuple[type[EarmarkError], int, str]] = [
    (NotFound, 404, "not_found"),
    (SyncError, 400, "bad_request"),
    (FetchError, 502, "upstream_error"),
    (LLMError, 503, "llm_unavailable"),
    (DownloadError, 502, "download_error"),
    (OPMLError, 422, "invalid_opml"),
    (FeedError, 422, "invalid_feed"),
    (TranscriptError, 422, "invalid_transcript"),
    (ChaptersError, 422, "invalid_chapters"),
    (ConfigError, 500, "config_error"),
    (EarmarkError, 500, "error"),
]
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    421: "misdirected_request",
    422: "validation_error",
    429: "too_many_requests",
    501: "not_implemented",
    502: "bad_gateway",
    503: "service_unavailable",
}


def error_response(status: int, code: str, message: str, details: list | None = None, headers=None) -> JSONResponse:
    body: dict = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


# -- middleware -------------------------------------------------------------------------------------


class BodyLimitMiddleware:
    """413 for a body over the limit (OPML uploads get a larger one), whether it declares its
    length or comes chunked; a chunked body is read up to the limit before the app sees it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].rstrip("/") == UPLOADS_PATH:  # streamed to disk by the route, up to max_upload_bytes
            return await self.app(scope, receive, send)
        limit = OPML_BODY_LIMIT if scope["path"].rstrip("/") == "/api/v1/opml" else JSON_BODY_LIMIT
        headers = dict(scope["headers"])
        too_large = error_response(413, "payload_too_large", f"the request body is over the limit of {limit:,} bytes")
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return await error_response(400, "bad_request", "invalid Content-Length")(scope, receive, send)
            if int(declared) > limit:
                return await too_large(scope, receive, send)
            return await self.app(scope, receive, send)
        if b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await too_large(scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def host_name(header: str) -> str:
    """The name in a Host header, without port, brackets or a trailing dot, lower-cased."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0].rstrip(".") if text.count(":") == 1 else text.rstrip(".")


SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY")]


def _with_security_headers(send: Send) -> Send:
    """Every response: no MIME sniffing, no Referer (links may carry a token), no framing."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


class GuardMiddleware:
    """Requests naming a host this server is not (DNS rebinding: a web page whose name now points at
    127.0.0.1) are refused before any route runs; so are cross-origin writes; with a token, every
    request must carry it.

    Hosts answered: loopback (127.0.0.1, localhost, [::1]) and the ``allowed_hosts`` setting;
    when serving beyond loopback (a token is required) also any IP address and this machine's name."""

    def __init__(self, app: ASGIApp, token: str | None, allowed_hosts: tuple[str, ...] = (),
                 accounts: AccountStore | None = None):
        self.app = app
        self.token = token
        self.accounts = accounts  # users' API tokens and login sessions count as the token
        self.allowed = set(allowed_hosts)
        if token is not None:
            name = socket.gethostname().lower()
            self.allowed |= {name, f"{name}.local"}

    def _host_allowed(self, header: str | None) -> bool:
        if not header:
            return False
        name = host_name(header)
        if name == "localhost" or name in self.allowed or "*" in self.allowed:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or self.token is not None

    def _user(self, bearer: str, session: str | None, feed: str | None) -> int | None:
        """Whose API token, login session or feed token this is (in that order), if anyone's."""
        user_id = self.accounts.token_user(bearer) if bearer else None  # type: ignore[union-attr]
        if user_id is None and session is not None:
            user_id = self.accounts.session_user(session)  # type: ignore[union-attr]
        if user_id is None and feed is not None:
            user_id = self.accounts.feed_user(feed)  # type: ignore[union-attr]
        return user_id

    def _valid(self, candidate: str | None) -> bool:
        return bool(candidate) and secrets.compare_digest(candidate.encode(), self.token.encode())  # type: ignore[union-attr]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = _with_security_headers(send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not self._host_allowed(headers.get("host")):
            return await error_response(
                421, "misdirected_request",
                f"this Earmark does not answer to the host {headers.get('host', '')[:100]!r}; open it at 127.0.0.1 or"
                " localhost, or add the name to the allowed_hosts setting",
            )(scope, receive, send)
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and not self._same_origin(headers):
            return await error_response(403, "forbidden", "cross-origin requests may not change anything")(
                scope, receive, send
            )
        auth = headers.get("authorization", "")
        bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except CookieError:  # a malformed cookie header is the same as none
            cookie = SimpleCookie()
        # Who is asking: a user's API token or login session; anyone else is the owner (on loopback
        # without a token, or with the server's access token).
        user_id = None
        if self.accounts is not None:
            session = cookie[sync_api.WEB_SESSION_COOKIE].value if sync_api.WEB_SESSION_COOKIE in cookie else None
            feed = None
            if scope["method"] in ("GET", "HEAD") and scope["path"].startswith(FEED_PATHS):
                # A podcast app subscribed to a feed cannot send headers: the user's feed token in the
                # address (it opens their feeds and artwork only; never a full API token).
                given = [v for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k == "feed"]
                feed = given[-1] if given and given[-1] else None
            if bearer or session or feed:  # the store is read (a session renewed) in the threadpool
                user_id = await run_in_threadpool(self._user, bearer, session, feed)
        scope.setdefault("state", {})["user_id"] = user_id if user_id is not None else OWNER_ID
        if self.token is None or user_id is not None:
            return await self.app(scope, receive, send)
        path = scope["path"]
        if (path.startswith(sync_api.SYNC_PREFIXES) or path in ("/login", "/logout", *pwa.PUBLIC_PATHS)
                or path.startswith("/static/")):
            return await self.app(scope, receive, send)  # they check who is asking themselves (or hold no data)
        if bearer and self._valid(bearer):
            return await self.app(scope, receive, send)
        if TOKEN_COOKIE in cookie and self._valid(cookie[TOKEN_COOKIE].value):
            return await self.app(scope, receive, send)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [value for key, value in query if key == "token"]
        if given and self._valid(given[-1]):
            set_cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            if scope["method"] in ("GET", "HEAD") and "text/html" in headers.get("accept", ""):
                # A browser opening the printed link: keep the token in a cookie, not in the address bar.
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                target = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.headers.append("set-cookie", set_cookie)
                return await response(scope, receive, send)

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", set_cookie.encode())]}
                await send(message)

            return await self.app(scope, receive, send_with_cookie)
        if scope["method"] in ("GET", "HEAD") and "text/html" in headers.get("accept", "") and not path.startswith("/api/"):
            # A browser without a session: the login page, then back here.
            query = scope.get("query_string", b"").decode("latin-1")
            target = urlencode({"next": path + (f"?{query}" if query else "")})
            return await RedirectResponse(f"/login?{target}", status_code=303)(scope, receive, send)
        return await error_response(
            401,
            "unauthorized",
            "this Earmark needs its access token: send 'Authorization: Bearer <token>' or open the link printed at start",
            headers={"WWW-Authenticate": "Bearer"},
        )(scope, receive, send)

    @staticmethod
    def _same_origin(headers: dict[str, str]) -> bool:
        site = headers.get("sec-fetch-site")  # set by the browser, never by a page's script
        if site == "cross-site":
            return False
        if site == "same-origin":
            return True  # (a form post from our own page says Origin: null under Referrer-Policy: no-referrer)
        origin = headers.get("origin")
        if origin is None:
            return True  # not sent by a browser page (curl, scripts)
        return origin.split("://", 1)[-1].rstrip("/").lower() == headers.get("host", "").lower()


# -- the app ----------------------------------------------------------------------------------------


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EarmarkError)
    async def earmark_error(request: Request, exc: EarmarkError) -> JSONResponse:
        for cls, status, code in ERROR_STATUS:
            if isinstance(exc, cls):
                return error_response(status, code, str(exc) or cls.__name__)
        raise AssertionError("unreachable: EarmarkError is in the table")

    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(sync_api.Unauthorized)
    async def sync_unauthorized(request: Request, exc: sync_api.Unauthorized) -> JSONResponse:
        return sync_api.unauthorized_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
            for err in exc.errors()
        ]
        message = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details[:5]) or "invalid request"
        return error_response(422, "validation_error", message[:2000], details[:50])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error" if exc.status_code >= 500 else "bad_request")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405 and (methods := _methods_at(request)):
            # Starlette names only the first route's methods; a path may have several routes.
            headers = {**(headers or {}), "Allow": ", ".join(methods)}
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "internal_error", "an unexpected error; see the server log")


def _methods_at(request: Request) -> list[str] | None:
    """Every method the API documents for the request's path (None for a path it does not document)."""
    paths = request.app.openapi()["paths"]
    if (operations := paths.get(request.url.path)) is None:  # a literal path wins over templates
        matching = [ops for template, ops in paths.items() if "{" in template and compile_path(template)[0].match(request.url.path)]
        operations = {method for ops in matching for method in ops}
    return sorted(m.upper() for m in operations) or None


def _start_watcher(settings: Settings):
    """Your own audio: temp files of uploads a killed server left are deleted, and the
    ``watch_folder`` (if set) is watched for new audio files."""
    from earmark.uploads import FolderWatcher, clean_temp

    clean_temp(settings)
    if settings.watch_folder is None:
        return None
    watcher = FolderWatcher(settings)
    watcher.start()
    return watcher


def create_app(settings: Settings | None = None, require_token: bool | None = None, *, run_jobs: bool = False) -> FastAPI:
    """The app for ``settings``. ``require_token``: None = only when ``settings.access_token`` is
    set; True = always (a token is generated when the settings have none: ``app.state.access_token``).
    ``run_jobs``: run the pipeline's background workers while the app is up (``earmark serve``)."""
    settings = settings or Settings.load()
    if require_token is None:
        require_token = settings.access_token is not None
    token = (settings.access_token or secrets.token_urlsafe(32)) if require_token else None
    library = Library(settings.db_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        workers = Workers(settings) if run_jobs else None
        if workers is not None:
            workers.start()
        app.state.workers = workers  # POST /process wakes them
        from earmark.snips.enrich import Enricher

        snip_enricher = Enricher(settings) if run_jobs else None  # AI cards for new snips; picks up pending ones
        if snip_enricher is not None:
            snip_enricher.start()
        watcher = _start_watcher(settings) if run_jobs else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop(timeout=10)
            if snip_enricher is not None:
                snip_enricher.stop(timeout=10)
            app.state.workers = None
            if workers is not None:
                workers.stop(timeout=10)
            library.close()

    app = FastAPI(title="Earmark", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.library = library
    app.state.access_token = token
    app.state.accounts = AccountStore(library)
    app.state.authenticator = Authenticator(app.state.accounts)
    app.state.sync = SyncService(library)
    app.state.sync_tasks = set()  # podcasts a device subscribed to, loading in the background
    app.state.workers = None
    _install_error_handlers(app)
    contract.install(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(GuardMiddleware, token=token, allowed_hosts=settings.allowed_hosts, accounts=app.state.accounts)  # outermost: no body is read for a refused request
    app.include_router(api_router)
    app.include_router(sync_api.router)
    app.include_router(login_page.router)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages_router)
    app.include_router(pwa.router)  # manifest, service worker, offline page
    app.include_router(artwork_router)
    app.include_router(feeds_router)

    return app


def app_for_host(host: str, settings: Settings | None = None) -> tuple[FastAPI, str | None]:
    """The app ``earmark serve --host`` runs, and the token it needs (None on loopback without a
    configured token)."""
    settings = settings or Settings.load()
    beyond = not is_loopback(host)
    if beyond and settings.block_private_hosts is None:  # others may now add feeds: keep them off the LAN
        settings = dataclasses.replace(settings, block_private_hosts=True)
    app = create_app(settings, require_token=True if beyond else None, run_jobs=True)
    return app, app.state.access_token

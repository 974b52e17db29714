"""The sync APIs phone and desktop apps speak, on Earmark's accounts:

- gpodder.net API v2 (AntennaPod's "gpodder.net" option, gPodder desktop through mygpoclient,
  Kasts…): login/logout (session cookie ``sessionid``), devices, subscription changes, episode
  actions, sync groups, and the simple API's OPML/JSON/TXT lists.
- Nextcloud gpoddersync (AntennaPod's "Nextcloud" option): subscriptions and episode actions
  under /index.php/apps/gpoddersync, HTTP Basic with the Earmark password.

Every request is authenticated here (HTTP Basic, or the session cookie from login.json; a
logged-in web session counts too), and the user in the path must be the one logged in. These
routes are outside /api/v1's OpenAPI document: their shapes are gpodder.net's, not Earmark's.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from earmark.accounts import LoginRefused
from earmark.feeds.opml import parse_opml_document
from earmark.store.accounts import RENEW_SECONDS, SESSION_SECONDS, AccountStore, User
from earmark.sync.service import (
    DEVICE_TYPES,
    SyncError,
    SyncService,
    action_json,
    now_stamp,
    parse_since,
    read_actions,
    read_changes,
)
from earmark.web.deps import APIError

log = logging.getLogger(__name__)
SESSION_COOKIE = "sessionid"  # the name gpodder.net uses; AntennaPod's cookie jar sends it back
WEB_SESSION_COOKIE = "earmark_session"
NEXTCLOUD_DEVICE = "gpoddersync"  # Nextcloud's API has no devices: its clients share one, in the main group
DEVICE_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
FORMATS = ("opml", "json", "txt")


class _SessionRoute(APIRoute):
    """After a request that logged in with HTTP Basic, a session cookie, as gpodder.net sets one:
    clients such as mygpoclient send their password only a few times and then rely on it."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def with_session(request: Request) -> Response:
            response = await handler(request)
            user_id = getattr(request.state, "basic_user", None)
            # (not for Nextcloud's API: its clients send Basic every time and keep no cookies)
            if user_id is not None and response.status_code < 400 and not request.url.path.startswith(NEXTCLOUD):
                login = request.url.path.endswith("/login.json")
                await run_in_threadpool(_set_session, request, response, user_id, SESSION_SECONDS if login else RENEW_SECONDS)
            return response

        return with_session


def _set_session(request: Request, response: Response, user_id: int, seconds: float = RENEW_SECONDS) -> None:
    # A Basic success gets an hour (renewed while in use): a client that keeps no cookies leaves
    # one short-lived row per request, not a month's worth. login.json gives the full 30 days.
    session = request.app.state.accounts.new_session(user_id, seconds)
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        max_age=SESSION_SECONDS)  # (the server ends it; kept by the client while renewed)


router = APIRouter(include_in_schema=False, route_class=_SessionRoute)


class Unauthorized(APIError):
    def __init__(self, message: str = "log in with your Earmark user name and password"):
        super().__init__(401, "unauthorized", message)


def unauthorized_response(exc: APIError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="Earmark", charset="UTF-8"'} if exc.status == 401 else {}
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status, headers=headers)


def _service(request: Request) -> SyncService:
    return request.app.state.sync


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        name, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Authorization header is not valid HTTP Basic") from None
    return (name, password) if sep else None


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


async def current_user(request: Request, username: str | None = None) -> User:
    """The logged-in user (Basic first, then the gpodder or web session cookie); 401 without one,
    or when ``username`` (from the path) is someone else; 429 after too many failed logins."""
    accounts: AccountStore = request.app.state.accounts
    user: User | None = None
    credentials = _basic(request)
    session = request.cookies.get(SESSION_COOKIE)
    if credentials is not None and session and (user_id := await run_in_threadpool(accounts.session_user, session)) is not None:
        if (await run_in_threadpool(accounts.user, user_id)).name == credentials[0]:
            credentials = None  # logged in already: no password check on every request
    if credentials is not None:
        try:
            user = await asyncio.to_thread(request.app.state.authenticator.login, credentials[0], credentials[1], _address(request))
        except LoginRefused as exc:
            if exc.retry_after:
                raise APIError(429, "too_many_requests", str(exc)) from None
            raise Unauthorized(str(exc)) from None
        request.state.basic_user = user.id
    if user is None:
        user = await run_in_threadpool(_session_user, request)
    if user is None:
        raise Unauthorized()
    if username is not None and user.name != username:
        raise Unauthorized(f"logged in as another user than {username[:64]!r}")
    return user


def _session_user(request: Request) -> User | None:
    accounts: AccountStore = request.app.state.accounts
    for cookie in (SESSION_COOKIE, WEB_SESSION_COOKIE):
        if (value := request.cookies.get(cookie)) and (user_id := accounts.session_user(value)) is not None:
            return accounts.user(user_id)
    return None


async def _json(request: Request, *, empty: Any = ...) -> Any:
    body = await request.body()
    if not body.strip() and empty is not ...:
        return empty
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SyncError("the body is not valid JSON") from None


def _device(device: str) -> str:
    if not device or len(device) > 64 or not set(device) <= DEVICE_ID_CHARS:
        raise SyncError("a device id is 1–64 letters, digits, '.', '_' or '-'")
    return device


def _since(request: Request) -> float:
    return parse_since(request.query_params.get("since"))


def _fetch_new(request: Request, podcast_ids: list[int]) -> None:
    """Load podcasts a device subscribed to, in the background (the answer does not wait)."""
    if not podcast_ids:
        return
    from earmark.feeds.refresh import refresh_many

    async def load() -> None:
        try:  # the refresh also attaches play actions sent before the episodes were known
            await refresh_many(request.app.state.library, request.app.state.settings, podcast_ids)
        except Exception:  # recorded on each podcast by refresh; nothing else to tell the device
            log.exception("loading podcasts a device subscribed to")

    tasks: set = request.app.state.sync_tasks
    task = asyncio.get_running_loop().create_task(load())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _process_played(request: Request, episode_ids: list[int]) -> None:
    """With ``sync_process_played``: an episode played on a phone is processed (transcript, summary,
    chapters…) in the background, unless it has been already."""
    if not request.app.state.settings.sync_process_played or not episode_ids:
        return
    from earmark.models import PRIORITY_BACKGROUND
    from earmark.store.jobs import JobStore

    jobs = JobStore(request.app.state.library)
    queued = [jobs.enqueue(i, priority=PRIORITY_BACKGROUND) for i in episode_ids if not jobs.list(episode_id=i, limit=1)]
    if queued and (workers := getattr(request.app.state, "workers", None)):
        workers.wake()


# -- gpodder.net: authentication ----------------------------------------------------------------


@router.post("/api/2/auth/{username}/login.json")
async def login(username: str, request: Request) -> Response:
    user = await current_user(request, username)
    response = Response(status_code=200)
    if getattr(request.state, "basic_user", None) is None:  # (with Basic, the route sets the cookie)
        await run_in_threadpool(_set_session, request, response, user.id, SESSION_SECONDS)
    return response


@router.post("/api/2/auth/{username}/logout.json")
async def logout(username: str, request: Request) -> Response:
    await current_user(request, username)
    if session := request.cookies.get(SESSION_COOKIE):
        await run_in_threadpool(request.app.state.accounts.end_session, session)
    response = Response(status_code=200)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- gpodder.net: devices and sync groups -------------------------------------------------------


@router.get("/api/2/devices/{username}.json")
async def devices(username: str, request: Request) -> list[dict]:
    user = await current_user(request, username)
    return [
        {"id": d.id, "caption": d.caption, "type": d.type, "subscriptions": d.subscriptions}
        for d in await run_in_threadpool(_service(request).store.devices, user.id)
    ]


@router.post("/api/2/devices/{username}/{device}.json")
async def configure_device(username: str, device: str, request: Request) -> Response:
    user = await current_user(request, username)
    body = await _json(request, empty={})
    if not isinstance(body, dict):
        raise SyncError('the body must be a JSON object {"caption": …, "type": …}')
    caption, type_ = body.get("caption"), body.get("type")
    if caption is not None and (not isinstance(caption, str) or len(caption) > 200):
        raise SyncError("caption must be text (at most 200 characters)")
    if type_ is not None and type_ not in DEVICE_TYPES:
        raise SyncError(f"type must be one of {', '.join(DEVICE_TYPES)}")
    await run_in_threadpool(_service(request).store.configure, user.id, _device(device), caption, type_)
    return Response(status_code=200)


def _groups_json(service: SyncService, user_id: int) -> dict:
    together, alone = service.store.groups(user_id)
    return {"synchronized": together, "not-synchronize": alone}


@router.get("/api/2/sync-devices/{username}.json")
async def sync_groups(username: str, request: Request) -> dict:
    user = await current_user(request, username)
    return await run_in_threadpool(_groups_json, _service(request), user.id)


@router.post("/api/2/sync-devices/{username}.json")
async def change_sync_groups(username: str, request: Request) -> dict:
    user = await current_user(request, username)
    body = await _json(request)
    if not isinstance(body, dict):
        raise SyncError('the body must be a JSON object {"synchronize": [[…]], "stop-synchronize": […]}')
    together, stop = body.get("synchronize", []), body.get("stop-synchronize", [])
    if not isinstance(together, list) or not all(isinstance(g, list) and all(isinstance(d, str) for d in g) for g in together):
        raise SyncError('"synchronize" must be a list of lists of device ids')
    if not isinstance(stop, list) or not all(isinstance(d, str) for d in stop):
        raise SyncError('"stop-synchronize" must be a list of device ids')
    service = _service(request)

    def regroup() -> dict:
        for device in [d for g in together for d in g] + stop:
            _device(device)
            if not service.store.device_known(user.id, device):
                raise APIError(404, "not_found", f"no device {device!r}")
        service.store.regroup(user.id, together, stop)
        return _groups_json(service, user.id)

    return await run_in_threadpool(regroup)


# -- gpodder.net: subscriptions -----------------------------------------------------------------


@router.get("/api/2/subscriptions/{username}/{device}.json")
async def subscription_changes(username: str, device: str, request: Request) -> dict:
    user = await current_user(request, username)
    since = _since(request)
    stamp = now_stamp()
    store = _service(request).store
    device = _device(device)
    added, removed = await run_in_threadpool(lambda: store.changes(user.id, store.group_of(user.id, device), since))
    return {"add": added, "remove": removed, "timestamp": stamp}


@router.post("/api/2/subscriptions/{username}/{device}.json")
async def upload_subscription_changes(username: str, device: str, request: Request) -> dict:
    user = await current_user(request, username)
    upload = read_changes(await _json(request))
    new = await run_in_threadpool(_service(request).upload_subscriptions, user.id, _device(device), upload)
    _fetch_new(request, new)
    return {"timestamp": now_stamp(), "update_urls": upload.update_urls}


# -- gpodder.net: episode actions ---------------------------------------------------------------


@router.get("/api/2/episodes/{username}.json")
async def episode_actions(username: str, request: Request) -> dict:
    user = await current_user(request, username)
    query = request.query_params
    since, stamp = _since(request), now_stamp()
    device = query.get("device")
    store = _service(request).store

    def actions_since() -> list:
        if device is not None and not store.device_known(user.id, _device(device)):
            raise APIError(404, "not_found", f"no device {device!r}")
        return store.actions(
            user.id, since, podcast=query.get("podcast") or None, device=device,
            aggregated=query.get("aggregated", "").lower() == "true",
        )

    actions = await run_in_threadpool(actions_since)
    return {"actions": [action_json(a) for a in actions], "timestamp": stamp}


@router.post("/api/2/episodes/{username}.json")
async def upload_episode_actions(username: str, request: Request) -> dict:
    user = await current_user(request, username)
    actions, updates = read_actions(await _json(request))
    for action in actions:
        if action.device is not None:
            _device(action.device)
    await run_in_threadpool(lambda: _process_played(request, _service(request).store.add_actions(user.id, actions, now_stamp())))
    return {"timestamp": now_stamp(), "update_urls": updates}


# -- gpodder.net simple API: whole subscription lists -------------------------------------------


def _render(urls: list[str], fmt: str, title: str) -> Response:
    if fmt == "json":
        return JSONResponse(urls)
    if fmt == "txt":
        return PlainTextResponse("".join(u + "\n" for u in urls))
    outlines = "".join(f'    <outline type="rss" text="{xml_escape(u, {chr(34): "&quot;"})}" xmlUrl="{xml_escape(u, {chr(34): "&quot;"})}"/>\n' for u in urls)
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n  <head><title>'
        f"{xml_escape(title)}</title></head>\n  <body>\n{outlines}  </body>\n</opml>\n"
    )
    return Response(body, media_type="text/x-opml+xml; charset=utf-8")


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise APIError(404, "not_found", f"no format {fmt[:20]!r}: use opml, json or txt")
    return fmt


@router.get("/subscriptions/{username}/{device}.{fmt}")
async def device_subscriptions(username: str, device: str, fmt: str, request: Request) -> Response:
    user = await current_user(request, username)
    store = _service(request).store
    fmt = _format(fmt)

    def subscribed() -> list[str]:
        if not store.device_known(user.id, _device(device)):
            raise APIError(404, "not_found", f"no device {device!r}")
        return store.subscribed(user.id, store.group_of(user.id, device))

    return _render(await run_in_threadpool(subscribed), fmt, f"{username} on {device}")


@router.put("/subscriptions/{username}/{device}.{fmt}")
async def put_device_subscriptions(username: str, device: str, fmt: str, request: Request) -> Response:
    user = await current_user(request, username)
    fmt = _format(fmt)
    body = await request.body()
    if fmt == "json":
        urls = await _json(request)
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise SyncError("the body must be a JSON list of feed URLs")
    elif fmt == "txt":
        urls = [line.strip() for line in body.decode("utf-8", "replace").splitlines() if line.strip()]
    else:
        urls = [feed.url for feed in (await run_in_threadpool(parse_opml_document, body, "the uploaded OPML")).feeds]
    new, _ = await run_in_threadpool(_service(request).replace_subscriptions, user.id, _device(device), urls)
    _fetch_new(request, new)
    return Response(status_code=200)


@router.get("/subscriptions/{username}.{fmt}")
async def all_subscriptions(username: str, fmt: str, request: Request) -> Response:
    user = await current_user(request, username)
    fmt = _format(fmt)
    return _render(await run_in_threadpool(_service(request).store.subscribed, user.id), fmt, username)


# -- Nextcloud gpoddersync ----------------------------------------------------------------------

NEXTCLOUD = "/index.php/apps/gpoddersync"


@router.get(NEXTCLOUD + "/subscriptions")
async def nextcloud_subscriptions(request: Request) -> dict:
    user = await current_user(request)
    since, stamp = _since(request), now_stamp()
    store = _service(request).store
    added, removed = await run_in_threadpool(lambda: store.changes(user.id, store.group_of(user.id, NEXTCLOUD_DEVICE), since))
    return {"add": added, "remove": removed, "timestamp": stamp}


@router.post(NEXTCLOUD + "/subscription_change/create")
async def nextcloud_subscription_change(request: Request) -> dict:
    user = await current_user(request)
    upload = read_changes(await _json(request))
    _fetch_new(request, await run_in_threadpool(_service(request).upload_subscriptions, user.id, NEXTCLOUD_DEVICE, upload))
    return {"timestamp": now_stamp()}


@router.get(NEXTCLOUD + "/episode_action")
async def nextcloud_episode_actions(request: Request) -> dict:
    user = await current_user(request)
    since, stamp = _since(request), now_stamp()
    actions = await run_in_threadpool(_service(request).store.actions, user.id, since)
    return {"actions": [action_json(a, upper=True) for a in actions], "timestamp": stamp}


@router.post(NEXTCLOUD + "/episode_action/create")
async def nextcloud_create_episode_actions(request: Request) -> dict:
    user = await current_user(request)
    actions, _ = read_actions(await _json(request), device=NEXTCLOUD_DEVICE)
    await run_in_threadpool(lambda: _process_played(request, _service(request).store.add_actions(user.id, actions, now_stamp())))
    return {"timestamp": now_stamp()}


SYNC_PREFIXES = ("/api/2/", "/subscriptions/", NEXTCLOUD + "/")  # their own authentication, above

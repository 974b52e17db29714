"""What a sync request means, apart from HTTP: URLs sanitised as gpodder.net does, episode actions
read and written in its format, subscription uploads recorded (and the user subscribed in Earmark
to what their main group's devices add), the ``since`` rules."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from earmark.errors import EarmarkError
from earmark.store.library import Library
from earmark.store.sync import MAIN_GROUP, EpisodeAction, SyncStore

ACTIONS = ("download", "delete", "play", "new")
DEVICE_TYPES = ("desktop", "laptop", "mobile", "server", "other")
CLOCK_SKEW = 300  # seconds: a `since` this far ahead of our clock is a device's fast clock, not an error
_FEED_SCHEMES = {"feed": "http", "itpc": "http", "pcast": "http", "podcast": "http", "feeds": "https", "itpcs": "https"}


class SyncError(EarmarkError):
    """A request the sync API refuses (400), with the reason."""


def sanitize_url(url: object) -> str:
    """The URL as gpodder.net keeps it: trimmed, podcast-app schemes (feed:, itpc:, pcast:,
    podcast:) made http(s), scheme and host lower-case, no fragment; "" when it is no http(s)
    URL (such a URL is dropped)."""
    if not isinstance(url, str):
        return ""
    text = url.strip()
    scheme, sep, rest = text.partition(":")
    if sep and scheme.lower() in _FEED_SCHEMES:
        rest = rest.removeprefix("//")
        if rest.lower().startswith(("http://", "https://")):
            text = rest
        else:
            text = f"{_FEED_SCHEMES[scheme.lower()]}://{rest}"
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c in text for c in " \t\r\n"):
        return ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def parse_since(value: str | None) -> float:
    """``since`` as Unix seconds: absent is 0; a number in the future beyond the clock skew is refused."""
    if value is None or value == "":
        return 0.0
    try:
        since = int(value)
    except ValueError:
        raise SyncError(f"since must be a Unix time in seconds, not {value[:40]!r}") from None
    if since < 0:
        raise SyncError("since cannot be negative")
    if since > time.time() + CLOCK_SKEW:
        raise SyncError("since is in the future: use the timestamp of the last answer")
    return float(since)


def now_stamp() -> int:
    return int(time.time())


@dataclass
class SubscriptionUpload:
    add: list[str]
    remove: list[str]
    update_urls: list[list[str]]


def read_changes(body: object) -> SubscriptionUpload:
    """``{"add": [...], "remove": [...]}`` sanitised; a URL in both lists is refused, as gpodder.net does."""
    if not isinstance(body, dict):
        raise SyncError('the body must be a JSON object {"add": [...], "remove": [...]}')
    lists = {}
    for key in ("add", "remove"):
        value = body.get(key, [])
        if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
            raise SyncError(f"{key!r} must be a list of URLs")
        lists[key] = value
    if set(lists["add"]) & set(lists["remove"]):
        raise SyncError("a URL cannot be both added and removed")
    updates, clean = [], {}
    for key, urls in lists.items():
        clean[key] = []
        for url in urls:
            safe = sanitize_url(url)
            if safe != url:
                updates.append([url, safe])
            if safe and safe not in clean[key]:
                clean[key].append(safe)
    if set(clean["add"]) & set(clean["remove"]):
        raise SyncError("a URL cannot be both added and removed")
    return SubscriptionUpload(clean["add"], clean["remove"], updates)


def _timestamp(value: object) -> float:
    if value is None or value == "":
        return time.time()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise SyncError(f"timestamp {value[:40]!r} is not an ISO 8601 time such as 2026-12-06T09:30:00") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # gpodder.net: times are UTC
        return parsed.timestamp()
    raise SyncError("timestamp must be an ISO 8601 time")


def _seconds(item: dict, key: str) -> int | None:
    value = item.get(key)
    if value is None or value == -1:  # Nextcloud's "not set"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SyncError(f"{key} must be a number of seconds")
    return int(value)


def read_actions(body: object, device: str | None = None) -> tuple[list[EpisodeAction], list[list[str]]]:
    """A list of episode actions as gpodder.net and Nextcloud send them; refuses the whole list
    when one is malformed (nothing half-recorded)."""
    if not isinstance(body, list):
        raise SyncError("the body must be a JSON list of episode actions")
    actions, updates = [], []
    for n, item in enumerate(body):
        if not isinstance(item, dict):
            raise SyncError(f"action {n}: must be an object")
        try:
            action = str(item.get("action", "")).lower()
            if action not in ACTIONS:
                raise SyncError(f"action must be one of {', '.join(ACTIONS)}")
            urls = {}
            for key in ("podcast", "episode"):
                raw = item.get(key)
                if not isinstance(raw, str) or not (safe := sanitize_url(raw)):
                    raise SyncError(f"{key} must be an http(s) URL")
                if safe != raw:
                    updates.append([raw, safe])
                urls[key] = safe
            guid = item.get("guid")
            own = item.get("device", device)
            if own is not None and not isinstance(own, str):
                raise SyncError("device must be a device id")
            position = _seconds(item, "position")
            if action == "play" and position is None:
                raise SyncError("a play action needs its position")
            actions.append(EpisodeAction(
                podcast=urls["podcast"], episode=urls["episode"], action=action, timestamp=_timestamp(item.get("timestamp")),
                device=own or None, guid=guid if isinstance(guid, str) and guid else None,
                started=_seconds(item, "started"), position=position, total=_seconds(item, "total"),
            ))
        except SyncError as exc:
            raise SyncError(f"action {n}: {exc}") from None
    return actions, updates


def action_json(action: EpisodeAction, *, upper: bool = False) -> dict:
    """One action as gpodder.net answers it (Nextcloud: action upper-case, -1 for unset numbers)."""
    out: dict = {
        "podcast": action.podcast,
        "episode": action.episode,
        "action": action.action.upper() if upper else action.action,
        "timestamp": datetime.fromtimestamp(action.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if action.guid:
        out["guid"] = action.guid
    if action.device and not upper:
        out["device"] = action.device
    for key in ("started", "position", "total"):
        value = getattr(action, key)
        if value is not None:
            out[key] = value
        elif upper:
            out[key] = -1
    return out


class SyncService:
    def __init__(self, library: Library):
        self.library = library
        self.store = SyncStore(library)

    def upload_subscriptions(self, user_id: int, device: str, upload: SubscriptionUpload) -> list[int]:
        """Record the changes; a device in the main group also subscribes its user in Earmark
        (podcasts new to the library are returned, to be loaded in the background). A removal on
        a device unsubscribes nobody in Earmark: snips and transcripts stay; unsubscribe in
        Earmark to remove a podcast from every device."""
        group = self.store.change_subscriptions(user_id, device, upload.add, upload.remove, time.time())
        added: list[int] = []
        if group == MAIN_GROUP:
            for url in upload.add:
                podcast, created = self.library.add_podcast(url, user_id=user_id)
                if created:
                    added.append(podcast.id)
        return added

    def replace_subscriptions(self, user_id: int, device: str, urls: list[str]) -> tuple[list[int], list[list[str]]]:
        """The simple API's upload: the device's whole list. What it leaves out is removed only if
        this device added it: a new device's short list never unsubscribes the rest of its group
        (which other phones would obey by deleting shows)."""
        wanted, updates = [], []
        for url in urls:
            safe = sanitize_url(url)
            if safe != url:
                updates.append([url, safe])
            if safe and safe not in wanted:
                wanted.append(safe)
        group = self.store.group_of(user_id, device)
        current = set(self.store.subscribed(user_id, group))
        its_own = set(self.store.subscribed(user_id, group, by_device=device))
        upload = SubscriptionUpload([u for u in wanted if u not in current], sorted(its_own - set(wanted)), updates)
        return self.upload_subscriptions(user_id, device, upload), updates

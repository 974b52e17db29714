"""Sync state of phone and desktop apps (schema migration 12): devices, sync groups, subscription
changes per group, episode actions — and how the owner's actions meet the library's playback.

- Devices appear on first use. A user's devices sync within groups: new devices join group 0,
  the main group, to which the user's subscriptions in Earmark also belong (triggers on
  ``user_podcasts`` report changes made in Earmark there). ``stop-synchronize`` gives a device a group of its own.
- Subscription state is one row per (group, URL) with the time it last changed; ``since`` asks
  for rows changed at or after it (inclusive: a change in the same second is never missed, and a
  change seen twice is harmless).
- Play positions: newest wins, per user and episode. A play action changes the user's playback
  in Earmark only if it happened after the position Earmark has (``playback.updated_at``); the
  web player's changes are reported to devices as play actions of the device ``earmark``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from earmark.store.library import Library

MAIN_GROUP = 0
EARMARK_DEVICE = "earmark"  # the library, as a device in the actions it reports
FINISHED_WITHIN = 30  # seconds from the end: a play action this close marks the episode played


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    caption: str
    type: str
    group_id: int
    subscriptions: int


@dataclass(frozen=True, slots=True)
class EpisodeAction:
    podcast: str
    episode: str
    action: str  # download / delete / play / new
    timestamp: float
    device: str | None = None
    guid: str | None = None
    started: int | None = None
    position: int | None = None
    total: int | None = None


def _action(row: sqlite3.Row) -> EpisodeAction:
    return EpisodeAction(
        podcast=row["podcast_url"], episode=row["episode_url"], action=row["action"], timestamp=row["timestamp"],
        device=row["device"], guid=row["guid"], started=row["started"], position=row["position"], total=row["total"],
    )


class SyncStore:
    def __init__(self, library: Library):
        self.library = library

    # -- devices and groups ---------------------------------------------------------------------

    def _ensure(self, conn: sqlite3.Connection, user_id: int, device: str) -> int:
        conn.execute(
            "INSERT INTO sync_devices (user_id, device, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, device, time.time()),
        )
        return conn.execute(
            "SELECT group_id FROM sync_devices WHERE user_id = ? AND device = ?", (user_id, device)
        ).fetchone()[0]

    def group_of(self, user_id: int, device: str) -> int:
        with self.library.transaction() as conn:
            return self._ensure(conn, user_id, device)

    def device_known(self, user_id: int, device: str) -> bool:
        return bool(self.library.conn.execute(
            "SELECT 1 FROM sync_devices WHERE user_id = ? AND device = ?", (user_id, device)
        ).fetchone())

    def configure(self, user_id: int, device: str, caption: str | None, type_: str | None) -> None:
        with self.library.transaction() as conn:
            self._ensure(conn, user_id, device)
            if caption is not None:
                conn.execute("UPDATE sync_devices SET caption = ? WHERE user_id = ? AND device = ?", (caption, user_id, device))
            if type_ is not None:
                conn.execute("UPDATE sync_devices SET type = ? WHERE user_id = ? AND device = ?", (type_, user_id, device))

    def devices(self, user_id: int) -> list[Device]:
        rows = self.library.conn.execute(
            "SELECT d.device, d.caption, d.type, d.group_id,"
            " (SELECT count(*) FROM sync_subscriptions s WHERE s.user_id = d.user_id AND s.group_id = d.group_id"
            "  AND s.subscribed) AS n FROM sync_devices d WHERE d.user_id = ? ORDER BY d.created_at, d.device",
            (user_id,),
        )
        return [Device(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def groups(self, user_id: int) -> tuple[list[list[str]], list[str]]:
        """(groups of two or more devices, devices synced with none) as gpodder.net lists them."""
        members: dict[int, list[str]] = {}
        for device in self.devices(user_id):
            members.setdefault(device.group_id, []).append(device.id)
        together = [m for m in members.values() if len(m) > 1]
        alone = [m[0] for m in members.values() if len(m) == 1]
        return together, alone

    def regroup(self, user_id: int, synchronize: list[list[str]], stop: list[str]) -> None:
        """Join the devices of each list into one group (their subscriptions merged: the union);
        a device in ``stop`` leaves its group, keeping the subscriptions it had."""
        now = time.time()
        with self.library.transaction() as conn:
            for device in stop:
                group = self._ensure(conn, user_id, device)
                shared = conn.execute(
                    "SELECT count(*) FROM sync_devices WHERE user_id = ? AND group_id = ?", (user_id, group)
                ).fetchone()[0]
                if shared <= 1:
                    continue
                new = 1 + conn.execute("SELECT max(group_id) FROM sync_devices WHERE user_id = ?", (user_id,)).fetchone()[0]
                conn.execute(
                    "INSERT INTO sync_subscriptions (user_id, group_id, url, subscribed, changed_at, device)"
                    " SELECT user_id, ?, url, subscribed, changed_at, device FROM sync_subscriptions"
                    " WHERE user_id = ? AND group_id = ?",
                    (new, user_id, group),
                )
                conn.execute("UPDATE sync_devices SET group_id = ? WHERE user_id = ? AND device = ?", (new, user_id, device))
            for devices in synchronize:
                groups = {d: self._ensure(conn, user_id, d) for d in devices}
                if len(set(groups.values())) < 2:
                    continue
                target = MAIN_GROUP if MAIN_GROUP in groups.values() else min(groups.values())
                for device, group in groups.items():
                    if group == target:
                        continue
                    conn.execute(
                        "INSERT INTO sync_subscriptions (user_id, group_id, url, subscribed, changed_at, device)"
                        " SELECT user_id, ?, url, 1, ?, device FROM sync_subscriptions"
                        " WHERE user_id = ? AND group_id = ? AND subscribed"
                        " ON CONFLICT DO UPDATE SET subscribed = 1, changed_at = excluded.changed_at WHERE subscribed = 0",
                        (target, now, user_id, group),
                    )
                    conn.execute("UPDATE sync_devices SET group_id = ? WHERE user_id = ? AND group_id = ?", (target, user_id, group))

    # -- subscriptions --------------------------------------------------------------------------

    def change_subscriptions(
        self, user_id: int, device: str, add: Iterable[str], remove: Iterable[str], now: float
    ) -> int:
        """Record a device's changes in its group; returns the group."""
        with self.library.transaction() as conn:
            group = self._ensure(conn, user_id, device)
            rows = [(user_id, group, url, 1, now, device) for url in add]
            rows += [(user_id, group, url, 0, now, device) for url in remove]
            conn.executemany(
                "INSERT INTO sync_subscriptions (user_id, group_id, url, subscribed, changed_at, device)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET subscribed = excluded.subscribed,"
                " changed_at = excluded.changed_at, device = excluded.device",
                rows,
            )
        return group

    def changes(self, user_id: int, group: int, since: float) -> tuple[list[str], list[str]]:
        """(added, removed) in ``group`` at or after ``since``; since 0 lists no removals."""
        rows = self.library.conn.execute(
            "SELECT url, subscribed FROM sync_subscriptions WHERE user_id = ? AND group_id = ? AND changed_at >= ?"
            " ORDER BY changed_at, url",
            (user_id, group, since),
        ).fetchall()
        return [r[0] for r in rows if r[1]], [r[0] for r in rows if not r[1] and since > 0]

    def subscribed(self, user_id: int, group: int | None = None, *, by_device: str | None = None) -> list[str]:
        """The URLs a group (or, None, any of the user's groups) is subscribed to (``by_device``:
        those that device subscribed it to)."""
        if by_device is not None:
            rows = self.library.conn.execute(
                "SELECT url FROM sync_subscriptions WHERE user_id = ? AND group_id = ? AND subscribed AND device = ?"
                " ORDER BY url", (user_id, group, by_device),
            )
        elif group is None:
            rows = self.library.conn.execute(
                "SELECT DISTINCT url FROM sync_subscriptions WHERE user_id = ? AND subscribed ORDER BY url", (user_id,)
            )
        else:
            rows = self.library.conn.execute(
                "SELECT url FROM sync_subscriptions WHERE user_id = ? AND group_id = ? AND subscribed ORDER BY url",
                (user_id, group),
            )
        return [r[0] for r in rows]

    # -- episode actions ------------------------------------------------------------------------

    def add_actions(self, user_id: int, actions: list[EpisodeAction], now: float) -> list[int]:
        """Keep the actions, matched to episodes where the library has them (play positions
        applied); returns the episodes being listened to (played, not to the end)."""
        played: list[int] = []
        with self.library.transaction() as conn:
            for device in {a.device for a in actions if a.device}:
                self._ensure(conn, user_id, device)
            for a in actions:
                episode_id = _match(conn, a.podcast, a.episode, a.guid)
                conn.execute(
                    "INSERT INTO episode_actions (user_id, device, podcast_url, episode_url, guid, action, timestamp,"
                    " started, position, total, received_at, episode_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (user_id, a.device, a.podcast, a.episode, a.guid, a.action, a.timestamp, a.started, a.position,
                     a.total, now, episode_id),
                )
                if episode_id is not None:
                    _apply(conn, user_id, episode_id, a)
                    # Being listened to (not a finished one, as an app's first sync sends for its history)
                    listening = a.position is not None and (not a.total or a.position < a.total - FINISHED_WITHIN)
                    if a.action == "play" and listening and episode_id not in played:
                        played.append(episode_id)
        return played

    def attach_pending(self, podcast_id: int) -> int:
        """Actions that named an episode not known then, matched now that a refresh brought it
        (play positions applied, newest wins). Returns how many were matched."""
        matched = 0
        with self.library.transaction() as conn:
            url = conn.execute("SELECT url FROM podcasts WHERE id = ?", (podcast_id,)).fetchone()
            if url is None:
                return 0
            pending = conn.execute(
                "SELECT * FROM episode_actions WHERE episode_id IS NULL AND (podcast_url = ? OR episode_url IN"
                " (SELECT enclosure_url FROM episodes WHERE podcast_id = ?)) ORDER BY timestamp, id",
                (url[0], podcast_id),
            ).fetchall()
            for row in pending:
                episode_id = _match(conn, row["podcast_url"], row["episode_url"], row["guid"])
                if episode_id is None:
                    continue
                matched += 1
                conn.execute("UPDATE episode_actions SET episode_id = ? WHERE id = ?", (episode_id, row["id"]))
                _apply(conn, row["user_id"], episode_id, _action(row))
        return matched

    def actions(
        self, user_id: int, since: float, *, podcast: str | None = None, device: str | None = None, aggregated: bool = False
    ) -> list[EpisodeAction]:
        """Actions received at or after ``since`` (with the user's position changes in Earmark as
        play actions of the device ``earmark``), oldest first; ``aggregated``: only the newest per
        episode."""
        sql = "SELECT * FROM episode_actions WHERE user_id = ? AND received_at >= ?"
        args: list = [user_id, since]
        if podcast is not None:
            sql += " AND podcast_url = ?"
            args.append(podcast)
        if device is not None:
            sql += " AND device = ?"
            args.append(device)
        found = [_action(r) for r in self.library.conn.execute(sql + " ORDER BY timestamp, id", args)]
        if device in (None, EARMARK_DEVICE):
            found += self._library_actions(user_id, since, podcast)
            found.sort(key=lambda a: a.timestamp)
        if aggregated:
            newest: dict[str, EpisodeAction] = {}
            for a in found:
                newest[a.episode] = a
            found = sorted(newest.values(), key=lambda a: a.timestamp)
        return found

    def _library_actions(self, user_id: int, since: float, podcast: str | None) -> list[EpisodeAction]:
        """The library's playback changes since ``since`` that no device sent (those it applied
        carry the action's own time, and are not reported back)."""
        sql = (
            "SELECT p.url, e.enclosure_url, e.guid, e.duration, pb.position, pb.played, pb.updated_at"
            " FROM playback pb JOIN episodes e ON e.id = pb.episode_id JOIN podcasts p ON p.id = e.podcast_id"
            " WHERE pb.user_id = ? AND pb.updated_at >= ? AND e.enclosure_url IS NOT NULL AND p.url LIKE 'http%'"
            " AND NOT EXISTS (SELECT 1"
            " FROM episode_actions a WHERE a.episode_id = pb.episode_id AND a.user_id = pb.user_id"
            " AND a.timestamp >= pb.updated_at)"
        )
        args: list = [user_id, since]
        if podcast is not None:
            sql += " AND p.url = ?"
            args.append(podcast)
        result = []
        for url, enclosure, guid, duration, position, played, updated in self.library.conn.execute(sql, args):
            total = int(duration or 0)
            if played:
                position = total
            elif position <= 0:
                result.append(EpisodeAction(url, enclosure, "new", updated, EARMARK_DEVICE, guid))
                continue
            if position <= 0:
                continue  # played, length unknown: apps want position and total > 0 (else "unknown")
            result.append(EpisodeAction(url, enclosure, "play", updated, EARMARK_DEVICE, guid, 0, int(position),
                                        max(total, int(position))))  # (a feed may not say how long it is)
        return result


def _match(conn: sqlite3.Connection, podcast_url: str, episode_url: str, guid: str | None) -> int | None:
    """The episode an action names: its media URL in that podcast, else its GUID there, else the
    media URL anywhere (the podcast's address may have moved)."""
    row = conn.execute(
        "SELECT e.id FROM episodes e JOIN podcasts p ON p.id = e.podcast_id WHERE p.url = ?"
        " AND (e.enclosure_url = ? OR (? IS NOT NULL AND e.guid = ?)) ORDER BY e.enclosure_url = ? DESC LIMIT 1",
        (podcast_url, episode_url, guid, guid, episode_url),
    ).fetchone()
    if row is None:
        row = conn.execute("SELECT id FROM episodes WHERE enclosure_url = ? ORDER BY id LIMIT 1", (episode_url,)).fetchone()
    return row[0] if row else None


def _apply(conn: sqlite3.Connection, user_id: int, episode_id: int, action: EpisodeAction) -> None:
    """Newest wins: a play or new action older than what the user's playback has changes nothing."""
    if action.action not in ("play", "new"):
        return
    stamp = min(action.timestamp, time.time())  # a device's clock running ahead must not pin a position
    current = conn.execute(
        "SELECT updated_at FROM playback WHERE user_id = ? AND episode_id = ?", (user_id, episode_id)
    ).fetchone()
    if current is not None and current[0] >= stamp:
        return
    if action.action == "new":
        position, played = 0.0, 0
    else:
        if action.position is None:
            return
        total = action.total or 0
        played = int(total > 0 and action.position >= total - FINISHED_WITHIN)
        position = 0.0 if played else float(action.position)
    conn.execute(
        "INSERT INTO playback (user_id, episode_id, position, played, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, episode_id) DO UPDATE SET position = excluded.position, played = excluded.played,"
        " updated_at = excluded.updated_at",
        (user_id, episode_id, position, played, stamp),
    )

"""What the listener did: the play position and played flag of each episode, and the up-next queue,
each user's own (the owner's by default).

Uses the ``playback`` and ``queue`` tables (schema migrations 2 and 12) through ``Library.transaction()``;
every write is one transaction and checks that the episodes exist, so an unknown id raises
NotFound and leaves everything as it was.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from earmark.errors import NotFound
from earmark.store.db import rows_in
from earmark.store.library import OWNER_ID, Library


@dataclass(slots=True)
class PlaybackState:
    episode_id: int
    position: float = 0.0  # seconds
    played: bool = False
    updated_at: datetime | None = None  # None: never played


def _state(row: sqlite3.Row) -> PlaybackState:
    return PlaybackState(
        episode_id=row["episode_id"],
        position=float(row["position"]),
        played=bool(row["played"]),
        updated_at=datetime.fromtimestamp(row["updated_at"], UTC),
    )


def _require_episodes(conn: sqlite3.Connection, episode_ids: list[int]) -> None:
    found = {row[0] for row in rows_in(conn, "SELECT id FROM episodes WHERE id IN ({ids})", episode_ids)}
    missing = [i for i in episode_ids if i not in found]
    if missing:
        shown = ", ".join(str(i) for i in missing[:10]) + (" …" if len(missing) > 10 else "")
        noun = "episode" if len(missing) == 1 else "episodes"
        raise NotFound(f"no {noun} with id {shown}")


class Playback:
    """Playback state and the queue of one user of one library."""

    def __init__(self, library: Library, user_id: int = OWNER_ID):
        self.library = library
        self.user_id = user_id

    # -- position / played ----------------------------------------------------------------------

    def state(self, episode_id: int) -> PlaybackState:
        """The episode's state; an episode never played has position 0. Raises NotFound."""
        self.library.episode(episode_id)
        row = self.library.conn.execute(
            "SELECT * FROM playback WHERE user_id = ? AND episode_id = ?", (self.user_id, episode_id)
        ).fetchone()
        return _state(row) if row else PlaybackState(episode_id)

    def states(self, episode_ids: Iterable[int]) -> dict[int, PlaybackState]:
        """States of several episodes (unknown ids get the default state)."""
        ids = list(dict.fromkeys(episode_ids))
        result = {i: PlaybackState(i) for i in ids}
        sql = "SELECT * FROM playback WHERE user_id = ? AND episode_id IN ({ids})"
        for row in rows_in(self.library.conn, sql, ids, (self.user_id,)):
            result[row["episode_id"]] = _state(row)
        return result

    def set_position(self, episode_id: int, seconds: float, *, at: float | None = None) -> PlaybackState:
        """``at``: when the listener was there (default now). Newest wins: a position taken before
        the one stored (sent late from an offline phone or browser) changes nothing."""
        if seconds < 0:
            raise ValueError("a play position cannot be negative")
        when = min(at, time.time()) if at is not None else time.time()
        # (a position given now always lands: a device whose clock runs ahead must not pin it)
        newest_wins = " WHERE excluded.updated_at >= playback.updated_at" if at is not None else ""
        with self.library.transaction() as conn:
            _require_episodes(conn, [episode_id])
            conn.execute(
                "INSERT INTO playback (user_id, episode_id, position, played, updated_at) VALUES (?, ?, ?, 0, ?)"
                " ON CONFLICT (user_id, episode_id) DO UPDATE SET position = excluded.position,"
                " updated_at = excluded.updated_at" + newest_wins,
                (self.user_id, episode_id, float(seconds), when),
            )
        return self.state(episode_id)

    def set_played(self, episode_id: int, played: bool = True) -> PlaybackState:
        """Mark played (the position goes back to 0, so playing it again starts at the beginning)
        or unplayed (the position is kept)."""
        with self.library.transaction() as conn:
            _require_episodes(conn, [episode_id])
            if played:
                conn.execute(
                    "INSERT INTO playback (user_id, episode_id, position, played, updated_at) VALUES (?, ?, 0, 1, ?)"
                    " ON CONFLICT (user_id, episode_id) DO UPDATE SET position = 0, played = 1, updated_at = excluded.updated_at",
                    (self.user_id, episode_id, time.time()),
                )
            else:
                conn.execute(
                    "INSERT INTO playback (user_id, episode_id, position, played, updated_at) VALUES (?, ?, 0, 0, ?)"
                    " ON CONFLICT (user_id, episode_id) DO UPDATE SET played = 0, updated_at = excluded.updated_at",
                    (self.user_id, episode_id, time.time()),
                )
        return self.state(episode_id)

    # -- queue ----------------------------------------------------------------------------------

    def queue(self) -> list[int]:
        """Episode ids, up next first."""
        return [row[0] for row in self.library.conn.execute(
            "SELECT episode_id FROM queue WHERE user_id = ? ORDER BY position", (self.user_id,)
        )]

    def set_queue(self, episode_ids: Iterable[int]) -> list[int]:
        """Replace the queue. Duplicates raise ValueError and unknown ids NotFound; either way the
        queue is left as it was."""
        ids = list(episode_ids)
        if len(set(ids)) != len(ids):
            raise ValueError("the queue lists an episode more than once")
        with self.library.transaction() as conn:
            _require_episodes(conn, ids)
            conn.execute("DELETE FROM queue WHERE user_id = ?", (self.user_id,))
            conn.executemany(
                "INSERT INTO queue (user_id, episode_id, position) VALUES (?, ?, ?)",
                [(self.user_id, e, n) for n, e in enumerate(ids)],
            )
        return self.queue()

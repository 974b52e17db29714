"""How each user listens: playback settings per podcast (speed, skip silence, volume boost, intro
and outro skip, auto-delete of finished downloads) and the listening history behind the statistics.

Uses the ``podcast_settings`` and ``listening`` tables (schema migration 14). The player reports,
per listening session (a key it makes when it loads an episode), the *cumulative* seconds it has
played; a report is merged by taking the larger figure, so a retried or late report never counts
twice and never takes anything back.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from earmark.errors import NotFound
from earmark.store.library import OWNER_ID, Library


@dataclass(slots=True)
class PodcastSettings:
    podcast_id: int
    speed: float | None = None  # None: the player's own speed
    skip_silence: bool = False
    volume_boost: float = 1.0  # gain factor; 1 is off
    skip_intro: int = 0  # seconds skipped at the start of each episode
    skip_outro: int = 0  # seconds left out at the end (the episode counts as finished there)
    auto_delete: bool = False  # delete the download once the episode is finished (never an upload)


@dataclass(slots=True)
class ListeningReport:
    session: str
    episode_id: int
    listened: float  # wall-clock seconds of playing, cumulative for the session
    media: float  # seconds of the episode covered (more than listened when sped up)
    silence_saved: float = 0.0


@dataclass(slots=True)
class PodcastStats:
    podcast_id: int | None
    title: str
    listened: float
    media: float
    silence_saved: float
    episodes: int

    @property
    def saved(self) -> float:
        return max(0.0, self.media - self.listened)


@dataclass(frozen=True, slots=True)
class ListeningStats:
    """Time listened and saved over ``days`` (None: all time), in all and per podcast."""

    days: int | None
    podcasts: list[PodcastStats]

    @property
    def listened(self) -> float:
        return sum(p.listened for p in self.podcasts)

    @property
    def media(self) -> float:
        return sum(p.media for p in self.podcasts)

    @property
    def saved(self) -> float:
        return sum(p.saved for p in self.podcasts)

    @property
    def silence_saved(self) -> float:
        return sum(p.silence_saved for p in self.podcasts)


@dataclass(slots=True)
class HistoryItem:
    episode_id: int
    podcast_id: int | None
    title: str
    podcast_title: str
    listened: float
    media: float
    silence_saved: float
    last_at: datetime
    played: bool

    @property
    def saved(self) -> float:
        return max(0.0, self.media - self.listened)


_COLUMNS = ("speed", "skip_silence", "volume_boost", "skip_intro", "skip_outro", "auto_delete")


def _settings(podcast_id: int, row: sqlite3.Row | None) -> PodcastSettings:
    if row is None:
        return PodcastSettings(podcast_id)
    return PodcastSettings(
        podcast_id,
        speed=row["speed"],
        skip_silence=bool(row["skip_silence"]),
        volume_boost=float(row["volume_boost"]),
        skip_intro=int(row["skip_intro"]),
        skip_outro=int(row["skip_outro"]),
        auto_delete=bool(row["auto_delete"]),
    )


class Listening:
    """One user's podcast settings and listening history."""

    def __init__(self, library: Library, user_id: int = OWNER_ID):
        self.library = library
        self.user_id = user_id

    # -- settings -------------------------------------------------------------------------------

    def settings(self, podcast_id: int) -> PodcastSettings:
        """This user's settings for the podcast (the defaults when never set). Raises NotFound."""
        self.library.podcast(podcast_id)
        row = self.library.conn.execute(
            "SELECT * FROM podcast_settings WHERE user_id = ? AND podcast_id = ?", (self.user_id, podcast_id)
        ).fetchone()
        return _settings(podcast_id, row)

    def set_settings(self, new: PodcastSettings) -> PodcastSettings:
        values = asdict(new)
        with self.library.transaction() as conn:
            if not conn.execute("SELECT 1 FROM podcasts WHERE id = ?", (new.podcast_id,)).fetchone():
                raise NotFound(f"no podcast with id {new.podcast_id}")
            conn.execute(
                f"INSERT INTO podcast_settings (user_id, podcast_id, {', '.join(_COLUMNS)}, updated_at)"
                f" VALUES (?, ?, {', '.join('?' * len(_COLUMNS))}, ?) ON CONFLICT (user_id, podcast_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS) + ", updated_at = excluded.updated_at",
                (self.user_id, new.podcast_id, *(values[c] for c in _COLUMNS), time.time()),
            )
        return self.settings(new.podcast_id)

    # -- history --------------------------------------------------------------------------------

    def record(self, reports: list[ListeningReport]) -> tuple[int, list[int]]:
        """Merge the player's reports; returns (how many were recorded, episode ids unknown here —
        an episode deleted since, say: those reports are dropped, not an error)."""
        now = time.time()
        recorded, unknown = 0, []
        with self.library.transaction() as conn:
            for r in reports:
                row = conn.execute("SELECT podcast_id FROM episodes WHERE id = ?", (r.episode_id,)).fetchone()
                if row is None:
                    unknown.append(r.episode_id)
                    continue
                conn.execute(
                    "INSERT INTO listening (user_id, session, episode_id, podcast_id, listened, media, silence_saved,"
                    " started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (user_id, session, episode_id) DO UPDATE SET"
                    " listened = max(listened, excluded.listened), media = max(media, excluded.media),"
                    " silence_saved = max(silence_saved, excluded.silence_saved), updated_at = excluded.updated_at",
                    (self.user_id, r.session, r.episode_id, row[0], r.listened, r.media, r.silence_saved, now, now),
                )
                recorded += 1
        return recorded, sorted(set(unknown))

    def stats(self, since: float | None = None) -> list[PodcastStats]:
        """Per podcast (most listened first), over sessions updated since ``since`` (epoch seconds)."""
        rows = self.library.conn.execute(
            "SELECT l.podcast_id, coalesce(p.title, '') AS title, sum(l.listened) AS listened, sum(l.media) AS media,"
            " sum(l.silence_saved) AS silence_saved, count(DISTINCT l.episode_id) AS episodes"
            " FROM listening l LEFT JOIN podcasts p ON p.id = l.podcast_id"
            " WHERE l.user_id = ? AND l.updated_at >= ? GROUP BY l.podcast_id ORDER BY listened DESC, l.podcast_id",
            (self.user_id, since or 0.0),
        )
        return [
            PodcastStats(r["podcast_id"], r["title"], r["listened"], r["media"], r["silence_saved"], r["episodes"])
            for r in rows
        ]

    def summary(self, days: int | None = None) -> ListeningStats:
        """:meth:`stats` over the last ``days`` (None: all time), with the totals."""
        return ListeningStats(days, self.stats(time.time() - days * 86400 if days else None))

    def history(self, limit: int = 50, offset: int = 0) -> tuple[list[HistoryItem], int]:
        """Episodes listened to, the latest first, with the total count."""
        conn = self.library.conn
        total = conn.execute(
            "SELECT count(DISTINCT episode_id) FROM listening WHERE user_id = ? AND episode_id IS NOT NULL", (self.user_id,)
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT l.episode_id, l.podcast_id, e.title, coalesce(p.title, '') AS podcast_title,"
            " sum(l.listened) AS listened, sum(l.media) AS media, sum(l.silence_saved) AS silence_saved,"
            " max(l.updated_at) AS last_at, coalesce(pb.played, 0) AS played"
            " FROM listening l JOIN episodes e ON e.id = l.episode_id LEFT JOIN podcasts p ON p.id = l.podcast_id"
            " LEFT JOIN playback pb ON pb.user_id = l.user_id AND pb.episode_id = l.episode_id"
            " WHERE l.user_id = ? GROUP BY l.episode_id ORDER BY last_at DESC, l.episode_id DESC LIMIT ? OFFSET ?",
            (self.user_id, limit, offset),
        )
        items = [
            HistoryItem(
                r["episode_id"], r["podcast_id"], r["title"], r["podcast_title"], r["listened"], r["media"],
                r["silence_saved"], datetime.fromtimestamp(r["last_at"], UTC), bool(r["played"]),
            )
            for r in rows
        ]
        return items, total


def others_still_listening(library: Library, user_id: int, episode_id: int) -> bool:
    """Whether another follower of the episode's podcast has not finished it (so its download,
    which all users share, must stay)."""
    row = library.conn.execute(
        "SELECT 1 FROM episodes e JOIN user_podcasts up ON up.podcast_id = e.podcast_id AND up.user_id != ?"
        " LEFT JOIN playback pb ON pb.user_id = up.user_id AND pb.episode_id = e.id"
        " WHERE e.id = ? AND coalesce(pb.played, 0) = 0 LIMIT 1",
        (user_id, episode_id),
    ).fetchone()
    return row is not None

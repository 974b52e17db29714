"""The library: podcasts, episodes and downloads in SQLite.

Every write is one transaction, so a crash mid-refresh leaves the previous state. Callers hand in
and get back typed records from ``earmark.models``; SQL stays in this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Iterator, Sequence

from earmark.errors import NotFound
from earmark.models import (
    AlternateEnclosure,
    Chapter,
    ChaptersLink,
    Download,
    Episode,
    Funding,
    ParsedFeed,
    Person,
    Podcast,
    Soundbite,
    TranscriptLink,
    from_json_list,
    from_json_one,
    to_json,
)
from earmark.store.db import connect, rows_in


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


# Episode columns that come from the feed, in storage order. The content hash covers exactly these.
_EPISODE_COLUMNS = (
    "title published duration description description_html link enclosure_url enclosure_type "
    "enclosure_length image season number episode_type explicit transcripts chapters_link chapters "
    "persons soundbites funding alternate_enclosures"
).split()
_JSON_FIELDS = {"transcripts", "chapters_link", "chapters", "persons", "soundbites", "funding", "alternate_enclosures"}


def _episode_values(episode: Episode) -> list:
    values = []
    for name in _EPISODE_COLUMNS:
        value = getattr(episode, name)
        if name in _JSON_FIELDS:
            value = to_json(value)
        elif name == "published":
            value = _ts(value)
        values.append(value)
    return values


def _hash(values: list) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()


def _episode(row: sqlite3.Row) -> Episode:
    return Episode(
        id=row["id"],
        podcast_id=row["podcast_id"],
        guid=row["guid"],
        title=row["title"],
        published=_dt(row["published"]),
        duration=row["duration"],
        description=row["description"],
        description_html=row["description_html"],
        link=row["link"],
        enclosure_url=row["enclosure_url"],
        enclosure_type=row["enclosure_type"],
        enclosure_length=row["enclosure_length"],
        image=row["image"],
        season=row["season"],
        number=row["number"],
        episode_type=row["episode_type"],
        explicit=_bool(row["explicit"]),
        transcripts=from_json_list(TranscriptLink, row["transcripts"]),
        chapters_link=from_json_one(ChaptersLink, row["chapters_link"]),
        chapters=from_json_list(Chapter, row["chapters"]),
        persons=from_json_list(Person, row["persons"]),
        soundbites=from_json_list(Soundbite, row["soundbites"]),
        funding=from_json_list(Funding, row["funding"]),
        alternate_enclosures=from_json_list(AlternateEnclosure, row["alternate_enclosures"]),
        first_seen=_dt(row["first_seen"]),
        updated_at=_dt(row["updated_at"]),
    )


def _podcast(row: sqlite3.Row) -> Podcast:
    return Podcast(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        author=row["author"],
        description=row["description"],
        link=row["link"],
        image=row["image"],
        language=row["language"],
        categories=json.loads(row["categories"]) if row["categories"] else [],
        persons=from_json_list(Person, row["persons"]),
        funding=from_json_list(Funding, row["funding"]),
        podcast_guid=row["podcast_guid"],
        explicit=_bool(row["explicit"]),
        locked=_bool(row["locked"]),
        added_at=_dt(row["added_at"]),
        status=row["status"],
        error=row["error"],
        last_checked=_dt(row["last_checked"]),
        last_success=_dt(row["last_success"]),
        episode_count=row["episode_count"],
        kind=row["kind"],
    )


@dataclass(frozen=True)
class FetchState:
    """What a conditional GET needs from the last successful fetch."""

    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None


# episode_count (and played_count) are kept current by triggers (schema migration 9): listing
# 2,000 podcasts does not count their 500,000 episodes.
_PODCAST_SELECT = "SELECT p.* FROM podcasts p"
OWNER_ID = 1  # the user who owns the library (everything from before accounts is theirs)
_NEWEST = "published IS NULL, published DESC, id"  # newest first, undated last: episodes_by_podcast_newest


# Writers of one library file in this process (the web app's Library, the snip enricher's, the job
# workers') queue on one lock: a waiting writer wakes the moment the last one commits, instead of
# sleeping in SQLite's busy handler (up to 100 ms a nap). Other processes (the CLI) still meet
# them at SQLite's write lock, with the connection's busy timeout.
_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
WRITE_LOCK_TIMEOUT = 30.0  # seconds, as the connections' busy timeout


def _write_lock(path: Path | str) -> threading.RLock:
    if str(path) == ":memory:":
        return threading.RLock()  # a database of its own
    key = os.path.realpath(path)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


class _Holder:
    """A thread's connection. It lives in the thread's local storage, so it is dropped when the
    thread ends, and a finalizer then closes the connection."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn


class Library:
    """The library file, with one connection per thread that uses it (``conn``).

    A sqlite3 connection holds one transaction state: shared by threads, a read on one (a search in
    the threadpool) runs inside, or interleaves with, another's write transaction, and SQLite
    answers "database is locked" or "another row available". So each thread gets its own
    connection: reads never wait (WAL), and each write is one ``BEGIN IMMEDIATE`` transaction
    (``transaction()``), serialized in this process by one lock per library file.
    An in-memory library (``":memory:"``) is one connection, shared, as it cannot be reopened."""

    def __init__(self, path: Path | str):
        self.path = path
        self._local = threading.local()
        self._guard = threading.Lock()
        self._finalizers: list[weakref.finalize] = []
        self._closed = False
        self._lock = _write_lock(path)
        first = connect(path)  # migrates the schema (or refuses a newer one) right away
        self._shared = first if str(path) == ":memory:" else None
        self._adopt(first)

    def _adopt(self, conn: sqlite3.Connection) -> _Holder:
        holder = _Holder(conn)
        with self._guard:
            if self._closed:
                if conn is not self._shared:
                    conn.close()
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            if conn is not self._shared:  # the shared one is closed by close() alone
                self._finalizers = [f for f in self._finalizers if f.alive]
                self._finalizers.append(weakref.finalize(holder, conn.close))
        self._local.holder = holder
        return holder

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        holder = getattr(self._local, "holder", None)
        if holder is None:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            holder = self._adopt(self._shared or connect(self.path))
        return holder.conn

    @conn.setter
    def conn(self, value: sqlite3.Connection) -> None:
        """Stand a connection (or a wrapper of one, in tests) in for this thread's."""
        self.conn  # noqa: B018  (this thread's own is still closed by close())
        self._local.holder.conn = value

    def close(self) -> None:
        """Close every thread's connection."""
        with self._guard:
            self._closed = True
            finalizers, self._finalizers = self._finalizers, []
        for finalizer in finalizers:
            finalizer()
        if self._shared is not None:
            self._shared.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        if not self._lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
            raise sqlite3.OperationalError("database is locked")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._lock.release()

    # -- podcasts -----------------------------------------------------------------------------

    def add_podcast(self, url: str, title: str | None = None, *, user_id: int = OWNER_ID) -> tuple[Podcast, bool]:
        """Subscribe ``user_id`` to ``url``; returns (podcast, created: new to the library). A podcast
        the library has (another user's) is shared. ``title`` (e.g. from an OPML file) stands in until
        the feed is first loaded; default: the URL."""
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM podcasts WHERE url = ?", (url,)).fetchone()
            if row:
                podcast_id, created = row["id"], False
            else:
                podcast_id = conn.execute(
                    "INSERT INTO podcasts (url, title, added_at) VALUES (?, ?, ?)", (url, title or url, time.time())
                ).lastrowid
                created = True
            self._link(conn, user_id, podcast_id)
        return self.podcast(podcast_id), created

    @staticmethod
    def _link(conn: sqlite3.Connection, user_id: int, podcast_id: int) -> None:
        conn.execute(
            "INSERT INTO user_podcasts (user_id, podcast_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, podcast_id, time.time()),
        )

    def unfollowed(self) -> list[int]:
        """Podcasts nobody follows any more (their last follower's account was removed)."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM podcasts p WHERE NOT EXISTS (SELECT 1 FROM user_podcasts up WHERE up.podcast_id = p.id)"
        )]

    def is_private_to(self, user_id: int, podcast_id: int) -> bool:
        """Whether ``podcast_id`` is someone's own audio (an uploads podcast) that ``user_id`` does not follow."""
        return bool(self.conn.execute(
            "SELECT 1 FROM podcasts p WHERE p.id = ? AND p.kind = 'uploads' AND NOT EXISTS"
            " (SELECT 1 FROM user_podcasts up WHERE up.podcast_id = p.id AND up.user_id = ?)", (podcast_id, user_id),
        ).fetchone())

    def is_subscribed(self, user_id: int, podcast_id: int) -> bool:
        return bool(self.conn.execute(
            "SELECT 1 FROM user_podcasts WHERE user_id = ? AND podcast_id = ?", (user_id, podcast_id)
        ).fetchone())

    def unsubscribe(self, user_id: int, podcast_id: int) -> list[str]:
        """``user_id`` leaves the podcast; the last one to leave removes it from the library (and
        gets its downloaded files' paths to delete). Another user's subscription keeps it all."""
        self.podcast(podcast_id)
        with self.transaction() as conn:
            conn.execute("DELETE FROM user_podcasts WHERE user_id = ? AND podcast_id = ?", (user_id, podcast_id))
            if conn.execute("SELECT 1 FROM user_podcasts WHERE podcast_id = ?", (podcast_id,)).fetchone():
                return []
        return self.remove_podcast(podcast_id)

    def podcast(self, podcast_id: int) -> Podcast:
        row = self.conn.execute(_PODCAST_SELECT + " WHERE p.id = ?", (podcast_id,)).fetchone()
        if row is None:
            raise NotFound(f"no podcast with id {podcast_id}")
        return _podcast(row)

    def podcast_by_url(self, url: str) -> Podcast | None:
        row = self.conn.execute(_PODCAST_SELECT + " WHERE p.url = ?", (url,)).fetchone()
        return _podcast(row) if row else None

    def podcasts(self, user_id: int = OWNER_ID) -> list[Podcast]:
        """The user's subscriptions, by title."""
        rows = self.conn.execute(
            _PODCAST_SELECT + " JOIN user_podcasts up ON up.podcast_id = p.id AND up.user_id = ? ORDER BY lower(p.title), p.id",
            (user_id,),
        ).fetchall()
        return [_podcast(row) for row in rows]

    def podcast_ids(self) -> list[int]:
        """Every podcast's id, in the order of ``podcasts()``."""
        return [row[0] for row in self.conn.execute("SELECT id FROM podcasts ORDER BY lower(title), id")]

    def podcast_titles(self) -> dict[int, str]:
        return {row[0]: row[1] for row in self.conn.execute("SELECT id, title FROM podcasts")}

    def unplayed_counts(self, user_id: int = OWNER_ID) -> dict[int, int]:
        """Episodes the user has not marked played, per podcast (the owner's are counted by triggers)."""
        if user_id == OWNER_ID:
            return {row[0]: row[1] for row in self.conn.execute("SELECT id, episode_count - played_count FROM podcasts")}
        played = dict(self.conn.execute(
            "SELECT e.podcast_id, count(*) FROM playback pb JOIN episodes e ON e.id = pb.episode_id"
            " WHERE pb.user_id = ? AND pb.played GROUP BY e.podcast_id", (user_id,)).fetchall())
        return {row[0]: row[1] - played.get(row[0], 0) for row in self.conn.execute("SELECT id, episode_count FROM podcasts")}

    def remove_podcast(self, podcast_id: int) -> list[str]:
        """Unsubscribe; returns the paths of its downloaded files for the caller to delete."""
        self.podcast(podcast_id)
        with self.transaction() as conn:
            paths = [
                row["path"]
                for row in conn.execute(
                    "SELECT d.path FROM downloads d JOIN episodes e ON e.id = d.episode_id WHERE e.podcast_id = ?",
                    (podcast_id,),
                )
            ]
            conn.execute("DELETE FROM podcasts WHERE id = ?", (podcast_id,))
        return paths

    def fetch_state(self, podcast_id: int) -> FetchState:
        row = self.conn.execute(
            "SELECT url, etag, last_modified, content_hash FROM podcasts WHERE id = ?", (podcast_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no podcast with id {podcast_id}")
        return FetchState(row["url"], row["etag"], row["last_modified"], row["content_hash"])

    def record_error(self, podcast_id: int, message: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE podcasts SET status = 'error', error = ?, last_checked = ? WHERE id = ?",
                (message, time.time(), podcast_id),
            )

    def record_unchanged(self, podcast_id: int, *, url: str, etag: str | None, last_modified: str | None) -> None:
        """A 304, or the same bytes as last time: only the check time and validators change."""
        now = time.time()
        with self.transaction() as conn:
            self._set_url(conn, podcast_id, url)
            conn.execute(
                "UPDATE podcasts SET status = 'ok', error = NULL, last_checked = ?, last_success = ?,"
                " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE id = ?",
                (now, now, etag, last_modified, podcast_id),
            )

    @staticmethod
    def _set_url(conn: sqlite3.Connection, podcast_id: int, url: str) -> None:
        # A moved feed whose new address is already another subscription keeps its old address.
        taken = conn.execute("SELECT 1 FROM podcasts WHERE url = ? AND id != ?", (url, podcast_id)).fetchone()
        if not taken:
            conn.execute("UPDATE podcasts SET url = ? WHERE id = ?", (url, podcast_id))

    def save_feed(
        self,
        podcast_id: int,
        feed: ParsedFeed,
        *,
        url: str,
        etag: str | None,
        last_modified: str | None,
        content_hash: str | None,
    ) -> tuple[int, int]:
        """Store a parsed feed atomically. Episodes are matched by GUID: new ones are inserted,
        changed ones updated in place, unchanged ones left alone. Returns (new, updated)."""
        p = feed.podcast
        now = time.time()
        rows = [(episode, _episode_values(episode)) for episode in feed.episodes]
        new = updated = 0
        with self.transaction() as conn:
            self._set_url(conn, podcast_id, url)
            cursor = conn.execute(
                """UPDATE podcasts SET title = ?, author = ?, description = ?, link = ?, image = ?,
                   language = ?, categories = ?, persons = ?, funding = ?, podcast_guid = ?, explicit = ?,
                   locked = ?, status = 'ok', error = NULL, last_checked = ?, last_success = ?, etag = ?,
                   last_modified = ?, content_hash = ? WHERE id = ?""",
                (
                    p.title or url, p.author, p.description, p.link, p.image, p.language,
                    json.dumps(p.categories, ensure_ascii=False), to_json(p.persons), to_json(p.funding), p.podcast_guid,
                    p.explicit, p.locked, now, now, etag, last_modified, content_hash, podcast_id,
                ),
            )
            if cursor.rowcount == 0:  # removed while its feed was being fetched
                raise NotFound(f"no podcast with id {podcast_id}")
            known = dict(conn.execute("SELECT guid, content_hash FROM episodes WHERE podcast_id = ?", (podcast_id,)))
            inserts, updates = [], []
            for episode, values in rows:
                digest = _hash(values)
                old = known.get(episode.guid)
                if old is None:
                    inserts.append((podcast_id, episode.guid, *values, digest, now, now))
                elif old != digest:
                    updates.append((*values, digest, now, podcast_id, episode.guid))
            columns = ", ".join(_EPISODE_COLUMNS)
            conn.executemany(
                f"INSERT INTO episodes (podcast_id, guid, {columns}, content_hash, first_seen, updated_at)"
                f" VALUES ({', '.join('?' * (len(_EPISODE_COLUMNS) + 5))})",
                inserts,
            )
            assignments = ", ".join(f"{name} = ?" for name in _EPISODE_COLUMNS)
            conn.executemany(
                f"UPDATE episodes SET {assignments}, content_hash = ?, updated_at = ? WHERE podcast_id = ? AND guid = ?",
                updates,
            )
            new, updated = len(inserts), len(updates)
        return new, updated

    # -- episodes -----------------------------------------------------------------------------

    def episodes(self, podcast_id: int, *, limit: int | None = None, offset: int = 0) -> list[Episode]:
        """A podcast's episodes, newest first (undated ones last)."""
        self.podcast(podcast_id)
        # In the order of the index episodes_by_podcast_newest: no sort of the whole back catalogue,
        # and an offset deep into a 15,000-episode show skips index entries, not rows.
        rows = self.conn.execute(
            f"SELECT * FROM episodes WHERE podcast_id = ? ORDER BY {_NEWEST} LIMIT ? OFFSET ?",
            (podcast_id, -1 if limit is None else limit, offset),
        ).fetchall()
        return [_episode(row) for row in rows]

    def newest_seen(self, podcast_id: int, count: int) -> list[int]:
        """Ids of the ``count`` episodes most recently added to the library for this podcast."""
        rows = self.conn.execute(
            "SELECT id FROM episodes WHERE podcast_id = ? ORDER BY first_seen DESC, id DESC LIMIT ?",
            (podcast_id, count),
        ).fetchall()
        return [row["id"] for row in rows]

    def episode(self, episode_id: int) -> Episode:
        row = self.conn.execute("SELECT * FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        if row is None:
            raise NotFound(f"no episode with id {episode_id}")
        return _episode(row)

    def set_duration(self, episode_id: int, seconds: float) -> None:
        """The duration measured from the audio (feeds often omit it or get it wrong). The feed's
        own value is what the content hash covers, so a later refresh keeps this one unless the
        publisher changes the episode. Whole seconds, as feeds give it."""
        with self.transaction() as conn:
            conn.execute("UPDATE episodes SET duration = ? WHERE id = ?", (round(seconds), episode_id))

    # -- downloads ----------------------------------------------------------------------------

    def download(self, episode_id: int) -> Download | None:
        row = self.conn.execute("SELECT * FROM downloads WHERE episode_id = ?", (episode_id,)).fetchone()
        return Download(row["episode_id"], row["path"], "done", row["size"], _dt(row["finished_at"])) if row else None

    def downloaded_ids(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` have their audio downloaded."""
        return {row[0] for row in rows_in(self.conn, "SELECT episode_id FROM downloads WHERE episode_id IN ({ids})", ids)}

    def record_download(self, episode_id: int, path: str, size: int) -> Download:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO downloads (episode_id, path, size, finished_at) VALUES (?, ?, ?, ?)",
                (episode_id, path, size, time.time()),
            )
        return self.download(episode_id)  # type: ignore[return-value]

    def forget_download(self, episode_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM downloads WHERE episode_id = ?", (episode_id,))


"""Snips out of Earmark: Markdown / Obsidian files, Readwise highlights, Notion pages.

Each target remembers what it already holds in the ``export_state`` table (target, key,
remote_id, content_hash): a snip is recorded only after the target accepted it, so an error or a
rate limit never loses a snip — the next run sends what is still missing or changed.

A request to Readwise or Notion is written down before it is sent (an in-flight row, forgotten in
the transaction that records the answer), so a run killed with a request in flight leaves a note:
the next run asks the target what it holds from that request before sending anything, and does not
send again what arrived (see readwise.py and notion.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from earmark.errors import EarmarkError
from earmark.models import Episode, Podcast, Snip
from earmark.store.library import OWNER_ID, Library
from earmark.store.snips import SnipFilter, SnipStore


class ExportError(EarmarkError, RuntimeError):
    """An export target refused or could not be reached; the message says which and why."""


@dataclass
class ExportReport:
    """What one export run did. Entries are keys such as ``snip:12``, ``page:episode:5`` or file paths."""

    target: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since the last export
    deleted: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # nothing to send yet (no text) — sent later
    containers: dict[str, str] = field(default_factory=dict)  # file path / Notion page → created, updated, unchanged
    error: str | None = None  # set when the run stopped early; what is not recorded is sent next time

    @property
    def ok(self) -> bool:
        return self.error is None


# -- export_state ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    key: str
    remote_id: str | None
    content_hash: str


class ExportState:
    """The ``export_state`` rows of one target."""

    def __init__(self, library: Library, target: str):
        self.library = library
        self.target = target

    def get(self, key: str) -> State | None:
        row = self.library.conn.execute(
            "SELECT key, remote_id, content_hash FROM export_state WHERE target = ? AND key = ?", (self.target, key)
        ).fetchone()
        return State(row["key"], row["remote_id"], row["content_hash"]) if row else None

    def all(self, prefix: str = "") -> dict[str, State]:
        rows = self.library.conn.execute(
            "SELECT key, remote_id, content_hash FROM export_state WHERE target = ? AND key LIKE ? || '%'",
            (self.target, prefix),
        ).fetchall()
        return {row["key"]: State(row["key"], row["remote_id"], row["content_hash"]) for row in rows}

    def put(self, key: str, content_hash: str, remote_id: str | None = None) -> None:
        with self.library.transaction() as conn:
            conn.execute(
                """INSERT INTO export_state (target, key, remote_id, content_hash, exported_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (target, key) DO UPDATE SET remote_id = excluded.remote_id,
                   content_hash = excluded.content_hash, exported_at = excluded.exported_at""",
                (self.target, key, remote_id, content_hash, time.time()),
            )

    def put_many(self, rows: Iterable[tuple[str, str, str | None]], *, forget: Iterable[str] = ()) -> None:
        """Rows (key, content_hash, remote_id) written and keys forgotten in one transaction: what a
        target accepted is recorded whole, together with the end of its in-flight note."""
        now = time.time()
        with self.library.transaction() as conn:
            conn.executemany("DELETE FROM export_state WHERE target = ? AND key = ?", [(self.target, k) for k in forget])
            conn.executemany(
                """INSERT INTO export_state (target, key, remote_id, content_hash, exported_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (target, key) DO UPDATE SET remote_id = excluded.remote_id,
                   content_hash = excluded.content_hash, exported_at = excluded.exported_at""",
                [(self.target, key, remote_id, digest, now) for key, digest, remote_id in rows],
            )

    def forget(self, key: str) -> None:
        with self.library.transaction() as conn:
            conn.execute("DELETE FROM export_state WHERE target = ? AND key = ?", (self.target, key))


# -- shared helpers -------------------------------------------------------------------------------


def content_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def state_target(target: str, user_id: int) -> str:
    """Each user's exports are tracked apart (their own Readwise/Notion/folder); the owner's keep
    the names they had before accounts."""
    return target if user_id == OWNER_ID else f"{target}:user{user_id}"


def all_snips(library: Library, user_id: int = OWNER_ID) -> list[Snip]:
    """The user's snips, oldest first (SnipStore.list pages newest first): one user's snips never
    go to another's Readwise or Notion."""
    store, found, offset = SnipStore(library, user_id), [], 0
    while True:
        page = store.list(SnipFilter(limit=500, offset=offset))
        found.extend(page)
        if len(page) < 500:
            break
        offset += 500
    return sorted(found, key=lambda s: (s.created_at.timestamp() if s.created_at else 0, s.id or 0))


def by_episode(library: Library, snips: list[Snip]) -> Iterator[tuple[Podcast, Episode, list[Snip]]]:
    """Snips grouped by episode (in episode id order), each episode's snips in listening order."""
    groups: dict[int, list[Snip]] = {}
    for snip in snips:
        groups.setdefault(snip.episode_id, []).append(snip)
    podcasts: dict[int, Podcast] = {}
    for episode_id in sorted(groups):
        episode = library.episode(episode_id)
        if episode.podcast_id not in podcasts:
            podcasts[episode.podcast_id] = library.podcast(episode.podcast_id)
        yield podcasts[episode.podcast_id], episode, sorted(groups[episode_id], key=lambda s: (s.start, s.id or 0))


def timestamp_link(base_url: str, snip: Snip) -> str:
    """A link that opens the episode in Earmark at the snip's start."""
    return f"{base_url.rstrip('/')}/episodes/{snip.episode_id}?t={int(snip.start)}"


def episode_url(episode: Episode) -> str | None:
    return episode.link or episode.enclosure_url

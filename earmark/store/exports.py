"""What each export target already holds: the ``export_state`` rows (target, key, remote_id,
content_hash, exported_at) of Markdown/Obsidian, Readwise and Notion (earmark/export/)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from earmark.store.library import Library


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

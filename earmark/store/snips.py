"""Snips in the library. A snip is written the moment it is created; the AI card is set later by
``set_card``, which leaves alone every field the user has edited. Each snip is one user's: a store
made for a user sees only theirs (another's is "not found"); one made without (the pipeline) all."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from earmark.errors import NotFound
from earmark.models import Snip
from earmark.store.library import Library

# Fields a user may change through update(); each change is remembered in ``edited``.
EDITABLE = ("title", "takeaways", "quote", "quote_speaker", "start", "end", "note", "tags", "favorite")
_JSON = {"takeaways", "tags", "edited"}


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _snip(row: sqlite3.Row) -> Snip:
    return Snip(
        id=row["id"],
        episode_id=row["episode_id"],
        tapped_at=row["tapped_at"],
        start=row["start"],
        end=row["end"],
        boundary=row["boundary"],
        state=row["state"],
        title=row["title"],
        takeaways=json.loads(row["takeaways"]),
        quote=row["quote"],
        quote_speaker=row["quote_speaker"],
        excerpt=row["excerpt"],
        note=row["note"],
        tags=json.loads(row["tags"]),
        favorite=bool(row["favorite"]),
        edited=json.loads(row["edited"]),
        error=row["error"],
        engine=row["engine"],
        model=row["model"],
        prompt_version=row["prompt_version"],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        user_id=row["user_id"],
    )


def _column(name: str) -> str:
    return '"end"' if name == "end" else name


def _value(name: str, value):
    return json.dumps(value, ensure_ascii=False) if name in _JSON else value


@dataclass(frozen=True)
class SnipFilter:
    podcast_id: int | None = None
    episode_id: int | None = None
    tag: str | None = None
    favorite: bool | None = None
    limit: int = 100
    offset: int = 0


class SnipStore:
    def __init__(self, library: Library, user_id: int | None = None):
        self.library = library
        self.user_id = user_id

    def create(self, snip: Snip, client_id: str | None = None) -> Snip:
        """Store ``snip``. With ``client_id`` (the client's idempotency key) a snip this user already
        made with that key is returned instead (see ``by_client_id``), never a second one."""
        self.library.episode(snip.episode_id)  # NotFound for an unknown episode
        now = time.time()
        user = self.user_id if self.user_id is not None else snip.user_id
        with self.library.transaction() as conn:
            # ON CONFLICT DO NOTHING: two sends racing with one key leave one row (the UNIQUE index).
            cursor = conn.execute(
                """INSERT INTO snips (episode_id, tapped_at, start, "end", boundary, state, title, takeaways,
                   quote, quote_speaker, excerpt, note, tags, favorite, edited, created_at, updated_at, user_id, client_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                (
                    snip.episode_id, snip.tapped_at, snip.start, snip.end, snip.boundary, snip.state, snip.title,
                    json.dumps(snip.takeaways), snip.quote, snip.quote_speaker, snip.excerpt, snip.note,
                    json.dumps(snip.tags), int(snip.favorite), json.dumps(snip.edited), now, now, user, client_id,
                ),
            )
            snip_id = cursor.lastrowid if cursor.rowcount else None
        if snip_id is None:
            return SnipStore(self.library, user).by_client_id(client_id)
        return self.get(snip_id)

    def by_client_id(self, client_id: str) -> Snip:
        """This user's snip made with the client's key ``client_id`` (NotFound when none)."""
        row = self.library.conn.execute(
            "SELECT * FROM snips WHERE user_id = ? AND client_id = ?", (self.user_id, client_id)
        ).fetchone()
        if row is None:
            raise NotFound(f"no snip with client_id {client_id!r}")
        return _snip(row)

    def get(self, snip_id: int) -> Snip:
        row = self.library.conn.execute("SELECT * FROM snips WHERE id = ?", (snip_id,)).fetchone()
        if row is None or (self.user_id is not None and row["user_id"] != self.user_id):
            raise NotFound(f"no snip with id {snip_id}")
        return _snip(row)

    def list(self, where: SnipFilter = SnipFilter()) -> list[Snip]:
        """Newest first."""
        clauses, params = [], []
        if self.user_id is not None:
            clauses.append("s.user_id = ?")
            params.append(self.user_id)
        if where.episode_id is not None:
            clauses.append("s.episode_id = ?")
            params.append(where.episode_id)
        if where.podcast_id is not None:
            clauses.append("e.podcast_id = ?")
            params.append(where.podcast_id)
        if where.favorite is not None:
            clauses.append("s.favorite = ?")
            params.append(int(where.favorite))
        if where.tag is not None:
            clauses.append("EXISTS (SELECT 1 FROM json_each(s.tags) WHERE json_each.value = ?)")
            params.append(where.tag)
        sql = "SELECT s.* FROM snips s JOIN episodes e ON e.id = s.episode_id"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?"
        rows = self.library.conn.execute(sql, (*params, where.limit, where.offset)).fetchall()
        return [_snip(row) for row in rows]

    # -- the enricher's queue (every user's snips: the store is the queue) -------------------

    def pending_ids(self, *, include_waiting: bool = False) -> list[int]:
        """Snips to enrich: pending ones, except those waiting for a transcript that has not landed."""
        sql = "SELECT s.id FROM snips s WHERE s.state = 'pending'"
        if not include_waiting:
            sql += (
                " AND (s.error IS NULL OR EXISTS (SELECT 1 FROM transcripts t"
                " WHERE t.episode_id = s.episode_id AND t.complete = 1))"
            )
        return [r["id"] for r in self.library.conn.execute(sql + " ORDER BY s.id").fetchall()]

    def resnap_ids(self) -> list[int]:
        """Snips last written before their episode's complete transcript (e.g. snapped on a window)."""
        rows = self.library.conn.execute(
            "SELECT s.id FROM snips s JOIN transcripts t ON t.episode_id = s.episode_id"
            " WHERE t.complete = 1 AND t.updated_at > s.updated_at AND s.state != 'pending' ORDER BY s.id"
        ).fetchall()
        return [r["id"] for r in rows]

    def update(self, snip_id: int, **changes) -> Snip:
        """A user's edit: the fields change and are marked edited, so AI runs leave them alone."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"cannot edit {', '.join(sorted(unknown))} of a snip")
        snip = self.get(snip_id)
        edited = sorted(set(snip.edited) | set(changes))
        self._write(snip_id, {**changes, "edited": edited})
        return self.get(snip_id)

    def set_card(self, snip_id: int, *, state: str, error: str | None = None, **fields) -> Snip:
        """The pipeline's write: AI or transcript-derived fields, skipping what the user edited."""
        snip = self.get(snip_id)
        kept = {name: value for name, value in fields.items() if name not in snip.edited}
        self._write(snip_id, {**kept, "state": state, "error": error})
        return self.get(snip_id)

    def delete(self, snip_id: int) -> None:
        self.get(snip_id)
        with self.library.transaction() as conn:
            conn.execute("DELETE FROM snips WHERE id = ?", (snip_id,))

    def _write(self, snip_id: int, values: dict) -> None:
        assignments = ", ".join(f"{_column(name)} = ?" for name in values)
        params = [_value(name, value) for name, value in values.items()]
        with self.library.transaction() as conn:
            conn.execute(
                f"UPDATE snips SET {assignments}, updated_at = ? WHERE id = ?", (*params, time.time(), snip_id)
            )

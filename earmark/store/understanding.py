"""Stored understanding results: summaries, chapters (publisher's or generated) and highlights,
each with the engine, model and prompt version that made it."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime

from earmark.models import ChapterMark, Dropped, EpisodeChapters, Highlight, LibraryHighlight, Summary
from earmark.store.library import Library


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


class UnderstandingStore:
    def __init__(self, library: Library):
        self.library = library

    def _write(self, conn: sqlite3.Connection | None, fn) -> None:
        if conn is not None:
            fn(conn)
        else:
            with self.library.transaction() as c:
                fn(c)

    # -- summary ---------------------------------------------------------------------------

    def save_summary(self, episode_id: int, summary: Summary, *, conn: sqlite3.Connection | None = None) -> None:
        def run(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT OR REPLACE INTO summaries (episode_id, paragraphs, takeaways, engine, model, prompt_version,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (episode_id, json.dumps(summary.paragraphs, ensure_ascii=False),
                 json.dumps(summary.takeaways, ensure_ascii=False), summary.engine, summary.model,
                 summary.prompt_version, time.time()),
            )

        self._write(conn, run)

    def summary(self, episode_id: int) -> Summary | None:
        row = self.library.conn.execute("SELECT * FROM summaries WHERE episode_id = ?", (episode_id,)).fetchone()
        if row is None:
            return None
        return Summary(json.loads(row["paragraphs"]), json.loads(row["takeaways"]), row["engine"], row["model"],
                       row["prompt_version"], _dt(row["created_at"]), episode_id)

    # -- chapters --------------------------------------------------------------------------

    def save_chapters(self, episode_id: int, chapters: EpisodeChapters, *, conn: sqlite3.Connection | None = None) -> None:
        def run(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM chapters WHERE episode_id = ?", (episode_id,))
            c.execute("DELETE FROM chapter_sets WHERE episode_id = ?", (episode_id,))
            c.execute(
                "INSERT INTO chapter_sets (episode_id, source, origin, engine, model, prompt_version, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (episode_id, chapters.source, chapters.origin, chapters.engine, chapters.model,
                 chapters.prompt_version, time.time()),
            )
            c.executemany(
                "INSERT INTO chapters (episode_id, idx, start, end, title, href, image, generated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(episode_id, n, m.start, m.end, m.title, m.href, m.image, int(m.generated))
                 for n, m in enumerate(chapters.chapters)],
            )

        self._write(conn, run)

    def shown_chapters(self, episode_id: int) -> tuple[EpisodeChapters, bool] | None:
        """The chapters to show and whether they are stored ones: the stored chapters, else the
        feed's Podlove chapters as the publisher's (not stored), else None. Raises NotFound."""
        stored = self.chapters(episode_id)
        if stored is not None:
            return stored, True
        episode = self.library.episode(episode_id)
        if not episode.chapters:
            return None
        marks = sorted(episode.chapters, key=lambda c: c.start)
        ends = [m.start for m in marks[1:]] + [None]
        return EpisodeChapters([ChapterMark(c.start, c.title, end, c.href, c.image) for c, end in zip(marks, ends)],
                               "publisher", "psc", episode_id=episode_id), False

    def chapters(self, episode_id: int) -> EpisodeChapters | None:
        head = self.library.conn.execute("SELECT * FROM chapter_sets WHERE episode_id = ?", (episode_id,)).fetchone()
        if head is None:
            return None
        rows = self.library.conn.execute("SELECT * FROM chapters WHERE episode_id = ? ORDER BY idx", (episode_id,)).fetchall()
        marks = [ChapterMark(r["start"], r["title"], r["end"], r["href"], r["image"], bool(r["generated"]), head["origin"])
                 for r in rows]
        return EpisodeChapters(marks, head["source"], head["origin"], head["engine"], head["model"],
                               head["prompt_version"], _dt(head["created_at"]), episode_id)

    # -- highlights ------------------------------------------------------------------------

    def save_highlights(self, episode_id: int, highlights: list[Highlight], *, conn: sqlite3.Connection | None = None) -> None:
        """Replace the episode's highlights."""
        now = time.time()

        def run(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM highlights WHERE episode_id = ?", (episode_id,))
            c.executemany(
                "INSERT INTO highlights (episode_id, start, end, title, why, quote, engine, model, prompt_version,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(episode_id, h.start, h.end, h.title, h.why, h.quote, h.engine, h.model, h.prompt_version, now)
                 for h in highlights],
            )

        self._write(conn, run)

    def _highlight(self, row: sqlite3.Row, kind: type[Highlight] = Highlight, *extra) -> Highlight:
        return kind(row["start"], row["end"], row["title"], row["why"], row["quote"], row["engine"], row["model"],
                    row["prompt_version"], _dt(row["created_at"]), row["episode_id"], row["id"], *extra)

    def highlights(self, episode_id: int) -> list[Highlight] | None:
        """The episode's highlights in time order; None when none were ever computed."""
        rows = self.library.conn.execute(
            "SELECT * FROM highlights WHERE episode_id = ? ORDER BY start", (episode_id,)
        ).fetchall()
        if not rows and not self._highlights_done(episode_id):
            return None
        return [self._highlight(r) for r in rows]

    def _highlights_done(self, episode_id: int) -> bool:
        row = self.library.conn.execute(
            "SELECT 1 FROM job_stages s JOIN jobs j ON j.id = s.job_id WHERE j.episode_id = ? AND s.name = 'highlights'"
            " AND s.state = 'done' LIMIT 1", (episode_id,),
        ).fetchone()
        return row is not None

    def all_highlights(self, *, limit: int = 50, offset: int = 0, user_id: int | None = None,
                       podcast_id: int | None = None, since: float | None = None) -> list[Highlight]:
        """Across the library (or the podcasts ``user_id`` follows): newest episodes' highlights first
        (by when they were made), in time order within one. ``podcast_id``: only that podcast's;
        ``since`` (epoch seconds): only episodes published or added to the library since then."""
        return [self._highlight(r) for r in self._across(limit, offset, user_id, podcast_id, since)]

    def library_highlights(self, *, limit: int = 50, offset: int = 0, user_id: int | None = None,
                           podcast_id: int | None = None, since: float | None = None) -> tuple[list[LibraryHighlight], bool]:
        """A page of :meth:`all_highlights`, each with its episode's and podcast's titles, and whether
        more follow."""
        rows = self._across(limit + 1, offset, user_id, podcast_id, since)
        found = [self._highlight(r, LibraryHighlight, r["episode_title"], r["podcast_id"], r["podcast_title"])
                 for r in rows[:limit]]
        return found, len(rows) > limit  # type: ignore[return-value]

    def _across(self, limit: int, offset: int, user_id: int | None, podcast_id: int | None,
                since: float | None) -> list[sqlite3.Row]:
        joins = ["JOIN episodes e ON e.id = h.episode_id", "JOIN podcasts p ON p.id = e.podcast_id"]
        where, args = [], []
        if user_id is not None:
            joins.append("JOIN user_podcasts up ON up.podcast_id = e.podcast_id AND up.user_id = ?")
            args.append(user_id)
        if podcast_id is not None:
            where.append("e.podcast_id = ?")
            args.append(podcast_id)
        if since is not None:
            where.append("max(coalesce(e.published, 0), e.first_seen) >= ?")
            args.append(since)
        rows = self.library.conn.execute(
            "SELECT h.*, e.title AS episode_title, e.podcast_id AS podcast_id, p.title AS podcast_title"
            f" FROM highlights h {' '.join(joins)} {'WHERE ' + ' AND '.join(where) if where else ''}"
            " ORDER BY h.created_at DESC, h.episode_id DESC, h.start LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        return rows

    def highlight(self, highlight_id: int, user_id: int | None = None) -> Highlight | None:
        """One highlight by id (None when there is none, or it is of a podcast ``user_id`` does not follow)."""
        sql = "SELECT h.* FROM highlights h"
        args: list = []
        if user_id is not None:
            sql += (" JOIN episodes e ON e.id = h.episode_id"
                    " JOIN user_podcasts up ON up.podcast_id = e.podcast_id AND up.user_id = ?")
            args.append(user_id)
        row = self.library.conn.execute(sql + " WHERE h.id = ?", (*args, highlight_id)).fetchone()
        return self._highlight(row) if row is not None else None

    # -- items a check left out --------------------------------------------------------------

    def save_dropped(self, episode_id: int, task: str, dropped: list[Dropped], *,
                     conn: sqlite3.Connection | None = None) -> None:
        """Replace what ``task`` left out for the episode."""

        def run(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM dropped_items WHERE episode_id = ? AND task = ?", (episode_id, task))
            c.executemany(
                "INSERT INTO dropped_items (episode_id, task, text, reason, created_at) VALUES (?, ?, ?, ?, ?)",
                [(episode_id, task, d.text, d.reason, time.time()) for d in dropped],
            )

        self._write(conn, run)

    def dropped(self, episode_id: int) -> list[Dropped]:
        rows = self.library.conn.execute(
            "SELECT task, text, reason FROM dropped_items WHERE episode_id = ? ORDER BY id", (episode_id,)
        ).fetchall()
        return [Dropped(r["task"], r["text"], r["reason"]) for r in rows]

    def prompt_versions(self) -> dict[int, dict[str, str | None]]:
        """For every transcribed episode: the prompt version of each stored result (summary,
        generated chapters, highlights); "publisher" for the publisher's chapters, "none" for a
        highlights stage that found none; a task with no result is missing."""
        rows = self.library.conn.execute(
            "SELECT t.episode_id AS id, s.prompt_version AS summary,"
            " CASE WHEN c.episode_id IS NULL THEN NULL WHEN c.source = 'generated' THEN c.prompt_version"
            " ELSE 'publisher' END AS chapters,"
            " coalesce((SELECT h.prompt_version FROM highlights h WHERE h.episode_id = t.episode_id LIMIT 1),"
            "          (SELECT 'none' FROM job_stages s JOIN jobs j ON j.id = s.job_id WHERE j.episode_id = t.episode_id"
            "           AND s.name = 'highlights' AND s.state = 'done' LIMIT 1)) AS highlights"
            " FROM transcripts t LEFT JOIN summaries s ON s.episode_id = t.episode_id"
            " LEFT JOIN chapter_sets c ON c.episode_id = t.episode_id WHERE t.complete = 1"
        ).fetchall()
        return {r["id"]: {k: r[k] for k in ("summary", "chapters", "highlights") if r[k] is not None} for r in rows}


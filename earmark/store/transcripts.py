"""Stored transcripts: one row per episode, its segments in a table of their own."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from earmark.models import Segment, SpeakerName, Transcript, Word
from earmark.store.db import rows_in
from earmark.store.library import Library


@dataclass(slots=True)
class TranscriptInfo:
    episode_id: int
    source: str  # publisher / asr
    format: str
    language: str | None
    engine: str | None
    model: str | None
    url: str | None
    complete: bool
    segment_count: int


def _words(segment: Segment) -> str | None:
    if not segment.words:
        return None
    return json.dumps([[w.start, w.end, w.text] for w in segment.words], ensure_ascii=False)


def _segment(row: sqlite3.Row) -> Segment:
    words = [Word(*w) for w in json.loads(row["words"])] if row["words"] else []
    return Segment(row["start"], row["end"], row["text"], row["speaker"], words, row["label"])


def insert_segments(conn: sqlite3.Connection, episode_id: int, first_idx: int, segments: list[Segment]) -> None:
    # OR REPLACE: a chunk saved again after a crash overwrites itself rather than duplicating.
    conn.executemany(
        "INSERT OR REPLACE INTO segments (episode_id, idx, start, end, speaker, text, words, label)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (episode_id, first_idx + n, s.start, s.end, s.speaker, s.text, _words(s), s.label)
            for n, s in enumerate(segments)
        ],
    )


class TranscriptStore:
    def __init__(self, library: Library):
        self.library = library

    def info(self, episode_id: int) -> TranscriptInfo | None:
        row = self.library.conn.execute(
            "SELECT t.*, (SELECT count(*) FROM segments s WHERE s.episode_id = t.episode_id) AS n"
            " FROM transcripts t WHERE episode_id = ?",
            (episode_id,),
        ).fetchone()
        if row is None:
            return None
        return TranscriptInfo(
            row["episode_id"], row["source"], row["format"], row["language"], row["engine"], row["model"],
            row["url"], bool(row["complete"]), row["n"],
        )

    def complete_ids(self, episode_ids: Sequence[int]) -> set[int]:
        """Which of ``episode_ids`` have a complete transcript."""
        sql = "SELECT episode_id FROM transcripts WHERE complete = 1 AND episode_id IN ({ids})"
        return {row[0] for row in rows_in(self.library.conn, sql, episode_ids)}

    def get(self, episode_id: int, *, partial: bool = False) -> Transcript | None:
        """The episode's transcript; an ASR run still in progress only with ``partial``."""
        info = self.info(episode_id)
        if info is None or not (info.complete or partial):
            return None
        rows = self.library.conn.execute(
            "SELECT * FROM segments WHERE episode_id = ? ORDER BY idx", (episode_id,)
        ).fetchall()
        return Transcript([_segment(r) for r in rows], source=info.source, format=info.format, language=info.language)

    def segments_between(self, episode_id: int, lo: float, hi: float) -> list[Segment] | None:
        """The complete transcript's segments overlapping [lo, hi]; None when the episode has no
        complete transcript. Reads only that stretch, so it is fast on long episodes."""
        info = self.info(episode_id)
        if info is None or not info.complete:
            return None
        rows = self.library.conn.execute(
            'SELECT * FROM segments WHERE episode_id = ? AND "end" >= ? AND start <= ? ORDER BY idx',
            (episode_id, lo, hi),
        ).fetchall()
        return [_segment(r) for r in rows]

    def save(
        self, episode_id: int, transcript: Transcript, *, engine: str | None = None, model: str | None = None,
        url: str | None = None, conn: sqlite3.Connection | None = None,
    ) -> None:
        """Replace the episode's transcript with a complete one, atomically."""

        def run(c: sqlite3.Connection) -> None:
            self.begin(c, episode_id, source=transcript.source, format=transcript.format, language=transcript.language,
                       engine=engine, model=model, url=url)
            insert_segments(c, episode_id, 0, transcript.segments)
            self.complete(c, episode_id)

        if conn is not None:
            run(conn)
        else:
            with self.library.transaction() as c:
                run(c)

    @staticmethod
    def begin(
        conn: sqlite3.Connection, episode_id: int, *, source: str, format: str, language: str | None,
        engine: str | None, model: str | None, url: str | None = None,
    ) -> None:
        """Start an (incomplete) transcript, dropping any earlier one, its segments and names."""
        conn.execute("DELETE FROM segments WHERE episode_id = ?", (episode_id,))
        conn.execute("DELETE FROM speaker_names WHERE episode_id = ?", (episode_id,))
        conn.execute(
            "INSERT OR REPLACE INTO transcripts (episode_id, source, format, language, engine, model, url, complete,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (episode_id, source, format, language, engine, model, url, time.time()),
        )

    @staticmethod
    def set_language(conn: sqlite3.Connection, episode_id: int, language: str | None) -> None:
        """Record the language once known (an ASR run detects it on its first window)."""
        if language:
            conn.execute("UPDATE transcripts SET language = ?, updated_at = ? WHERE episode_id = ?",
                         (language, time.time(), episode_id))

    @staticmethod
    def complete(conn: sqlite3.Connection, episode_id: int) -> None:
        conn.execute("UPDATE transcripts SET complete = 1, updated_at = ? WHERE episode_id = ?", (time.time(), episode_id))

    def replace_segments(self, conn: sqlite3.Connection, episode_id: int, segments: list[Segment]) -> None:
        """The episode's segments, all of them anew (speakers split segments at turn changes);
        names given to the old labels go with them."""
        conn.execute("DELETE FROM segments WHERE episode_id = ?", (episode_id,))
        conn.execute("DELETE FROM speaker_names WHERE episode_id = ?", (episode_id,))
        insert_segments(conn, episode_id, 0, segments)

    # -- speaker names -----------------------------------------------------------------------

    def speaker_names(self, episode_id: int) -> list[SpeakerName]:
        rows = self.library.conn.execute(
            "SELECT * FROM speaker_names WHERE episode_id = ? ORDER BY rowid", (episode_id,)
        ).fetchall()
        return [SpeakerName(r["label"], r["name"], r["source"], r["evidence"]) for r in rows]

    @staticmethod
    def save_speaker_names(conn: sqlite3.Connection, episode_id: int, names: list[SpeakerName]) -> None:
        """Who each diarized label is; the segments show the names (their labels stay)."""
        conn.execute("DELETE FROM speaker_names WHERE episode_id = ?", (episode_id,))
        conn.executemany(
            "INSERT INTO speaker_names (episode_id, label, name, source, evidence) VALUES (?, ?, ?, ?, ?)",
            [(episode_id, n.label, n.name, n.source, n.evidence) for n in names],
        )
        conn.executemany(
            "UPDATE segments SET speaker = ? WHERE episode_id = ? AND label = ?",
            [(n.name, episode_id, n.label) for n in names],
        )

    def delete(self, episode_id: int) -> None:
        with self.library.transaction() as conn:
            conn.execute("DELETE FROM transcripts WHERE episode_id = ?", (episode_id,))
            conn.execute("DELETE FROM speaker_names WHERE episode_id = ?", (episode_id,))
            conn.execute("DELETE FROM dropped_items WHERE episode_id = ?", (episode_id,))

"""Writing the search index. Feed metadata (titles, show notes, chapters), AI summaries and snips
are kept current by triggers in the schema, and defined once in search/documents.py; transcripts
are indexed per episode by the pipeline's "index" stage (segments into FTS, embedded windows into
search_windows); ``reindex_all`` rebuilds everything."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from earmark.models import Segment
from earmark.search.documents import DOCUMENTS, insert
from earmark.search.embed import TextEmbedder, Window, build_windows, embed_windows
from earmark.search.keyword import clean_text
from earmark.store.library import Library


@dataclass(slots=True)
class EpisodeIndex:
    """What the index stage computes (store-free) and the runner writes."""

    windows: list[Window]
    vectors: np.ndarray  # (len(windows), dim) float32
    model: str


def compute_episode_index(segments: list[Segment], embedder: TextEmbedder) -> EpisodeIndex:
    windows = build_windows(segments)
    return EpisodeIndex(windows, embed_windows(embedder, windows), embedder.name)


def add_docs(
    conn: sqlite3.Connection, kind: str, podcast_id: int, episode_id: int | None,
    docs: Iterable[tuple[int | None, float | None, str]],  # (ref, start seconds, text)
) -> None:
    conn.executemany(
        "INSERT INTO search_docs (kind, podcast_id, episode_id, ref, start, text) VALUES (?, ?, ?, ?, ?, ?)",
        [(kind, podcast_id, episode_id, ref, start, clean_text(text)) for ref, start, text in docs if text.strip()],
    )


def remove_docs(conn: sqlite3.Connection, episode_id: int, kind: str) -> None:
    conn.execute("DELETE FROM search_docs WHERE episode_id = ? AND kind = ?", (episode_id, kind))


def write_episode_index(conn: sqlite3.Connection, episode_id: int, index: EpisodeIndex | None) -> None:
    """Replace the episode's transcript entries: its segments (from the segments table) and, when
    given, its embedded windows. Call inside a transaction."""
    podcast_id = conn.execute("SELECT podcast_id FROM episodes WHERE id = ?", (episode_id,)).fetchone()[0]
    remove_docs(conn, episode_id, "segment")
    rows = conn.execute("SELECT idx, start, text FROM segments WHERE episode_id = ? ORDER BY idx", (episode_id,))
    add_docs(conn, "segment", podcast_id, episode_id, ((r["idx"], r["start"], r["text"]) for r in rows))
    if index is not None:
        conn.execute("DELETE FROM search_windows WHERE episode_id = ? AND kind = 'window'", (episode_id,))
        conn.executemany(
            "INSERT INTO search_windows (kind, podcast_id, episode_id, start, end, text, model, embedding)"
            " VALUES ('window', ?, ?, ?, ?, ?, ?, ?)",
            [
                (podcast_id, episode_id, w.start, w.end, w.text, index.model, np.asarray(v, np.float32).tobytes())
                for w, v in zip(index.windows, index.vectors, strict=True)
            ],
        )


def reindex_all(
    library: Library, embedder: TextEmbedder | None, *, progress: Callable[[int, int], None] | None = None
) -> int:
    """Rebuild the whole index; ``embedder=None`` rebuilds keyword search only (vectors kept).
    Returns the number of episodes with transcripts indexed."""
    with library.transaction() as conn:
        conn.execute("DELETE FROM search_docs")
        conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")  # drop anything stale
        for source in DOCUMENTS:  # feed metadata, summaries, snips (search/documents.py)
            conn.execute(insert(source))
    episodes = [
        row[0] for row in library.conn.execute("SELECT episode_id FROM transcripts WHERE complete = 1 ORDER BY episode_id")
    ]
    for n, episode_id in enumerate(episodes):
        index = None
        if embedder is not None:
            rows = library.conn.execute(
                "SELECT start, end, text FROM segments WHERE episode_id = ? ORDER BY idx", (episode_id,)
            ).fetchall()
            index = compute_episode_index([Segment(r[0], r[1], r[2]) for r in rows], embedder)
        with library.transaction() as conn:
            write_episode_index(conn, episode_id, index)
        if progress:
            progress(n + 1, len(episodes))
    return len(episodes)

"""Searching inside one episode, for asking it questions: the library's own keyword index (FTS5,
porter-stemmed, any of the question's words) and its stored window vectors, fused by reciprocal
rank. Implements ``earmark.ai.tasks.ask.Retriever``."""

from __future__ import annotations

import sqlite3

import numpy as np

from earmark.ai.tasks.ask import RRF_K
from earmark.ai.terms import STOPWORDS, words
from earmark.search.embed import TextEmbedder


class EpisodeRetriever:
    def __init__(self, conn: sqlite3.Connection, episode_id: int, embedder: TextEmbedder | None = None):
        self.conn = conn
        self.episode_id = episode_id
        self.embedder = embedder

    def indexed(self) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM search_docs WHERE episode_id = ? AND kind = 'segment' LIMIT 1", (self.episode_id,)
        ).fetchone() is not None

    def _keyword(self, question: str, limit: int) -> list[tuple[float, float]]:
        wanted = [w for w in dict.fromkeys(words(question)) if w not in STOPWORDS and len(w) > 1]
        if not wanted:
            return []
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in wanted)
        rows = self.conn.execute(
            "SELECT d.start AS start, coalesce(s.end, d.start + 10) AS end FROM search_fts"
            " JOIN search_docs d ON d.id = search_fts.rowid"
            " LEFT JOIN segments s ON s.episode_id = d.episode_id AND s.idx = d.ref"
            " WHERE search_fts MATCH ? AND d.episode_id = ? AND d.kind = 'segment'"
            " ORDER BY bm25(search_fts) LIMIT ?",
            (match, self.episode_id, limit),
        ).fetchall()
        return [(r["start"], r["end"]) for r in rows]

    def _semantic(self, question: str, limit: int) -> list[tuple[float, float]]:
        if self.embedder is None:
            return []
        rows = self.conn.execute(  # vectors of another model are not comparable: skipped
            "SELECT start, end, embedding FROM search_windows WHERE episode_id = ? AND kind = 'window' AND model = ?",
            (self.episode_id, self.embedder.name),
        ).fetchall()
        if not rows:
            return []
        matrix = np.stack([np.frombuffer(r["embedding"], np.float32) for r in rows])
        q = np.asarray(self.embedder.query(question), np.float32)
        order = np.argsort(-(matrix @ q))[:limit]
        return [(rows[i]["start"], rows[i]["end"]) for i in order]

    def find(self, question: str, k: int) -> list[tuple[float, float]]:
        keyword, semantic = self._keyword(question, 4 * k), self._semantic(question, 2 * k)
        scores: dict[tuple[float, float], float] = {}
        for rank, span in enumerate(semantic):
            scores[span] = 1.0 / (RRF_K + rank + 1)
        for rank, span in enumerate(keyword):
            # a keyword hit inside a semantic window is the same moment: the two add up on the
            # (sharper) keyword hit
            around = [scores[w] for w in semantic if w[0] <= span[0] < w[1]]
            scores[span] = scores.get(span, 0.0) + 1.0 / (RRF_K + rank + 1) + max(around, default=0.0)
        return sorted(scores, key=lambda span: -scores[span])[:k]


class Found:
    """Passages looked up already (on the thread that owns the connection): a Retriever that only
    hands them out."""

    def __init__(self, spans: list[tuple[float, float]]):
        self.spans = spans

    def find(self, question: str, k: int) -> list[tuple[float, float]]:
        return self.spans[:k]


def episode_retriever(library, episode_id: int) -> EpisodeRetriever | None:
    """The index-backed retriever when the episode is indexed (else None: ask() searches its
    sentences in memory, by keyword)."""
    from earmark.search.embed import get_embedder

    retriever = EpisodeRetriever(library.conn, episode_id, get_embedder())
    return retriever if retriever.indexed() else None


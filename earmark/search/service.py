"""Search as callers see it: keyword, semantic or both fused with reciprocal rank fusion, with
filters, and "more like this moment"."""

from __future__ import annotations

import sqlite3

import numpy as np

from earmark.errors import NotFound
from earmark.search.embed import TextEmbedder, get_embedder
from earmark.search.keyword import search_keyword
from earmark.search.records import (
    COMBINED,
    KEYWORD,
    MODES,
    SEMANTIC,
    SearchFilters,
    SearchHit,
)
from earmark.search.semantic import nearest_windows
from earmark.store.library import Library


class NotIndexed(NotFound):
    """The episode exists but has no embedded windows yet (not transcribed, or indexed keyword-only)."""


RRF_K = 60  # the usual constant: damps the head of each list so neither ranker dominates


class Searcher:
    def __init__(self, library: Library, embedder: TextEmbedder | None = None):
        self.library = library
        self._embedder = embedder

    @property
    def embedder(self) -> TextEmbedder:
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    @property
    def conn(self) -> sqlite3.Connection:
        return self.library.conn

    def search(
        self, query: str, *, mode: str = COMBINED, filters: SearchFilters | None = None, limit: int = 20
    ) -> list[SearchHit]:
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r} (choose from {', '.join(MODES)})")
        if mode == KEYWORD:
            return search_keyword(self.conn, query, filters, limit)
        if mode == SEMANTIC:
            return self.semantic(query, filters, limit)
        return self.combined(query, filters, limit)

    def semantic(self, query: str, filters: SearchFilters | None = None, limit: int = 20) -> list[SearchHit]:
        if not self._has_windows():
            return []
        return nearest_windows(self.conn, self.embedder.query(query.strip()), filters, limit)

    def combined(self, query: str, filters: SearchFilters | None = None, limit: int = 20) -> list[SearchHit]:
        depth = max(limit * 2, 40)  # fuse deeper lists than we show, so agreement lower down counts
        keyword = search_keyword(self.conn, query, filters, depth)
        semantic = self.semantic(query, filters, depth)
        return fuse(keyword, semantic)[:limit]

    def more_like(self, episode_id: int, at: float, filters: SearchFilters | None = None, limit: int = 10) -> list[SearchHit]:
        """Windows elsewhere nearest to the window heard at ``at`` seconds into the episode."""
        row = self.conn.execute(
            "SELECT start, end, embedding FROM search_windows WHERE episode_id = ? AND kind = 'window' AND start <= ?"
            " ORDER BY start DESC LIMIT 1",
            (episode_id, at),
        ).fetchone() or self.conn.execute(
            "SELECT start, end, embedding FROM search_windows WHERE episode_id = ? AND kind = 'window' ORDER BY start LIMIT 1",
            (episode_id,),
        ).fetchone()
        if row is None:
            self.library.episode(episode_id)  # NotFound for an unknown episode
            raise NotIndexed(f"episode {episode_id} has no semantic index yet; process it or run `earmark search --reindex`")
        vector = np.frombuffer(row["embedding"], np.float32)
        return nearest_windows(self.conn, vector, filters, limit, exclude=(episode_id, row["start"], row["end"]))

    def _has_windows(self) -> bool:
        return self.conn.execute("SELECT 1 FROM search_windows LIMIT 1").fetchone() is not None


def fuse(keyword: list[SearchHit], semantic: list[SearchHit]) -> list[SearchHit]:
    """Reciprocal rank fusion. A keyword hit inside a semantic window of the same episode is the
    same moment: the two add up, and the keyword hit's exact time and highlighted snippet stay."""
    fused: list[SearchHit] = []
    scores: list[float] = []
    for rank, hit in enumerate(semantic):
        fused.append(hit)
        scores.append(1.0 / (RRF_K + rank + 1))
    for rank, hit in enumerate(keyword):
        score = 1.0 / (RRF_K + rank + 1)
        match = next(
            (
                n for n, other in enumerate(fused[: len(semantic)])
                if "keyword" not in other.found_by and other.episode_id == hit.episode_id
                and hit.start is not None and other.start <= hit.start < other.end
            ),
            None,
        )
        if match is None:
            fused.append(hit)
            scores.append(score)
        else:
            window = fused[match]
            hit.found_by = ["keyword", "semantic"]
            hit.end = window.end
            fused[match] = hit
            scores[match] += score
    for hit, score in zip(fused, scores, strict=True):
        hit.score = score
    order = sorted(range(len(fused)), key=lambda n: -scores[n])
    return [fused[n] for n in order]

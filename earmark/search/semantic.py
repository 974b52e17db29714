"""Nearest transcript windows to a vector.

Vectors are stored in ``search_windows`` (float32 blobs, one row per window). Searching them in
SQL (sqlite-vec's ``vec_distance_cosine`` over every row, measured where extensions load) took
8.8 s at 1,000 h (120 k windows), so each process keeps an in-memory copy, loaded once: the
normalized float32 matrix and one sign
bit per dimension (about the mean vector). A search ranks every row by Hamming distance on the bits
(48 bytes a row: a few ms at 120 k rows, where the full float32 product took ~45 ms on a busy
2-core machine), then computes the exact cosine for a shortlist of at least ``RERANK_MIN`` rows
and returns the best by that. Filters are masks over per-row arrays (podcast, episode); a date
filter asks SQLite which episodes qualify, so it is always current. The Python sqlite3 Earmark
runs on cannot load extensions (no ``enable_load_extension``), so sqlite-vec is not a dependency.

The copy follows the database through ``search_windows_changes``: triggers stamp every episode
whose windows change with the next sequence number, in the writer's transaction. Before each
search the cache reads ``max(seq)`` (one indexed lookup); when it moved, only the episodes stamped
since are reloaded — in every process and on every connection, whoever wrote."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass

import numpy as np

from earmark.search.records import SearchFilters, SearchHit, Span
from earmark.search.sql import date_clauses, hit_from_row

_SNIPPET_CHARS = 240


@dataclass(frozen=True, slots=True)
class _Vectors:
    """An immutable snapshot: searches use it while a refresh builds the next one."""

    seq: int
    ids: np.ndarray  # int64 window ids
    episodes: np.ndarray  # int64
    podcasts: np.ndarray  # int64
    starts: np.ndarray  # float64
    ends: np.ndarray  # float64
    matrix: np.ndarray  # (n, dim) float32, rows L2-normalized
    bits: np.ndarray  # (n, words) uint64: sign bits of (row - center), the coarse first pass
    center: np.ndarray  # (dim,) float32

    @classmethod
    def empty(cls, seq: int = 0, dim: int = 0) -> _Vectors:
        z = np.zeros(0, np.int64)
        return cls(seq, z, z, z, np.zeros(0), np.zeros(0), np.zeros((0, dim), np.float32),
                   np.zeros((0, 0), np.uint64), np.zeros(dim, np.float32))


def _sign_bits(matrix: np.ndarray, center: np.ndarray) -> np.ndarray:
    """One bit per dimension (above the center or not), packed into uint64 words per row."""
    packed = np.packbits(np.atleast_2d(matrix) > center, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(packed).view(np.uint64)


_COLUMNS = "SELECT id, episode_id, podcast_id, start, end, embedding FROM search_windows"


def _load(conn: sqlite3.Connection, where: str = "", params: tuple | list = (), center: np.ndarray | None = None) -> _Vectors:
    """Rows of search_windows; ``center`` None (a full load) computes it from these rows."""
    rows = conn.execute(f"{_COLUMNS} {where} ORDER BY id", params).fetchall()
    if not rows:
        return _Vectors.empty(dim=0 if center is None else len(center))
    matrix = np.frombuffer(b"".join(r[5] for r in rows), np.float32).reshape(len(rows), -1).copy()
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, np.where(norms > 0, norms, 1.0), out=matrix)
    if center is None:
        center = matrix.mean(axis=0).astype(np.float32)  # embeddings share a direction: bits about the mean
    return _Vectors(
        0,
        np.fromiter((r[0] for r in rows), np.int64, len(rows)),
        np.fromiter((r[1] for r in rows), np.int64, len(rows)),
        np.fromiter((r[2] for r in rows), np.int64, len(rows)),
        np.fromiter((r[3] for r in rows), np.float64, len(rows)),
        np.fromiter((r[4] for r in rows), np.float64, len(rows)),
        matrix,
        _sign_bits(matrix, center),
        center,
    )


# The exact cosine is computed for at least this many rows, picked by the coarse pass.
RERANK_MIN = 1024

# More changed episodes than this since the last look: reload everything (one scan beats many).
_FULL_RELOAD_EPISODES = 500


class VectorCache:
    """The in-memory vectors of one database file, shared by every connection of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vectors: _Vectors | None = None
        self.loads = 0  # full loads, for tests and the benchmark
        self.updates = 0  # incremental updates

    def current(self, conn: sqlite3.Connection) -> _Vectors:
        seq = conn.execute("SELECT coalesce(max(seq), 0) FROM search_windows_changes").fetchone()[0]
        vectors = self._vectors
        if vectors is not None and vectors.seq == seq:
            return vectors
        with self._lock:
            vectors = self._vectors
            if vectors is not None and vectors.seq == seq:
                return vectors
            # seq is read before the rows: a change landing meanwhile has a larger seq and is
            # picked up (again) next time, never missed.
            changed = None
            if vectors is not None and vectors.seq < seq:
                changed = [
                    r[0] for r in conn.execute(
                        "SELECT episode_id FROM search_windows_changes WHERE seq > ? LIMIT ?",
                        (vectors.seq, _FULL_RELOAD_EPISODES + 1),
                    )
                ]
            if changed is None or len(changed) > _FULL_RELOAD_EPISODES:
                fresh = _load(conn)  # first use, a rebuilt database, or a large change
                self.loads += 1
            else:
                marks = ",".join("?" * len(changed))
                added = _load(conn, f"WHERE episode_id IN ({marks})", changed, center=vectors.center)
                keep = ~np.isin(vectors.episodes, changed)
                fresh = _merge(vectors, keep, added)
                self.updates += 1
            self._vectors = _Vectors(seq, *(getattr(fresh, f) for f in _Vectors.__slots__ if f != "seq"))
            return self._vectors


def _merge(old: _Vectors, keep: np.ndarray, added: _Vectors) -> _Vectors:
    if not len(added.ids):
        matrix, bits = old.matrix[keep], old.bits[keep]
    elif not len(old.ids):
        matrix, bits = added.matrix, added.bits
    else:
        matrix = np.concatenate([old.matrix[keep], added.matrix])
        bits = np.concatenate([old.bits[keep], added.bits])
    return _Vectors(
        0,
        np.concatenate([old.ids[keep], added.ids]),
        np.concatenate([old.episodes[keep], added.episodes]),
        np.concatenate([old.podcasts[keep], added.podcasts]),
        np.concatenate([old.starts[keep], added.starts]),
        np.concatenate([old.ends[keep], added.ends]),
        matrix,
        bits,
        old.center if len(old.center) else added.center,
    )


_CACHES: dict[tuple, VectorCache] = {}
_CACHES_LOCK = threading.Lock()


def vector_cache(conn: sqlite3.Connection) -> VectorCache:
    """The process's cache for the database ``conn`` is open on (keyed by its file, so every
    connection to one library shares one copy; a file replaced at the same path gets a new one)."""
    path = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    if path:
        try:
            st = os.stat(path)
            key: tuple = (os.path.realpath(path), st.st_dev, st.st_ino)
        except OSError:
            key = (path,)
    else:  # an in-memory database: private to this connection
        key = ("memory", id(conn))
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = VectorCache()
        return cache


_SELECT = (
    "SELECT w.id, w.kind, w.podcast_id, w.episode_id, w.start, w.end, w.text, p.title AS podcast_title,"
    " e.title AS episode_title, e.published"
    " FROM search_windows w JOIN episodes e ON e.id = w.episode_id JOIN podcasts p ON p.id = w.podcast_id"
)


def _allowed(conn: sqlite3.Connection, vectors: _Vectors, filters: SearchFilters) -> np.ndarray | None:
    """A row mask for the filters, or None when nothing is filtered."""
    mask = None
    if filters.podcast_id is not None:
        mask = vectors.podcasts == filters.podcast_id
    if filters.since is not None or filters.until is not None:
        where, params = date_clauses(filters, "published")
        episodes = np.fromiter(
            (r[0] for r in conn.execute(f"SELECT id FROM episodes WHERE {' AND '.join(where)}", params)), np.int64
        )
        dated = np.isin(vectors.episodes, episodes)
        mask = dated if mask is None else mask & dated
    if filters.user_id is not None:
        followed = np.fromiter(
            (r[0] for r in conn.execute("SELECT podcast_id FROM user_podcasts WHERE user_id = ?", (filters.user_id,))),
            np.int64,
        )
        theirs = np.isin(vectors.podcasts, followed)
        mask = theirs if mask is None else mask & theirs
    return mask


def nearest_windows(
    conn: sqlite3.Connection, vector: np.ndarray, filters: SearchFilters | None = None, limit: int = 20,
    *, exclude: tuple[int, float, float] | None = None,
) -> list[SearchHit]:
    """Windows closest to ``vector`` (cosine); ``exclude`` = (episode_id, start, end) drops
    windows that overlap that moment (for "more like this")."""
    vectors = vector_cache(conn).current(conn)
    if not len(vectors.ids) or limit <= 0:
        return []
    query = np.asarray(vector, np.float32).ravel()
    norm = float(np.linalg.norm(query))
    if norm > 0:
        query = query / norm
    mask = _allowed(conn, vectors, filters or SearchFilters())
    if exclude is not None:
        overlap = (vectors.episodes == exclude[0]) & (vectors.starts < exclude[2]) & (vectors.ends > exclude[1])
        mask = ~overlap if mask is None else mask & ~overlap
    candidates = np.flatnonzero(mask) if mask is not None else None
    n = len(vectors.ids) if candidates is None else len(candidates)
    k = min(limit, n)
    if k <= 0:
        return []
    shortlist = max(RERANK_MIN, limit * 32, len(vectors.ids) // 64)
    if n > shortlist and len(vectors.center) == len(query):
        # Coarse pass: Hamming distance between sign bits (48 bytes a row, a few ms for 120 k
        # rows), then the exact cosine on the shortlist only.
        qbits = _sign_bits(query[None, :], vectors.center)[0]
        distance = np.bitwise_count(vectors.bits ^ qbits).sum(axis=1, dtype=np.uint16)
        if mask is not None:
            distance[~mask] = np.iinfo(np.uint16).max
        # Distances are small integers: the cut-off comes from a histogram (0.2 ms), where
        # argpartition over 120 k rows took 5 ms. Ties at the cut-off come along.
        cutoff = int(np.searchsorted(np.cumsum(np.bincount(distance)), shortlist))
        candidates = np.flatnonzero(distance <= cutoff)
        if len(candidates) > 4 * shortlist:  # a flood of ties: take any shortlist of them
            candidates = np.argpartition(distance, shortlist - 1)[:shortlist]
    # einsum, not @: OpenBLAS wakes its thread pool for a matrix-vector product, which cost 7 ms
    # for 2,000 rows on a busy machine against 0.2 ms in one thread.
    if candidates is None:
        sims = np.einsum("ij,j->i", vectors.matrix, query)
        rows_at = np.arange(len(sims))
    else:
        sims = np.einsum("ij,j->i", vectors.matrix[candidates], query)
        rows_at = candidates
    # A few spare rows: a window deleted since the snapshot is skipped, not a short list.
    k_fetch = min(len(sims), k + 8)
    top = np.argpartition(-sims, k_fetch - 1)[:k_fetch] if k_fetch < len(sims) else np.arange(len(sims))
    top = top[np.argsort(-sims[top], kind="stable")]
    sims, top = sims[top], rows_at[top]
    wanted = {int(vectors.ids[i]): float(sim) for i, sim in zip(top, sims, strict=True)}
    rows = conn.execute(f"{_SELECT} WHERE w.id IN ({','.join('?' * len(wanted))})", list(wanted)).fetchall()
    scored = sorted(((row, wanted[row["id"]]) for row in rows), key=lambda pair: -pair[1])[:k]
    return [hit_from_row(row, [Span(_clip(row["text"]))], score, "semantic") for row, score in scored]


def _clip(text: str) -> str:
    return text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"

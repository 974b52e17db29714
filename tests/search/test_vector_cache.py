"""The in-memory vector search at a size where the coarse (sign-bit) pass is used: it must find
what an exact scan finds, with filters, and follow writes."""

import numpy as np
import pytest

from earmark.models import Episode, ParsedFeed, Podcast
from earmark.search import SearchFilters
from earmark.search import semantic as S

DIM = 384


def _fill(library, rng, episodes=40, per_episode=500):
    """Clustered unit vectors around a shared direction, as sentence embeddings are."""
    podcast, _ = library.add_podcast("http://feeds.test/many")
    library.save_feed(podcast.id, ParsedFeed(Podcast("http://feeds.test/many", title="Many"), [
        Episode(guid=f"m{n}", title=f"Ep {n}") for n in range(episodes)]),
        url="http://feeds.test/many", etag=None, last_modified=None, content_hash=None)
    ids = [e.id for e in library.episodes(podcast.id)]
    common = rng.normal(size=DIM)
    topics = rng.normal(size=(64, DIM))
    vectors = []
    with library.transaction() as conn:
        for episode_id in ids:
            for k in range(per_episode):
                v = 3 * common + 2 * topics[rng.integers(64)] + rng.normal(size=DIM)
                v = (v / np.linalg.norm(v)).astype(np.float32)
                vectors.append(v)
                conn.execute("INSERT INTO search_windows (podcast_id, episode_id, start, end, text, model, embedding)"
                             " VALUES (?, ?, ?, ?, 'x', 'test', ?)", (podcast.id, episode_id, k * 30.0, k * 30.0 + 45, v.tobytes()))
    return podcast.id, ids, np.array(vectors)


def _exact(library, query, where="", params=()):
    rows = library.conn.execute(f"SELECT id, embedding FROM search_windows {where}", params).fetchall()
    sims = [(float(np.frombuffer(r[1], np.float32) @ query), r[0]) for r in rows]
    return [i for _, i in sorted(sims, reverse=True)]


def _ids(library, hits):
    return [library.conn.execute("SELECT id FROM search_windows WHERE episode_id = ? AND start = ?",
                                 (h.episode_id, h.start)).fetchone()[0] for h in hits]


def test_coarse_pass_finds_what_an_exact_scan_finds(library):
    rng = np.random.default_rng(3)
    vectors = _fill(library, rng)[2]
    assert len(vectors) > S.RERANK_MIN * 10  # the coarse pass is really used
    recall = []
    for n in range(20):
        query = vectors[rng.integers(len(vectors))] + rng.normal(scale=0.02, size=DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        hits = S.nearest_windows(library.conn, query, limit=20)
        exact = _exact(library, query)[:20]
        got = _ids(library, hits)
        assert got[0] == exact[0]
        recall.append(len(set(got) & set(exact)) / 20)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert np.mean(recall) >= 0.95


def test_filters_and_incremental_updates_at_size(library):
    rng = np.random.default_rng(5)
    _, ids, vectors = _fill(library, rng, episodes=30)
    cache = S.vector_cache(library.conn)
    query = vectors[7]
    assert S.nearest_windows(library.conn, query, limit=1)[0].episode_id == ids[0]
    loads = cache.loads
    # excluding a whole episode: exact answers from the rest
    only = S.nearest_windows(library.conn, query, SearchFilters(), limit=5, exclude=(ids[0], 0.0, 1e9))
    assert ids[0] not in {h.episode_id for h in only}
    assert _ids(library, only) == [i for i in _exact(library, query, "WHERE episode_id != ?", (ids[0],))[:5]]
    with library.transaction() as conn:
        conn.execute("DELETE FROM search_windows WHERE episode_id = ?", (ids[0],))
    assert ids[0] not in {h.episode_id for h in S.nearest_windows(library.conn, query, limit=20)}
    assert cache.loads == loads and cache.updates >= 1
    with pytest.raises(ValueError):
        S.nearest_windows(library.conn, np.zeros(3, np.float32), limit=5)  # wrong dimension is an error, not garbage

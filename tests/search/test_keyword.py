from datetime import UTC, datetime

import pytest

from earmark.search import SearchFilters, SearchQueryError, search_keyword
from earmark.search.keyword import fallback_query


def kw(library, q, **filters):
    return search_keyword(library.conn, q, SearchFilters(**filters))


def test_exact_phrase_hits_at_the_right_timestamp(library, corpus):
    hits = kw(library, '"vortex shedding"')
    assert len(hits) == 1
    hit = hits[0]
    assert (hit.kind, hit.episode_id, hit.podcast_id, hit.start) == ("segment", corpus["bridges"], corpus["bridges_pod"], 12.5)
    assert hit.podcast_title == "Structures Weekly" and hit.episode_title == "Why bridges sway"
    assert [s.text for s in hit.snippet if s.hit] == ["vortex shedding"]
    # words in another order are not the phrase
    assert kw(library, '"shedding vortex"') == []


def test_prefix_and_stemming(library, corpus):
    assert {h.start for h in kw(library, "vort*") if h.kind == "segment"} == {12.5}
    swaying = {h.start for h in kw(library, "swaying") if h.kind == "segment"}
    assert swaying == {12.5, 24.0}  # "sway" and "swaying" share the porter stem


def test_diacritics_fold_both_ways(library, corpus):
    assert 120.0 in {h.start for h in kw(library, "cafe")}
    assert 120.0 in {h.start for h in kw(library, "café")}


def test_titles_show_notes_and_chapters_are_indexed(library, corpus):
    kinds = {(h.kind, h.start) for h in kw(library, "cafe")}
    assert ("chapter", 120.0) in kinds
    assert [h.kind for h in kw(library, "Tacoma")] == ["notes"]
    assert {h.kind for h in kw(library, "kitchen")} >= {"podcast", "segment"}
    # a changed feed re-indexes through the triggers: the old title is gone, the new one found
    library.conn.execute("UPDATE episodes SET title = 'Oscillating spans' WHERE id = ?", (corpus["bridges"],))
    assert [h.kind for h in kw(library, "oscillating")] == ["title"]
    assert all(h.kind != "title" for h in kw(library, "bridges"))


def test_filters_by_podcast_and_date(library, corpus):
    assert {h.episode_id for h in kw(library, "welcome")} == {corpus["bridges"], corpus["bread"]}
    assert {h.episode_id for h in kw(library, "welcome", podcast_id=corpus["bread_pod"])} == {corpus["bread"]}
    since = datetime(2024, 5, 1, tzinfo=UTC)
    assert {h.episode_id for h in kw(library, "welcome", since=since)} == {corpus["bread"]}
    assert {h.episode_id for h in kw(library, "welcome", until=since)} == {corpus["bridges"]}


@pytest.mark.parametrize(
    "query", ['"vortex shedding', "AND OR", "vortex AND", "*", "-", ":", "text:", "kind:vortex", "NEAR(", "(((",
              "vortex)", "don't", "^", '"', "OR vortex", "vortex -shedding", "c++", "vortex NOT"],
)
def test_malformed_syntax_never_raises_anything_but_a_clear_message(library, corpus, query):
    try:
        hits = kw(library, query)
    except SearchQueryError as exc:
        assert "search" in str(exc)
    else:
        assert isinstance(hits, list)


def test_malformed_queries_still_find_their_words(library, corpus):
    assert {h.start for h in kw(library, '"vortex shedding')} == {12.5}  # unbalanced quote
    assert {h.start for h in kw(library, "vortex AND")} == {12.5}
    assert {h.start for h in kw(library, "vortex:")} == {12.5}  # a dangling column colon: searched as a word


def test_nothing_searchable_is_a_clear_message(library, corpus):
    for query in ("*", "   ", "-", ":"):
        with pytest.raises(SearchQueryError, match="type some words"):
            kw(library, query)
    assert fallback_query('a "b* c') == '"a" "b"* "c"'


def test_deleting_an_episode_or_podcast_removes_its_entries(library, corpus):
    assert kw(library, "sourdough")
    library.conn.execute("DELETE FROM episodes WHERE id = ?", (corpus["bread"],))
    assert kw(library, "sourdough") == []
    assert library.conn.execute("SELECT count(*) FROM search_windows WHERE episode_id = ?", (corpus["bread"],)).fetchone()[0] == 0
    library.remove_podcast(corpus["bridges_pod"])
    assert kw(library, "vortex") == [] and kw(library, "Tacoma") == [] and kw(library, "structures") == []
    assert library.conn.execute("SELECT count(*) FROM search_windows").fetchone()[0] == 0
    # the FTS index agrees with its content table (no orphaned postings)
    library.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")


def test_very_common_words_rank_a_bounded_newest_set(library, corpus, monkeypatch):
    monkeypatch.setattr("earmark.search.keyword.MAX_RANKED", 1)
    hits = kw(library, "the")
    newest = library.conn.execute("SELECT max(id) FROM search_docs WHERE text LIKE '%the %'").fetchone()[0]
    assert hits and all(h.start is None or h.episode_id == corpus["bread"] for h in hits)
    assert len(hits) == 1 and newest is not None


def test_a_very_common_word_ranks_only_the_newest_matches_in_one_pass(library, corpus, monkeypatch):
    from earmark.search.index import add_docs

    with library.transaction() as conn:
        add_docs(conn, "segment", corpus["bread_pod"], corpus["bread"], [(n, float(n), f"zebra number {n}") for n in range(10)])
        add_docs(conn, "segment", corpus["bridges_pod"], corpus["bridges"], [(n, float(n), f"zebra again {n}") for n in range(3)])
    assert len(search_keyword(library.conn, "zebra", limit=50)) == 13
    monkeypatch.setattr("earmark.search.keyword.MAX_RANKED", 4)
    hits = search_keyword(library.conn, "zebra", limit=50)
    assert sorted(h.start for h in hits if h.episode_id == corpus["bridges"]) == [0.0, 1.0, 2.0]
    assert [h.start for h in hits if h.episode_id == corpus["bread"]] == [9.0]  # newest of the older ones
    # a filter applies to those newest matches: nothing older sneaks in
    only_bread = search_keyword(library.conn, "zebra", SearchFilters(podcast_id=corpus["bread_pod"]), limit=50)
    assert [h.start for h in only_bread] == [9.0]

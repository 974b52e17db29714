"""Summaries and snips are searchable by keyword, kept current by triggers; "more like this moment"
over the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from earmark.cli import app as cli_app
from earmark.models import Episode, Snip, Summary
from earmark.search import search_keyword
from earmark.search.index import reindex_all
from earmark.store.snips import SnipStore
from earmark.store.understanding import UnderstandingStore
from earmark.web.app import create_app
from tests.search.conftest import _add

runner = CliRunner()


@pytest.fixture
def ids(library):
    """One podcast, one episode (no transcript: no embeddings, no model)."""
    pod, ep = _add(library, "http://feeds.test/plain", "Plain Talk", Episode(
        guid="p1", title="An episode", published=datetime(2024, 1, 1, tzinfo=UTC),
    ))
    return {"pod": pod, "ep": ep}


def _found(library, query):
    return [(h.kind, h.episode_id, h.start) for h in search_keyword(library.conn, query)]


def test_summary_paragraphs_and_takeaways_are_found_at_time_zero(library, ids):
    store = UnderstandingStore(library)
    store.save_summary(ids["ep"], Summary(["A talk about glaciers retreating."], ["Permafrost stores methane."]))
    assert _found(library, "methane") == [("summary", ids["ep"], 0.0)]
    assert _found(library, "glaciers") == [("summary", ids["ep"], 0.0)]
    # saving again replaces, never duplicates
    store.save_summary(ids["ep"], Summary(["Only tundra now."], ["Lichen grows slowly."]))
    assert _found(library, "methane") == [] and _found(library, "glaciers") == []
    assert _found(library, "lichen") == [("summary", ids["ep"], 0.0)]
    assert hit_snippet(library, "lichen") == "Lichen grows slowly."


def hit_snippet(library, query):
    (hit,) = search_keyword(library.conn, query)
    return hit.text


def test_snip_title_takeaways_and_note_are_found_at_the_snip_start(library, ids):
    store = SnipStore(library)
    snip = store.create(Snip(episode_id=ids["ep"], tapped_at=95.0, start=90.0, end=120.0, note="ask about zeppelins"))
    assert _found(library, "zeppelins") == [("snip", ids["ep"], 90.0)]
    store.set_card(snip.id, state="ready", title="Airship revival", takeaways=["Helium is scarce"])
    assert _found(library, "airship") == [("snip", ids["ep"], 90.0)]
    assert _found(library, "helium") == [("snip", ids["ep"], 90.0)]
    assert _found(library, "zeppelins") == [("snip", ids["ep"], 90.0)]


def test_an_edited_snip_note_is_found_by_its_new_words_only(library, ids):
    store = SnipStore(library)
    snip = store.create(Snip(episode_id=ids["ep"], tapped_at=10.0, start=8.0, end=30.0, note="original armadillo"))
    store.update(snip.id, note="replacement pangolin", start=12.0)
    assert _found(library, "armadillo") == []
    assert _found(library, "pangolin") == [("snip", ids["ep"], 12.0)]


def test_a_deleted_snip_disappears(library, ids):
    store = SnipStore(library)
    keep = store.create(Snip(episode_id=ids["ep"], tapped_at=1.0, start=0.0, end=20.0, note="keep the okapi"))
    gone = store.create(Snip(episode_id=ids["ep"], tapped_at=50.0, start=45.0, end=70.0, note="drop the okapi"))
    assert len(_found(library, "okapi")) == 2
    store.delete(gone.id)
    assert _found(library, "okapi") == [("snip", ids["ep"], keep.start)]
    library.conn.execute("DELETE FROM episodes WHERE id = ?", (ids["ep"],))
    assert _found(library, "okapi") == []


def test_reindex_rebuilds_summaries_and_snips(library, ids):
    UnderstandingStore(library).save_summary(ids["ep"], Summary(["Narwhal tusks."], []))
    SnipStore(library).create(Snip(episode_id=ids["ep"], tapped_at=5.0, start=4.0, end=9.0, note="walrus"))
    library.conn.execute("DELETE FROM search_docs")
    assert _found(library, "narwhal") == [] and _found(library, "walrus") == []
    reindex_all(library, None)
    assert _found(library, "narwhal") == [("summary", ids["ep"], 0.0)]
    assert _found(library, "walrus") == [("snip", ids["ep"], 4.0)]


def test_api_finds_snips_and_summaries(settings, library, ids):
    SnipStore(library).create(Snip(episode_id=ids["ep"], tapped_at=5.0, start=4.0, end=9.0, note="quokka"))
    with TestClient(create_app(settings, require_token=False), base_url="http://127.0.0.1") as client:
        (result,) = client.get("/api/v1/search", params={"q": "quokka", "mode": "keyword"}).json()["results"]
    assert (result["kind"], result["episode_id"], result["start"]) == ("snip", ids["ep"], 4.0)


def test_similar_bad_input_unknown_episode_and_no_index(settings, library, ids):
    with TestClient(create_app(settings, require_token=False), base_url="http://127.0.0.1") as client:
        for params in ({}, {"episode_id": "abc"}, {"episode_id": 0}, {"episode_id": ids["ep"], "t": -1},
                       {"episode_id": ids["ep"], "t": "nan"}, {"episode_id": ids["ep"], "limit": 0},
                       {"episode_id": ids["ep"], "t": "soon"}):
            response = client.get("/api/v1/search/similar", params=params)
            assert response.status_code == 422, (params, response.text)
        response = client.get("/api/v1/search/similar", params={"episode_id": 99999, "t": 0})
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        response = client.get("/api/v1/search/similar", params={"episode_id": ids["ep"], "t": 3})
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_indexed"
        assert "reindex" in response.json()["error"]["message"]


def test_cli_like_bad_input_and_no_index(settings, library, ids):
    for value in ("abc", "3@", "3@x", "@5", "3@1:2:3:4", "0@5", "3@-1"):
        result = runner.invoke(cli_app, ["search", "--like", value])
        assert result.exit_code == 2, (value, result.output)
    result = runner.invoke(cli_app, ["search", "--like", "99999@5"])
    assert result.exit_code == 1 and "no episode" in result.output
    result = runner.invoke(cli_app, ["search", "--like", f"{ids['ep']}@1:05"])
    assert result.exit_code == 1 and "no semantic index" in result.output


@pytest.mark.real_model
def test_similar_api_and_cli_find_windows_elsewhere(settings, corpus):
    with TestClient(create_app(settings, require_token=False), base_url="http://127.0.0.1") as client:
        response = client.get("/api/v1/search/similar", params={"episode_id": corpus["bread"], "t": 305, "limit": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"] and all(
        not (r["episode_id"] == corpus["bread"] and r["start"] == 300.0) for r in body["results"]
    )
    assert all(r["found_by"] == ["semantic"] for r in body["results"])
    result = runner.invoke(cli_app, ["search", "--like", f"{corpus['bridges']}@2:05", "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert '"episode_id"' in result.stdout

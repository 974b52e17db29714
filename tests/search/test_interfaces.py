"""The CLI command and the JSON API over the indexed test library."""

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from earmark.cli import app as cli_app
from earmark.web.app import create_app

runner = CliRunner()


@pytest.fixture
def client(settings, corpus):
    with TestClient(create_app(settings, require_token=False), base_url="http://127.0.0.1") as client:
        yield client


def test_api_keyword_search_returns_structured_highlights(client, corpus):
    response = client.get("/api/v1/search", params={"q": '"vortex shedding"', "mode": "keyword"})
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert (result["episode_id"], result["podcast_id"], result["start"]) == (corpus["bridges"], corpus["bridges_pod"], 12.5)
    assert {"text": "vortex shedding", "hit": True} in result["snippet"]
    assert "vortex shedding" in "".join(s["text"] for s in result["snippet"])


def test_api_filters(client, corpus):
    params = {"q": "welcome", "mode": "keyword"}
    both = {r["episode_id"] for r in client.get("/api/v1/search", params=params).json()["results"]}
    assert both == {corpus["bridges"], corpus["bread"]}
    one = client.get("/api/v1/search", params={**params, "podcast": corpus["bread_pod"]}).json()["results"]
    assert {r["episode_id"] for r in one} == {corpus["bread"]}
    late = client.get("/api/v1/search", params={**params, "since": "2024-05-01"}).json()["results"]
    assert {r["episode_id"] for r in late} == {corpus["bread"]}
    early = client.get("/api/v1/search", params={**params, "until": "2024-05-01"}).json()["results"]
    assert {r["episode_id"] for r in early} == {corpus["bridges"]}


@pytest.mark.parametrize("q", ['"vortex', "AND OR", "*", "-", ":", "NEAR(", "<script>alert(1)</script>"])
@pytest.mark.parametrize("mode", ["keyword", "combined"])
def test_api_bad_queries_are_200_or_422_never_500(client, corpus, q, mode):
    response = client.get("/api/v1/search", params={"q": q, "mode": mode})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["code"] == "bad_query"


def test_api_bad_parameters_are_422(client, corpus):
    for params in ({"q": "x", "mode": "fuzzy"}, {"q": "x", "podcast": "abc"}, {"q": "x", "since": "yesterday"},
                   {"q": "x", "limit": 0}, {}):
        assert client.get("/api/v1/search", params=params).status_code == 422, params
    assert client.get("/api/v1/search", params={"q": "*", "mode": "keyword"}).json()["error"]["message"].startswith("nothing to search")


@pytest.mark.real_model
def test_api_semantic(client, corpus):
    results = client.get("/api/v1/search", params={"q": "Wie backt man Brot zu Hause?", "mode": "semantic"}).json()["results"]
    assert (results[0]["episode_id"], results[0]["start"]) == (corpus["bread"], 300.0)


def test_cli_table_and_json(settings, corpus):
    result = runner.invoke(cli_app, ["search", "vortex", "--mode", "keyword"])
    assert result.exit_code == 0, result.output
    assert "0:12" in result.output and "Why bridges sway" in result.output and "Structures Weekly" in result.output
    result = runner.invoke(cli_app, ["search", "welcome", "--mode", "keyword", "--json", "--podcast", str(corpus["bread_pod"])])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert {h["episode_id"] for h in hits} == {corpus["bread"]}
    assert hits[0]["snippet"][0].keys() == {"text", "hit"}


def test_cli_bad_input_is_a_message_not_a_traceback(settings, corpus):
    result = runner.invoke(cli_app, ["search", "*", "--mode", "keyword"])
    assert result.exit_code == 1 and "type some words" in result.output
    assert runner.invoke(cli_app, ["search", "x", "--mode", "fuzzy"]).exit_code == 2
    result = runner.invoke(cli_app, ["search", '"vortex', "--mode", "keyword"])
    assert result.exit_code == 0 and "0:12" in result.output


def test_cli_reindex_rebuilds_keyword_entries(settings, corpus, library):
    library.conn.execute("DELETE FROM search_docs")
    assert runner.invoke(cli_app, ["search", "vortex", "--mode", "keyword"]).output.strip() == "No results."
    result = runner.invoke(cli_app, ["search", "--reindex", "--keyword-only"])
    assert result.exit_code == 0, result.output
    assert "0:12" in runner.invoke(cli_app, ["search", "vortex", "--mode", "keyword"]).output
    assert "Tacoma" in runner.invoke(cli_app, ["search", "Tacoma", "--mode", "keyword"]).output

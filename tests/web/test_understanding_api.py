"""Summary, chapters, highlights (per episode and across the library) and ask-the-episode through
the API, with rows written by UnderstandingStore and the deterministic fake LLM."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from earmark.errors import LLMError
from earmark.models import ChapterMark, Chapter, EpisodeChapters, Highlight, Segment, Summary, Transcript
from earmark.store.transcripts import TranscriptStore
from earmark.store.understanding import UnderstandingStore
from tests.ai.fakes import numbered_lines

SEGMENTS = [
    Segment(0.0, 10.0, "Welcome to the show about bridges.", "Ann"),
    Segment(10.0, 20.0, "Bridges sway because of vortex shedding in the wind.", "Ben"),
    Segment(20.0, 30.0, "The Tacoma Narrows bridge fell in 1940.", "Ann"),
    Segment(60.0, 70.0, "Now let us talk about cooking pasta.", "Ben"),
    Segment(70.0, 80.0, "Salt the water well before the pasta goes in.", "Ann"),
]


@pytest.fixture
def transcript(lib, show):
    TranscriptStore(lib).save(show["g1"], Transcript(SEGMENTS, source="publisher", format="json"))
    return show["g1"]


# -- summary ---------------------------------------------------------------------------------------


def test_summary_not_processed_is_a_404(client, show):
    response = client.get(f"/api/v1/episodes/{show['g1']}/summary")
    assert response.status_code == 404
    assert "not processed yet" in response.json()["error"]["message"]
    assert client.get("/api/v1/episodes/999/summary").json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/episodes/0/summary").status_code == 422
    assert client.get("/api/v1/episodes/abc/summary").status_code == 422


def test_summary_stored(client, lib, show):
    UnderstandingStore(lib).save_summary(
        show["g2"], Summary(["First <b>para</b>.", "Second."], ["One", "Two", "Three"], "fake", "fake-llm-1", "summary@3")
    )
    data = client.get(f"/api/v1/episodes/{show['g2']}/summary").json()
    assert data["paragraphs"] == ["First <b>para</b>.", "Second."]
    assert data["takeaways"] == ["One", "Two", "Three"]
    assert (data["engine"], data["model"], data["prompt_version"]) == ("fake", "fake-llm-1", "summary@3")
    assert data["episode_id"] == show["g2"] and data["created_at"]
    assert client.get(f"/api/v1/episodes/{show['g1']}/summary").status_code == 404  # only that episode's


# -- chapters --------------------------------------------------------------------------------------


def test_chapters_fall_back_to_the_feed_then_stored_win(client, lib, show):
    assert client.get(f"/api/v1/episodes/{show['g1']}/chapters").status_code == 404  # no feed chapters, none stored

    podcast = lib.podcast(show["podcast"])
    episode = lib.episode(show["g1"])
    episode.chapters = [Chapter(30.0, "Later"), Chapter(0.0, "Intro")]
    from earmark.models import ParsedFeed, Podcast

    feed = ParsedFeed(Podcast(url=podcast.url, title="The Show"), [episode])
    lib.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    data = client.get(f"/api/v1/episodes/{show['g1']}/chapters").json()
    assert data["source"] == "publisher" and data["stored"] is False
    assert [(c["start"], c["title"], c["end"]) for c in data["chapters"]] == [(0.0, "Intro", 30.0), (30.0, "Later", None)]

    UnderstandingStore(lib).save_chapters(show["g1"], EpisodeChapters(
        [ChapterMark(0.0, "Bridges", 60.0, generated=True, origin="llm"), ChapterMark(60.0, "Pasta", 80.0, generated=True, origin="llm")],
        "generated", "llm", "fake", "fake-llm-1", "chapters@2",
    ))
    data = client.get(f"/api/v1/episodes/{show['g1']}/chapters").json()
    assert data["source"] == "generated" and data["stored"] is True and data["prompt_version"] == "chapters@2"
    assert [c["title"] for c in data["chapters"]] == ["Bridges", "Pasta"]
    assert all(c["generated"] for c in data["chapters"])
    assert client.get("/api/v1/episodes/999/chapters").status_code == 404


# -- highlights ------------------------------------------------------------------------------------


def _highlight(start: float, title: str) -> Highlight:
    return Highlight(start, start + 40, title, f"why {title}", "a quote", "fake", "fake-llm-1", "highlights@1")


def test_episode_highlights(client, lib, show):
    assert client.get(f"/api/v1/episodes/{show['g1']}/highlights").status_code == 404
    UnderstandingStore(lib).save_highlights(show["g1"], [_highlight(90, "B"), _highlight(10, "A")])
    data = client.get(f"/api/v1/episodes/{show['g1']}/highlights").json()
    assert [(h["start"], h["title"], h["why"]) for h in data["highlights"]] == [(10, "A", "why A"), (90, "B", "why B")]
    assert data["highlights"][0]["end"] == 50 and data["highlights"][0]["prompt_version"] == "highlights@1"


def test_library_highlights_newest_first_and_paginated(client, lib, show):
    store = UnderstandingStore(lib)
    store.save_highlights(show["g1"], [_highlight(10, "old one")])
    time.sleep(0.01)
    store.save_highlights(show["g2"], [_highlight(5, "new one"), _highlight(100, "new two")])
    data = client.get("/api/v1/highlights").json()
    assert [h["title"] for h in data["items"]] == ["new one", "new two", "old one"]
    assert data["items"][0]["episode_title"] == "Episode 2" and data["items"][0]["podcast_title"] == "The Show"
    assert data["has_more"] is False
    page = client.get("/api/v1/highlights?limit=2").json()
    assert [h["title"] for h in page["items"]] == ["new one", "new two"] and page["has_more"] is True
    page = client.get("/api/v1/highlights?limit=2&offset=2").json()
    assert [h["title"] for h in page["items"]] == ["old one"] and page["has_more"] is False
    assert client.get("/api/v1/highlights?limit=0").status_code == 422
    assert client.get("/api/v1/highlights?offset=-1").status_code == 422


# -- ask -------------------------------------------------------------------------------------------


def test_ask_answers_with_citations(client, transcript, fake_llm):
    def answer(messages, schema):
        shown = numbered_lines(messages)
        line = next(n for n, text in shown.items() if "vortex shedding" in text)
        return json.dumps({"answerable": True, "evidence": [line], "answer": "Because of vortex shedding."})

    fake_llm.reset(answers=[answer, '{"answers": true}'])  # the answer, then its check
    response = client.post(f"/api/v1/episodes/{transcript}/ask", json={"question": "Why do bridges sway?"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["answerable"] is True and data["answer"] == "Because of vortex shedding."
    [citation] = data["citations"]
    assert citation["start"] == 10.0 and "vortex shedding" in citation["text"]  # the sentence that holds it
    assert data["engine"] == "fake"
    assert "Why do bridges sway?" in fake_llm.history[0].prompt  # the model really was asked


def test_ask_declined(client, transcript):
    response = client.post(f"/api/v1/episodes/{transcript}/ask", json={"question": "Who won the election?"})
    data = response.json()
    assert response.status_code == 200
    assert data["answerable"] is False and data["citations"] == []


def test_ask_bad_input(client, show, transcript, fake_llm):
    url = f"/api/v1/episodes/{transcript}/ask"
    assert client.post(url, json={}).status_code == 422
    assert client.post(url, json={"question": ""}).status_code == 422
    assert client.post(url, json={"question": 42}).status_code == 422
    assert client.post(url, json={"question": "x" * 501}).status_code == 422
    assert client.post(url, json={"question": "   "}).status_code == 422
    assert client.post(url, json={"question": "why", "extra": 1}).status_code == 422
    assert client.post(url, content=b"not json", headers={"content-type": "application/json"}).status_code == 422
    assert client.post("/api/v1/episodes/999/ask", json={"question": "why"}).status_code == 404
    no_transcript = client.post(f"/api/v1/episodes/{show['g2']}/ask", json={"question": "why"})
    assert no_transcript.status_code == 404 and "not processed" in no_transcript.json()["error"]["message"]
    assert fake_llm.history == []


def test_ask_llm_failure_is_a_json_503(client, transcript, fake_llm):
    fake_llm.reset(answers=[LLMError("endpoint refused: connection reset")])
    response = client.post(f"/api/v1/episodes/{transcript}/ask", json={"question": "Why do bridges sway?"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "llm_unavailable" and "connection reset" in error["message"]


def test_ask_unusable_output_is_a_502(client, transcript, fake_llm):
    fake_llm.reset(default="this is not json")
    response = client.post(f"/api/v1/episodes/{transcript}/ask", json={"question": "Why do bridges sway?"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "llm_bad_output"


def test_ask_runs_off_the_event_loop(tmp_path, monkeypatch, fake_llm):
    """While the model thinks (a slow fake), the server answers other requests."""
    from earmark.config import Settings
    from tests.web.conftest import serving
    from earmark.web.app import create_app

    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    app = create_app(Settings.load(llm_engine="fake", semantic_index=False))
    lib = app.state.library
    podcast, _ = lib.add_podcast("http://127.0.0.1:1/x.rss")
    from earmark.models import Episode, ParsedFeed, Podcast

    lib.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title="S"), [Episode(guid="a", title="A")]),
                  url=podcast.url, etag=None, last_modified=None, content_hash=None)
    [episode] = lib.episodes(podcast.id)
    TranscriptStore(lib).save(episode.id, Transcript(SEGMENTS, source="publisher", format="json"))
    fake_llm.reset(delay=1.5)
    with serving(app) as base:
        result = {}
        asker = threading.Thread(target=lambda: result.update(r=httpx.post(
            f"{base}/api/v1/episodes/{episode.id}/ask", json={"question": "Why do bridges sway?"}, timeout=20)))
        asker.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert httpx.get(f"{base}/api/v1/episodes/{episode.id}", timeout=5).status_code == 200
        assert time.monotonic() - started < 0.8  # not stuck behind the 1.5 s answer
        asker.join(20)
        assert result["r"].status_code == 200


def test_snips_carry_share_links_and_titles(client, show, transcript):
    created = client.post(f"/api/v1/episodes/{transcript}/snips", json={"position": 15})
    assert created.status_code == 201, created.text
    snip = created.json()
    assert snip["episode_title"] == "Episode 1" and snip["podcast_title"] == "The Show"
    share = snip["share"]
    assert share["twitter"].startswith("https://twitter.com/intent/tweet?text=")
    assert share["whatsapp"].startswith("https://wa.me/?text=")
    assert f"/episodes/{transcript}?t={int(snip['start'])}" in share["link"] and share["link"] in share["text"]
    listed = client.get("/api/v1/snips").json()["items"]
    assert [s["share"]["link"] for s in listed] == [share["link"]]
    assert client.get(f"/api/v1/snips/{snip['id']}").json()["share"] == share

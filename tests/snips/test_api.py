import pytest
from fastapi.testclient import TestClient

from earmark.snips.enrich import run_once
from earmark.web.app import create_app
from tests.snips.conftest import add_episode, save_transcript
from tests.snips.helpers import transcript


@pytest.fixture
def client(snip_settings):
    app = create_app(snip_settings)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        c.library = app.state.library
        yield c


@pytest.fixture
def ep(client):
    episode_id = add_episode(client.library, 0, duration=900)
    segments, truth = transcript(150, speakers={0: "Ana"})
    save_transcript(client.library, episode_id, segments)
    return episode_id, truth


def test_create_get_list_edit_delete(client, snip_settings, ep, fake_llm, fake_asr):
    episode_id, truth = ep
    response = client.post(f"/api/v1/episodes/{episode_id}/snips", json={"position": truth[40][0] + 1})
    assert response.status_code == 201, response.text
    snip = response.json()
    assert snip["state"] == "pending" and snip["end"] == truth[40][1] and truth[40][2] in snip["excerpt"]
    assert fake_asr.history == [] and fake_llm.history == []
    fixed = client.post(f"/api/v1/episodes/{episode_id}/snips", json={"position": 300.0, "boundary": "fixed:60"}).json()
    assert fixed["boundary"] == "fixed:60"

    assert client.get(f"/api/v1/snips/{snip['id']}").json()["id"] == snip["id"]
    page = client.get("/api/v1/snips").json()
    assert [s["id"] for s in page["items"]] == [fixed["id"], snip["id"]] and page["has_more"] is False
    page = client.get("/api/v1/snips", params={"limit": 1}).json()
    assert [s["id"] for s in page["items"]] == [fixed["id"]] and page["has_more"] is True
    assert [s["id"] for s in client.get("/api/v1/snips", params={"limit": 1, "offset": 1}).json()["items"]] == [snip["id"]]
    assert len(client.get(f"/api/v1/episodes/{episode_id}/snips").json()["items"]) == 2

    edited = client.patch(f"/api/v1/snips/{snip['id']}", json={
        "title": "Mine", "tags": ["idea"], "favorite": True, "note": "remember", "start": truth[30][0], "end": truth[40][1],
    })
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["title"] == "Mine" and body["start"] == truth[30][0] and body["excerpt"].startswith(truth[30][2])
    assert set(body["edited"]) == {"title", "tags", "favorite", "note", "start", "end"}
    assert [s["id"] for s in client.get("/api/v1/snips", params={"tag": "idea"}).json()["items"]] == [snip["id"]]
    assert [s["id"] for s in client.get("/api/v1/snips", params={"favorite": "true"}).json()["items"]] == [snip["id"]]
    other = add_episode(client.library, 1)
    assert client.get("/api/v1/snips", params={"podcast": client.library.episode(other).podcast_id}).json()["items"] == []

    fake_llm.reset(default='{"title": "AI", "takeaways": ["Sentence40 says it."], "quote": "Sentence40", "speaker": null}')
    run_once(client.library, snip_settings)
    after = client.get(f"/api/v1/snips/{snip['id']}").json()
    assert after["state"] == "ready" and after["title"] == "Mine" and after["takeaways"] == ["Sentence40 says it."]

    assert client.delete(f"/api/v1/snips/{snip['id']}").status_code == 204
    assert client.get(f"/api/v1/snips/{snip['id']}").status_code == 404


def test_bad_input(client, ep):
    episode_id, _ = ep
    url = f"/api/v1/episodes/{episode_id}/snips"
    assert client.post("/api/v1/episodes/999/snips", json={"position": 1}).status_code == 404
    for bad in ({"position": "12"}, {"position": -1}, {}, {"position": 1, "extra": 1},
                {"position": 1, "boundary": "fixed:abc"}, {"position": 1, "boundary": 5}):
        response = client.post(url, json=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"
    for path in ("/api/v1/snips/999", "/api/v1/snips/0"):
        assert client.get(path).status_code in (404, 422)
    assert client.get("/api/v1/snips/999").status_code == 404
    assert client.patch("/api/v1/snips/999", json={"title": "x"}).status_code == 404
    assert client.delete("/api/v1/snips/999").status_code == 404
    assert client.get("/api/v1/snips/abc").status_code == 404  # not a snip id: no such resource
    assert client.patch("/api/v1/snips/export", json={}).status_code == 405  # not a snip: only GET there
    snip = client.post(url, json={"position": 100}).json()
    for bad in ({"start": 50, "end": 50}, {"start": 60, "end": 50}, {"title": 5}, {"favorite": "yes"},
                {"end": 901}, {"start": 0, "end": 601}, {"title": None}, {"state": "ready"}):
        response = client.patch(f"/api/v1/snips/{snip['id']}", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    response = client.patch(f"/api/v1/snips/{snip['id']}", json={"start": snip["end"] + 1})  # start ≥ the stored end
    assert response.status_code == 422
    assert client.get(f"/api/v1/snips/{snip['id']}").json()["edited"] == []
    assert client.get("/api/v1/snips/export", params={"format": "pdf"}).status_code == 422
    for bad in ({"note": "before\x00after"}, {"title": "bell\x07"}, {"tags": ["ok", "t\x1bx"]}, {"takeaways": ["\x00"]}):
        response = client.patch(f"/api/v1/snips/{snip['id']}", json=bad)
        assert response.status_code == 422 and "control characters" in response.json()["error"]["message"], bad
    assert client.patch(f"/api/v1/snips/{snip['id']}", json={"note": "two\nlines\tand a tab"}).status_code == 200
    assert client.get(f"/api/v1/snips/{snip['id']}").json()["note"] == "two\nlines\tand a tab"


def test_a_tap_far_past_the_end_is_refused(client, ep):
    """The episode lasts 900 s (feeds are approximate: a tap a little past the end is the end)."""
    episode_id, _ = ep
    url = f"/api/v1/episodes/{episode_id}/snips"
    response = client.post(url, json={"position": 10_000_000})
    assert response.status_code == 422 and "past the end of the episode (900 s)" in response.json()["error"]["message"]
    assert client.post(url, json={"position": 1000}).status_code == 422
    near_end = client.post(url, json={"position": 930})
    assert near_end.status_code == 201 and near_end.json()["tapped_at"] == 900
    assert client.post(url, json={"position": 1, "boundary": "fixed:31"}).status_code == 422


def test_export(client, snip_settings, ep):
    episode_id, truth = ep
    snip = client.post(f"/api/v1/episodes/{episode_id}/snips", json={"position": truth[40][0]}).json()
    client.patch(f"/api/v1/snips/{snip['id']}", json={"title": "A title", "note": "my note"})
    md = client.get("/api/v1/snips/export")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "A title" in md.text and "my note" in md.text and truth[40][2] in md.text
    data = client.get("/api/v1/snips/export", params={"format": "json"}).json()
    assert [s["id"] for s in data["snips"]] == [snip["id"]] and data["snips"][0]["episode_title"] == "Episode 0"

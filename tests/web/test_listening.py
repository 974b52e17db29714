"""Per-podcast playback settings, listening reports, statistics and history (real SQLite, the app
under TestClient), each user's own; and the auto-delete of a finished download."""

from __future__ import annotations

import pytest

from earmark.accounts import hash_password
from earmark.store.accounts import AccountStore


@pytest.fixture
def bob(client):
    """A second user, asking with an API token (the owner asks without one on 127.0.0.1)."""
    accounts = AccountStore(client.app.state.library)
    accounts.add("alice", hash_password("alice's password"))  # the owner, user 1
    user = accounts.add("bob", hash_password("bob's password"))
    return {"Authorization": "Bearer " + accounts.new_token(user.id)}


DEFAULTS = {"speed": None, "skip_silence": False, "volume_boost": 1.0, "skip_intro": 0, "skip_outro": 0, "auto_delete": False}


def test_settings_roundtrip_and_isolation(client, show, bob):
    url = f"/api/v1/podcasts/{show['podcast']}/settings"
    assert client.get(url).json() == {"podcast_id": show["podcast"], **DEFAULTS}
    mine = {"speed": 1.5, "skip_silence": True, "volume_boost": 2.0, "skip_intro": 30, "skip_outro": 15, "auto_delete": True}
    response = client.put(url, json=mine)
    assert response.status_code == 200 and response.json() == {"podcast_id": show["podcast"], **mine}
    assert client.get(url).json() == {"podcast_id": show["podcast"], **mine}
    # Bob's are his own: still the defaults, and his change leaves mine alone.
    assert client.get(url, headers=bob).json() == {"podcast_id": show["podcast"], **DEFAULTS}
    assert client.put(url, json={"speed": 0.75}, headers=bob).json()["speed"] == 0.75
    assert client.get(url).json()["speed"] == 1.5
    # PUT replaces: a missing field is its default.
    assert client.put(url, json={"skip_intro": 5}).json() == {"podcast_id": show["podcast"], **DEFAULTS, "skip_intro": 5}
    assert client.put(url, json={"skip_outro": 180.0}).json()["skip_outro"] == 180  # JSON's integer 180


@pytest.mark.parametrize(
    "body",
    [{"speed": 0.1}, {"speed": 4}, {"speed": "1.5"}, {"skip_silence": "yes"}, {"skip_silence": 1}, {"volume_boost": 0.5},
     {"volume_boost": 10}, {"skip_intro": -1}, {"skip_intro": 601}, {"skip_intro": 2.5}, {"colour": "red"}, [], "x"],
)
def test_bad_settings(client, show, body):
    url = f"/api/v1/podcasts/{show['podcast']}/settings"
    client.put(url, json={"skip_intro": 7})
    response = client.put(url, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert client.get(url).json()["skip_intro"] == 7


def test_settings_of_an_unknown_podcast(client, show):
    assert client.get("/api/v1/podcasts/999/settings").status_code == 404
    response = client.put("/api/v1/podcasts/999/settings", json={})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/podcasts/0/settings").status_code == 422


def _report(session, episode, listened, media, silence=0.0):
    return {"session": session, "episode_id": episode, "listened_seconds": listened, "media_seconds": media,
            "silence_saved_seconds": silence}


def test_reports_are_cumulative_and_counted_once(client, show, bob):
    e1, e2 = show["g1"], show["g2"]
    batch = [_report("session-aaaa", e1, 10, 15, 2), _report("session-bbbb", e2, 20, 20)]
    assert client.post("/api/v1/listening", json={"reports": batch}).json() == {"recorded": 2, "unknown_episode_ids": []}
    # A retry of the same batch, then a later report of the first session: nothing counts twice.
    client.post("/api/v1/listening", json={"reports": batch})
    client.post("/api/v1/listening", json={"reports": [_report("session-aaaa", e1, 30, 45, 5)]})
    # A late, older report of that session takes nothing back.
    client.post("/api/v1/listening", json={"reports": [_report("session-aaaa", e1, 12, 18, 2)]})
    stats = client.get("/api/v1/stats").json()
    assert stats["listened_seconds"] == 50 and stats["media_seconds"] == 65
    assert stats["saved_seconds"] == 15 and stats["silence_saved_seconds"] == 5
    [podcast] = stats["podcasts"]
    assert podcast == {"podcast_id": show["podcast"], "title": "The Show", "listened_seconds": 50, "saved_seconds": 15,
                       "silence_saved_seconds": 5, "episodes": 2}
    assert client.get("/api/v1/stats", params={"days": 7}).json()["listened_seconds"] == 50
    history = client.get("/api/v1/history").json()
    assert history["total"] == 2 and [i["episode_id"] for i in history["items"]] == [e1, e2]  # the latest first
    assert history["items"][0]["listened_seconds"] == 30 and history["items"][0]["saved_seconds"] == 15
    # Bob sees none of it; the same session key of his is his own.
    assert client.get("/api/v1/stats", headers=bob).json()["listened_seconds"] == 0
    assert client.get("/api/v1/history", headers=bob).json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    client.post("/api/v1/listening", json={"reports": [_report("session-aaaa", e1, 100, 100)]}, headers=bob)
    assert client.get("/api/v1/stats", headers=bob).json()["listened_seconds"] == 100
    assert client.get("/api/v1/stats").json()["listened_seconds"] == 50


def test_unknown_episodes_are_dropped_not_fatal(client, show):
    response = client.post("/api/v1/listening", json={"reports": [_report("session-aaaa", show["g1"], 5, 5),
                                                                  _report("session-cccc", 999, 5, 5)]})
    assert response.status_code == 200 and response.json() == {"recorded": 1, "unknown_episode_ids": [999]}


@pytest.mark.parametrize(
    "body",
    [{"reports": []}, {}, {"reports": [_report("short", 1, 1, 1)]}, {"reports": [_report("bad key!", 1, 1, 1)]},
     {"reports": [_report("session-aaaa", 1, -1, 1)]}, {"reports": [_report("session-aaaa", 1, "1", 1)]},
     {"reports": [_report("session-aaaa", 0, 1, 1)]}, {"reports": [{**_report("session-aaaa", 1, 1, 1), "x": 1}]},
     {"reports": [_report(f"session-{n:04d}", 1, 1, 1) for n in range(101)]}],
)
def test_bad_reports(client, show, body):
    response = client.post("/api/v1/listening", json=body)
    assert response.status_code == 422, response.text
    assert client.get("/api/v1/stats").json()["listened_seconds"] == 0


def test_bad_stats_and_history_queries(client, show):
    assert client.get("/api/v1/stats", params={"days": 0}).status_code == 422
    assert client.get("/api/v1/stats", params={"days": "x"}).status_code == 422
    assert client.get("/api/v1/history", params={"limit": 0}).status_code == 422


def test_history_survives_a_removed_podcast(client, show):
    client.post("/api/v1/listening", json={"reports": [_report("session-aaaa", show["g1"], 10, 20)]})
    client.delete(f"/api/v1/podcasts/{show['podcast']}")
    stats = client.get("/api/v1/stats").json()
    assert stats["listened_seconds"] == 10 and stats["podcasts"][0]["podcast_id"] is None
    assert client.get("/api/v1/history").json()["total"] == 0  # its episodes are gone


def _downloaded(client, settings, episode_id):
    library = client.app.state.library
    path = settings.downloads_dir / "1" / f"{episode_id}.mp3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"ID3 audio")
    library.record_download(episode_id, str(path), path.stat().st_size)
    return path


def test_auto_delete_when_finished(client, show, settings, bob):
    url = f"/api/v1/podcasts/{show['podcast']}/settings"
    kept = _downloaded(client, settings, show["g1"])
    client.post(f"/api/v1/episodes/{show['g1']}/played")
    assert kept.exists()  # the setting is off
    client.put(url, json={"auto_delete": True})
    gone = _downloaded(client, settings, show["g2"])
    assert client.post(f"/api/v1/episodes/{show['g2']}/played").json()["played"] is True
    assert not gone.exists() and client.app.state.library.download(show["g2"]) is None
    assert client.get(f"/api/v1/episodes/{show['g2']}").json()["downloaded"] is False
    # Marking unplayed never deletes; another follower who has not finished it keeps the file.
    client.app.state.library.add_podcast("http://127.0.0.1:1/show.rss", user_id=2)
    shared = _downloaded(client, settings, show["g3"])
    client.post(f"/api/v1/episodes/{show['g3']}/played")
    assert shared.exists()
    client.post(f"/api/v1/episodes/{show['g3']}/played", headers=bob)
    client.post(f"/api/v1/episodes/{show['g3']}/played")
    assert not shared.exists()


def test_auto_delete_never_removes_an_upload(client, settings, tmp_path):
    from earmark.uploads import import_file
    from tests.web.media import tone_wav

    source = tmp_path / "memo.wav"
    source.write_bytes(tone_wav(2.0))
    result = import_file(client.app.state.library, settings, source)
    episode = result.episode.id
    podcast = client.get(f"/api/v1/episodes/{episode}").json()["podcast_id"]
    client.put(f"/api/v1/podcasts/{podcast}/settings", json={"auto_delete": True})
    assert client.post(f"/api/v1/episodes/{episode}/played").json()["played"] is True
    assert client.app.state.library.download(episode) is not None  # the only copy stays

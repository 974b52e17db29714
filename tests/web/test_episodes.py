import re

import pytest

from tests.feedmaker import rss


def test_episode_detail(client, show):
    response = client.get(f"/api/v1/episodes/{show['g1']}")
    assert response.status_code == 200
    episode = response.json()
    assert episode["title"] == "Episode 1" and episode["podcast_id"] == show["podcast"]
    assert episode["duration"] == 601 and episode["published"].startswith("2024-01-01")
    assert episode["show_notes_html"] == "<p>Notes 1</p>"  # plain text, escaped into a paragraph
    assert episode["playback"] == {"position": 0.0, "played": False, "updated_at": None}
    assert episode["download"] == {"downloaded": False, "size": None, "finished_at": None}
    assert episode["stages"] == []
    assert episode["audio_url"] == f"/api/v1/episodes/{show['g1']}/audio"


def test_show_notes_sanitized(client, show):
    notes = client.get(f"/api/v1/episodes/{show['g3']}").json()["show_notes_html"]
    lowered = notes.lower()
    for bad in ("<script", "alert(", "onerror", "onclick", "javascript:", "data:", "<iframe", "<style", "display:none"):
        assert bad not in lowered, (bad, notes)
    assert "<b>listeners</b>" in notes
    assert '<img src="https://example.org/a.png">' in notes
    links = re.findall(r"<a [^>]*>", notes)
    assert len(links) == 4
    for link in links:
        assert 'rel="noopener noreferrer nofollow"' in link
        href = re.search(r'href="([^"]*)"', link)
        assert href is None or href.group(1).startswith(("https://", "mailto:"))
    assert 'href="https://example.org/ok"' in notes and 'href="mailto:host@example.org"' in notes


def test_show_notes_from_a_feed_on_loopback(client, server):
    body = rss("Evil", items=[("e1", "Evil")]).replace(
        b"<description></description>",  # rss() leaves the first item's description empty
        b"<description><![CDATA[<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(2)>"
        b'<a href="javascript:alert(3)">x</a>]]></description>',
    )
    server.add("/evil.rss", body)
    podcast = client.post("/api/v1/podcasts", json={"url": server.url("/evil.rss")}).json()
    [item] = client.get(f"/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
    notes = client.get(f"/api/v1/episodes/{item['id']}").json()["show_notes_html"]
    assert "Hi" in notes
    assert "<script" not in notes and "onerror" not in notes and "javascript:" not in notes and "alert" not in notes


def test_unknown_and_bad_episode_ids(client, show):
    for method, path, body in [
        ("GET", "/api/v1/episodes/999", None),
        ("GET", "/api/v1/episodes/999/audio", None),
        ("PUT", "/api/v1/episodes/999/position", {"seconds": 1}),
        ("POST", "/api/v1/episodes/999/played", None),
    ]:
        response = client.request(method, path, json=body)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/episodes/x").status_code == 422
    assert client.get(f"/api/v1/episodes/{2**63}").status_code == 422


def test_position(client, show):
    path = f"/api/v1/episodes/{show['g1']}/position"
    response = client.put(path, json={"seconds": 12.25})
    assert response.status_code == 200 and response.json()["position"] == 12.25
    assert client.put(path, json={"seconds": 30}).json()["position"] == 30.0  # an int is fine
    assert client.get(f"/api/v1/episodes/{show['g1']}").json()["playback"]["position"] == 30.0


@pytest.mark.parametrize(
    "body",
    [{"seconds": -1}, {"seconds": "12"}, {"seconds": None}, {"seconds": True}, {}, {"seconds": 1, "x": 2}, {"seconds": 1e300}, [12]],
)
def test_position_bad_input(client, show, body):
    path = f"/api/v1/episodes/{show['g1']}/position"
    response = client.put(path, json=body)
    assert response.status_code == 422, body
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"] and error["details"]
    assert client.get(f"/api/v1/episodes/{show['g1']}").json()["playback"]["position"] == 0


def test_position_not_finite(client, show):
    response = client.put(
        f"/api/v1/episodes/{show['g1']}/position", content=b'{"seconds": NaN}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_malformed_json(client, show):
    response = client.put(
        f"/api/v1/episodes/{show['g1']}/position", content=b'{"seconds": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert "json" in response.json()["error"]["message"].lower()


def test_played(client, show):
    path = f"/api/v1/episodes/{show['g2']}"
    client.put(path + "/position", json={"seconds": 99})
    response = client.post(path + "/played")
    assert response.status_code == 200
    assert response.json()["played"] is True and response.json()["position"] == 0  # played: start over next time
    client.put(path + "/position", json={"seconds": 5})
    assert client.post(path + "/played", json={"played": False}).json() == {
        "position": 5.0,
        "played": False,
        "updated_at": client.get(path).json()["playback"]["updated_at"],
    }
    assert client.post(path + "/played", json={"played": True}).json()["played"] is True
    assert client.post(path + "/played", json={"played": "yes"}).status_code == 422
    assert client.get(path).json()["playback"]["played"] is True


def _download(client, settings, show, data: bytes):
    episode_id = show["g1"]
    folder = settings.downloads_dir / str(show["podcast"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{episode_id}-episode-1.mp3"
    path.write_bytes(data)
    client.app.state.library.record_download(episode_id, str(path), len(data))
    return episode_id


def test_audio_range(client, settings, show):
    data = bytes(range(256)) * 40  # 10240 bytes
    episode_id = _download(client, settings, show, data)
    whole = client.get(f"/api/v1/episodes/{episode_id}/audio")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "audio/mpeg"
    assert whole.headers.get("accept-ranges") == "bytes"
    part = client.get(f"/api/v1/episodes/{episode_id}/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    tail = client.get(f"/api/v1/episodes/{episode_id}/audio", headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    beyond = client.get(f"/api/v1/episodes/{episode_id}/audio", headers={"Range": "bytes=20000-"})
    assert beyond.status_code == 416
    head = client.head(f"/api/v1/episodes/{episode_id}/audio")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    detail = client.get(f"/api/v1/episodes/{episode_id}").json()
    assert detail["downloaded"] is True and detail["download"]["size"] == len(data)


def test_audio_redirects_when_not_downloaded(client, show, settings):
    response = client.get(f"/api/v1/episodes/{show['g2']}/audio", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://cdn.example.org/e2.mp3"
    # a record whose file is gone, or lies outside the downloads folder, is not served
    outside = settings.home / "secret.mp3"
    outside.write_bytes(b"secret")
    client.app.state.library.record_download(show["g3"], str(outside), 6)
    response = client.get(f"/api/v1/episodes/{show['g3']}/audio", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "https://cdn.example.org/e3.mp3"


def test_a_duration_measured_from_the_audio_is_whole_seconds_everywhere(client, lib, show):
    from earmark.store.db import connect
    from earmark.store.schema import MIGRATIONS

    lib.set_duration(show["g1"], 1234.567)  # as the runner measures it after a download
    assert client.get(f"/api/v1/episodes/{show['g1']}").json()["duration"] == 1235
    assert client.get(f"/api/v1/podcasts/{show['podcast']}/episodes").status_code == 200
    # a library where an earlier version stored the fraction: the migration makes it whole
    conn = connect(lib.path)
    conn.execute("UPDATE episodes SET duration = 99.6 WHERE id = ?", (show["g2"],))
    conn.execute(MIGRATIONS[9])  # (later migrations cannot run twice)
    row = conn.execute("SELECT duration, typeof(duration) FROM episodes WHERE id = ?", (show["g2"],)).fetchone()
    assert tuple(row) == (100, "integer")
    conn.close()

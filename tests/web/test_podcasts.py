from tests.feedmaker import corpus_feed, rss


def test_list_and_get(client, show):
    [podcast] = client.get("/api/v1/podcasts").json()
    assert podcast["id"] == show["podcast"] and podcast["title"] == "The Show" and podcast["episode_count"] == 3
    one = client.get(f"/api/v1/podcasts/{show['podcast']}")
    assert one.status_code == 200 and one.json()["title"] == "The Show"


def test_unknown_and_bad_ids(client, show):
    for path in ("/api/v1/podcasts/999", "/api/v1/podcasts/999/episodes"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert "999" in response.json()["error"]["message"]
    assert client.delete("/api/v1/podcasts/999").status_code == 404
    assert client.post("/api/v1/podcasts/999/refresh").status_code == 404
    for bad in ("abc", "0", "-1", "99999999999999999999999"):
        response = client.get(f"/api/v1/podcasts/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"


def test_episodes_pagination_with_playback(client, show):
    client.put(f"/api/v1/episodes/{show['g2']}/position", json={"seconds": 42.5})
    page = client.get(f"/api/v1/podcasts/{show['podcast']}/episodes", params={"limit": 2}).json()
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 0
    assert [e["guid"] for e in page["items"]] == ["g3", "g2"]  # newest first
    assert page["items"][1]["playback"] == {"position": 42.5, "played": False, "updated_at": page["items"][1]["playback"]["updated_at"]}
    assert page["items"][0]["playback"]["position"] == 0 and page["items"][0]["playback"]["updated_at"] is None
    rest = client.get(f"/api/v1/podcasts/{show['podcast']}/episodes", params={"limit": 2, "offset": 2}).json()
    assert [e["guid"] for e in rest["items"]] == ["g1"]
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}):
        response = client.get(f"/api/v1/podcasts/{show['podcast']}/episodes", params=params)
        assert response.status_code == 422, params


def test_subscribe_over_loopback(client, server):
    server.add("/nightvale.xml", corpus_feed("feedrs__rss_2.0_nightvale.xml"))
    url = server.url("/nightvale.xml")
    response = client.post("/api/v1/podcasts", json={"url": url})
    assert response.status_code == 201, response.text
    podcast = response.json()
    assert podcast["url"] == url and podcast["status"] == "ok" and podcast["episode_count"] > 0
    page = client.get(f"/api/v1/podcasts/{podcast['id']}/episodes").json()
    assert page["total"] == podcast["episode_count"] and page["items"][0]["title"]
    again = client.post("/api/v1/podcasts", json={"url": url})
    assert again.status_code == 200 and again.json()["id"] == podcast["id"]


def test_subscribe_errors(client, server):
    server.add("/not-a-feed", b"<html><body>hello</body></html>", content_type="text/html")
    response = client.post("/api/v1/podcasts", json={"url": server.url("/not-a-feed")})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_feed"
    assert server.url("/not-a-feed") in response.json()["error"]["message"]
    response = client.post("/api/v1/podcasts", json={"url": "ftp://example.org/feed"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_feed"
    for body in ({}, {"url": 5}, {"url": ""}, {"url": "http://x", "extra": 1}, [1]):
        response = client.post("/api/v1/podcasts", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
    server.add("/gone.rss", b"", status=404)
    response = client.post("/api/v1/podcasts", json={"url": server.url("/gone.rss")})
    assert response.status_code == 502 and "HTTP 404" in response.json()["error"]["message"]
    assert client.get("/api/v1/podcasts").json() == []  # nothing kept


def test_refresh_and_delete(client, server, settings):
    server.add("/feed.rss", rss("Refreshing", items=[("a", "A")]))
    podcast = client.post("/api/v1/podcasts", json={"url": server.url("/feed.rss")}).json()
    server.add("/feed.rss", rss("Refreshing", items=[("b", "B"), ("a", "A")]))
    result = client.post(f"/api/v1/podcasts/{podcast['id']}/refresh").json()
    assert result["status"] == "updated" and result["new_episodes"] == 1
    assert result["podcast"]["episode_count"] == 2
    server.add("/feed.rss", b"gone", status=500)
    failed = client.post(f"/api/v1/podcasts/{podcast['id']}/refresh").json()
    assert failed["status"] == "error" and "500" in failed["error"] and failed["podcast"]["status"] == "error"

    # a downloaded file goes with the subscription
    episode_id = client.get(f"/api/v1/podcasts/{podcast['id']}/episodes").json()["items"][0]["id"]
    folder = settings.downloads_dir / str(podcast["id"])
    folder.mkdir(parents=True)
    audio = folder / f"{episode_id}-b.mp3"
    audio.write_bytes(b"id3")
    client.app.state.library.record_download(episode_id, str(audio), 3)
    assert client.delete(f"/api/v1/podcasts/{podcast['id']}").status_code == 204
    assert not audio.exists()
    assert client.get(f"/api/v1/podcasts/{podcast['id']}").status_code == 404
    assert client.get(f"/api/v1/episodes/{episode_id}").status_code == 404

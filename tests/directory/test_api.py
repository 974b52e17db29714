"""GET /api/v1/directory/search, /trending, /preview against the directory stub and a loopback feed."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from earmark.web.app import create_app
from tests.directory.stub import PI_PREFIX
from tests.feedmaker import rss


@pytest.fixture
def api(dsettings):
    app = create_app(dsettings)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        c.app_state = app.state
        yield c


def test_search(api, stub):
    library = api.app_state.library
    podcast, _ = library.add_podcast("https://feeds.example.org/bridges.rss")
    answer = api.get("/api/v1/directory/search", params={"q": "bridge", "limit": 2})
    assert answer.status_code == 200
    data = answer.json()
    assert data["query"] == "bridge" and data["category"] is None
    # limit=2: Apple's first two include one without a feed, so its second show is Podcast Index's.
    assert [r["title"] for r in data["results"]] == ["Bridges Weekly", "Bridge Builders"]
    weekly = data["results"][0]
    art = weekly.pop("artwork_path")
    assert art.startswith("/artwork/directory?src=https%3A%2F%2Fimg.example.org%2Fart600.jpg&size=300&sig=")
    assert weekly == {
        "feed_url": "https://feeds.example.org/bridges.rss", "title": "Bridges Weekly", "author": "Ann Engineer",
        "artwork": "https://img.example.org/art600.jpg", "episode_count": 120, "categories": ["Science", "Physics"],
        "description": "All about Bridges Weekly", "link": "https://podcasts.apple.com/us/podcast/x/id101",
        "itunes_id": 101, "podcastindex_id": 201, "sources": ["itunes", "podcastindex"], "score": 2.0,
        "subscribed": True, "subscription": podcast.id,
    }
    assert data["results"][1]["subscribed"] is False and data["results"][1]["subscription"] is None
    assert [(s["source"], s["name"], s["state"]) for s in data["sources"]] == [
        ("itunes", "Apple Podcasts", "ok"), ("podcastindex", "Podcast Index", "ok")]


def test_search_errors(api, stub):
    bad = api.get("/api/v1/directory/search", params={"q": " ?! "})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_query"
    assert api.get("/api/v1/directory/search").status_code == 422
    assert api.get("/api/v1/directory/search", params={"q": "x" * 201}).status_code == 422
    stub.fail("/search", 503)
    stub.fail(PI_PREFIX + "/search/byterm", 429)
    down = api.get("/api/v1/directory/search", params={"q": "bridge"})
    assert down.status_code == 502
    error = down.json()["error"]
    assert error["code"] == "directory_unavailable"
    assert "Apple Podcasts is down or failing (HTTP 503)" in error["message"]
    assert "Podcast Index is limiting requests (HTTP 429)" in error["message"]


def test_one_directory_down_is_a_200_that_says_so(api, stub):
    stub.fail(PI_PREFIX + "/search/byterm", 500)
    data = api.get("/api/v1/directory/search", params={"q": "bridge"}).json()
    assert len(data["results"]) == 2
    assert data["sources"][1]["state"] == "error" and "HTTP 500" in data["sources"][1]["message"]


def test_trending(api, stub):
    data = api.get("/api/v1/directory/trending", params={"category": "technology", "limit": 5}).json()
    assert data["category"] == "technology" and data["query"] is None
    assert [r["title"] for r in data["results"]][:1] == ["Bridges Weekly"]
    assert stub.requests_to(PI_PREFIX + "/podcasts/trending")[0][0]["cat"] == ["Technology"]
    assert api.get("/api/v1/directory/trending").status_code == 200
    assert api.get("/api/v1/directory/trending", params={"category": "nope"}).status_code == 422


def test_preview(api, server):
    server.add("/show.rss", rss("Loopback Bridges", [("g2", "Second <i>bridge</i>"), ("g1", "First")]))
    answer = api.get("/api/v1/directory/preview", params={"url": server.url("/show.rss")})
    assert answer.status_code == 200
    data = answer.json()
    assert data["title"] == "Loopback Bridges" and data["episode_count"] == 2 and data["subscription"] is None
    assert [e["title"] for e in data["episodes"]] == ["Second <i>bridge</i>", "First"]
    subscribed = api.post("/api/v1/podcasts", json={"url": server.url("/show.rss")}).json()
    again = api.get("/api/v1/directory/preview", params={"url": server.url("/show.rss")}).json()
    assert again["subscribed"] is True and again["subscription"] == subscribed["id"]


def test_preview_errors(api, server):
    server.add("/page.html", b"<!doctype html><html><body>x</body></html>", content_type="text/html")
    not_feed = api.get("/api/v1/directory/preview", params={"url": server.url("/page.html")})
    assert not_feed.status_code == 422 and not_feed.json()["error"]["code"] == "invalid_feed"
    gone = api.get("/api/v1/directory/preview", params={"url": "http://127.0.0.1:1/feed.rss"})
    assert gone.status_code == 502 and "connection refused" in gone.json()["error"]["message"]
    assert api.get("/api/v1/directory/preview", params={"url": "javascript:alert(1)"}).status_code == 422


def test_every_status_is_documented(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/directory/search", "/api/v1/directory/trending", "/api/v1/directory/preview"):
        responses = paths[path]["get"]["responses"]
        assert {"200", "401", "421", "422", "502"} <= set(responses), path


def test_offline_page_keeps_working(dsettings):
    dead = dataclasses.replace(dsettings, itunes_base_url="http://127.0.0.1:1", podcastindex_base_url="http://127.0.0.1:1")
    with TestClient(create_app(dead), base_url="http://127.0.0.1") as c:
        assert c.get("/api/v1/directory/trending").status_code == 502
        assert c.get("/discover").status_code == 200
        assert c.get("/api/v1/podcasts").status_code == 200


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 60, 20)).save(out, "PNG")
    return out.getvalue()


def test_directory_artwork_is_served_from_here_only_when_signed(api, server):
    from earmark.web.discover import art_path

    server.add("/art.png", _png(), content_type="image/png")
    path = art_path(api.app_state, server.url("/art.png"), 96)
    image = api.get(path, headers={"Accept": "image/webp"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/webp"
    assert len(server.requests_to("/art.png")) == 1
    forged = path.replace("sig=", "sig=0")
    assert api.get(forged).status_code == 404
    other = api.get("/artwork/directory", params={"src": server.url("/other.png"), "sig": "x" * 32})
    assert other.status_code == 404 and not server.requests_to("/other.png")
    assert art_path(api.app_state, "javascript:alert(1)") is None and art_path(api.app_state, None) is None


def test_discover_page(api):
    page = api.get("/discover?q=%3Cscript%3E")
    assert page.status_code == 200
    assert "img-src 'self' data:" in page.headers["content-security-policy"]
    assert 'value="&lt;script&gt;"' in page.text
    assert '<a href="/discover">Discover</a>' in page.text and "/static/discover.js" in page.text
    assert 'data-category="true-crime"' in page.text
    assert api.get("/static/discover.js").status_code == 200


def test_another_sites_page_cannot_make_earmark_fetch_a_preview(api):
    r = api.get("/api/v1/directory/preview", params={"url": "http://192.168.1.1/feed"},
                   headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403

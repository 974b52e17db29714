import pytest
from fastapi.testclient import TestClient

from earmark.models import Episode, ParsedFeed, Podcast
from earmark.web.app import create_app


@pytest.fixture
def client(settings, library):
    podcast, _ = library.add_podcast("http://127.0.0.1:1/feed.rss")
    feed = ParsedFeed(Podcast(url=podcast.url, title="<script>alert(1)</script> Show"), [Episode(guid="g1", title="One")])
    library.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    return TestClient(create_app(settings), base_url="http://127.0.0.1")


def test_home_lists_podcasts_escaped(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Show" in response.text
    assert "<script>" not in response.text
    assert "1 episodes" in response.text


def test_podcasts_api(client):
    [podcast] = client.get("/api/v1/podcasts").json()
    assert podcast["episode_count"] == 1
    assert podcast["status"] == "ok"

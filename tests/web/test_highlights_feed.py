"""The highlights feed over real HTTP (uvicorn on 127.0.0.1, a token required as beyond loopback):
parsed with podcastparser, its enclosures are MP3 clips of the highlights' lengths (probed with
PyAV), cut once and cached, served with Range; per user; no token, no feed."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import av
import httpx
import podcastparser
import pytest

from earmark.config import Settings
from earmark.models import Episode, Highlight, ParsedFeed, Podcast
from earmark.share import highlight_clips
from earmark.store.accounts import AccountStore
from earmark.store.understanding import UnderstandingStore
from earmark.web.app import create_app
from tests.web.conftest import serving
from tests.web.media import tone_wav

SPANS = [(2.0, 7.0), (10.0, 14.5), (20.0, 26.0)]


@pytest.fixture
def feed_app(tmp_path, monkeypatch):
    """An app that needs its token, with one downloaded episode (three highlights) and one streamed
    episode (one highlight, no clip: nothing downloaded to cut from)."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    settings = Settings.load(http_timeout=5.0, llm_engine="fake", semantic_index=False)
    app = create_app(settings, require_token=True)
    lib = app.state.library
    podcast, _ = lib.add_podcast("http://127.0.0.1:1/show.rss")
    episodes = [
        Episode(guid=f"g{n}", title=f"Episode {n}", published=datetime(2024, 1, n, tzinfo=UTC), duration=60,
                enclosure_url=f"http://127.0.0.1:1/e{n}.wav", enclosure_type="audio/wav")
        for n in (1, 2)
    ]
    lib.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title="Tone & Co"), episodes),
                  url=podcast.url, etag=None, last_modified=None, content_hash=None)
    ids = {e.guid: e.id for e in lib.episodes(podcast.id)}
    audio = settings.downloads_dir / str(podcast.id) / "e1.wav"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(tone_wav(40.0))
    lib.record_download(ids["g1"], str(audio), audio.stat().st_size)
    store = UnderstandingStore(lib)
    store.save_highlights(ids["g1"], [Highlight(a, b, f"Moment {i + 1}", f"Why {i + 1} & more")
                                      for i, (a, b) in enumerate(SPANS)])
    store.save_highlights(ids["g2"], [Highlight(1.0, 5.0, "Streamed moment", "Not downloaded")])
    accounts = AccountStore(lib)
    accounts.add("alice", "x")  # the first user owns the library
    bob = accounts.add("bob", "x")
    app.state.tokens = {"alice": accounts.feed_token(1), "bob": accounts.feed_token(bob.id)}
    app.state.api_token = accounts.new_token(bob.id)
    return app


def test_highlights_feed(feed_app, monkeypatch):
    cuts: list[tuple] = []
    real_cut = highlight_clips.make_clip

    def counting(*args, **kwargs):
        cuts.append(args)
        return real_cut(*args, **kwargs)

    monkeypatch.setattr(highlight_clips, "make_clip", counting)
    token = feed_app.state.access_token
    with serving(feed_app) as base, httpx.Client(timeout=30) as http:
        # No token, a wrong one: refused like every other route.
        assert http.get(f"{base}/feeds/highlights.rss").status_code == 401
        assert http.get(f"{base}/feeds/highlights.rss", params={"token": "wrong"}).status_code == 401

        answer = http.get(f"{base}/feeds/highlights.rss", params={"token": token})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/rss+xml")
        feed = podcastparser.parse(str(answer.url), io.BytesIO(answer.content))
        assert feed["title"] == "Earmark highlights"
        items = feed["episodes"]
        assert [e["title"] for e in items] == ["Moment 3", "Moment 2", "Moment 1"]  # newest first, as apps list
        assert len({e["guid"] for e in items}) == 3
        first = items[-1]
        assert "Why 1 & more" in first["description"]
        assert "Episode 1" in first["description"] and "Tone & Co" in first["description"]
        assert first["published"] > 0 and first["total_time"] == 5

        for item, (start, end) in zip(reversed(items), SPANS):
            [enclosure] = item["enclosures"]
            assert enclosure["mime_type"] == "audio/mpeg"
            assert f"token={token}" in enclosure["url"]  # a podcast app cannot send headers
            clip = http.get(enclosure["url"])
            assert clip.status_code == 200 and clip.headers["content-type"] == "audio/mpeg"
            with av.open(io.BytesIO(clip.content)) as container:
                stream = container.streams.audio[0]
                assert stream.codec_context.name.startswith("mp3")
                decoded = sum(frame.samples for frame in container.decode(stream)) / stream.sample_rate
            assert abs(decoded - (end - start)) < 0.1, (decoded, start, end)
        assert len(cuts) == 3

        # Cached: the feed now gives each clip's exact size, and nothing is cut again.
        again = podcastparser.parse(base, io.BytesIO(http.get(f"{base}/feeds/highlights.rss",
                                                             params={"token": token}).content))
        for item in again["episodes"]:
            [enclosure] = item["enclosures"]
            body = http.get(enclosure["url"]).content
            assert enclosure["file_size"] == len(body)
        assert len(cuts) == 3

        # Range: a podcast app resuming a clip.
        url = again["episodes"][0]["enclosures"][0]["url"]
        part = http.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and len(part.content) == 100

        # Per user, by each one's feed token: alice owns the library, bob follows nothing; bob
        # cannot fetch alice's clip. A feed token opens feeds and artwork only; a full API token is
        # never taken from a feed address.
        alice = podcastparser.parse(base, io.BytesIO(httpx.get(
            f"{base}/feeds/highlights.rss", params={"feed": feed_app.state.tokens["alice"]}).content))
        assert len(alice["episodes"]) == 3
        first = alice["episodes"][0]
        assert f"feed={feed_app.state.tokens['alice']}" in first["enclosures"][0]["url"]
        assert httpx.get(first["enclosures"][0]["url"]).status_code == 200
        assert httpx.get(f"{base}/artwork/episode/1", params={"feed": feed_app.state.tokens["alice"]}).status_code == 200
        assert httpx.get(f"{base}/api/v1/podcasts", params={"feed": feed_app.state.tokens["alice"]}).status_code == 401
        assert httpx.get(f"{base}/feeds/highlights.rss", params={"feed": "1.0000"}).status_code == 401
        assert httpx.get(f"{base}/feeds/highlights.rss", params={"token": feed_app.state.api_token}).status_code == 401
        bob_token = feed_app.state.tokens["bob"]
        bob = httpx.get(f"{base}/feeds/highlights.rss", params={"feed": bob_token})
        assert bob.status_code == 200 and podcastparser.parse(base, io.BytesIO(bob.content))["episodes"] == []
        clip_path = url.split("?")[0]
        assert httpx.get(clip_path, params={"feed": bob_token}).status_code == 404
        assert httpx.get(clip_path).status_code == 401

        # One podcast's reel; a podcast that does not exist.
        podcast_id = feed_app.state.library.podcasts()[0].id
        one = http.get(f"{base}/feeds/highlights.rss", params={"token": token, "podcast_id": podcast_id})
        assert "Earmark highlights · Tone &amp; Co" in one.text
        assert http.get(f"{base}/feeds/highlights.rss", params={"token": token, "podcast_id": 999}).status_code == 404


def test_highlights_api_filters(feed_app):
    from fastapi.testclient import TestClient

    with TestClient(feed_app, base_url="http://127.0.0.1",
                    headers={"Authorization": f"Bearer {feed_app.state.access_token}"}) as client:
        podcast_id = feed_app.state.library.podcasts()[0].id
        everything = client.get("/api/v1/highlights").json()["items"]
        assert len(everything) == 4
        assert len(client.get("/api/v1/highlights", params={"podcast_id": podcast_id}).json()["items"]) == 4
        assert client.get("/api/v1/highlights", params={"podcast_id": 999}).status_code == 404
        # since: episodes published or added since then (both were added just now)
        assert len(client.get("/api/v1/highlights", params={"since": "2000-01-01T00:00:00Z"}).json()["items"]) == 4
        assert client.get("/api/v1/highlights", params={"since": "2999-01-01T00:00:00Z"}).json()["items"] == []
        assert client.get("/api/v1/highlights", params={"since": "9999-12-31T23:59:59-23:59"}).status_code == 200
        assert client.get("/api/v1/highlights", params={"since": "0001-01-01T00:00:00+23:59"}).status_code == 200
        assert client.get("/api/v1/highlights", params={"since": "1.5"}).status_code == 422  # RFC 3339 only
        assert client.get("/api/v1/highlights", params={"since": "2024-02-30T00:00:00Z"}).status_code == 422

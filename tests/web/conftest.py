from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from earmark.config import Settings
from earmark.models import Episode, ParsedFeed, Podcast
from earmark.web.app import create_app
from tests.ai.fakes import valid_answer

EVIL_NOTES = (
    '<p>Hello <b>listeners</b></p><script>alert("x")</script>'
    '<img src="https://example.org/a.png" onerror="alert(1)">'
    '<a href="javascript:alert(2)">click</a> <a href="https://example.org/ok" onclick="steal()">ok</a>'
    ' <a href="mailto:host@example.org">mail</a> <a href="data:text/html,<script>alert(3)</script>">data</a>'
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
)


@pytest.fixture
def settings(tmp_path, monkeypatch, fake_llm) -> Settings:
    """As tests/conftest.py's, with the deterministic fake LLM: processing an episode here must not
    load a real model for the stages after the transcript."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    fake_llm.reset(default=valid_answer)  # extractive answers that pass every task's checks
    return Settings.load(http_timeout=5.0, llm_engine="fake")


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture
def lib(app):
    return app.state.library


def _episode(n: int, **extra) -> Episode:
    return Episode(
        guid=f"g{n}",
        title=f"Episode {n}",
        published=datetime(2024, 1, n, tzinfo=UTC),
        duration=600 + n,
        description=f"Notes {n}",
        enclosure_url=f"https://cdn.example.org/e{n}.mp3",
        enclosure_type="audio/mpeg",
        **extra,
    )


@pytest.fixture
def show(lib):
    """A podcast with three episodes (ids in the returned dict), the newest with hostile show notes."""
    podcast, _ = lib.add_podcast("http://127.0.0.1:1/show.rss")
    episodes = [_episode(1), _episode(2), _episode(3, description_html=EVIL_NOTES)]
    feed = ParsedFeed(Podcast(url=podcast.url, title="The Show"), episodes)
    lib.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    ids = {e.guid: e.id for e in lib.episodes(podcast.id)}
    return {"podcast": podcast.id, **ids}


@contextmanager
def serving(app):
    """``app`` under uvicorn in a thread on a free loopback port (as `earmark serve` runs it); yields its URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)

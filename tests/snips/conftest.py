from __future__ import annotations

import pytest

from earmark.config import Settings
from earmark.models import Episode, ParsedFeed, Podcast, Transcript
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore
from tests.snips.helpers import transcript


@pytest.fixture
def snip_settings(tmp_path, monkeypatch) -> Settings:
    """The fake engines (this test's own: the fake_asr and fake_llm fixtures, unscripted)."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    return Settings.load(asr_engine="fake", llm_engine="fake")


@pytest.fixture
def lib(snip_settings) -> Library:
    library = Library(snip_settings.db_path)
    yield library
    library.close()


def add_episode(library: Library, n: int = 0, *, duration: int | None = 3600) -> int:
    podcast, _ = library.add_podcast(f"http://127.0.0.1:1/show{n}.rss")
    feed = ParsedFeed(Podcast(url=podcast.url, title=f"Show {n}"),
                      [Episode(guid=f"g{n}", title=f"Episode {n}", duration=duration)])
    library.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    return library.episodes(podcast.id)[0].id


def save_transcript(library: Library, episode_id: int, segments) -> None:
    TranscriptStore(library).save(episode_id, Transcript(segments, source="publisher", format="json"))


@pytest.fixture
def episode(lib) -> int:
    return add_episode(lib, 0)


@pytest.fixture
def with_transcript(lib, episode):
    segments, truth = transcript(200, speakers={0: "Ana", 30: "Ben"})
    save_transcript(lib, episode, segments)
    return truth

from datetime import UTC, datetime

import pytest

from earmark.config import Settings
from earmark.models import Episode, ParsedFeed, Podcast, Snip
from earmark.store.snips import SnipStore


@pytest.fixture
def episodes(library):
    """Two episodes of one podcast, with titles that need care in file names and YAML."""
    podcast, _ = library.add_podcast("http://127.0.0.1:1/show.rss")
    feed = ParsedFeed(
        Podcast(url=podcast.url, title='Deep: "Questions" / Answers'),
        [
            Episode(guid="a", title="Ep 1: #1 — Why? [pilot]", link="https://example.com/ep1",
                    published=datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
            Episode(guid="b", title="Ep 2: yes: no", enclosure_url="https://cdn.example.com/ep2.mp3",
                    published=datetime(2024, 6, 1, 12, 0, tzinfo=UTC)),
        ],
    )
    library.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    return sorted(library.episodes(podcast.id), key=lambda e: e.id)


@pytest.fixture
def store(library):
    return SnipStore(library)


def make_snip(store, episode, start, **card):
    snip = store.create(Snip(episode_id=episode.id, tapped_at=start + 20, start=start, end=start + 30))
    card.setdefault("title", f"Idea at {start}")
    card.setdefault("takeaways", [f"takeaway {start} a", f"takeaway {start} b"])
    card.setdefault("quote", f"Quote said at {start}.")
    card.setdefault("quote_speaker", "Ada")
    card.setdefault("excerpt", f"Transcript text around {start}.")
    return store.set_card(snip.id, state="ready", **card)


@pytest.fixture
def snip_factory(store):
    return lambda episode, start, **card: make_snip(store, episode, start, **card)


def with_settings(settings: Settings, **values) -> Settings:
    return Settings.load(settings.home, http_timeout=5.0, **values)

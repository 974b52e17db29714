import asyncio

from earmark.feeds.refresh import refresh_many, subscribe
from tests.feedmaker import corpus_feed


def test_subscribe_and_refresh(library, settings, server):
    body = corpus_feed("podcatcher__Rework.rss")  # its new-feed-url would move it off loopback
    server.add("/rework.rss", body)
    podcast, result = asyncio.run(subscribe(library, settings, server.url("/rework.rss")))
    assert result.new_episodes == 232
    assert podcast.episode_count == 232
    [again] = asyncio.run(refresh_many(library, settings))
    assert again.status == "not-modified"

"""Discover's service: both directories at once, merged and de-duplicated by feed address, cached
for a day, one directory down or both, Podcast Index unconfigured; and the feed preview."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest

from earmark.directory import (
    DirectoryError,
    DirectoryShow,
    feed_key,
    mark_subscribed,
    merge,
    preview,
    search,
    subscriptions,
    trending,
)
from earmark.directory.service import cache_for
from earmark.errors import FeedError, FetchError
from earmark.store.library import Library
from tests.directory.stub import PI_PREFIX
from tests.feedmaker import rss


def test_feed_key_ignores_scheme_www_port_case_and_trailing_slash():
    assert feed_key("http://www.Feeds.example.org:80/bridges.rss/") == feed_key("https://feeds.example.org/bridges.rss")
    assert feed_key("https://a.example.org:8443/x?b=1") == "a.example.org:8443/x?b=1"
    assert feed_key("https://a.example.org/x") != feed_key("https://a.example.org/y")


def test_merge_sums_reciprocal_ranks_and_combines_fields():
    a = DirectoryShow("http://x.example/feed", "X", artwork="https://img/x", sources=("itunes",), categories=("Science",))
    b = DirectoryShow("https://y.example/feed", "Y", sources=("itunes",))
    b2 = DirectoryShow("https://y.example/feed/", "Y (PI)", author="Yan", episode_count=9, sources=("podcastindex",),
                       categories=("Science", "Physics"), podcastindex_id=5)
    c = DirectoryShow("https://z.example/feed", "Z", sources=("podcastindex",))
    a2 = DirectoryShow("https://www.x.example/feed", "X", sources=("podcastindex",), episode_count=3)
    merged = merge([[a, b], [b2, c, a2]])
    assert [s.title for s in merged] == ["Y", "X", "Z"]  # Y: 1/2 + 1 = 1.5, X: 1 + 1/3, Z: 1/2
    y, x, _ = merged
    assert y.score == 1.5 and y.author == "Yan" and y.episode_count == 9 and y.podcastindex_id == 5
    assert y.categories == ("Science", "Physics") and y.sources == ("itunes", "podcastindex")
    assert x.feed_url == "https://www.x.example/feed"  # the https spelling wins
    assert x.artwork == "https://img/x" and x.episode_count == 3


def test_search_merges_both_directories(stub, dsettings):
    results = asyncio.run(search(dsettings, "  Bridge  "))
    # Weekly is first in both (1 + 1); the others tie at 1/2, Apple's before Podcast Index's.
    assert [s.title for s in results.shows] == [
        "Bridges Weekly", 'Bridges & <b>Tunnels</b><script>alert(1)</script>', "Bridge Builders"]
    weekly = results.shows[0]
    assert weekly.sources == ("itunes", "podcastindex") and weekly.score == 2.0
    assert weekly.feed_url == "https://feeds.example.org/bridges.rss"
    assert weekly.description == "All about Bridges Weekly"  # from Podcast Index; artwork etc. from Apple
    assert [(s.source, s.state, s.count) for s in results.sources] == [("itunes", "ok", 2), ("podcastindex", "ok", 2)]
    assert stub.requests_to("/search")[0][0]["term"] == ["Bridge"]


def test_results_are_cached_for_a_day(stub, dsettings):
    first = asyncio.run(search(dsettings, "bridge"))
    asked = len(stub.log)
    again = asyncio.run(search(dsettings, "BRIDGE"))  # the same search, differently typed
    assert len(stub.log) == asked
    assert [s.title for s in again.shows] == [s.title for s in first.shows]
    assert {s.state for s in again.sources} == {"cached"}
    # A day later the directories are asked again.
    for path in cache_for(dsettings).root.glob("*.json"):
        data = json.loads(path.read_text())
        data["saved"] -= 24 * 3600 + 1
        path.write_text(json.dumps(data))
    later = asyncio.run(search(dsettings, "bridge"))
    assert len(stub.log) == asked + 2 and {s.state for s in later.sources} == {"ok"}


def test_a_directory_down_leaves_the_other(stub, dsettings):
    stub.fail(PI_PREFIX + "/search/byterm", 503)
    results = asyncio.run(search(dsettings, "bridge"))
    assert [s.title for s in results.shows][:1] == ["Bridges Weekly"]
    apple, pi = results.sources
    assert apple.state == "ok"
    assert pi.state == "error" and "Podcast Index is down or failing (HTTP 503)" in pi.message


def test_a_cached_copy_stands_in_while_a_directory_is_down(stub, dsettings):
    asyncio.run(search(dsettings, "bridge"))
    for path in cache_for(dsettings).root.glob("*.json"):  # two days old: due for a refresh
        data = json.loads(path.read_text())
        data["saved"] -= 2 * 24 * 3600
        path.write_text(json.dumps(data))
    stub.fail("/search", 429)
    stub.fail(PI_PREFIX + "/search/byterm", 500)
    results = asyncio.run(search(dsettings, "bridge"))
    assert len(results.shows) == 3
    assert [s.state for s in results.sources] == ["stale", "stale"]
    assert "HTTP 429" in results.sources[0].message and "from 2 days ago" in results.sources[0].message


def test_every_directory_down_or_offline_is_one_clear_error(dsettings):
    dead = dataclasses.replace(dsettings, itunes_base_url="http://127.0.0.1:1", podcastindex_base_url="http://127.0.0.1:1/api")
    with pytest.raises(DirectoryError) as caught:
        asyncio.run(search(dead, "bridge"))
    message = str(caught.value)
    assert message.startswith("no directory could answer")
    assert "Apple Podcasts cannot be reached (offline?)" in message and "Podcast Index cannot be reached" in message
    with pytest.raises(DirectoryError, match="no directory could answer"):
        asyncio.run(trending(dead))


def test_podcastindex_unconfigured_is_skipped_with_a_hint(stub, dsettings):
    bare = dataclasses.replace(dsettings, podcastindex_key=None, podcastindex_secret=None)
    results = asyncio.run(search(bare, "bridge"))
    assert [s.title for s in results.shows] == ["Bridges Weekly", 'Bridges & <b>Tunnels</b><script>alert(1)</script>']
    assert results.sources[1].state == "skipped"
    assert "set podcastindex_key and podcastindex_secret" in results.sources[1].message
    assert not any(p.startswith(PI_PREFIX) for p, _, _ in stub.log)
    offline = dataclasses.replace(bare, itunes_base_url="http://127.0.0.1:1")
    with pytest.raises(DirectoryError, match="Apple Podcasts cannot be reached.*set podcastindex_key"):
        asyncio.run(search(offline, "bridge"))


def test_queries_without_words_are_refused(dsettings):
    with pytest.raises(DirectoryError, match="nothing to search for"):
        asyncio.run(search(dsettings, "  !? "))


def test_apple_page_and_feed_address_queries(stub, dsettings):
    results = asyncio.run(search(dsettings, "https://podcasts.apple.com/us/podcast/bridges-weekly/id101"))
    assert [s.title for s in results.shows] == ["Bridges Weekly"]
    assert stub.requests_to("/lookup") and not stub.requests_to("/search")
    results = asyncio.run(search(dsettings, "https://builders.example.org/feed"))
    assert [s.title for s in results.shows] == ["Bridge Builders"]
    assert results.sources[0].state == "skipped"
    # A feed address without Podcast Index: no directory to ask, nothing found, and why.
    bare = dataclasses.replace(dsettings, podcastindex_key=None)
    results = asyncio.run(search(bare, "https://builders.example.org/feed"))
    assert results.shows == [] and [s.state for s in results.sources] == ["skipped", "skipped"]


def test_trending_by_category(stub, dsettings):
    results = asyncio.run(trending(dsettings, "science", limit=10))
    assert results.category == "science"
    assert [s.title for s in results.shows][:2] == ["Bridges Weekly", "Bridge Builders"]
    assert stub.requests_to(PI_PREFIX + "/podcasts/trending")[0][0]["cat"] == ["Science"]
    assert "/us/rss/toppodcasts/limit=10/genre=1533/json" in [p for p, _, _ in stub.log]
    asyncio.run(trending(dsettings, "health", limit=10))
    assert stub.requests_to(PI_PREFIX + "/podcasts/trending")[1][0]["cat"] == ["Health,Fitness"]
    with pytest.raises(DirectoryError, match="no category"):
        asyncio.run(trending(dsettings, "nope"))


def test_subscribed_shows_are_marked(stub, dsettings):
    library = Library(dsettings.db_path)
    try:
        podcast, _ = library.add_podcast("http://feeds.example.org/bridges.rss")
        shows = mark_subscribed(asyncio.run(search(dsettings, "bridge")).shows, subscriptions(library))
    finally:
        library.close()
    assert [s.podcast_id for s in shows] == [podcast.id, None, None]


def test_preview_reads_the_feed_without_subscribing(server, dsettings):
    items = [(f"g{n}", f"Episode {n}") for n in range(15, 0, -1)]
    server.add("/show.rss", rss("Loopback Bridges", items))
    found = asyncio.run(preview(dsettings, server.url("/show.rss"), limit=5))
    assert found.title == "Loopback Bridges" and found.episode_count == 15
    assert [e.title for e in found.episodes] == ["Episode 15", "Episode 14", "Episode 13", "Episode 12", "Episode 11"]
    assert found.episodes[1].description == "Notes for Episode 14"
    assert not Library(dsettings.db_path).podcasts()


def test_preview_errors_are_feed_errors(server, dsettings):
    server.add("/page.html", b"<html><body>hi</body></html>", content_type="text/html")
    with pytest.raises(FeedError, match="HTML page"):
        asyncio.run(preview(dsettings, server.url("/page.html")))
    with pytest.raises(FetchError, match="HTTP 404"):
        asyncio.run(preview(dsettings, server.url("/missing.rss")))
    with pytest.raises(FeedError, match="not a feed address"):
        asyncio.run(preview(dsettings, "javascript:alert(1)"))
    blocked = dataclasses.replace(dsettings, block_private_hosts=True)  # the outbound policy applies
    with pytest.raises(FetchError, match="refused"):
        asyncio.run(preview(blocked, server.url("/page.html")))


def test_a_damaged_cache_file_is_ignored(stub, dsettings):
    asyncio.run(search(dsettings, "bridge"))
    for path in cache_for(dsettings).root.glob("*.json"):
        path.write_text("{not json")
    results = asyncio.run(search(dsettings, "bridge"))
    assert {s.state for s in results.sources} == {"ok"} and len(results.shows) == 3
    started = time.time()
    assert all(p.stat().st_mtime >= started - 5 for p in cache_for(dsettings).root.glob("*.json"))

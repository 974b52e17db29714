"""Subscribing and refreshing against a real HTTP server on 127.0.0.1 and a real SQLite library."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time

import pytest

import earmark.feeds.refresh as refresh_module
from earmark.errors import FeedError
from earmark.feeds.refresh import refresh_many, subscribe
from tests.feedmaker import corpus_feed, rss
from tests.loopback import LoopbackServer

run = asyncio.run

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<rss version="2.0"><channel><title>&e;</title></channel></rss>
"""

HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>My Show</title></head><body>Listen on our site!</body></html>"


def episode_rows(library, podcast_id: int) -> dict[str, tuple]:
    """Everything the store keeps per episode that a rewrite would change."""
    rows = library.conn.execute(
        "SELECT guid, id, title, content_hash, updated_at FROM episodes WHERE podcast_id = ?", (podcast_id,)
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def count_episodes(library, podcast_id: int) -> int:
    return library.conn.execute("SELECT count(*) FROM episodes WHERE podcast_id = ?", (podcast_id,)).fetchone()[0]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forbid_parsing(monkeypatch) -> None:
    def parse_feed(*args, **kwargs):
        raise AssertionError("this refresh must not parse the feed")

    monkeypatch.setattr(refresh_module, "parse_feed", parse_feed)


# -- subscribing --------------------------------------------------------------------------------


def test_subscribe_stores_the_episodes(library, settings, server):
    server.add("/rework.rss", corpus_feed("podcatcher__Rework.rss"))
    podcast, result = run(subscribe(library, settings, server.url("/rework.rss")))
    assert (result.status, result.new_episodes) == ("updated", 232)
    assert podcast.title == "Rework"
    assert (podcast.status, podcast.episode_count, podcast.url) == ("ok", 232, server.url("/rework.rss"))
    assert podcast.last_success is not None
    assert count_episodes(library, podcast.id) == 232
    newest = library.episodes(podcast.id, limit=1)[0]
    assert newest.enclosure_url and newest.published is not None


def test_subscribing_twice_returns_the_existing_podcast(library, settings, server):
    server.add("/show.rss", rss())
    first, _ = run(subscribe(library, settings, server.url("/show.rss")))
    again, result = run(subscribe(library, settings, server.url("/show.rss")))
    # The same address in another spelling is the same subscription too.
    feed_scheme, _ = run(subscribe(library, settings, server.url("/show.rss").replace("http://", "feed://")))
    assert result.status == "exists"
    assert again.id == first.id == feed_scheme.id
    assert [p.id for p in library.podcasts()] == [first.id]


def test_subscribing_again_to_a_moved_feed_keeps_one_subscription(library, settings, server):
    server.add("/new.rss", rss())
    server.redirect("/old.rss", server.url("/new.rss"), 301)
    first, _ = run(subscribe(library, settings, server.url("/old.rss")))
    assert first.url == server.url("/new.rss")
    # The old address is no longer stored, so only the fetch can tell it is the same feed.
    again, result = run(subscribe(library, settings, server.url("/old.rss")))
    assert (again.id, result.status) == (first.id, "exists")
    assert len(library.podcasts()) == 1


@pytest.mark.parametrize(
    "spelling",
    ["feed://{host}/n.rss", "{host}/n.rss", "feed:http://{host}/n.rss", "  http://{host}/n.rss \n"],
    ids=["feed-scheme", "no-scheme", "feed-prefix", "spaces"],
)
def test_subscribe_normalizes_the_address(library, settings, server, spelling):
    server.add("/n.rss", rss())
    host = server.base.removeprefix("http://")
    podcast, result = run(subscribe(library, settings, spelling.format(host=host)))
    assert result.status == "updated"
    assert podcast.url == server.url("/n.rss")


@pytest.mark.parametrize(
    "make_url, message",
    [
        (lambda srv: f"http://127.0.0.1:{unused_port()}/feed.rss", "cannot connect"),
        (lambda srv: srv.url("/missing.rss"), "HTTP 404"),
        (lambda srv: srv.url("/page.html"), "HTML page"),
        (lambda srv: srv.base.replace("http://", "https://") + "/page.html", "TLS error"),
        (lambda srv: "http://127.0.0.1:99999/feed.rss", "not a feed address"),
        (lambda srv: "gopher://example.org/feed", "not a feed address"),
    ],
    ids=["dead-host", "404", "html", "tls", "bad-port", "bad-scheme"],
)
def test_subscribe_failure_raises_and_keeps_nothing(library, settings, server, make_url, message):
    server.add("/page.html", HTML_PAGE, content_type="text/html")
    with pytest.raises(FeedError, match=message):
        run(subscribe(library, settings, make_url(server)))
    assert library.podcasts() == []
    assert library.conn.execute("SELECT count(*) FROM episodes").fetchone()[0] == 0


# -- conditional GET and unchanged feeds ------------------------------------------------------


def test_second_refresh_is_conditional_and_not_parsed(library, settings, server, monkeypatch):
    feed = server.add("/feed.rss", rss(items=[("g2", "Two"), ("g1", "One")]))
    podcast, _ = run(subscribe(library, settings, server.url("/feed.rss")))
    before, checked = episode_rows(library, podcast.id), library.podcast(podcast.id).last_checked
    forbid_parsing(monkeypatch)

    [result] = run(refresh_many(library, settings))

    assert result.status == "not-modified"
    request = server.requests_to("/feed.rss")[-1]
    assert request.headers["if-none-match"] == feed.etag_value
    assert request.headers["if-modified-since"] == feed.last_modified_value
    assert request.status == 304
    assert episode_rows(library, podcast.id) == before
    after = library.podcast(podcast.id)
    assert after.status == "ok" and after.last_checked > checked


def test_last_modified_alone_gives_304(library, settings, server, monkeypatch):
    feed = server.add("/feed.rss", rss(), etag=False)
    run(subscribe(library, settings, server.url("/feed.rss")))
    forbid_parsing(monkeypatch)
    [result] = run(refresh_many(library, settings))
    request = server.requests_to("/feed.rss")[-1]
    assert "if-none-match" not in request.headers
    assert request.headers["if-modified-since"] == feed.last_modified_value
    assert (result.status, request.status) == ("not-modified", 304)


def test_same_bytes_without_validators_are_unchanged(library, settings, server, monkeypatch):
    feed = server.add("/feed.rss", rss(items=[("g1", "One")]), etag=False, last_modified=False)
    podcast, _ = run(subscribe(library, settings, server.url("/feed.rss")))
    before = episode_rows(library, podcast.id)
    with monkeypatch.context() as patch:
        forbid_parsing(patch)
        [result] = run(refresh_many(library, settings))
    request = server.requests_to("/feed.rss")[-1]
    assert "if-none-match" not in request.headers and "if-modified-since" not in request.headers
    assert (request.status, result.status) == (200, "unchanged")
    assert episode_rows(library, podcast.id) == before
    # Different bytes are parsed again: the hash is what decided, not a blanket skip.
    feed.body = rss(items=[("g2", "Two"), ("g1", "One")])
    [result] = run(refresh_many(library, settings))
    assert (result.status, result.new_episodes) == ("updated", 1)


def test_changed_feed_updates_in_place_without_duplicates(library, settings, server):
    feed = server.add("/feed.rss", rss(items=[("g2", "Two"), ("g1", "One")]))
    podcast, _ = run(subscribe(library, settings, server.url("/feed.rss")))
    before = episode_rows(library, podcast.id)

    feed.body = rss(items=[("g3", "Three"), ("g2", "Two, with the title fixed"), ("g1", "One")])
    [result] = run(refresh_many(library, settings))

    assert (result.status, result.new_episodes, result.updated_episodes) == ("updated", 1, 1)
    after = episode_rows(library, podcast.id)
    assert count_episodes(library, podcast.id) == 3
    assert after["g2"][0] == before["g2"][0]  # same row, new title
    assert after["g2"][1] == "Two, with the title fixed"
    assert after["g1"] == before["g1"]  # unchanged entry not rewritten
    assert after["g3"][1] == "Three"
    # Nothing new: neither a 304 nor the same bytes served fresh adds a row.
    run(refresh_many(library, settings))
    feed.etag = feed.last_modified = False
    [result] = run(refresh_many(library, settings))
    assert (result.new_episodes, result.updated_episodes) == (0, 0)
    assert count_episodes(library, podcast.id) == 3


def test_gzip_encoded_feed(library, settings, server):
    server.add("/rework.rss", corpus_feed("podcatcher__Rework.rss"), gzip=True)
    podcast, result = run(subscribe(library, settings, server.url("/rework.rss")))
    assert "gzip" in server.requests_to("/rework.rss")[0].headers["accept-encoding"]
    assert result.new_episodes == 232 and podcast.title == "Rework"


# -- moved feeds --------------------------------------------------------------------------------


@pytest.mark.parametrize("status, moves", [(301, True), (308, True), (302, False), (307, False)])
def test_only_permanent_redirects_move_the_subscription(library, settings, server, status, moves):
    server.add("/new.rss", rss())
    server.redirect("/old.rss", server.url("/new.rss"), status)
    podcast, result = run(subscribe(library, settings, server.url("/old.rss")))
    expected = server.url("/new.rss" if moves else "/old.rss")
    assert library.podcast(podcast.id).url == result.url == expected
    [again] = run(refresh_many(library, settings))
    assert again.status == "not-modified"
    assert len(server.requests_to("/old.rss")) == (1 if moves else 2)


def test_a_temporary_hop_stops_the_move(library, settings, server):
    server.add("/c.rss", rss())
    server.redirect("/a.rss", server.url("/b.rss"), 301)
    server.redirect("/b.rss", server.url("/c.rss"), 302)
    podcast, _ = run(subscribe(library, settings, server.url("/a.rss")))
    assert podcast.url == server.url("/b.rss")


def test_new_feed_url_moves_the_subscription(library, settings, server):
    server.add("/old.rss", rss(title="Old home", new_url=server.url("/new.rss")))
    server.add("/new.rss", rss(title="New home"))
    podcast, result = run(subscribe(library, settings, server.url("/old.rss")))
    assert podcast.url == result.url == server.url("/new.rss")
    run(refresh_many(library, settings))
    assert len(server.requests_to("/old.rss")) == 1
    assert len(server.requests_to("/new.rss")) == 1
    assert library.podcast(podcast.id).title == "New home"


def test_new_feed_url_to_an_existing_subscription(library, settings, server):
    server.add("/a.rss", rss(title="A"))
    server.add("/b.rss", rss(title="B"))
    a, _ = run(subscribe(library, settings, server.url("/a.rss")))
    b, _ = run(subscribe(library, settings, server.url("/b.rss")))
    # B now says it moved to A's address: both stay, B keeps its own (the URL is unique).
    server.resources["/b.rss"].body = rss(title="B", new_url=server.url("/a.rss"))
    results = run(refresh_many(library, settings))
    assert {r.status for r in results} == {"not-modified", "updated"}
    assert library.podcast(b.id).url == server.url("/b.rss")
    # Subscribing to a feed that points at a followed address gives that subscription.
    server.add("/c.rss", rss(title="C", new_url=server.url("/a.rss")))
    c, result = run(subscribe(library, settings, server.url("/c.rss")))
    assert (c.id, result.status) == (a.id, "exists")
    assert len(library.podcasts()) == 2


# -- refreshing many ----------------------------------------------------------------------------


def test_refresh_all_records_each_failure_on_its_podcast(library, settings, server):
    limit = 100_000
    settings = dataclasses.replace(settings, http_timeout=0.5, max_feed_bytes=limit)
    elsewhere = LoopbackServer()  # closed below: its port becomes a dead host
    names = ["good1", "good2", "missing", "broken", "dead", "slow", "html", "huge", "huge-unsized",
             "entities", "gzip-bomb"]
    ids = {}
    for name in names:
        srv = elsewhere if name == "dead" else server
        srv.add(f"/{name}.rss", rss(title=name, items=[(f"{name}-1", "First")]))
        podcast, _ = run(subscribe(library, settings, srv.url(f"/{name}.rss")))
        ids[name] = podcast.id
    elsewhere.close()
    before = {name: (library.podcast(ids[name]), episode_rows(library, ids[name])) for name in names}

    for name in ("good1", "good2"):
        server.resources[f"/{name}.rss"].body = rss(title=name, items=[(f"{name}-2", "Second"), (f"{name}-1", "First")])
    del server.resources["/missing.rss"]
    server.resources["/broken.rss"].status = 500
    server.resources["/slow.rss"].delay = 2.0
    server.add("/html.rss", HTML_PAGE, content_type="text/html")
    server.add("/huge.rss", rss(title="huge", padding=limit + 1))
    server.add("/huge-unsized.rss", rss(title="huge", padding=limit + 1), send_length=False)
    server.add("/entities.rss", ENTITY_BOMB)
    # 20x the limit of blanks compresses to a few KB: only the decoded size can catch it.
    server.add("/gzip-bomb.rss", b"<rss><channel>" + b" " * (20 * limit), gzip=True)
    expected = {
        "missing": "HTTP 404",
        "broken": "HTTP 500",
        "dead": "cannot connect: connection refused",
        "slow": "timed out",
        "html": "HTML page, not a podcast feed",
        "huge": "over the limit",
        "huge-unsized": "over the limit",
        "entities": "entity declarations",
        "gzip-bomb": "over the limit",
    }

    started = time.monotonic()
    results = {r.podcast_id: r for r in run(refresh_many(library, settings))}
    assert time.monotonic() - started < 2.0  # the slow one was cut at the timeout, not waited for

    for name in ("good1", "good2"):
        assert (results[ids[name]].status, results[ids[name]].new_episodes) == ("updated", 1)
        assert library.podcast(ids[name]).status == "ok"
        assert count_episodes(library, ids[name]) == 2
    for name, message in expected.items():
        old_podcast, old_rows = before[name]
        podcast = library.podcast(ids[name])
        assert results[ids[name]].status == "error", name
        assert podcast.status == "error", name
        assert message in podcast.error and f"/{name}.rss" in podcast.error, (name, podcast.error)
        assert results[ids[name]].error == podcast.error
        assert podcast.last_checked > old_podcast.last_checked, name
        assert podcast.last_success == old_podcast.last_success, name
        assert podcast.title == name
        assert episode_rows(library, ids[name]) == old_rows, name

    # Fixed feeds recover: status back to ok, error cleared.
    server.resources["/broken.rss"].status = 200
    [result] = run(refresh_many(library, settings, [ids["broken"]]))
    assert result.status in ("not-modified", "unchanged")
    assert (library.podcast(ids["broken"]).status, library.podcast(ids["broken"]).error) == ("ok", None)


def test_an_unexpected_error_stays_on_its_podcast(library, settings, server):
    server.add("/good.rss", rss(title="good"))
    good, _ = run(subscribe(library, settings, server.url("/good.rss")))
    # A stored podcast whose feed now redirects to an address no client can connect to.
    bad, _ = library.add_podcast(server.url("/bad.rss"))
    server.redirect("/bad.rss", "http://127.0.0.1:99999/feed.rss", 301)
    results = {r.podcast_id: r for r in run(refresh_many(library, settings))}
    assert results[good.id].status == "not-modified"
    assert results[bad.id].status == "error"
    assert library.podcast(bad.id).status == "error" and "/bad.rss" in library.podcast(bad.id).error


def test_refresh_concurrency_is_bounded(library, settings, server):
    body = rss()
    lock, in_flight, most = threading.Lock(), [0], [0]

    def slow_feed(request):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.15)
        with lock:  # before answering: the client cannot start its next fetch until it has this one
            in_flight[0] -= 1
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    for n in range(6):
        server.handlers[f"/f{n}.rss"] = slow_feed
        library.add_podcast(server.url(f"/f{n}.rss"))
    results = run(refresh_many(library, dataclasses.replace(settings, refresh_concurrency=2)))
    assert [r.status for r in results] == ["updated"] * 6
    assert most[0] == 2

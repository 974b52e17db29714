"""Each directory client against the stub on 127.0.0.1: the documented request, the documented
answer shapes (fields missing, no feedUrl, empty results), and every way a directory fails."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time

import pytest

from earmark.directory import http as directory_http
from earmark.directory import itunes, podcastindex
from earmark.directory.records import SourceError
from tests.directory.conftest import KEY, SECRET
from tests.directory.stub import PI_PREFIX


def run(settings, call):
    async def go():
        async with directory_http.client(settings) as http:
            return await call(http)

    return asyncio.run(go())


# -- Apple -------------------------------------------------------------------------------------------


def test_itunes_search_sends_the_documented_query_and_reads_results(stub, dsettings):
    shows = run(dsettings, lambda h: itunes.search(h, dsettings, "bridges", limit=30, country="GB"))
    [(query, headers)] = stub.requests_to("/search")
    assert query == {"media": ["podcast"], "entity": ["podcast"], "term": ["bridges"], "limit": ["30"], "country": ["gb"]}
    assert headers["user-agent"].startswith("Earmark/")
    titles = [s.title for s in shows]
    assert "Bridges on Apple" not in titles  # no feedUrl: skipped
    weekly = shows[0]
    assert (weekly.feed_url, weekly.author, weekly.episode_count, weekly.itunes_id) == (
        "https://feeds.example.org/bridges.rss", "Ann Engineer", 120, 101)
    assert weekly.artwork == "https://img.example.org/art600.jpg"
    assert weekly.categories == ("Science",)  # Apple's catch-all "Podcasts" genre is dropped
    assert weekly.link == "https://podcasts.apple.com/us/podcast/x/id101"
    tunnels = shows[-1]
    assert tunnels.title == 'Bridges & <b>Tunnels</b><script>alert(1)</script>'  # data, kept as text
    assert tunnels.artwork == "https://img.example.org/art100.jpg"  # no 600 px artwork: the 100 px one
    assert tunnels.episode_count is None and tunnels.categories == ()


def test_itunes_reads_results_with_fields_missing_or_wrong(stub, dsettings):
    stub.raw["/search"] = json.dumps({"resultCount": 5, "results": [
        {"feedUrl": "https://a.example.org/feed"},  # nothing else
        {"collectionName": "No feed", "artistName": "x"},
        {"feedUrl": "javascript:alert(1)", "collectionName": "Bad address"},
        {"feedUrl": "https://b.example.org/feed", "collectionName": 7, "trackCount": "12", "genres": "Science",
         "artworkUrl600": "data:image/png;base64,AAAA", "collectionId": True},
        "not an object",
    ]}).encode()
    shows = run(dsettings, lambda h: itunes.search(h, dsettings, "x"))
    assert [s.feed_url for s in shows] == ["https://a.example.org/feed", "https://b.example.org/feed"]
    assert shows[0].title == "https://a.example.org/feed" and shows[0].author == "" and shows[0].artwork is None
    assert shows[1].title == "https://b.example.org/feed" and shows[1].episode_count == 12
    assert shows[1].artwork is None and shows[1].itunes_id is None


def test_itunes_empty_results(stub, dsettings):
    assert run(dsettings, lambda h: itunes.search(h, dsettings, "nothing matches this")) == []
    stub.raw["/search"] = b'{"resultCount": 0, "results": []}'
    assert run(dsettings, lambda h: itunes.search(h, dsettings, "x")) == []


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "30"}, "limiting requests (HTTP 429) (it asks to wait 30 s)"),
        (503, {}, "down or failing (HTTP 503)"),
        (500, {}, "down or failing (HTTP 500)"),
        (404, {}, "answered HTTP 404"),
    ],
)
def test_itunes_error_statuses_say_what_happened(stub, dsettings, status, headers, expected):
    stub.fail("/search", status, headers=headers)
    with pytest.raises(SourceError, match="Apple Podcasts") as caught:
        run(dsettings, lambda h: itunes.search(h, dsettings, "bridges"))
    assert expected in str(caught.value)


def test_itunes_answer_that_is_not_json(stub, dsettings):
    stub.raw["/search"] = b"<html>maintenance</html>"
    with pytest.raises(SourceError, match="not JSON"):
        run(dsettings, lambda h: itunes.search(h, dsettings, "bridges"))
    stub.raw["/search"] = b'{"results": {"not": "a list"}}'
    with pytest.raises(SourceError, match="without a list"):
        run(dsettings, lambda h: itunes.search(h, dsettings, "bridges"))


def test_itunes_times_out(stub, dsettings):
    stub.delay = 1.0
    quick = dataclasses.replace(dsettings, directory_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out after 0.2 s"):
        run(quick, lambda h: itunes.search(h, quick, "bridges"))
    assert time.monotonic() - started < 1.0


def test_itunes_offline(dsettings):
    dead = dataclasses.replace(dsettings, itunes_base_url="http://127.0.0.1:1")
    with pytest.raises(SourceError, match=r"Apple Podcasts cannot be reached \(offline\?\).*connection refused"):
        run(dead, lambda h: itunes.search(h, dead, "bridges"))


def test_itunes_lookup_and_top_chart(stub, dsettings):
    shows = run(dsettings, lambda h: itunes.lookup(h, dsettings, [103, 102, 101]))
    assert [s.itunes_id for s in shows] == [103, 101]  # asked order; 102 has no feed
    assert stub.requests_to("/lookup")[0][0]["id"] == ["103,102,101"]
    top = run(dsettings, lambda h: itunes.top(h, dsettings, genre=1533, limit=5))
    assert [s.itunes_id for s in top] == [101, 103]
    assert [p for p, _, _ in stub.log if "/rss/" in p] == ["/us/rss/toppodcasts/limit=5/genre=1533/json"]


def test_itunes_chart_of_one_entry_and_without_entries(stub, dsettings):
    one = {"feed": {"entry": {"id": {"label": "x", "attributes": {"im:id": "101"}}}}}
    assert itunes.chart_ids(one) == [101]
    assert itunes.chart_ids({"feed": {"entry": [{"id": {}}, {"id": {"attributes": {"im:id": "7"}}}]}}) == [7]
    with pytest.raises(SourceError, match="without entries"):
        itunes.chart_ids({"feed": {"entry": "x"}})
    assert run(dsettings, lambda h: itunes.lookup(h, dsettings, [])) == []


def test_apple_page_addresses():
    assert itunes.page_id("https://podcasts.apple.com/us/podcast/the-show/id1234567890") == 1234567890
    assert itunes.page_id("https://podcasts.apple.com/gb/podcast/id160904630?i=1000") == 160904630
    assert itunes.page_id("https://example.org/id1234567") is None
    assert itunes.page_id("bridges") is None


# -- Podcast Index -----------------------------------------------------------------------------------


def _check_auth(headers: dict[str, str]) -> None:
    date = headers["x-auth-date"]
    assert headers["x-auth-key"] == KEY
    assert abs(int(date) - time.time()) < 60  # Unix seconds, now
    assert headers["authorization"] == hashlib.sha1((KEY + SECRET + date).encode()).hexdigest()
    assert headers["user-agent"].startswith("Earmark/")


def test_podcastindex_auth_headers_are_the_documented_ones():
    headers = podcastindex.auth_headers("key", "secret", now=1_700_000_000.9)
    assert headers == {"X-Auth-Key": "key", "X-Auth-Date": "1700000000",
                       "Authorization": hashlib.sha1(b"keysecret1700000000").hexdigest()}


def test_podcastindex_search_signs_every_request(stub, dsettings):
    shows = run(dsettings, lambda h: podcastindex.search(h, dsettings, "bridge", limit=20))
    [(query, headers)] = stub.requests_to(PI_PREFIX + "/search/byterm")
    assert query == {"q": ["bridge"], "max": ["20"]}
    _check_auth(headers)
    assert [s.title for s in shows] == ["Bridges Weekly", "Bridge Builders"]
    weekly = shows[0]
    assert weekly.feed_url == "http://www.feeds.example.org/bridges.rss/"
    assert (weekly.podcastindex_id, weekly.itunes_id, weekly.episode_count) == (201, 101, 120)
    assert weekly.categories == ("Science", "Physics") and weekly.description == "All about Bridges Weekly"


def test_podcastindex_trending_and_byfeedurl(stub, dsettings):
    shows = run(dsettings, lambda h: podcastindex.trending(h, dsettings, category="Science", limit=3, lang="en"))
    [(query, headers)] = stub.requests_to(PI_PREFIX + "/podcasts/trending")
    assert query == {"max": ["3"], "cat": ["Science"], "lang": ["en"]}
    _check_auth(headers)
    assert [s.title for s in shows] == ["Bridges Weekly", "Bridge Builders"]
    assert shows[0].episode_count is None  # trending feeds carry no episodeCount
    found = run(dsettings, lambda h: podcastindex.by_feed_url(h, dsettings, "https://builders.example.org/feed"))
    assert found.title == "Bridge Builders"
    _check_auth(stub.requests_to(PI_PREFIX + "/podcasts/byfeedurl")[0][1])
    assert run(dsettings, lambda h: podcastindex.by_feed_url(h, dsettings, "https://nope.example.org/")) is None


def test_podcastindex_failures(stub, dsettings):
    path = PI_PREFIX + "/search/byterm"
    stub.fail(path, 401, b'{"status":"false","description":"Authorization header invalid"}')
    with pytest.raises(SourceError, match=r"HTTP 401.*check podcastindex_key and podcastindex_secret"):
        run(dsettings, lambda h: podcastindex.search(h, dsettings, "x"))
    stub.fail(path, 429)
    with pytest.raises(SourceError, match="Podcast Index is limiting requests"):
        run(dsettings, lambda h: podcastindex.search(h, dsettings, "x"))
    stub.fail(path, 502)
    with pytest.raises(SourceError, match="Podcast Index is down"):
        run(dsettings, lambda h: podcastindex.search(h, dsettings, "x"))
    del stub.failures[path]
    stub.raw[path] = b'{"status": "false", "description": "Missing required parameter"}'
    with pytest.raises(SourceError, match="Podcast Index: Missing required parameter"):
        run(dsettings, lambda h: podcastindex.search(h, dsettings, "x"))
    stub.raw[path] = b'{"status": "true", "feeds": [], "count": 0}'
    assert run(dsettings, lambda h: podcastindex.search(h, dsettings, "x")) == []
    stub.raw[path] = b'{"status": "true", "feeds": [{"title": "no url"}, {"url": "ftp://x/"}, {"url": "https://ok.example/f"}]}'
    assert [s.feed_url for s in run(dsettings, lambda h: podcastindex.search(h, dsettings, "x"))] == ["https://ok.example/f"]


def test_podcastindex_without_a_key_is_not_asked(stub, dsettings):
    bare = dataclasses.replace(dsettings, podcastindex_secret=None)
    assert not podcastindex.configured(bare)
    with pytest.raises(SourceError, match="set podcastindex_key and podcastindex_secret"):
        run(bare, lambda h: podcastindex.search(h, bare, "x"))
    assert stub.log == []

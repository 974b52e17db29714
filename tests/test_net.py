"""The outbound request policy and capped reads (earmark/net.py), against real servers on 127.0.0.1:
private and loopback addresses refused when the policy is on (after name resolution, on every
redirect hop, in IPv6 and IPv4-mapped forms), the server's own port never fetched, bodies stopped
at their cap without being read whole, and bad addresses turned into the caller's error."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
import tracemalloc

import httpx
import pytest

from earmark import net
from earmark.downloads import download_episode
from earmark.errors import ChaptersError, DownloadError, FeedError, TranscriptError
from earmark.feeds.refresh import subscribe
from earmark.jobs import publisher
from earmark.models import ChaptersLink, Episode, TranscriptLink
from earmark.transcripts.publisher_chapters import fetch_chapters_json, publisher_chapters
from tests.downloads.test_fetcher import one_episode, subscribe_to
from tests.loopback import LoopbackServer


@pytest.fixture
def own():
    """A second server standing in for Earmark's own (its port is registered as the server's)."""
    srv = LoopbackServer()
    yield srv
    srv.close()


def port_of(srv: LoopbackServer) -> int:
    return httpx.URL(srv.base).port


@pytest.fixture
def blocking(settings):
    return dataclasses.replace(settings, block_private_hosts=True)


@pytest.fixture
def resolver(monkeypatch):
    """Names the test makes up, resolved to the addresses it says (a hosts file for the policy)."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(net.socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.9", "192.168.1.20", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.251", "240.0.0.1", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1", "fc00::5",
    "ff02::1", "::", "2002:a00:1::",  # 6to4 wrapping 10.0.0.1
])
def test_private_and_special_addresses_are_refused(address):
    policy = net.Policy(block_private=True, own_ports=())
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(net.RefusedAddress, match="refused"):
        policy.resolve(httpx.URL(f"http://{host}/feed.rss"))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_addresses_pass_and_are_pinned(address):
    host = f"[{address}]" if ":" in address else address
    assert net.Policy(block_private=True, own_ports=()).resolve(httpx.URL(f"https://{host}/x")) == \
        str(ipaddress.ip_address(address))


def test_only_http_and_https():
    for url in ("file:///etc/passwd", "ftp://example.org/a.mp3", "gopher://example.org/"):
        with pytest.raises(net.RefusedAddress, match="only http"):
            net.Policy(block_private=False, own_ports=()).resolve(httpx.URL(url))


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(blocking, library, resolver, server):
    resolver["feeds.internal.test"] = "10.0.0.5"
    with pytest.raises(FeedError, match=r"feeds.internal.test is a private address \(10.0.0.5\); refused"):
        asyncio.run(subscribe(library, blocking, "http://feeds.internal.test/feed.rss"))
    assert library.podcasts() == []
    resolver["meta.test"] = "169.254.169.254"
    with pytest.raises(FeedError, match="link-local"):
        asyncio.run(subscribe(library, blocking, "http://meta.test/latest/meta-data/"))
    resolver["v6.test"] = "::ffff:127.0.0.1"
    with pytest.raises(FeedError, match="loopback"):
        asyncio.run(subscribe(library, blocking, "http://v6.test/feed.rss"))


def test_loopback_feeds_load_when_the_policy_is_off(settings, library, server):
    """The default on 127.0.0.1: a local feed is the user's own business."""
    assert settings.block_private_hosts is None
    server.add("/feed.rss", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title></channel></rss>')
    podcast, _ = asyncio.run(subscribe(library, settings, server.url("/feed.rss")))
    assert podcast.title == "Local"


def test_every_redirect_hop_is_checked(settings, library, server, own, monkeypatch):
    """A feed that redirects to the server's own port: refused at the hop, and the target never
    sees a request."""
    own.add("/api/v1/opml", b"<opml/>", content_type="application/xml")
    server.redirect("/feed.rss", own.url("/api/v1/opml"), status=302)
    monkeypatch.setattr(net, "_own_ports", {port_of(own)})
    with pytest.raises(FeedError, match=f"127.0.0.1:{port_of(own)} is this Earmark server itself; refused"):
        asyncio.run(subscribe(library, settings, server.url("/feed.rss")))
    assert server.requests_to("/feed.rss") and not own.requests_to("/api/v1/opml")


def test_an_enclosure_at_the_servers_own_api_is_not_downloaded(settings, library, server, own, monkeypatch):
    own.add("/api/v1/opml", b"<opml/>", content_type="audio/mpeg")  # even if it claimed to be audio
    ids = subscribe_to(library, settings, server, [{"guid": "e1", "title": "Own", "url": own.url("/api/v1/opml")}])
    monkeypatch.setattr(net, "_own_ports", {port_of(own)})
    with pytest.raises(DownloadError, match="is this Earmark server itself"):
        asyncio.run(download_episode(library, settings, ids["e1"]))
    assert not own.requests_to("/api/v1/opml") and library.download(ids["e1"]) is None


@pytest.mark.parametrize("content_type, body", [
    ("text/html; charset=utf-8", b"<html><body>Sign in to the hotel wifi</body></html>"),
    ("application/json", b'{"error": "no such file"}'),
    ("text/x-opml", b"<opml version='2.0'/>"),
    ("application/octet-stream", b'  <?xml version="1.0"?><opml/>'),  # the bytes say what the type does not
    ("audio/mpeg", b'\xef\xbb\xbf{"items": []}'),
])
def test_a_document_is_not_taken_for_audio(settings, library, server, content_type, body):
    server.add("/ep.mp3", body, content_type=content_type)
    ids = subscribe_to(library, settings, server, [{"guid": "e1", "title": "Not audio", "path": "/ep.mp3"}])
    with pytest.raises(DownloadError, match="not audio"):
        asyncio.run(download_episode(library, settings, ids["e1"]))
    assert library.download(ids["e1"]) is None
    assert not list(settings.downloads_dir.rglob("*.mp3"))


def test_real_audio_still_downloads(settings, library, server):
    episode_id = one_episode(library, settings, server)
    assert asyncio.run(download_episode(library, settings, episode_id)).size == 128 * 1024


def _transcript_episode(url: str) -> Episode:
    return Episode(guid="t", title="T", transcripts=[TranscriptLink(url=url, type="text/vtt")])


def test_a_huge_transcript_is_stopped_at_the_cap_not_read_whole(settings, server, monkeypatch):
    monkeypatch.setattr(publisher, "MAX_TRANSCRIPT_BYTES", 1024 * 1024)
    big = b"WEBVTT\n\n" + b"00:00.000 --> 00:01.000\nwords words words\n\n" * 600_000  # ~27 MB
    server.add("/big.vtt", big, content_type="text/vtt", send_length=False)  # no length: only the stream tells
    server.add("/declared.vtt", big, content_type="text/vtt")
    tracemalloc.start()
    try:
        result = publisher.publisher_transcript(_transcript_episode(server.url("/big.vtt")), settings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.transcript is None
    assert result.problems == [f"{server.url('/big.vtt')}: the transcript is larger than 1,048,576 bytes; refused"]
    assert peak < 8 * 1024 * 1024, f"{peak:,} bytes held while refusing a {len(big):,}-byte body"
    result = publisher.publisher_transcript(_transcript_episode(server.url("/declared.vtt")), settings)
    assert "over the limit of 1,048,576" in result.problems[0]


def test_chapters_are_capped_too(settings, server, monkeypatch):
    from earmark.transcripts import publisher_chapters as chapters

    monkeypatch.setattr(chapters, "MAX_CHAPTERS_BYTES", 64 * 1024)
    server.add("/ch.json", b'{"version": "1.2.0", "chapters": [' + b'{"startTime": 1, "title": "x"},' * 20_000
               + b'{"startTime": 2}]}', content_type="application/json+chapters", send_length=False)
    with pytest.raises(ChaptersError, match="larger than 65,536 bytes"):
        fetch_chapters_json(server.url("/ch.json"), settings)


@pytest.mark.parametrize("url", ["http://127.0.0.1/ch\x07.json", "http://exa mple.org/ch.json", "http://[::1/ch.json",
                                 "http://127.0.0.1:99999/ch.json", "javascript:alert(1)"])
def test_a_broken_chapters_address_is_a_chapters_error(settings, url):
    with pytest.raises(ChaptersError):
        fetch_chapters_json(url, settings)
    # …so the next source (the show notes' timestamps) is used, and the job goes on.
    episode = Episode(guid="c", title="C", chapters_link=ChaptersLink(url=url, type="application/json+chapters"),
                      description="00:00 Hello\n05:00 The middle\n10:00 Goodbye", duration=900)
    found = publisher_chapters(episode, settings)
    assert found is not None and found.origin == "show-notes" and len(found.chapters) == 3


def test_a_broken_transcript_address_is_a_transcript_problem(settings):
    result = publisher.publisher_transcript(_transcript_episode("http://127.0.0.1/t\x00.vtt"), settings)
    assert result.transcript is None and "not a valid address" in result.problems[0]
    with pytest.raises(TranscriptError):
        publisher._fetch(net.client(settings), TranscriptLink(url="http://[::1/x", type="text/vtt"), settings)


def test_service_clients_cap_the_answer_and_keep_the_settings(settings):
    # streamed, as a real server's answer is (a bytes body would be read before the cap sees it)
    big = httpx.MockTransport(lambda request: httpx.Response(200, content=iter([b"x" * 1000] * 5)))
    with net.service_client(settings, max_bytes=4096, transport=big, headers={"X-Key": "k"}) as http:
        assert http.headers["User-Agent"] == settings.user_agent and http.headers["X-Key"] == "k"
        assert http.max_redirects == settings.max_redirects and not http.follow_redirects
        with pytest.raises(net.AnswerTooLarge, match="over 4,096 bytes"):
            http.get("http://service.example/answer")
    with net.service_client(settings, max_bytes=5000, transport=big) as http:
        assert len(http.get("http://service.example/answer").content) == 5000

    async def fetch(limit: int) -> int:
        async def body():
            for _ in range(5):
                yield b"y" * 1000

        answer = httpx.MockTransport(lambda request: httpx.Response(200, content=body()))
        async with net.async_service_client(settings, max_bytes=limit, transport=answer) as http:
            return len((await http.get("http://service.example/answer")).content)

    assert asyncio.run(fetch(5000)) == 5000
    with pytest.raises(net.AnswerTooLarge):
        asyncio.run(fetch(4999))

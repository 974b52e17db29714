"""Episode downloads against the real loopback HTTP server: resume, restart, length checks, errors,
safe file names, the concurrency limit, deletion and the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from typer.testing import CliRunner

from earmark.downloads import delete_download, download_episode, download_many, episode_path
from earmark.downloads.fetcher import extension, slugify
from earmark.errors import DownloadError
from earmark.feeds.refresh import refresh_many, subscribe

BODY = hashlib.sha256(b"seed").digest() * 4096  # 128 KiB, no repeating 64 KiB window


def publish(server, items: list[dict]) -> str:
    """Serve an RSS feed at /feed.rss with one item per dict (guid, title, path or url, length, type)."""
    parts = []
    for item in items:
        enclosure = ""
        if "path" in item or "url" in item:
            url = item.get("url") or server.url(item["path"])
            length = item.get("length", "")
            kind = item.get("type", "audio/mpeg")
            enclosure = f"<enclosure url={quoteattr(url)} length={quoteattr(str(length))} type={quoteattr(kind)}/>"
        guid, title = escape(item["guid"]), escape(item["title"])
        parts.append(f"<item><guid>{guid}</guid><title>{title}</title>{enclosure}</item>")
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title>{"".join(parts)}</channel></rss>'
    server.add("/feed.rss", feed.encode())
    return server.url("/feed.rss")


def subscribe_to(library, settings, server, items: list[dict]) -> dict[str, int]:
    """Subscribe to a feed of ``items``; returns episode ids by guid."""
    podcast, _ = asyncio.run(subscribe(library, settings, publish(server, items)))
    # podcastparser resolves a GUID like a link ("e1" → "http://host/e1"): key by its last segment.
    return {e.guid.rsplit("/", 1)[-1]: e.id for e in library.episodes(podcast.id)}


def one_episode(library, settings, server, path="/ep.mp3", body=BODY, title="Episode one", **options) -> int:
    length = options.pop("feed_length", len(body))
    server.add(path, body, content_type="audio/mpeg", **options)
    item = {"guid": "e1", "title": title, "path": path, "length": length}
    return subscribe_to(library, settings, server, [item])["e1"]


def download(library, settings, episode_id, **kwargs):
    return asyncio.run(download_episode(library, settings, episode_id, **kwargs))


def media_requests(server, path="/ep.mp3"):
    return server.requests_to(path)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def part_of(path: Path) -> Path:
    return path.with_name(path.name + ".part")


# -- plain download ---------------------------------------------------------------------------


def test_plain_download_records_verified_file(library, settings, server):
    episode_id = one_episode(library, settings, server)
    seen = []
    record = download(library, settings, episode_id, progress=lambda done, total: seen.append((done, total)))
    path = Path(record.path)
    assert path.read_bytes() == BODY
    assert record.size == len(BODY)
    assert path.parent == settings.downloads_dir / str(library.episode(episode_id).podcast_id)
    assert path.name == f"{episode_id}-Episode-one.mp3"
    assert not part_of(path).exists() and not path.with_name(path.name + ".part.json").exists()
    assert library.download(episode_id).path == str(path)
    assert seen[-1] == (len(BODY), len(BODY))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    [request] = media_requests(server)
    assert "range" not in request.headers
    assert request.headers["accept-encoding"] == "identity"


def test_already_downloaded_needs_no_network(library, settings, server):
    episode_id = one_episode(library, settings, server)
    first = download(library, settings, episode_id)
    again = download(library, settings, episode_id)
    assert again == first
    assert len(media_requests(server)) == 1


def test_record_whose_file_vanished_downloads_again(library, settings, server):
    episode_id = one_episode(library, settings, server)
    Path(download(library, settings, episode_id).path).unlink()
    record = download(library, settings, episode_id)
    assert Path(record.path).read_bytes() == BODY
    assert len(media_requests(server)) == 2


# -- interrupted downloads ------------------------------------------------------------------


def test_dropped_connection_then_resume_with_range(library, settings, server):
    cut = 50_000
    episode_id = one_episode(library, settings, server, drop_after=cut)
    with pytest.raises(DownloadError, match="closed the connection") as info:
        download(library, settings, episode_id)
    assert "resume" in str(info.value)
    final = episode_path(settings, library.episode(episode_id))
    assert part_of(final).read_bytes() == BODY[:cut]
    assert not final.exists() and library.download(episode_id) is None

    record = download(library, settings, episode_id)
    first, second = media_requests(server)
    assert second.headers["range"] == f"bytes={cut}-"
    assert second.headers["if-range"] == server.resources["/ep.mp3"].etag_value
    assert second.status == 206
    assert Path(record.path).read_bytes() == BODY
    assert record.size == len(BODY)
    assert not part_of(final).exists()


def test_resume_uses_last_modified_when_there_is_no_etag(library, settings, server):
    episode_id = one_episode(library, settings, server, drop_after=10_000, etag=False)
    with pytest.raises(DownloadError):
        download(library, settings, episode_id)
    record = download(library, settings, episode_id)
    second = media_requests(server)[1]
    assert second.headers["if-range"] == server.resources["/ep.mp3"].last_modified_value
    assert Path(record.path).read_bytes() == BODY


def test_server_without_range_support_restarts_from_zero(library, settings, server):
    episode_id = one_episode(library, settings, server, drop_after=30_000, ranges=False)
    with pytest.raises(DownloadError):
        download(library, settings, episode_id)
    record = download(library, settings, episode_id)
    second = media_requests(server)[1]
    assert second.headers["range"] == "bytes=30000-" and second.status == 200
    assert Path(record.path).read_bytes() == BODY  # truncated, not appended to the old 30,000 bytes


def test_changed_file_with_if_range_is_fetched_whole(library, settings, server):
    episode_id = one_episode(library, settings, server, drop_after=20_000, if_range=True)
    with pytest.raises(DownloadError):
        download(library, settings, episode_id)
    new_body = BODY[::-1]  # same length: only the validator can tell them apart
    server.resources["/ep.mp3"].body = new_body
    record = download(library, settings, episode_id)
    second = media_requests(server)[1]
    assert second.headers["range"] == "bytes=20000-" and second.status == 200
    assert Path(record.path).read_bytes() == new_body


def test_changed_length_without_if_range_restarts(library, settings, server):
    # The server ignores If-Range; the total differs from the one seen before, so no splicing.
    episode_id = one_episode(library, settings, server, drop_after=20_000)
    with pytest.raises(DownloadError):
        download(library, settings, episode_id)
    new_body = b"x" * 70_000
    server.resources["/ep.mp3"].body = new_body
    record = download(library, settings, episode_id)
    statuses = [(r.headers.get("range"), r.status) for r in media_requests(server)]
    assert statuses[1:] == [("bytes=20000-", 206), (None, 200)]
    assert Path(record.path).read_bytes() == new_body


def test_oversized_part_gets_416_and_restarts(library, settings, server):
    episode_id = one_episode(library, settings, server)
    final = episode_path(settings, library.episode(episode_id))
    final.parent.mkdir(parents=True)
    part_of(final).write_bytes(b"stale" * 40_000)  # longer than the file: the server answers 416
    record = download(library, settings, episode_id)
    statuses = [(r.headers.get("range"), r.status) for r in media_requests(server)]
    assert statuses == [("bytes=200000-", 416), (None, 200)]
    assert Path(record.path).read_bytes() == BODY


def test_moved_enclosure_does_not_resume_old_part(library, settings, server):
    server.add("/old.mp3", b"o" * 60_000, content_type="audio/mpeg", drop_after=25_000)
    ids = subscribe_to(library, settings, server, [{"guid": "e1", "title": "Ep", "path": "/old.mp3", "length": 60_000}])
    with pytest.raises(DownloadError):
        download(library, settings, ids["e1"])
    server.add("/new.mp3", BODY, content_type="audio/mpeg")
    publish(server, [{"guid": "e1", "title": "Ep", "path": "/new.mp3", "length": len(BODY)}])
    asyncio.run(refresh_many(library, settings))
    record = download(library, settings, ids["e1"])
    [request] = media_requests(server, "/new.mp3")
    assert "range" not in request.headers
    assert Path(record.path).read_bytes() == BODY


# -- length checks --------------------------------------------------------------------------


def test_no_content_length_and_wrong_feed_length_is_an_error(library, settings, server):
    episode_id = one_episode(library, settings, server, send_length=False, feed_length=len(BODY) + 1000)
    with pytest.raises(DownloadError, match=f"{len(BODY):,} of {len(BODY) + 1000:,} bytes"):
        download(library, settings, episode_id)
    final = episode_path(settings, library.episode(episode_id))
    assert library.download(episode_id) is None
    assert not final.exists()
    assert part_of(final).exists()  # kept as .part, never renamed


def test_no_content_length_and_longer_body_than_feed_is_an_error(library, settings, server):
    episode_id = one_episode(library, settings, server, send_length=False, feed_length=1000)
    with pytest.raises(DownloadError, match="more than the expected 1,000 bytes"):
        download(library, settings, episode_id)
    assert library.download(episode_id) is None
    assert not episode_path(settings, library.episode(episode_id)).exists()


def test_no_content_length_and_right_feed_length_succeeds(library, settings, server):
    episode_id = one_episode(library, settings, server, send_length=False)
    record = download(library, settings, episode_id)
    assert Path(record.path).read_bytes() == BODY


def test_server_length_wins_over_wrong_feed_length(library, settings, server):
    episode_id = one_episode(library, settings, server, feed_length=12345)
    assert Path(download(library, settings, episode_id).path).read_bytes() == BODY


# -- errors -------------------------------------------------------------------------------------


def test_404_is_a_download_error(library, settings, server):
    episode_id = one_episode(library, settings, server, status=404)
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(library, settings, episode_id)
    assert library.download(episode_id) is None
    assert not episode_path(settings, library.episode(episode_id)).exists()


def test_dead_host_is_a_download_error(library, settings, server):
    url = f"http://127.0.0.1:{unused_port()}/ep.mp3"
    ids = subscribe_to(library, settings, server, [{"guid": "e1", "title": "Ep", "url": url, "length": 10}])
    with pytest.raises(DownloadError, match="cannot connect") as info:
        download(library, settings, ids["e1"])
    assert "\n" not in str(info.value)
    assert library.download(ids["e1"]) is None


def test_timeout_is_a_download_error(library, settings, server):
    settings = dataclasses.replace(settings, http_timeout=0.3)
    episode_id = one_episode(library, settings, server, delay=1.0)
    with pytest.raises(DownloadError, match="timed out"):
        download(library, settings, episode_id)
    assert library.download(episode_id) is None


def test_episode_without_enclosure(library, settings, server):
    ids = subscribe_to(library, settings, server, [{"guid": "e1", "title": "Words only"}])
    with pytest.raises(DownloadError, match="no audio"):
        download(library, settings, ids["e1"])
    assert [r for r in server.log if r.path != "/feed.rss"] == []


# -- file names -----------------------------------------------------------------------------


def test_traversal_titles_and_urls_stay_inside_downloads_dir(library, settings, server):
    items = [
        {"guid": "a", "title": "../../etc/passwd", "path": "/..%2F..%2Fx.mp3"},
        {"guid": "b", "title": "..\\..\\boot.ini", "path": "/a/b/%2e%2e%2F%2e%2e%2Fevil"},
        {"guid": "c", "title": "/abs/path", "path": "/c.mp3/..%2f..%2f..%2fetc%2fpasswd"},
        {"guid": "d", "title": "Ünïcödé 🎧 " * 40, "path": "/d.M4A"},
    ]
    for item in items:
        server.add(item["path"], BODY, content_type="audio/mpeg")
        item["length"] = len(BODY)
    ids = subscribe_to(library, settings, server, items)
    root = settings.downloads_dir.resolve()
    names = {}
    for guid, episode_id in ids.items():
        record = download(library, settings, episode_id)
        path = Path(record.path).resolve()
        assert path.parent.parent == root, path
        assert path.read_bytes() == BODY
        names[guid] = path.name
    assert names["a"] == f"{ids['a']}-etc-passwd.mp3"
    assert names["b"] == f"{ids['b']}-boot-ini.mp3"  # no usable suffix in the URL: from the MIME type
    assert names["c"] == f"{ids['c']}-abs-path.mp3"
    assert names["d"].startswith(f"{ids['d']}-Ünïcödé-Ünïcödé") and names["d"].endswith(".m4a")
    assert len((names["d"] + ".part.json").encode()) <= 255
    written = [p for p in settings.home.rglob("*") if p.is_file() and not p.name.startswith("library.sqlite3")]
    assert sorted(p.name for p in written) == sorted(names.values())


def test_slug_and_extension_rules():
    assert slugify("Hello, World! #12: Part/2") == "Hello-World-12-Part-2"
    assert slugify("....") == "episode"
    assert len(slugify("a" * 500)) == 80
    assert extension("https://cdn.example/x/ep.MP3?token=1", None) == ".mp3"
    assert extension("https://cdn.example/download.php?id=4", "audio/x-m4a") == ".m4a"
    assert extension("https://cdn.example/ep", "audio/ogg; codecs=opus") == ".ogg"
    assert extension("https://cdn.example/ep", "application/octet-stream") == ".mp3"
    assert extension("https://cdn.example/ep.exe%2F..%2F.sh", None) == ".mp3"


# -- several at once --------------------------------------------------------------------------


def test_download_many_honours_concurrency_limit(library, settings, server):
    settings = dataclasses.replace(settings, download_concurrency=2)
    lock = threading.Lock()
    active = peak = 0

    def slow(req):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.25)
        with lock:
            active -= 1
        body = req.path.encode() * 100
        req.send_response(200)
        req.send_header("Content-Type", "audio/mpeg")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    items = []
    for n in range(5):
        path = f"/slow{n}.mp3"
        server.handlers[path] = slow
        items.append({"guid": f"g{n}", "title": f"Slow {n}", "path": path, "length": len(path) * 100})
    items.append({"guid": "missing", "title": "Gone", "path": "/missing.mp3", "length": 5})
    ids = subscribe_to(library, settings, server, items)
    seen = set()
    results = asyncio.run(download_many(library, settings, ids.values(), progress=lambda i, d, t: seen.add(i)))
    assert peak == 2  # parallel, but never more than the limit
    by_id = {r.episode_id: r for r in results}
    assert "HTTP 404" in by_id[ids["missing"]].error and by_id[ids["missing"]].download is None
    for n in range(5):
        result = by_id[ids[f"g{n}"]]
        assert result.error is None
        assert Path(result.download.path).read_bytes() == f"/slow{n}.mp3".encode() * 100
    assert seen == {ids[f"g{n}"] for n in range(5)}


# -- delete ---------------------------------------------------------------------------------------


def test_delete_removes_file_and_record(library, settings, server):
    episode_id = one_episode(library, settings, server)
    path = Path(download(library, settings, episode_id).path)
    assert delete_download(library, settings, episode_id) is True
    assert not path.exists()
    assert library.download(episode_id) is None
    assert delete_download(library, settings, episode_id) is False


def test_delete_removes_partial_download(library, settings, server):
    episode_id = one_episode(library, settings, server, drop_after=1000)
    with pytest.raises(DownloadError):
        download(library, settings, episode_id)
    final = episode_path(settings, library.episode(episode_id))
    assert part_of(final).exists()
    assert delete_download(library, settings, episode_id) is True
    assert list(final.parent.iterdir()) == []


# -- CLI --------------------------------------------------------------------------------------------


def test_cli_download_and_delete(library, settings, server):
    from earmark.cli.app import app

    episode_id = one_episode(library, settings, server, title="[Bonus] Episode")
    runner = CliRunner()
    result = runner.invoke(app, ["download", str(episode_id), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["episode_id"] == episode_id and record["size"] == len(BODY)
    assert Path(record["path"]).read_bytes() == BODY

    result = runner.invoke(app, ["download", str(episode_id)])
    assert result.exit_code == 0, result.output
    assert "Already downloaded" in result.stdout
    assert len(media_requests(server)) == 1

    result = runner.invoke(app, ["download", str(episode_id), "--delete"])
    assert result.exit_code == 0, result.output
    assert "Deleted the download of [Bonus] Episode" in result.stdout
    assert not Path(record["path"]).exists()
    assert library.download(episode_id) is None


def test_cli_download_shows_progress_and_errors(library, settings, server):
    from earmark.cli.app import app

    server.add("/ep.mp3", BODY, content_type="audio/mpeg")
    ids = subscribe_to(
        library,
        settings,
        server,
        [
            {"guid": "ok", "title": "Fine", "path": "/ep.mp3", "length": len(BODY)},
            {"guid": "gone", "title": "Gone", "path": "/gone.mp3", "length": 10},
        ],
    )
    runner = CliRunner()
    result = runner.invoke(app, ["download", str(ids["ok"])])
    assert result.exit_code == 0, result.output
    assert "Downloaded Fine" in result.stdout and f"({len(BODY):,} bytes)" in result.stdout

    result = runner.invoke(app, ["download", str(ids["gone"])])
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "HTTP 404" in result.stderr
    assert library.download(ids["gone"]) is None

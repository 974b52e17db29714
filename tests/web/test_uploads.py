"""POST /api/v1/uploads against `earmark serve`'s app under uvicorn on 127.0.0.1 and a real SQLite
library: every accepted format (checked by decoding), tags and cover art, refused input (not audio,
truncated, over the limit while streaming), an interrupted upload that leaves nothing, and the
uploaded episode going through the usual pipeline."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from earmark.config import Settings
from earmark.jobs import Pipeline
from earmark.web.app import create_app
from tests.ai.fakes import valid_answer
from tests.uploads_media import DATE, FORMATS, TITLE, cover_png, mp3, truncated_mp3
from tests.web.conftest import serving


@pytest.fixture
def make_live(tmp_path, monkeypatch, fake_llm):
    """Start the app under uvicorn with the given settings; yields (url, app)."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    fake_llm.reset(default=valid_answer)
    stack = []

    def start(**overrides):
        settings = Settings.load(http_timeout=5.0, asr_engine="fake", llm_engine="fake", semantic_index=False, **overrides)
        app = create_app(settings)
        cm = serving(app)
        url = cm.__enter__()
        stack.append(cm)
        return url, app

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


def _upload(url: str, name: str, data, **params) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/uploads", params={"filename": name, **params}, content=data, timeout=30)


def _leftovers(app) -> list[Path]:
    """Files in the downloads folder: temp files of uploads and anything not recorded."""
    root = app.state.settings.downloads_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _episode_count(app) -> int:
    return app.state.library.conn.execute("SELECT count(*) FROM episodes").fetchone()[0]


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_becomes_an_episode_with_its_tags(make_live, name):
    url, app = make_live()
    make, mime, tagged = FORMATS[name]
    response = _upload(url, name, make())
    assert response.status_code == 201, response.text
    body = response.json()
    episode, podcast = body["episode"], body["podcast"]
    assert body["created"] is True
    assert podcast["title"] == "My uploads" and podcast["kind"] == "uploads" and podcast["status"] == "ok"
    assert episode["podcast_id"] == podcast["id"] and episode["downloaded"] and episode["download"]["downloaded"]
    assert episode["enclosure_type"] == mime and episode["enclosure_url"] is None
    assert episode["duration"] == 6
    if name == "talk.aac":  # no tags: the file's name and the upload's day
        assert episode["title"] == "talk"
    else:
        assert episode["title"] == TITLE and episode["published"].startswith(DATE)
    if tagged:
        assert episode["image"].startswith("earmark-artwork:")
        art = httpx.get(f"{url}/artwork/episode/{episode['id']}?size=96")
        assert art.status_code == 200 and art.headers["content-type"].startswith("image/")
    # The audio is served from the library, as a download is.
    audio = httpx.get(f"{url}{episode['audio_url']}")
    assert audio.status_code == 200 and audio.headers["content-type"].startswith(mime)
    [record] = [p for p in _leftovers(app) if p.parent.name == str(podcast["id"])]
    assert record.suffix == Path(name).suffix and record.stat().st_size == episode["enclosure_length"] == len(audio.content)


def test_same_file_twice_gives_the_same_episode_and_named_podcasts(make_live):
    url, app = make_live()
    data = mp3()
    first = _upload(url, "a.mp3", data).json()
    again = _upload(url, "copy.mp3", data)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["episode"]["id"] == first["episode"]["id"]
    other = _upload(url, "a.mp3", data, podcast="Lectures")
    assert other.status_code == 201 and other.json()["podcast"]["title"] == "Lectures"
    assert other.json()["podcast"]["id"] != first["podcast"]["id"]
    assert _upload(url, "b.mp3", data, podcast="lectures").json()["podcast"]["id"] == other.json()["podcast"]["id"]
    assert _episode_count(app) == 2
    assert len([p for p in _leftovers(app) if ".uploads" in p.parts]) == 0


def test_chapters_from_the_tags_and_the_usual_pipeline(make_live):
    url, app = make_live()
    episode = _upload(url, "talk.mp3", mp3()).json()["episode"]
    assert [c["title"] for c in episode["chapters"]] == ["Intro", "Main part"]
    assert httpx.post(f"{url}/api/v1/episodes/{episode['id']}/process").status_code == 202
    Pipeline(app.state.library, app.state.settings).run_until_empty()
    [job] = httpx.get(f"{url}/api/v1/jobs").json()
    stages = {s["name"]: s for s in job["stages"]}
    assert stages["download"]["state"] == "done" and stages["transcript"]["state"] == "done"
    transcript = httpx.get(f"{url}/api/v1/episodes/{episode['id']}/transcript").json()
    assert transcript["total"] > 0 and transcript["source"] != "publisher"
    chapters = httpx.get(f"{url}/api/v1/episodes/{episode['id']}/chapters").json()
    assert [c["title"] for c in chapters["chapters"]] == ["Intro", "Main part"]


def test_not_audio_empty_and_truncated_files_are_refused(make_live):
    url, app = make_live()
    for name, data, message in [
        ("song.mp3", b"<html><body>not audio at all</body></html>" * 50, "song.mp3: not a readable audio file"),
        ("cover.mp3", cover_png(), "song"),
        ("empty.mp3", b"", "empty.mp3: the file is empty"),
        ("cut.mp3", truncated_mp3(), "cut.mp3: the audio file is truncated: it stops at about"),
    ]:
        response = _upload(url, name, data)
        assert response.status_code == 422, (name, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_audio"
        if name != "cover.mp3":
            assert message in error["message"]
        else:
            assert error["message"].startswith("cover.mp3: ")
    assert _episode_count(app) == 0 and _leftovers(app) == []
    missing = httpx.post(f"{url}/api/v1/uploads", content=mp3())
    assert missing.status_code == 422 and "filename" in missing.json()["error"]["message"]


def test_over_the_limit_is_refused_while_streaming(make_live):
    url, app = make_live(max_upload_bytes=50_000)
    data = mp3(seconds=30)
    assert len(data) > 50_000
    declared = _upload(url, "big.mp3", data)
    assert declared.status_code == 413 and "max_upload_bytes" in declared.json()["error"]["message"]

    def chunks():  # no Content-Length: the limit is found while the body streams in
        for i in range(0, len(data), 8192):
            yield data[i : i + 8192]

    try:
        streamed = httpx.post(f"{url}/api/v1/uploads", params={"filename": "big.mp3"}, content=chunks(), timeout=30)
    except httpx.TransportError:  # the server may answer and close before the client sent everything
        streamed = None
    if streamed is not None:
        assert streamed.status_code == 413 and "upload limit of 50,000 bytes" in streamed.json()["error"]["message"]
    assert _upload(url, "small.mp3", mp3(seconds=2)).status_code == 201
    assert _episode_count(app) == 1
    assert [p for p in _leftovers(app) if ".uploads" in p.parts] == []


def test_an_interrupted_upload_leaves_no_row_and_no_file(make_live):
    url, app = make_live()
    data = mp3(seconds=30)
    part = urlsplit(url)
    temp = app.state.settings.downloads_dir / ".uploads"
    with socket.create_connection((part.hostname, part.port)) as sock:
        head = (
            f"POST /api/v1/uploads?filename=talk.mp3 HTTP/1.1\r\nHost: {part.netloc}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        sock.sendall(head.encode() + data[: len(data) // 2])
        # The bytes are on disk while the body is still arriving (streamed, not held in memory).
        deadline = time.monotonic() + 10
        while not (list(temp.glob("*.part")) and list(temp.glob("*.part"))[0].stat().st_size > 0):
            assert time.monotonic() < deadline, "the upload never reached the disk"
            time.sleep(0.02)
    deadline = time.monotonic() + 10
    while _leftovers(app):
        assert time.monotonic() < deadline, f"left behind: {_leftovers(app)}"
        time.sleep(0.05)
    assert _episode_count(app) == 0
    assert httpx.get(f"{url}/api/v1/podcasts").json() == []  # not even an empty "My uploads"


def test_uploads_podcast_is_not_refreshed_exported_or_cleaned_up(make_live):
    url, app = make_live()
    body = _upload(url, "talk.mp3", mp3()).json()
    podcast_id, episode_id = body["podcast"]["id"], body["episode"]["id"]
    refreshed = httpx.post(f"{url}/api/v1/podcasts/{podcast_id}/refresh")
    assert refreshed.status_code == 200 and refreshed.json()["status"] == "unchanged"
    assert refreshed.json()["podcast"]["status"] == "ok" and refreshed.json()["podcast"]["error"] is None
    from earmark.feeds.refresh import refresh_targets

    assert podcast_id not in refresh_targets(app.state.library)
    assert "earmark:uploads" not in httpx.get(f"{url}/api/v1/opml").text
    library_page = httpx.get(f"{url}/").text
    assert "My uploads" in library_page and f'data-refresh="{podcast_id}"' not in library_page
    assert 'id="upload-zone"' in library_page
    page = httpx.get(f"{url}/podcasts/{podcast_id}")
    assert page.status_code == 200 and TITLE in page.text and 'id="upload-zone"' in page.text

    from earmark.downloads import delete_download
    from earmark.uploads import UploadError

    with pytest.raises(UploadError, match="your own upload"):
        delete_download(app.state.library, app.state.settings, episode_id)
    assert app.state.library.download(episode_id) is not None
    # Removing the podcast itself does delete its files: that is what was asked.
    assert httpx.delete(f"{url}/api/v1/podcasts/{podcast_id}").status_code == 204
    assert _leftovers(app) == []

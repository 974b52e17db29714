"""earmark/uploads.py: tag reading for each format, and the watched folder (a file taken once its
size holds, moved to imported/ or failed/, never imported twice), alone and under `earmark serve`."""

from __future__ import annotations

import dataclasses
import os
import time

import httpx
import pytest

from earmark.uploads import FolderWatcher, clean_temp, new_temp, parse_date, read_tags
from earmark.web.app import create_app
from tests.uploads_media import DATE, FORMATS, TITLE, mp3, opus, wav
from tests.web.conftest import serving


@pytest.mark.parametrize("name", ["talk.mp3", "talk.m4a", "talk.opus", "talk.flac", "talk.wav"])
def test_tags_of_each_format(tmp_path, name):
    make, _, has_cover = FORMATS[name]
    path = tmp_path / name
    path.write_bytes(make())
    tags = read_tags(path)
    assert tags.title == TITLE and tags.date.date().isoformat() == DATE
    assert bool(tags.cover) is has_cover and (tags.cover_type == "image/png" if has_cover else True)
    if name == "talk.mp3":
        assert [(c.start, c.title) for c in tags.chapters] == [(0.0, "Intro"), (3.0, "Main part")]
        assert tags.artist == "Ada Tester" and tags.comment == "Recorded at home."


def test_dates():
    assert parse_date("2019").isoformat() == "2019-01-01T00:00:00+00:00"
    assert parse_date("2019-07-02T10:11:12Z").isoformat() == "2019-07-02T10:11:12+00:00"
    assert parse_date("July 2019") is None and parse_date("2019-13-40") is None and parse_date(None) is None


@pytest.fixture
def watched(settings, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return dataclasses.replace(settings, watch_folder=folder, watch_interval=0.1)


def test_a_file_is_taken_once_its_size_holds(watched, library):
    folder = watched.watch_folder
    watcher = FolderWatcher(watched)
    data = mp3()
    growing = folder / "talk.mp3"
    growing.write_bytes(data[: len(data) // 2])  # a copy under way
    (folder / ".hidden.mp3").write_bytes(data)
    (folder / "song.mp3.part").write_bytes(data)
    assert watcher.scan() == []  # first look: seen, not yet taken
    with open(growing, "ab") as f:
        f.write(data[len(data) // 2 :])
    assert watcher.scan() == []  # it grew: wait another look
    [result] = watcher.scan()
    assert result.created and result.episode.title == TITLE and result.podcast.title == "My uploads"
    assert not growing.exists() and (folder / "imported" / "talk.mp3").read_bytes() == data
    assert {p.name for p in folder.iterdir()} == {"imported", ".hidden.mp3", "song.mp3.part"}

    # The same file dropped again (say, restored from the imported folder): the same episode.
    (folder / "again.mp3").write_bytes(data)
    watcher.scan()
    [again] = watcher.scan()
    assert again.created is False and again.episode.id == result.episode.id
    assert (folder / "imported" / "again.mp3").exists()

    # A file that is not audio goes to failed/ with the reason beside it.
    (folder / "notes.mp3").write_text("not audio\n" * 100)
    watcher.scan()
    assert watcher.scan() == []
    assert (folder / "failed" / "notes.mp3").exists()
    assert "not a readable audio file" in (folder / "failed" / "notes.mp3.error.txt").read_text()
    watcher.stop()
    assert library.conn.execute("SELECT count(*) FROM episodes").fetchone()[0] == 1
    assert sorted(p.name for p in (watched.downloads_dir / ".uploads").iterdir()) == []


def test_serve_watches_the_folder(watched):
    app = create_app(watched, run_jobs=True)
    with serving(app) as url:
        (watched.watch_folder / "voice memo.opus").write_bytes(opus())
        (watched.watch_folder / "take two.wav").write_bytes(wav())
        deadline = time.monotonic() + 20
        while len(list((watched.watch_folder / "imported").glob("*"))) < 2:
            assert time.monotonic() < deadline, "the watched folder was not imported"
            time.sleep(0.1)
        [podcast] = httpx.get(f"{url}/api/v1/podcasts").json()
        assert podcast["kind"] == "uploads" and podcast["episode_count"] == 2


def test_stale_temp_files_are_cleaned(settings):
    old, fresh = new_temp(settings), new_temp(settings)
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    then = time.time() - 7 * 3600
    os.utime(old, (then, then))
    assert clean_temp(settings) == 1
    assert not old.exists() and fresh.exists()

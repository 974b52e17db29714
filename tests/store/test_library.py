"""The SQLite library: migrations, atomic feed saves, cascades and lookups of unknown ids."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

import earmark.store.db as db
from earmark.errors import EarmarkError, NotFound
from earmark.models import Episode, ParsedFeed, Podcast
from earmark.store.library import Library
from earmark.store.schema import MIGRATIONS


def feed(title: str, *episodes: tuple[str, str], **podcast_fields) -> ParsedFeed:
    return ParsedFeed(
        podcast=Podcast(url="http://feeds.test/x", title=title, **podcast_fields),
        episodes=[Episode(guid=guid, title=t, enclosure_url=f"http://feeds.test/{guid}.mp3") for guid, t in episodes],
    )


def save(library: Library, podcast_id: int, parsed: ParsedFeed, url="http://feeds.test/x", **state):
    state = {"etag": '"v1"', "last_modified": None, "content_hash": "h1", **state}
    return library.save_feed(podcast_id, parsed, url=url, **state)


def rows(library: Library, sql: str, *params) -> list[tuple]:
    return [tuple(row) for row in library.conn.execute(sql, params)]


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


# -- migrations ---------------------------------------------------------------------------------


def test_migrations_create_the_schema(tmp_path):
    path = tmp_path / "lib.sqlite3"
    Library(path).close()
    assert user_version(path) == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"podcasts", "episodes", "downloads"} <= tables
    assert journal == "wal"


def test_reopening_runs_only_new_migrations(tmp_path, monkeypatch):
    path = tmp_path / "lib.sqlite3"
    library = Library(path)
    library.add_podcast("http://feeds.test/a")
    library.close()
    # A migration that counts its own runs: reopening twice must run it once, keeping the data.
    monkeypatch.setattr(db, "MIGRATIONS", [*MIGRATIONS, "CREATE TABLE runs (n INTEGER); INSERT INTO runs VALUES (1);"])
    for _ in range(2):
        library = Library(path)
        assert rows(library, "SELECT count(*) FROM runs") == [(1,)]
        assert [p.url for p in library.podcasts()] == ["http://feeds.test/a"]
        library.close()
    assert user_version(path) == len(MIGRATIONS) + 1


def test_a_failing_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "lib.sqlite3"
    Library(path).close()
    monkeypatch.setattr(db, "MIGRATIONS", [*MIGRATIONS, "CREATE TABLE half (n INTEGER);\nSELECT nonsense FROM nowhere;"])
    with pytest.raises(sqlite3.OperationalError):
        Library(path)
    assert user_version(path) == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone()[0] == 0


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "lib.sqlite3"
    Library(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(EarmarkError, match="newer Earmark"):
        Library(path)
    assert user_version(path) == len(MIGRATIONS) + 5  # refused, not touched


def test_two_processes_opening_a_new_library_at_once(tmp_path):
    path = tmp_path / "lib.sqlite3"
    # Hold the write lock so both openers read user_version 0, then queue for the lock.
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("PRAGMA journal_mode=WAL")
    blocker.execute("BEGIN IMMEDIATE")
    errors: list[BaseException] = []

    def open_library():
        try:
            Library(path).close()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_library) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    blocker.execute("ROLLBACK")
    blocker.close()
    for thread in threads:
        thread.join(10)
    assert errors == []  # the second must not re-run migration 1 ("table podcasts already exists")
    assert user_version(path) == len(MIGRATIONS)


# -- podcasts and feeds -------------------------------------------------------------------------


def test_add_podcast_twice_returns_the_same_one(library):
    first, created = library.add_podcast("http://feeds.test/a")
    again, created_again = library.add_podcast("http://feeds.test/a")
    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.status == "new"


def test_save_feed_inserts_updates_and_leaves_unchanged_alone(library):
    podcast, _ = library.add_podcast("http://feeds.test/x")
    assert save(library, podcast.id, feed("Show", ("b", "B"), ("a", "A"))) == (2, 0)
    before = {e.guid: e for e in library.episodes(podcast.id)}
    assert save(library, podcast.id, feed("Show", ("c", "C"), ("b", "B, fixed"), ("a", "A"))) == (1, 1)
    after = {e.guid: e for e in library.episodes(podcast.id)}
    assert after["b"].id == before["b"].id and after["b"].title == "B, fixed"
    assert after["a"].updated_at == before["a"].updated_at
    assert save(library, podcast.id, feed("Show", ("c", "C"), ("b", "B, fixed"), ("a", "A"))) == (0, 0)
    assert rows(library, "SELECT count(*) FROM episodes") == [(3,)]


def test_save_feed_is_atomic(library):
    podcast, _ = library.add_podcast("http://feeds.test/x")
    save(library, podcast.id, feed("Old title", ("b", "B"), ("a", "A"), author="Old author"))
    episodes_before = rows(library, "SELECT * FROM episodes ORDER BY id")
    podcast_before = rows(library, "SELECT * FROM podcasts")

    # New episodes are inserted before changed ones are updated; the bad value sits in an update,
    # so the failure comes after the podcast row and the inserts were already written.
    broken = feed("New title", ("c", "C"), ("b", "B changed"), ("a", "A"), author="New author")
    broken.episodes[1].duration = {"not": "bindable"}  # type: ignore[assignment]
    with pytest.raises(sqlite3.Error):
        save(library, podcast.id, broken, url="http://feeds.test/moved", etag='"v2"', content_hash="h2")

    assert rows(library, "SELECT * FROM episodes ORDER BY id") == episodes_before
    assert rows(library, "SELECT * FROM podcasts") == podcast_before
    # No transaction was left open: the next save works.
    assert save(library, podcast.id, feed("New title", ("c", "C"), ("b", "B"), ("a", "A"))) == (1, 0)
    assert library.podcast(podcast.id).title == "New title"


def test_save_feed_rolls_back_on_an_error_inside_the_transaction(library, monkeypatch):
    podcast, _ = library.add_podcast("http://feeds.test/x")
    save(library, podcast.id, feed("Old", ("a", "A")))
    before = rows(library, "SELECT * FROM podcasts"), rows(library, "SELECT * FROM episodes")

    real_executemany = sqlite3.Connection.executemany
    calls = []

    class Crash(Exception):
        pass

    class Conn:  # the store's connection, failing on the second executemany (the updates)
        def __getattr__(self, name):
            return getattr(real_conn, name)

        def executemany(self, sql, params):
            calls.append(sql)
            if len(calls) == 2:
                raise Crash
            return real_executemany(real_conn, sql, params)

    real_conn = library.conn
    monkeypatch.setattr(library, "conn", Conn())
    with pytest.raises(Crash):
        save(library, podcast.id, feed("New", ("b", "B"), ("a", "A changed")))
    monkeypatch.setattr(library, "conn", real_conn)
    assert calls[0].startswith("INSERT")  # the insert of "b" ran and was rolled back
    assert (rows(library, "SELECT * FROM podcasts"), rows(library, "SELECT * FROM episodes")) == before


def test_save_feed_for_a_removed_podcast(library):
    podcast, _ = library.add_podcast("http://feeds.test/x")
    library.remove_podcast(podcast.id)
    with pytest.raises(NotFound):
        save(library, podcast.id, feed("Gone", ("a", "A")))
    assert rows(library, "SELECT count(*) FROM episodes") == [(0,)]


def test_remove_podcast_cascades(library, tmp_path):
    keep, _ = library.add_podcast("http://feeds.test/keep")
    gone, _ = library.add_podcast("http://feeds.test/gone")
    save(library, keep.id, feed("Keep", ("k", "K")), url=keep.url)
    save(library, gone.id, feed("Gone", ("g1", "G1"), ("g2", "G2")), url=gone.url)
    kept_episode = library.episodes(keep.id)[0]
    g1, g2 = sorted(library.episodes(gone.id), key=lambda e: e.guid)
    library.record_download(g1.id, str(tmp_path / "g1.mp3"), 10)
    library.record_download(kept_episode.id, str(tmp_path / "k.mp3"), 10)

    assert library.remove_podcast(gone.id) == [str(tmp_path / "g1.mp3")]

    assert rows(library, "SELECT podcast_id FROM episodes") == [(keep.id,)]
    assert rows(library, "SELECT episode_id FROM downloads") == [(kept_episode.id,)]
    assert library.download(g1.id) is None
    with pytest.raises(NotFound):
        library.episode(g2.id)
    assert [p.id for p in library.podcasts()] == [keep.id]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.podcast(999),
        lambda lib: lib.episodes(999),
        lambda lib: lib.episode(999),
        lambda lib: lib.remove_podcast(999),
        lambda lib: lib.fetch_state(999),
    ],
    ids=["podcast", "episodes", "episode", "remove_podcast", "fetch_state"],
)
def test_unknown_ids_raise_not_found(library, call):
    with pytest.raises(NotFound, match="999"):
        call(library)


def test_errors_and_unchanged_checks_are_recorded(library):
    podcast, _ = library.add_podcast("http://feeds.test/x")
    save(library, podcast.id, feed("Show", ("a", "A")))
    library.record_error(podcast.id, "http://feeds.test/x: HTTP 500")
    failed = library.podcast(podcast.id)
    assert (failed.status, failed.error, failed.title) == ("error", "http://feeds.test/x: HTTP 500", "Show")
    library.record_unchanged(podcast.id, url=podcast.url, etag=None, last_modified="Tue, 14 Nov 2023 22:13:20 GMT")
    state = library.fetch_state(podcast.id)
    # A 304 without a new ETag keeps the old one; the new Last-Modified is stored.
    assert (state.etag, state.last_modified) == ('"v1"', "Tue, 14 Nov 2023 22:13:20 GMT")
    assert (library.podcast(podcast.id).status, library.podcast(podcast.id).error) == ("ok", None)

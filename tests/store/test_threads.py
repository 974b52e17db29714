"""One Library used from many threads at once (the web app: the event loop, the threadpool for
searches and answers, the snip enricher and job workers with Libraries of their own)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from earmark.models import Episode, ParsedFeed, Podcast
from earmark.store.library import Library
from earmark.store.playback import Playback


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / "library.sqlite3")
    podcast, _ = lib.add_podcast("http://feeds.test/x")
    feed = ParsedFeed(Podcast(podcast.url, title="X"), [Episode(guid=f"g{n}", title=f"E{n}") for n in range(20)])
    lib.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    yield lib
    lib.close()


def run_threads(count: int, target) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            target(n)
        except BaseException as exc:  # noqa: BLE001 — collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_each_thread_has_its_own_connection(library):
    seen = []
    assert not run_threads(4, lambda n: seen.append(library.conn))
    assert len({id(c) for c in seen} | {id(library.conn)}) == 5


def test_readers_and_writers_in_many_threads_at_once(library):
    """Reads interleaved with writes on other threads: no "database is locked", no "another row
    available", and every write stored (one shared connection failed both ways)."""
    ids = [e.id for e in library.episodes(library.podcasts()[0].id)]
    playback = Playback(library)
    other = Library(library.path)  # a second Library on the file, as the enricher's
    last: dict[int, float] = {}

    def work(n: int) -> None:
        mine = ids[n]
        for k in range(60):
            if n % 2:
                (playback if k % 2 else Playback(other)).set_position(mine, float(k))
                last[mine] = float(k)
            else:
                assert len(library.episodes(library.podcasts()[0].id)) == 20
                list(library.conn.execute("SELECT * FROM playback"))

    try:
        assert not run_threads(12, work)
    finally:
        other.close()
    assert playback.states(last) and {e: s.position for e, s in playback.states(last).items()} == last


def test_a_finished_threads_connection_is_closed(library):
    box = []
    assert not run_threads(1, lambda n: box.append(library.conn))
    import gc

    gc.collect()
    with pytest.raises(sqlite3.ProgrammingError):
        box[0].execute("SELECT 1")
    assert library.podcasts()  # this thread's still works


def test_close_closes_every_threads_connection(tmp_path):
    lib = Library(tmp_path / "library.sqlite3")
    ready, done = threading.Event(), threading.Event()
    box = []

    def hold() -> None:
        box.append(lib.conn)
        ready.set()
        done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(10)
    mine = lib.conn
    lib.close()
    done.set()
    thread.join(10)
    for conn in (mine, box[0]):
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        lib.conn.execute("SELECT 1")


def test_an_in_memory_library_is_one_connection():
    lib = Library(":memory:")
    lib.add_podcast("http://feeds.test/m")
    box = []
    assert not run_threads(2, lambda n: box.append(lib.podcasts()))
    assert all(len(found) == 1 for found in box)
    lib.close()


def test_writers_of_one_file_share_one_lock(library):
    other = Library(library.path)
    try:
        assert other._lock is library._lock
        entered = threading.Event()

        def write() -> None:
            with other.transaction() as conn:
                conn.execute("UPDATE podcasts SET title = 'by the other'")
            entered.set()

        with library.transaction() as conn:
            conn.execute("UPDATE podcasts SET title = 'first'")
            thread = threading.Thread(target=write)
            thread.start()
            assert not entered.wait(0.2)  # waits on the lock, not in SQLite's busy handler
        thread.join(10)
        assert entered.is_set() and library.podcasts()[0].title == "by the other"
    finally:
        other.close()

"""What keeps a big library fast: per-podcast episode and played counts kept by triggers (exact
through every change), and the list queries answered from indexes without sorting a whole table."""

from __future__ import annotations

from datetime import UTC, datetime

import earmark.store.db as db
from earmark.models import Episode, ParsedFeed, Podcast
from earmark.store.jobs import JobStore
from earmark.store.library import Library
from earmark.store.playback import Playback
from earmark.store.schema import MIGRATIONS


def feed(url: str, *guids: str, dated: bool = True) -> ParsedFeed:
    return ParsedFeed(
        Podcast(url=url, title=url.rsplit("/", 1)[-1]),
        [
            Episode(guid=g, title=g.upper(), published=datetime(2024, 1, 1 + n, tzinfo=UTC) if dated else None,
                    enclosure_url=f"{url}/{g}.mp3")
            for n, g in enumerate(guids)
        ],
    )


def save(library: Library, podcast: Podcast, parsed: ParsedFeed) -> None:
    library.save_feed(podcast.id, parsed, url=podcast.url, etag=None, last_modified=None, content_hash=None)


def recounted(library: Library) -> dict[int, tuple[int, int]]:
    """(episodes, unplayed) per podcast, counted the slow way."""
    return {
        row[0]: (row[1], row[2])
        for row in library.conn.execute(
            "SELECT p.id, (SELECT count(*) FROM episodes e WHERE e.podcast_id = p.id),"
            " (SELECT count(*) FROM episodes e LEFT JOIN playback pb ON pb.episode_id = e.id"
            "  WHERE e.podcast_id = p.id AND coalesce(pb.played, 0) = 0) FROM podcasts p"
        )
    }


def counted(library: Library) -> dict[int, tuple[int, int]]:
    unplayed = library.unplayed_counts()
    return {p.id: (p.episode_count, unplayed[p.id]) for p in library.podcasts()}


def ids(library: Library, podcast: Podcast) -> dict[str, int]:
    return {e.guid: e.id for e in library.episodes(podcast.id)}


def test_counts_stay_exact_through_every_change(library):
    playback = Playback(library)
    a, _ = library.add_podcast("http://feeds.test/a")
    b, _ = library.add_podcast("http://feeds.test/b")
    assert counted(library) == {a.id: (0, 0), b.id: (0, 0)}

    save(library, a, feed(a.url, "a1", "a2", "a3"))
    save(library, b, feed(b.url, "b1", "b2"))
    assert counted(library) == recounted(library) == {a.id: (3, 3), b.id: (2, 2)}
    ea, eb = ids(library, a), ids(library, b)

    playback.set_played(ea["a1"])
    playback.set_played(ea["a1"])  # twice: counted once
    playback.set_position(ea["a2"], 75)  # a position is not played
    playback.set_played(eb["b2"])
    assert counted(library) == recounted(library) == {a.id: (3, 2), b.id: (2, 1)}

    playback.set_position(ea["a1"], 10)  # a played episode played again from 10 s: still played
    playback.set_played(ea["a2"])
    playback.set_played(ea["a1"], False)
    assert counted(library) == recounted(library) == {a.id: (3, 2), b.id: (2, 1)}

    save(library, a, feed(a.url, "a1", "a2", "a3", "a4"))  # a new episode; the others unchanged
    assert counted(library) == recounted(library) == {a.id: (4, 3), b.id: (2, 1)}

    with library.transaction() as conn:  # an episode (played) and a playback row (played) go
        conn.execute("DELETE FROM episodes WHERE id = ?", (ea["a2"],))
        conn.execute("DELETE FROM playback WHERE episode_id = ?", (eb["b2"],))
    assert counted(library) == recounted(library) == {a.id: (3, 3), b.id: (2, 2)}

    playback.set_played(eb["b1"])
    with library.transaction() as conn:  # an episode moved to another podcast takes its counts along
        conn.execute("UPDATE episodes SET podcast_id = ? WHERE id = ?", (a.id, eb["b1"]))
    assert counted(library) == recounted(library) == {a.id: (4, 3), b.id: (1, 1)}

    library.remove_podcast(b.id)
    assert counted(library) == recounted(library) == {a.id: (4, 3)}


def test_the_migration_counts_an_existing_library(tmp_path, monkeypatch):
    path = tmp_path / "lib.sqlite3"
    before = MIGRATIONS.index(next(m for m in MIGRATIONS if "episodes_count_ai" in m))
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS[:before])
    old = db.connect(path)  # a library written before the counts: rows straight into that schema
    old.executemany("INSERT INTO podcasts (id, url, added_at) VALUES (?, ?, 0)",
                    [(1, "http://feeds.test/a"), (2, "http://feeds.test/b"), (3, "http://feeds.test/empty")])
    old.executemany("INSERT INTO episodes (id, podcast_id, guid, content_hash, first_seen, updated_at)"
                    " VALUES (?, ?, ?, '', 0, 0)", [(1, 1, "a1"), (2, 1, "a2"), (3, 1, "a3"), (4, 2, "b1")])
    old.executemany("INSERT INTO playback (episode_id, position, played, updated_at) VALUES (?, ?, ?, 0)",
                    [(1, 0, 1), (2, 5, 0), (4, 0, 0)])
    old.close()

    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    library = Library(path)
    try:
        assert counted(library) == recounted(library) == {1: (3, 2), 2: (1, 1), 3: (0, 0)}
    finally:
        library.close()


def test_episodes_newest_first_undated_last_and_paged(library):
    podcast, _ = library.add_podcast("http://feeds.test/a")
    save(library, podcast, feed(podcast.url, *(f"e{n}" for n in range(6))))
    undated = feed(podcast.url, "u1", "u0", dated=False)
    save(library, podcast, ParsedFeed(undated.podcast, feed(podcast.url, *(f"e{n}" for n in range(6))).episodes + undated.episodes))
    everything = [e.guid for e in library.episodes(podcast.id)]
    assert everything[:6] == ["e5", "e4", "e3", "e2", "e1", "e0"] and set(everything[6:]) == {"u0", "u1"}
    pages = [[e.guid for e in library.episodes(podcast.id, limit=3, offset=o)] for o in (0, 3, 6, 9)]
    assert [g for page in pages for g in page] == everything and pages[-1] == []


def plan(library: Library, sql: str, *params) -> str:
    return " / ".join(row[3] for row in library.conn.execute("EXPLAIN QUERY PLAN " + sql, params))


def traced(library: Library, call) -> list[str]:
    """The statements ``call`` runs, with their parameters filled in."""
    statements: list[str] = []
    library.conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        library.conn.set_trace_callback(None)
    return statements


def test_a_page_of_episodes_comes_from_an_index_without_a_sort(library):
    podcast, _ = library.add_podcast("http://feeds.test/a")
    save(library, podcast, feed(podcast.url, "a1", "a2"))
    [sql] = [s for s in traced(library, lambda: library.episodes(podcast.id, limit=50, offset=5000))
             if s.startswith("SELECT * FROM episodes")]
    found = plan(library, sql)
    assert "episodes_by_podcast_newest" in found and "TEMP B-TREE" not in found, found


def test_jobs_of_one_episode(library):
    podcast, _ = library.add_podcast("http://feeds.test/a")
    save(library, podcast, feed(podcast.url, "a1", "a2"))
    e = ids(library, podcast)
    jobs = JobStore(library)
    first = jobs.enqueue(e["a1"], priority=0)
    other = jobs.enqueue(e["a2"], priority=0)
    assert [j.id for j in jobs.list(episode_id=e["a1"])] == [first.id]
    assert {j.id for j in jobs.list()} == {first.id, other.id}
    assert "jobs_by_episode" in plan(library, "SELECT * FROM jobs WHERE episode_id = ?", e["a1"])

"""Killing Earmark mid-refresh loses nothing: every podcast holds either its previous state or its
complete new one, and the database stays intact."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time

from earmark.feeds.refresh import refresh_many
from earmark.store.library import Library
from tests.feedmaker import rss


def test_kill_9_mid_refresh_leaves_each_podcast_whole(settings, server, tmp_path):
    library = Library(settings.db_path)
    for n in range(12):  # old state: one episode each
        server.add(f"/feed{n}.rss", rss(f"Show {n}", [(f"g{n}-0", "Old")]))
        library.add_podcast(server.url(f"/feed{n}.rss"))
    asyncio.run(refresh_many(library, settings))
    before = {p.id: p.last_success for p in library.podcasts()}
    library.close()
    for n in range(12):  # new state: 40 episodes, served slowly so the kill lands mid-run
        server.add(f"/feed{n}.rss", rss(f"New {n}", [(f"g{n}-{i}", f"Ep {i}") for i in range(40)]), delay=0.15 * n)

    env = {**os.environ, "EARMARK_HOME": str(settings.home)}
    (settings.home / "settings.toml").write_text("refresh_concurrency = 12\n")
    child = subprocess.Popen([sys.executable, "-m", "earmark", "refresh"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    conn = sqlite3.connect(settings.db_path)
    # Kill once some, but not all, podcasts have been saved.
    while time.monotonic() < deadline:
        done = conn.execute("SELECT count(*) FROM podcasts WHERE title LIKE 'New %'").fetchone()[0]
        if done >= 3:
            break
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    conn.close()

    library = Library(settings.db_path)
    assert library.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    podcasts = library.podcasts()
    saved = [p for p in podcasts if p.title.startswith("New ")]
    untouched = [p for p in podcasts if p.title.startswith("Show ")]
    assert 3 <= len(saved) < len(podcasts), "the kill must land mid-refresh"
    assert len(saved) + len(untouched) == len(podcasts)
    for p in saved:
        assert p.episode_count == 40 and p.last_success > before[p.id]
    for p in untouched:
        assert p.episode_count == 1 and p.last_success == before[p.id]
        [episode] = library.episodes(p.id)
        assert episode.title == "Old"
    library.close()

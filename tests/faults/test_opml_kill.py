"""kill -9 of ``earmark opml import`` of 1,000 feeds while it loads them, then the same import
again: every feed is subscribed once and loaded, the feeds loaded before the kill are not fetched
again, and the subscription made before the import is untouched."""

from __future__ import annotations

import threading
from xml.sax.saxutils import quoteattr

from tests.faults.harness import SETTINGS, Earmark, kill, wait_for
from tests.feedmaker import rss

FEEDS = 1000
LOADED_BEFORE_KILL = 300
CONCURRENCY = 16


class Gate:
    """Answers the first ``limit`` feed requests; the later ones hang, unanswered, until released
    (so the import is provably mid-way, with ``CONCURRENCY`` fetches in flight, when it is killed)."""

    def __init__(self, server, limit: int):
        self.server, self.limit = server, limit
        self.lock = threading.Lock()
        self.answered = self.hung = 0
        self.release = threading.Event()

    def __call__(self, req) -> None:
        with self.lock:
            hang = self.answered >= self.limit and not self.release.is_set()
            if hang:
                self.hung += 1
            else:
                self.answered += 1
        if hang:
            self.release.wait(60)
            req.close_connection = True
            return
        self.server._send(req, 200, self.server.resources[req.path].body, {"Content-Type": "application/rss+xml"})


def test_kill_9_mid_opml_import_of_1000_feeds(em: Earmark, server, tmp_path, campaign):
    fault = campaign("opml import", f"kill -9 while loading {FEEDS:,} feeds ({LOADED_BEFORE_KILL} loaded)")
    em.home.joinpath("settings.toml").write_text(SETTINGS.replace("http_timeout = 5.0", "http_timeout = 60.0")
                                                 + f"refresh_concurrency = {CONCURRENCY}\n")
    server.add("/before.rss", rss("Before", [("b1", "Kept")]))
    em.run("add", server.url("/before.rss"))
    before = [tuple(r) for r in em.query("SELECT * FROM podcasts")]

    gate = Gate(server, LOADED_BEFORE_KILL)
    outlines = []
    for n in range(FEEDS):
        server.add(f"/f{n}.rss", rss(f"Show {n}", [(f"g{n}-b", "B"), (f"g{n}-a", "A")]))
        server.handlers[f"/f{n}.rss"] = gate
        outlines.append(f'<outline type="rss" text="Show {n}" xmlUrl={quoteattr(server.url(f"/f{n}.rss"))}/>')
    opml = tmp_path / "subscriptions.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
                    + "".join(outlines) + "</body></opml>")

    proc = em.start("opml", "import", str(opml))

    def loaded() -> int:
        return em.one("SELECT count(*) FROM podcasts WHERE last_checked IS NOT NULL AND url LIKE '%/f%'")

    wait_for(lambda: gate.hung == CONCURRENCY and loaded() == LOADED_BEFORE_KILL,
             f"{LOADED_BEFORE_KILL} feeds loaded and {CONCURRENCY} fetches hanging", timeout=120, proc=proc)
    assert em.one("SELECT count(*) FROM podcasts") == FEEDS + 1  # all subscribed before any is loaded
    kill(proc)
    gate.release.set()
    fault.inject(f"{loaded()} of {FEEDS} feeds loaded, {gate.hung} fetches in flight")
    em.check_integrity()

    out = em.run("opml", "import", str(opml), timeout=300)
    assert "0 added, 1000 already subscribed" in out, out
    podcasts = em.query("SELECT url, title, status, last_checked FROM podcasts WHERE url LIKE '%/f%'")
    assert len(podcasts) == len({p["url"] for p in podcasts}) == FEEDS
    unloaded = [p["url"] for p in podcasts if p["status"] != "ok"]
    assert unloaded == [], f"{len(unloaded)} feeds subscribed but never loaded, e.g. {unloaded[:3]}"
    assert sorted(p["title"] for p in podcasts) == sorted(f"Show {n}" for n in range(FEEDS))
    episodes = em.query("SELECT podcast_id, guid FROM episodes")
    assert len(episodes) == 2 * FEEDS + 1 and len({(e[0], e[1]) for e in episodes}) == len(episodes)
    fetched = [e.path for e in server.log if e.path.startswith("/f")]
    assert len(fetched) == len(set(fetched)) + CONCURRENCY  # only the hung ones were asked for twice
    assert [tuple(r) for r in em.query("SELECT * FROM podcasts WHERE url LIKE '%/before.rss'")] == before
    em.check_integrity()
    fault.survive(f"the re-run loaded the other {FEEDS - LOADED_BEFORE_KILL}, fetching none twice but the hung ones")

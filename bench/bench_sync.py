"""Sync server speed: what a phone's first sync and a day of listening cost, over real HTTP.

A library of 200 podcasts × 50 episodes; an AntennaPod-shaped client logs in, downloads the
subscriptions, uploads its 200, then uploads 5,000 play actions in bulks of 30 and downloads them
on a second device (all and aggregated). Also the cost of a password check (argon2id) against a
session cookie, which is why login.json and Basic successes set one.

Measured (2 cores, while other work ran): 200 URLs downloaded in 4–6 ms, uploaded in 13 ms; a bulk
of 30 actions 4 ms p50; 5,000 actions downloaded in 65 ms (1,808 ms before the
episode_actions_by_episode index); an argon2id check 60–180 ms vs 1.3 ms for a request with the session cookie.

    python bench/bench_sync.py [--podcasts 200] [--actions 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from earmark.accounts import hash_password  # noqa: E402
from earmark.config import Settings  # noqa: E402
from earmark.models import Episode, ParsedFeed, Podcast  # noqa: E402
from earmark.store.accounts import AccountStore  # noqa: E402
from earmark.web.app import create_app  # noqa: E402
from tests.web.conftest import serving  # noqa: E402

PASSWORD = "a benchmark password"


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--podcasts", type=int, default=200)
    parser.add_argument("--actions", type=int, default=5000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="earmark-bench-sync-"))
    os.environ["EARMARK_HOME"] = str(home)
    app = create_app(Settings.load())
    library = app.state.library
    AccountStore(library).add("alice", hash_password(PASSWORD))
    feeds = []
    for n in range(args.podcasts):
        podcast, _ = library.add_podcast(f"https://feeds.example.org/{n}.rss")
        episodes = [Episode(guid=f"{n}-{k}", title=f"Episode {k}", enclosure_url=f"https://cdn.example.org/{n}/{k}.mp3",
                            duration=1800) for k in range(50)]
        library.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title=f"Show {n}"), episodes),
                          url=podcast.url, etag=None, last_modified=None, content_hash=None)
        feeds.append((podcast.url, [e.enclosure_url for e in episodes]))

    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as phone:
        _, login_ms = timed(lambda: phone.post("/api/2/auth/alice/login.json", auth=("alice", PASSWORD)).raise_for_status())
        got, first_ms = timed(lambda: phone.get("/api/2/subscriptions/alice/phone.json", params={"since": 0}).json())
        assert len(got["add"]) == args.podcasts
        _, upload_subs_ms = timed(lambda: phone.post(
            "/api/2/subscriptions/alice/phone.json", json={"add": [u for u, _ in feeds], "remove": []}).raise_for_status())
        actions = [
            {"podcast": feeds[i % len(feeds)][0], "episode": feeds[i % len(feeds)][1][(i // len(feeds)) % 50],
             "action": "play", "timestamp": f"2030-01-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}",
             "started": 0, "position": 60 + i % 1000, "total": 1800, "device": "phone"}
            for i in range(args.actions)
        ]
        bulk_ms = []
        for start in range(0, len(actions), 30):
            _, ms = timed(lambda: phone.post("/api/2/episodes/alice.json", json=actions[start:start + 30]).raise_for_status())
            bulk_ms.append(ms)
        with httpx.Client(base_url=base, timeout=60, auth=("alice", PASSWORD)) as laptop:
            everything, all_ms = timed(lambda: laptop.get("/api/2/episodes/alice.json", params={"since": 0}).json())
            newest, agg_ms = timed(lambda: laptop.get("/api/2/episodes/alice.json",
                                                      params={"since": 0, "aggregated": "true"}).json())
            # A password check on each request vs the session cookie the first success set.
            basic = [timed(lambda: httpx.get(base + "/api/2/devices/alice.json", auth=("alice", PASSWORD)).raise_for_status())[1]
                     for _ in range(5)]
            cookie = [timed(lambda: laptop.get("/api/2/devices/alice.json").raise_for_status())[1] for _ in range(20)]
    bulks = sorted(bulk_ms)
    print(f"library: {args.podcasts} podcasts × 50 episodes; {args.actions} play actions")
    print(f"login.json (argon2id check):               {login_ms:8.1f} ms")
    print(f"first subscription download (since=0):     {first_ms:8.1f} ms  ({len(got['add'])} URLs)")
    print(f"subscription upload ({args.podcasts} URLs):            {upload_subs_ms:8.1f} ms")
    print(f"episode action upload, bulk of 30:         p50 {statistics.median(bulks):6.1f} ms  p95 {bulks[int(len(bulks) * .95) - 1]:6.1f} ms"
          f"  ({len(bulks)} bulks, {sum(bulks) / 1000:.1f} s in all)")
    print(f"all actions download (since=0):            {all_ms:8.1f} ms  ({len(everything['actions'])} actions)")
    print(f"aggregated download:                       {agg_ms:8.1f} ms  ({len(newest['actions'])} episodes)")
    from earmark.accounts import HASHER

    stored = HASHER.hash(PASSWORD)
    argon = [timed(lambda: HASHER.verify(stored, PASSWORD))[1] for _ in range(5)]
    print(f"one argon2id password check:               p50 {statistics.median(argon):6.1f} ms")
    print(f"a request with Basic, no cookie:           p50 {statistics.median(basic):6.1f} ms  (a verified password is remembered 5 min)")
    print(f"a request with the session cookie:         p50 {statistics.median(cookie):6.1f} ms")


if __name__ == "__main__":
    main()

"""Scale benchmark: a generated library of 2,000 podcasts and 500,000 episodes stays fast.

    python bench/bench_scale.py                      # generate in a temporary EARMARK_HOME, measure, delete it
    python bench/bench_scale.py --home /tmp/big      # keep the library there (reused when it is already there)
    python bench/bench_scale.py --runs 200 --explain # more runs; EXPLAIN QUERY PLAN of the list queries

The library is written straight into the real schema (earmark.store.db.connect runs the
migrations, and the schema's own triggers fill the search index) with executemany in big
transactions: podcasts with realistic fields, ~250 episodes each with a long tail and a few
shows of 5,000-15,000 episodes, publication dates over years, show notes of a few hundred
characters, played episodes and play positions, downloads, an up-next queue, processed episodes
(jobs, transcripts, highlights) and snips.

The pages and the JSON API are measured through the real app: `uvicorn` serving
earmark.web.app:create_app in a separate process on a free 127.0.0.1 port (as `earmark serve`
runs it, without the background workers), requested with one keep-alive httpx client; a process
of its own so that the client's work does not queue on the server's GIL. Refresh
scheduling (which feeds a refresh of everything checks, and each one's conditional-GET state) is
timed as a function call in this process. Every row: a warm-up, then --runs timed runs; p50,
p95 and max in milliseconds against the 200 ms p95 target. Other work on the machine stretches
every figure, so the load average is printed with them.

The last row (a refresh round in which every feed answers 304, over a mocked transport) writes
each podcast's check time, so --home only reuses a library this benchmark generated there.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from earmark.config import Settings  # noqa: E402
from earmark.feeds.refresh import refresh_many, refresh_targets  # noqa: E402
from earmark.store.db import connect  # noqa: E402
from earmark.store.jobs import JobStore  # noqa: E402
from earmark.store.library import Library  # noqa: E402
from earmark.store.snips import SnipFilter, SnipStore  # noqa: E402
from earmark.web.pages import EPISODE_PAGE_LIMIT  # noqa: E402

TARGET_MS = 200.0
MARKER = "bench_scale.json"  # in a home this benchmark generated: what it was generated with
BIG_SHOWS = (15_000, 10_000, 8_000, 6_000, 5_000)  # daily news shows and long-running back catalogues
DAY = 86_400.0


# -- generation ------------------------------------------------------------------------------------


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    common = (
        "the of and to a in is that it for you was on with as we they be at this have from or one had by but not "
        "what all were when there can an your which their said if do will each about how up out them then she many "
        "some so these would other into has more her two like him see time could people year way our just first "
        "also new because day most us work life world story history science music food money health news culture "
        "politics tech business football film book war climate city family love game design art space ocean brain "
        "bridge wind vortex engineer coffee bread river election market startup interview guest season special"
    ).split()
    syllables = "ka lo mi ne ra to su vi de pa ri co ba fe gu ta el an or is un ber lin mar tes qua sol".split()
    words = set(common)
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return list(common) + sorted(words - set(common))


class Text:
    """Zipf-like words, sentences and titles, fast enough for half a million show notes."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.vocab = vocabulary(rng)
        weights = [1 / (rank + 8) for rank in range(len(self.vocab))]
        total, self.cum = 0.0, []
        for w in weights:
            total += w
            self.cum.append(total)
        self.sentences = [self.sentence() for _ in range(40_000)]
        self.names = [w.capitalize() for w in self.vocab[200:1400]]

    def words(self, k: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=k)

    def sentence(self) -> str:
        return " ".join(self.words(self.rng.randint(8, 18))).capitalize() + "."

    def title(self, k: int | None = None) -> str:
        return " ".join(w.capitalize() for w in self.words(k or self.rng.randint(2, 6)))

    def notes(self) -> str:
        # 3-5 sentences ≈ 250-500 characters
        return " ".join(self.rng.choices(self.sentences, k=self.rng.randint(3, 5)))

    def name(self) -> str:
        return f"{self.rng.choice(self.names)} {self.rng.choice(self.names)}"


def show_sizes(rng: random.Random, podcasts: int, episodes: int) -> list[int]:
    big = [n for n in BIG_SHOWS if n * 4 <= episodes][: max(0, podcasts // 100)]
    rest = podcasts - len(big)
    raw = [rng.lognormvariate(0, 1.0) for _ in range(rest)]
    scale = (episodes - sum(big)) / sum(raw)
    sizes = [max(1, int(r * scale)) for r in raw]
    # land exactly on the total, spread over the larger shows
    diff = episodes - sum(big) - sum(sizes)
    order = sorted(range(rest), key=lambda i: -sizes[i])
    i = 0
    while diff:
        j = order[i % len(order)]
        step = 1 if diff > 0 else -1
        if sizes[j] + step >= 1:
            sizes[j] += step
            diff -= step
        i += 1
    out = big + sizes
    rng.shuffle(out)
    return out


def generate(db_path: Path, podcasts: int, episodes: int, seed: int) -> dict:
    rng = random.Random(seed)
    text = Text(rng)
    conn = connect(db_path)
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB while writing
    now = time.time()
    sizes = show_sizes(rng, podcasts, episodes)
    languages = ["en", "en", "en", "en", "de", "fr", "es", "nl", "pt-BR", "ja"]
    categories = ["News > Daily News", "Technology", "Science > Natural Sciences", "Comedy", "History",
                  "Society & Culture > Documentary", "Business > Investing", "Sports > Football", "Arts > Books",
                  "True Crime", "Health & Fitness > Mental Health", "Education > Language Learning"]
    t0 = time.perf_counter()

    # podcasts
    podcast_rows = []
    for pid in range(1, podcasts + 1):
        added = now - rng.uniform(30, 6 * 365) * DAY
        failing = rng.random() < 0.03
        podcast_rows.append((
            pid, f"https://feeds.example{pid % 97}.com/shows/{pid}/{text.words(1)[0]}.rss", text.title(),
            text.name(), text.notes(), f"https://show{pid}.example.com/", f"https://cdn.example.com/art/{pid}.jpg",
            rng.choice(languages), json.dumps(rng.sample(categories, rng.randint(1, 3))), added,
            "error" if failing else "ok", "HTTP 404 Not Found from the feed's host" if failing else None,
            now - rng.uniform(0, 2) * DAY, None if failing else now - rng.uniform(0, 2) * DAY,
            f'"{hashlib.md5(str(pid).encode()).hexdigest()}"', "Mon, 01 Jan 2024 00:00:00 GMT",
            hashlib.sha256(str(pid).encode()).hexdigest(),
        ))
    with _tx(conn):
        conn.executemany(
            "INSERT INTO podcasts (id, url, title, author, description, link, image, language, categories, added_at,"
            " status, error, last_checked, last_success, etag, last_modified, content_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            podcast_rows,
        )
        conn.execute("INSERT INTO user_podcasts (user_id, podcast_id, added_at) SELECT 1, id, added_at FROM podcasts")

    # episodes, podcast by podcast (as subscribing stores them), in transactions of ~50,000 rows
    sql = (
        "INSERT INTO episodes (id, podcast_id, guid, title, published, duration, description, description_html,"
        " link, enclosure_url, enclosure_type, enclosure_length, season, number, episode_type, explicit,"
        " content_hash, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    eid = 0
    batch: list[tuple] = []
    listened: dict[int, float] = {}  # podcast → share of its back catalogue played
    ranges: dict[int, tuple[int, int]] = {}
    for pid, size in zip(range(1, podcasts + 1), sizes):
        started = now - rng.uniform(0.5, 16) * 365 * DAY
        step = (now - started) / size
        if rng.random() < 0.3:
            listened[pid] = rng.uniform(0.2, 0.95)
        first = eid + 1
        for n in range(size):
            eid += 1
            published = None if rng.random() < 0.004 else started + n * step + rng.uniform(-0.3, 0.3) * step
            notes = text.notes()
            batch.append((
                eid, pid, f"{pid}-{n}-{rng.getrandbits(48):012x}", f"{n + 1}: {text.title()}" if rng.random() < 0.7
                else f"{text.title()} with {text.name()}", published, rng.randint(300, 7200), notes, f"<p>{notes}</p>",
                f"https://show{pid}.example.com/ep/{n + 1}", f"https://cdn.example.com/{pid}/{n + 1}.mp3?src=rss",
                "audio/mpeg", rng.randint(5_000_000, 120_000_000), None, n + 1, "full", 0,
                hashlib.sha1(f"{eid}{notes}".encode()).hexdigest(), now - rng.uniform(0, 300) * DAY, now,
            ))
        ranges[pid] = (first, eid)
        if len(batch) >= 50_000:
            with _tx(conn):
                conn.executemany(sql, batch)
            batch.clear()
    if batch:
        with _tx(conn):
            conn.executemany(sql, batch)
    t_episodes = time.perf_counter() - t0

    # what the listener did: played the older part of the shows they follow, positions in a few
    playback, downloads, jobs, transcripts, highlights, snips = [], [], [], [], [], []
    for pid, share in listened.items():
        first, last = ranges[pid]
        cut = first + int((last - first + 1) * share)
        playback += [(e, 0.0, 1, now - rng.uniform(0, 900) * DAY) for e in range(first, cut)]
        for e in range(cut, min(last + 1, cut + rng.randint(0, 3))):
            playback.append((e, rng.uniform(10, 3000), 0, now - rng.uniform(0, 30) * DAY))
        # the newest few downloaded; some of those processed
        for e in range(max(first, last - rng.randint(0, 8)), last + 1):
            downloads.append((e, f"/downloads/{pid}/{e}.mp3", rng.randint(5_000_000, 120_000_000), now))
            if rng.random() < 0.5:
                jobs.append((e, "done", 0, "highlights", 100.0, 1, now - DAY, now - DAY, now - DAY + 600))
                transcripts.append((e, "asr", "asr", "en", "faster-whisper", "base", 1, now - DAY))
                highlights += [(e, k * 400.0, k * 400.0 + 60, text.title(), text.sentence(), text.sentence(),
                                "llama-cpp", "qwen", "v3", now - DAY + k) for k in range(rng.randint(2, 5))]
                if rng.random() < 0.4:
                    for k in range(rng.randint(1, 4)):
                        start = rng.uniform(0, 3000)
                        snips.append((e, start + 20, start, start + 60, "auto", "ready", text.title(),
                                      json.dumps([text.sentence(), text.sentence()]), text.sentence(), text.name(),
                                      text.notes(), "", json.dumps(rng.sample(["ideas", "funny", "work", "later"], 1)),
                                      int(rng.random() < 0.2), now - rng.uniform(0, 200) * DAY, now))
            elif rng.random() < 0.05:
                jobs.append((e, "failed", 0, "transcript", 30.0, 3, now - DAY, now - DAY, now - DAY))
    with _tx(conn):
        conn.executemany("INSERT INTO playback (episode_id, position, played, updated_at) VALUES (?, ?, ?, ?)", playback)
        conn.executemany("INSERT INTO downloads (episode_id, path, size, finished_at) VALUES (?, ?, ?, ?)", downloads)
        conn.executemany(
            "INSERT INTO jobs (episode_id, state, priority, stage, progress, attempts, created_at, started_at, finished_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", jobs)
        conn.executemany(
            "INSERT INTO transcripts (episode_id, source, format, language, engine, model, complete, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", transcripts)
        conn.executemany(
            "INSERT INTO highlights (episode_id, start, end, title, why, quote, engine, model, prompt_version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", highlights)
        conn.executemany(
            'INSERT INTO snips (episode_id, tapped_at, start, "end", boundary, state, title, takeaways, quote,'
            " quote_speaker, excerpt, note, tags, favorite, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", snips)
        queue = rng.sample([d[0] for d in downloads], min(40, len(downloads)))
        conn.executemany("INSERT INTO queue (episode_id, position) VALUES (?, ?)", [(e, n) for n, e in enumerate(queue)])
    conn.execute("PRAGMA optimize")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "seconds": time.perf_counter() - t0, "episode_seconds": t_episodes, "played": sum(p[2] for p in playback),
        "positions": sum(1 for p in playback if not p[2]), "downloads": len(downloads), "jobs": len(jobs),
        "highlights": len(highlights), "snips": len(snips), "queue": len(queue),
    }


class _tx:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, exc, tb):
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")


# -- measuring -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, src: Path = REPO) -> tuple[subprocess.Popen, str]:
    """`uvicorn earmark.web.app:create_app` serving ``home``, with the earmark package of ``src``
    (bench_concurrency serves an older tree the same way)."""
    port = free_port()
    env = {**os.environ, "EARMARK_HOME": str(home), "PYTHONPATH": str(src)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "earmark.web.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=src,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/api/v1/queue", timeout=5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit("the server did not start")
        time.sleep(0.2)


def measure(fn, runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def row(name: str, ms: list[float], note: str = "", target: float | None = TARGET_MS) -> tuple[str, bool]:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
    verdict = "" if target is None else ("PASS" if p95 <= target else "FAIL")
    goal = "—" if target is None else f"{target:.0f}"
    line = f"{name:<48} {statistics.median(ms):8.1f} {p95:8.1f} {ms[-1]:8.1f} {goal:>7}  {verdict:<4}  {note}"
    print(line, flush=True)
    return line, verdict != "FAIL"


def get(client: httpx.Client, path: str, expect: str | None = None):
    def fn():
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.text[:300]}")
        if expect is not None and expect not in response.text:
            raise SystemExit(f"GET {path}: {expect!r} not in the response")
        return response
    return fn


def explain(library: Library, big: int, big_n: int) -> None:
    """The query plan of every statement the store runs for the lists measured here."""
    episode = library.conn.execute("SELECT episode_id FROM jobs ORDER BY id LIMIT 1").fetchone()
    calls = {
        "podcasts (library page, podcasts API)": library.podcasts,
        "feeds to check (refresh)": lambda: refresh_targets(library),
        "biggest show, last page of episodes": lambda: library.episodes(big, limit=50, offset=big_n - 50),
        "an episode's jobs": lambda: JobStore(library).list(episode_id=episode[0] if episode else 1),
        "snips, newest first": lambda: SnipStore(library).list(SnipFilter(limit=50)),
    }
    for name, call in calls.items():
        statements: list[str] = []
        library.conn.set_trace_callback(statements.append)
        try:
            call()
        finally:
            library.conn.set_trace_callback(None)
        print(f"  {name}:")
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                print(f"    {' '.join(sql.split())[:110]}")
                for r in library.conn.execute("EXPLAIN QUERY PLAN " + sql):
                    print(f"      {r[3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--podcasts", type=int, default=2000)
    parser.add_argument("--episodes", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per row (after a warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--home", default=None, help="EARMARK_HOME to generate into and keep (reused if it holds a library)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print the query plans of the list queries")
    args = parser.parse_args()

    home = Path(args.home or tempfile.mkdtemp(prefix="earmark-scale-"))
    db_path = Settings.load(home).db_path
    print(f"cpus: {os.cpu_count()}  EARMARK_HOME: {home}", flush=True)
    try:
        if db_path.exists():
            if not (home / MARKER).exists():
                sys.exit(f"{db_path} was not generated by this benchmark (no {MARKER} beside it); give another --home")
            conn = connect(db_path)  # migrates an older generated library, as the app would
            counts = conn.execute("SELECT (SELECT count(*) FROM podcasts), (SELECT count(*) FROM episodes)").fetchone()
            conn.close()
            print(f"reusing the library there: {counts[0]:,} podcasts, {counts[1]:,} episodes")
        else:
            print(f"generating {args.podcasts:,} podcasts, {args.episodes:,} episodes …", flush=True)
            made = generate(db_path, args.podcasts, args.episodes, args.seed)
            (home / MARKER).write_text(json.dumps({"podcasts": args.podcasts, "episodes": args.episodes, "seed": args.seed}))
            print(f"generated in {made['seconds']:.0f} s (podcasts + episodes with their search index"
                  f" {made['episode_seconds']:.0f} s); {made['played']:,} played, {made['positions']:,} with a position,"
                  f" {made['downloads']:,} downloads, {made['jobs']:,} jobs, {made['highlights']:,} highlights,"
                  f" {made['snips']:,} snips, {made['queue']} queued")
        size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))
        print(f"library file: {size / 2**20:,.0f} MiB", flush=True)
        run(db_path, home, args)
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)


def run(db_path: Path, home: Path, args) -> None:
    library = Library(db_path)
    counts = library.conn.execute(
        "SELECT podcast_id, count(*) AS n FROM episodes GROUP BY podcast_id ORDER BY n DESC, podcast_id"
    ).fetchall()
    big, big_n = counts[0]
    typical = counts[len(counts) // 2]
    small, small_n = typical[0], typical[1]
    queue_n = library.conn.execute("SELECT count(*) FROM queue").fetchone()[0]
    if args.explain:
        explain(library, big, big_n)

    loaded = os.getloadavg()[0]  # other work on the machine stretches every figure: printed with them
    header = f"{'what':<48} {'p50':>8} {'p95':>8} {'max':>8} {'target':>7}  {'':<4}  (ms; {args.runs} runs after {args.warmup} warm-up)"
    print("\n" + header)
    print("-" * len(header))
    lines, ok = [], True

    def add(name, ms, note="", target=TARGET_MS):
        nonlocal ok
        line, passed = row(name, ms, note, target)
        lines.append(line)
        ok &= passed

    proc, url = start_server(home)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            r, w = args.runs, args.warmup
            add("library page  GET /", measure(get(client, "/", 'id="shows"'), r, w), f"{args.podcasts:,} shows")
            add("podcast page, typical show", measure(get(client, f"/podcasts/{small}", 'id="episodes"'), r, w),
                f"#{small}, {small_n:,} episodes")
            add("podcast page, biggest show", measure(get(client, f"/podcasts/{big}", 'id="episodes"'), r, w),
                f"#{big}, {big_n:,} episodes")
            last_page = -(-big_n // EPISODE_PAGE_LIMIT)
            add("podcast page, biggest show, oldest page",
                measure(get(client, f"/podcasts/{big}?page={last_page}", 'id="episodes"'), r, w), f"?page={last_page}")
            add("episodes API, typical show, first page",
                measure(get(client, f"/api/v1/podcasts/{small}/episodes?limit=50"), r, w), "limit=50")
            add("episodes API, biggest show, first page",
                measure(get(client, f"/api/v1/podcasts/{big}/episodes?limit=50"), r, w), "limit=50")
            add("episodes API, biggest show, middle page",
                measure(get(client, f"/api/v1/podcasts/{big}/episodes?limit=50&offset={big_n // 2}"), r, w),
                f"offset={big_n // 2:,}")
            add("episodes API, biggest show, last page",
                measure(get(client, f"/api/v1/podcasts/{big}/episodes?limit=50&offset={big_n - 50}"), r, w),
                f"offset={big_n - 50:,}")
            add("podcasts API  GET /api/v1/podcasts", measure(get(client, "/api/v1/podcasts"), r, w),
                f"{args.podcasts:,} shows")
            add("queue API  GET /api/v1/queue", measure(get(client, "/api/v1/queue"), r, w), f"{queue_n} episodes")
            add("queue page  GET /queue", measure(get(client, "/queue"), r, w))
            add("snips API  GET /api/v1/snips", measure(get(client, "/api/v1/snips?limit=50"), r, w), "limit=50")
            add("highlights page  GET /highlights", measure(get(client, "/highlights"), r, w), "100 a page")
            words = ["cli", "vor", "mus", "hist", "bri", "mar"]
            n = iter(range(10**9))
            add("search-as-you-type (keyword, prefix)",
                measure(lambda: get(client, f"/api/v1/search?q={words[next(n) % len(words)]}*&mode=keyword&limit=10")(),
                        r, w), "q=<3-4 letters>*")
    finally:
        proc.terminate()
        proc.wait(30)

    # Refresh scheduling: the feeds a refresh of everything checks, and each one's conditional-GET state.
    settings = Settings.load(home)
    add("refresh scheduling: feeds to check", measure(lambda: refresh_targets(library), args.runs, args.warmup),
        f"{args.podcasts:,} feeds")
    add("refresh scheduling: + fetch state of each",
        measure(lambda: [library.fetch_state(i) for i in refresh_targets(library)], args.runs, args.warmup),
        f"{args.podcasts:,} feeds")

    def not_modified(request: httpx.Request) -> httpx.Response:
        return httpx.Response(304, headers={"ETag": request.headers.get("If-None-Match", '"x"')})

    async def round_of_304s():
        async with httpx.AsyncClient(transport=httpx.MockTransport(not_modified)) as http:
            return await refresh_many(library, settings, client=http)

    rounds = measure(lambda: asyncio.run(round_of_304s()), max(3, args.runs // 20), 1)
    add("refresh round, every feed answers 304", rounds,
        f"{args.podcasts:,} feeds, mocked HTTP: {statistics.median(rounds) / args.podcasts:.2f} ms a feed", target=None)
    library.close()
    print(f"\n{'all rows within' if ok else 'NOT all rows within'} {TARGET_MS:.0f} ms p95"
          f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus at the end; {loaded:.1f} at the start)")


if __name__ == "__main__":
    main()

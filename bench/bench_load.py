"""Load benchmark: many concurrent API clients against a real `earmark serve` process.

    python bench/bench_load.py                          # 200 clients for 60 s, back to back
    python bench/bench_load.py --think-ms 1000          # each pausing ~1 s between requests, as people do
    python bench/bench_load.py --clients 50 --seconds 10

Back to back, the server is saturated from the first second: the latencies are then mostly waiting
in line (a closed loop: mean latency ≈ clients / throughput), and the figures to watch are
the errors, the lost writes and the throughput. With a think time the latencies are those of a
busy but not saturated server.

Prepares a library in a temporary EARMARK_HOME (the corpus feeds' podcasts and episodes, stored
through the Library; a few episodes get synthetic transcripts, indexed for keyword and semantic
search), starts `earmark serve` on a free 127.0.0.1 port as a subprocess, and runs N clients
(asyncio + one httpx connection each) that do a listener's mix back to back: library and episode
lists, episode details, play position updates, snip creates and lists, keyword / semantic /
combined search, queue reads. Every response is counted by status; any 5xx, unexpected 4xx or
transport error is an error, and so is every "database is locked" in the server's log.

Afterwards every acknowledged write is checked, in the SQLite file directly and through the API:
each client owns its own episodes for position updates (so the last acknowledged value is the one
that must be stored), and every created snip must exist with its tap time.

The server (`python -m tests.engines.cli serve`) runs the test engines, `llm_engine = "fake"` and
`asr_engine = "fake"`: snips are made only on transcribed episodes, so their AI cards are enriched in
the background as usual (a second writer on the library), by the deterministic fake model instead of
the 1.5B one hundreds of times over — the bench measures the server and the store, not the model.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
sys.path.insert(0, str(REPO))

from earmark.models import Segment, Transcript
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore

FEEDS = ["nodepodcastparser__atp.xml", "nodepodcastparser__coding-blocks.xml", "nodepodcastparser__neo4j.xml",
         "nodepodcastparser__podnews.xml", "nodepodcastparser__polymath-polycast.xml",
         "nodepodcastparser__scale-your-code.xml", "nodepodcastparser__se-radio.xml"]

TOPICS = {
    "bridges": "the bridge began to sway when vortex shedding matched its natural frequency so engineers added tuned mass dampers",
    "bread": "knead the sourdough for ten minutes then let the loaf rise overnight before baking it in a very hot oven",
    "databases": "the database keeps a write ahead log so readers never block the writer and every transaction commits atomically",
    "bees": "honey bees dance to tell their sisters where the flowers are and the whole hive decides where to swarm",
    "volcanoes": "magma rises through the crust and when the pressure gets too high the volcano erupts with ash and lava",
    "chess": "the grandmaster sacrificed her queen to open the king side and forced checkmate eleven moves later",
    "coffee": "the barista roasts her own coffee beans every morning and pulls each espresso shot for twenty eight seconds",
    "rockets": "the reusable rocket booster lands upright on the barge so the next launch costs a fraction of the first",
}
KEYWORDS = ["vortex", "sourdough", "espresso", "magma", "grandmaster", "booster", "transaction", "hive", "dampers",
            "loaf", "checkmate", "crust", '"write ahead log"', "roast*", "bridge sway", "queen"]
QUESTIONS = ["why do tall bridges move in the wind", "how to bake bread at home", "what makes a volcano erupt",
             "how do bees communicate", "landing rockets on a ship"]

# (kind, weight): what one client does next, drawn with these weights.
MIX = [
    ("podcasts", 8), ("episodes", 10), ("episode", 16), ("position", 24), ("snip_create", 8),
    ("snip_list", 6), ("episode_snips", 4), ("search_keyword", 10), ("search_semantic", 2),
    ("search_combined", 2), ("queue", 8), ("snip_get", 2),
]


# -- the library ------------------------------------------------------------------------------------


def transcript_for(rng: random.Random, minutes: int) -> list[Segment]:
    """Sentences about a few topics, one segment per sentence, about 5 s each."""
    topics = rng.sample(sorted(TOPICS), 3)
    segments, at = [], 0.0
    while at < minutes * 60:
        words = TOPICS[rng.choice(topics)].split()
        k = rng.randint(6, 12)
        first = rng.randrange(0, max(1, len(words) - k))
        text = " ".join(words[first : first + k]).capitalize() + "."
        length = 0.4 * len(text.split())
        segments.append(Segment(round(at, 2), round(at + length, 2), text, rng.choice(["Host", "Guest"])))
        at += length + 0.3
    return segments


@dataclass
class Plan:
    podcast_ids: list[int]
    episode_ids: list[int]
    transcribed: dict[int, float]  # episode id -> duration (seconds)


def prepare(home: Path, *, transcribed: int = 8, minutes: int = 10, semantic: bool = True, seed: int = 7,
            feeds: list[str] | None = None, embedder=None, log=print) -> Plan:
    """The library in ``home``: the corpus feeds' podcasts, ``transcribed`` episodes with
    transcripts (indexed; ``semantic``: with windows embedded by ``embedder``, default the bundled
    model), and settings.toml with the fake engines."""
    from earmark.feeds.parse import parse_feed
    from earmark.search.index import compute_episode_index, write_episode_index

    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text('llm_engine = "fake"\nasr_engine = "fake"\n')
    rng = random.Random(seed)
    library = Library(home / "library.sqlite3")
    try:
        for name in feeds or FEEDS:
            # An address nothing answers on: nothing here refreshes, and if it did it would fail at once.
            url = f"http://127.0.0.1:9/{name}"
            feed = parse_feed((CORPUS / "feeds" / name).read_bytes(), url)
            podcast, _ = library.add_podcast(url)
            library.save_feed(podcast.id, feed, url=url, etag=None, last_modified=None, content_hash=None)
        podcast_ids = [p.id for p in library.podcasts()]
        episode_ids = [row[0] for row in library.conn.execute("SELECT id FROM episodes ORDER BY id")]
        chosen = rng.sample(episode_ids, min(transcribed, len(episode_ids)))
        if not semantic:
            embedder = None
        elif embedder is None:
            from earmark.search.embed import get_embedder

            embedder = get_embedder()
        t0 = time.perf_counter()
        # A few distinct transcripts, each embedded once (the slow part) and given to several episodes.
        distinct = [transcript_for(rng, minutes) for _ in range(min(2, len(chosen)))]
        indexes = [compute_episode_index(segments, embedder) if embedder is not None else None for segments in distinct]
        durations = {}
        for n, episode_id in enumerate(chosen):
            segments, index = distinct[n % len(distinct)], indexes[n % len(distinct)]
            durations[episode_id] = float(math.ceil(segments[-1].end))
            library.set_duration(episode_id, math.ceil(segments[-1].end))  # whole seconds, as feeds give
            TranscriptStore(library).save(episode_id, Transcript(segments, source="publisher", format="json"))
            with library.transaction() as conn:
                write_episode_index(conn, episode_id, index)
        log(f"library: {len(podcast_ids)} podcasts, {len(episode_ids)} episodes, {len(chosen)} with"
            f" {minutes}-minute transcripts ({'keyword + semantic' if semantic else 'keyword'} index,"
            f" {time.perf_counter() - t0:.0f} s)")
        return Plan(podcast_ids, episode_ids, durations)
    finally:
        library.close()


# -- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "EARMARK_HOME": str(home)}
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tests.engines.cli", "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"earmark serve exited ({proc.returncode}):\n{log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/podcasts", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("earmark serve did not answer within 60 s")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), to tell how much of the machine the server got."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- the clients ------------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)  # (kind, status or error name)
    errors: Counter = field(default_factory=Counter)  # error kind -> count
    examples: dict[str, str] = field(default_factory=dict)  # error kind -> first message
    positions: dict[int, float] = field(default_factory=dict)  # episode -> last acknowledged position
    snips: dict[int, float] = field(default_factory=dict)  # snip id -> tapped_at
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds) per request
    elapsed: float = 0.0

    def record(self, kind: str, started: float) -> None:
        seconds = time.perf_counter() - started
        self.latencies[kind].append(seconds)
        self.timeline.append((started, seconds))

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def error(self, kind: str, message: str) -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, message[:300])


EXPECTED = {"snip_create": 201}
KEEP_ALIVE = 5.0  # uvicorn's default timeout_keep_alive, which `earmark serve` keeps


async def client(n: int, http: httpx.AsyncClient, plan: Plan, owned: list[int], deadline: float, results: Results,
                 think: float, mix: list[tuple[str, int]]) -> None:
    rng = random.Random(1000 + n)
    kinds, weights = zip(*mix)
    transcribed = sorted(plan.transcribed)
    position_seq = 0
    my_snips: list[int] = []
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        method, body, check = "GET", None, None
        if kind == "podcasts":
            url = "/api/v1/podcasts"
        elif kind == "episodes":
            url = f"/api/v1/podcasts/{rng.choice(plan.podcast_ids)}/episodes?limit=50&offset={rng.choice([0, 0, 50])}"
        elif kind == "episode":
            url = f"/api/v1/episodes/{rng.choice(plan.episode_ids)}"
        elif kind == "position":
            episode_id = rng.choice(owned)
            position_seq += 1
            seconds = round(position_seq * 7.25 + n / 1000, 3)  # unique per client, increasing
            method, url, body = "PUT", f"/api/v1/episodes/{episode_id}/position", {"seconds": seconds}
            check = ("position", episode_id, seconds)
        elif kind == "snip_create":
            episode_id = rng.choice(transcribed)
            at = round(rng.uniform(0, plan.transcribed[episode_id]), 2)
            method, url, body = "POST", f"/api/v1/episodes/{episode_id}/snips", {"position": at}
            check = ("snip", episode_id, at)
        elif kind == "snip_list":
            url = "/api/v1/snips?limit=20"
        elif kind == "episode_snips":
            url = f"/api/v1/episodes/{rng.choice(transcribed)}/snips?limit=20"
        elif kind == "snip_get":
            if not my_snips:
                continue
            url = f"/api/v1/snips/{rng.choice(my_snips)}"
        elif kind == "search_keyword":
            url, body = "/api/v1/search", {"q": rng.choice(KEYWORDS), "mode": "keyword"}
        elif kind == "search_semantic":
            url, body = "/api/v1/search", {"q": rng.choice(QUESTIONS), "mode": "semantic"}
        elif kind == "search_combined":
            url, body = "/api/v1/search", {"q": rng.choice(QUESTIONS + KEYWORDS), "mode": "combined"}
        else:  # queue
            url = "/api/v1/queue"
        started = time.perf_counter()
        try:
            if method == "GET":
                response = await http.get(url, params=body)
            else:
                response = await http.request(method, url, json=body)
        except httpx.HTTPError as exc:
            results.record(kind, started)
            name = type(exc).__name__
            results.statuses[(kind, name)] += 1
            results.error(name, f"{method} {url}: {exc!r}")
            continue
        results.record(kind, started)
        status = response.status_code
        results.statuses[(kind, status)] += 1
        if status != EXPECTED.get(kind, 200):
            results.error(f"{status // 100}xx" if status >= 500 else f"HTTP {status}", f"{method} {url}: {response.text}")
            if "locked" in response.text:
                results.error("locked (response)", response.text)
        elif check and check[0] == "position":
            results.positions[check[1]] = check[2]
            if response.json()["position"] != check[2]:
                results.error("position echoed wrong", f"{url}: sent {check[2]}, got {response.text}")
        elif check and check[0] == "snip":
            snip = response.json()
            results.snips[snip["id"]] = snip["tapped_at"]
            my_snips.append(snip["id"])
            if snip["episode_id"] != check[1] or abs(snip["tapped_at"] - check[2]) > 1e-6:
                results.error("snip echoed wrong", f"{url}: sent {check[2]}, got {response.text[:200]}")
        if think:
            # Capped below uvicorn's keep-alive timeout (5 s): a request sent just as the server
            # closes an idle connection fails in any HTTP client that does not retry (browsers do).
            await asyncio.sleep(min(rng.expovariate(1 / think), KEEP_ALIVE - 1.0))


async def run_clients(base: str, plan: Plan, clients: int, seconds: float, think: float = 0.0,
                      mix: list[tuple[str, int]] | None = None) -> Results:
    results = Results()
    # Each client owns its own episodes for position updates, so its last acknowledged value is
    # the one that must be in the library afterwards.
    owned = {n: plan.episode_ids[n :: clients] or [plan.episode_ids[n % len(plan.episode_ids)]] for n in range(clients)}
    if clients > len(plan.episode_ids):
        raise SystemExit(f"{clients} clients need at least as many episodes ({len(plan.episode_ids)} here)")
    # Every client has a connection of its own. They are made before the clock starts: each new
    # httpx client builds an SSL context (tens of ms), which would stall the others' first requests.
    tls = ssl.create_default_context()
    https = [httpx.AsyncClient(base_url=base, timeout=120.0, verify=tls, limits=httpx.Limits(max_connections=1))
             for _ in range(clients)]
    try:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(client(n, https[n], plan, owned[n], deadline, results, think, mix or MIX)
                               for n in range(clients)))
        results.elapsed = time.monotonic() - started
    finally:
        for http in https:
            await http.aclose()
    return results


# -- checks -----------------------------------------------------------------------------------------


@dataclass
class Verified:
    positions_ok: int = 0
    snips_ok: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.positions_ok + self.snips_ok


def verify_db(db_path: Path, results: Results) -> Verified:
    """Every acknowledged write, read from the SQLite file directly (read-only, beside the server)."""
    out = Verified()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        stored = dict(conn.execute("SELECT episode_id, position FROM playback"))
        for episode_id, seconds in results.positions.items():
            if stored.get(episode_id) == seconds:
                out.positions_ok += 1
            else:
                out.missing.append(f"db: episode {episode_id} position {stored.get(episode_id)}, last acknowledged {seconds}")
        snips = dict(conn.execute("SELECT id, tapped_at FROM snips"))
        for snip_id, tapped_at in results.snips.items():
            if snip_id in snips and abs(snips[snip_id] - tapped_at) < 1e-6:
                out.snips_ok += 1
            else:
                out.missing.append(f"db: snip {snip_id} (tapped at {tapped_at}) is {snips.get(snip_id, 'missing')}")
    finally:
        conn.close()
    return out


async def verify_api(base: str, results: Results, concurrency: int = 16) -> Verified:
    out = Verified()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as http:

        async def get(what: str, number: int) -> httpx.Response | None:  # None: failed, and noted
            try:
                async with gate:
                    return await http.get(f"/api/v1/{what}s/{number}")
            except httpx.HTTPError as exc:
                out.missing.append(f"api: {what} {number}: {exc!r}")

        async def position(episode_id: int, seconds: float) -> None:
            if (r := await get("episode", episode_id)) is None:
                return
            got = r.json()["playback"]["position"] if r.status_code == 200 else f"HTTP {r.status_code}"
            if got == seconds:
                out.positions_ok += 1
            else:
                out.missing.append(f"api: episode {episode_id} position {got}, last acknowledged {seconds}")

        async def snip(snip_id: int, tapped_at: float) -> None:
            if (r := await get("snip", snip_id)) is None:
                return
            if r.status_code == 200 and abs(r.json()["tapped_at"] - tapped_at) < 1e-6:
                out.snips_ok += 1
            else:
                out.missing.append(f"api: snip {snip_id}: HTTP {r.status_code} {r.text[:100]}")

        await asyncio.gather(*(position(e, s) for e, s in results.positions.items()),
                             *(snip(i, t) for i, t in results.snips.items()))
    return out


# -- figures ----------------------------------------------------------------------------------------


def pct(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, round(p / 100 * (len(sorted_ms) - 1)))]


def latency_line(name: str, samples: list[float], width: int = 16) -> str:  # bench_concurrency's too
    ms = sorted(s * 1000 for s in samples)
    if not ms:
        return f"  {name:{width}s} {0:7d}"
    return (f"  {name:{width}s} {len(ms):7d}  p50 {statistics.median(ms):7.1f}  p95 {pct(ms, 95):7.1f}"
            f"  p99 {pct(ms, 99):7.1f}  max {ms[-1]:7.1f} ms")


def report(results: Results, locked: int, tracebacks: int, db: Verified, api: Verified, mix=None) -> bool:
    total = results.total
    print(f"requests: {total} in {results.elapsed:.1f} s = {total / results.elapsed:.0f} req/s")
    print("latency by kind (client-side, ms):")
    for kind, _ in mix or MIX:
        if results.latencies.get(kind):
            print(latency_line(kind, results.latencies[kind]))
    print(latency_line("all", [s for v in results.latencies.values() for s in v]))
    statuses = Counter()
    for (_, status), count in results.statuses.items():
        statuses[status] += count
    print("statuses: " + ", ".join(f"{s}: {c}" for s, c in sorted(statuses.items(), key=str)))
    errors = sum(results.errors.values())
    print(f"errors: {errors}" + ("" if not errors else " — " + ", ".join(f"{k}: {c}" for k, c in results.errors.most_common())))
    for kind, example in results.examples.items():
        print(f"  first {kind}: {example}")
    print(f'"database is locked" in the server log: {locked}; tracebacks in the server log: {tracebacks}')
    expected = len(results.positions) + len(results.snips)
    print(f"writes acknowledged: {len(results.positions)} episode positions (last of each), {len(results.snips)} snips")
    print(f"writes verified in the SQLite file: {db.ok}/{expected} (missing {len(db.missing)});"
          f" through the API: {api.ok}/{expected} (missing {len(api.missing)})")
    for line in (db.missing + api.missing)[:10]:
        print("  " + line)
    return errors == 0 and locked == 0 and tracebacks == 0 and not db.missing and not api.missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="mean pause between a client's requests (exponential, at most 4 s); 0: back to back")
    parser.add_argument("--transcribed", type=int, default=8, help="episodes with transcripts (snips, search)")
    parser.add_argument("--minutes", type=int, default=10, help="length of each transcript")
    parser.add_argument("--no-semantic", action="store_true", help="keyword index only (no embeddings)")
    parser.add_argument("--dir", default=None, help="EARMARK_HOME to use (default: a new temporary folder)")
    parser.add_argument("--keep-log", action="store_true", help="print the server log's tail at the end")
    args = parser.parse_args()

    home = Path(args.dir or tempfile.mkdtemp(prefix="earmark-load-"))
    print(f"cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}  EARMARK_HOME: {home}")
    plan = prepare(home, transcribed=args.transcribed, minutes=args.minutes, semantic=not args.no_semantic)
    mix = [(k, w) for k, w in MIX if not (args.no_semantic and k in ("search_semantic", "search_combined"))]
    port = free_port()
    log_path = home / "server.log"
    proc = start_server(home, port, log_path)
    base = f"http://127.0.0.1:{port}"
    print(f"earmark serve (pid {proc.pid}) on {base}; {args.clients} clients for {args.seconds:g} s"
          f" (think time {args.think_ms:g} ms)")
    try:
        server_cpu, own_cpu = cpu_seconds(proc.pid), time.process_time()
        results = asyncio.run(run_clients(base, plan, args.clients, args.seconds, args.think_ms / 1000, mix))
        server_cpu = None if server_cpu is None else cpu_seconds(proc.pid) - server_cpu
        own_cpu = time.process_time() - own_cpu
        db = verify_db(home / "library.sqlite3", results)
        api = asyncio.run(verify_api(base, results))
    finally:
        stop_server(proc)
    log_text = log_path.read_text(errors="replace")
    locked, tracebacks = log_text.count("database is locked"), log_text.count("Traceback (most recent call last)")
    ok = report(results, locked, tracebacks, db, api, mix)
    shown = "?" if server_cpu is None else f"{server_cpu:.0f} s ({server_cpu / results.elapsed:.0%} of a core)"
    print(f"CPU during the run: server {shown}, clients {own_cpu:.0f} s ({own_cpu / results.elapsed:.0%} of a core);"
          f" load average now {os.getloadavg()[0]:.1f} (other processes share this machine)")
    if args.keep_log or not ok:
        print("server log (tail):\n" + log_text[-3000:])
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

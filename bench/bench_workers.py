"""Processing on a pool of `earmark worker`s (Celery, a real redis-server on 127.0.0.1): how the
throughput grows with 1, 2 and 4 workers, and what sending a stage to a worker costs against the
in-process path. The engines take a fixed time per second of audio and no CPU (the fake ASR
sleeps per segment; the embedder, diarizer and LLM are the fault campaign's instant ones,
tests/faults/child.py), so 2 cores can show what more machines would give. Each worker is a real
`earmark worker` process; the server a real `earmark serve`; the episodes a feed on loopback.

- throughput: N episodes queued at once; wall time from the first request to the last job done.
- overhead per stage: the same episodes one at a time on one worker, each stage's wall time
  (job_stages started → finished, as the server records it) against the same stage run in-process
  (`earmark process --wait`, no broker), median over the episodes.

    python bench/bench_workers.py [--episodes 8] [--seconds 60] [--rate 0.05] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.distributed.cluster import STAGES, Cluster, RedisServer  # noqa: E402
from tests.faults.harness import SETTINGS, Earmark  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402


def stage_seconds(em: Earmark, episode_ids: list[int]) -> dict[str, list[float]]:
    """Each stage's wall time in the latest job of each episode."""
    out: dict[str, list[float]] = {name: [] for name in STAGES}
    for episode_id in episode_ids:
        job = em.job(episode_id)
        assert job is not None and job["state"] == "done", dict(job) if job else episode_id
        for name, row in em.stages(job["id"]).items():
            if name in out and row["started_at"] and row["finished_at"]:
                out[name].append(row["finished_at"] - row["started_at"])
    return out


def cluster_run(tmp: Path, redis: RedisServer, workers: int, guids: str, seconds: float, rate: float,
                *, one_at_a_time: bool = False) -> tuple[float, dict[str, list[float]]]:
    feed = LoopbackServer()
    cluster = Cluster(tmp, redis, feed, asr_delay=rate * 2, server_settings=f"broker_jobs = {max(8, len(guids))}")
    try:
        ids = cluster.add_feed(guids, seconds)
        cluster.serve()
        names = [f"w{n + 1}" for n in range(workers)]
        for name in names:
            cluster.start_worker(name, wait=False)
        for name in names:
            cluster.wait_worker(name)
        episode_ids = [ids[g] for g in guids]
        started = time.monotonic()
        if one_at_a_time:
            for episode_id in episode_ids:
                cluster.process(episode_id)
                cluster.wait_done(episode_id, timeout=600)
        else:
            for episode_id in episode_ids:
                cluster.process(episode_id)
            for episode_id in episode_ids:
                cluster.wait_done(episode_id, timeout=600)
        wall = time.monotonic() - started
        return wall, stage_seconds(cluster.em, episode_ids)
    finally:
        cluster.stop()
        feed.close()


def local_run(tmp: Path, guids: str, seconds: float, rate: float) -> dict[str, list[float]]:
    from tests.jobs.conftest import feed_xml, wav_bytes

    feed = LoopbackServer()
    em = Earmark(tmp / "local" / "home", SETTINGS)
    try:
        for guid in guids:
            feed.add(f"/{guid}.wav", wav_bytes(seconds), content_type="audio/wav")
        feed.add("/feed.rss", feed_xml(feed, [{"guid": g, "title": f"Episode {g}", "audio": f"/{g}.wav"} for g in guids]))
        em.run("add", feed.url("/feed.rss"))
        ids = {r["guid"]: r["id"] for r in em.query("SELECT id, guid FROM episodes")}
        for guid in guids:
            em.run("process", str(ids[guid]), "--wait", timeout=600, env={"EARMARK_FAKE_ASR_DELAY": str(rate * 2)})
        return stage_seconds(em, [ids[g] for g in guids])
    finally:
        em.stop_all()
        feed.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length of each episode")
    parser.add_argument("--rate", type=float, default=0.05, help="the ASR's seconds per second of audio")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    guids = string.ascii_lowercase[: args.episodes]
    counts = [int(n) for n in args.workers.split(",")]
    asr = args.seconds * args.rate
    print(f"{args.episodes} episodes of {args.seconds:g} s; the ASR takes {asr:g} s of each (rate {args.rate:g});"
          f" the other engines are instant")
    with tempfile.TemporaryDirectory(prefix="earmark-bench-workers-") as folder:
        tmp = Path(folder)
        redis = RedisServer(tmp / "redis")
        redis.start()
        try:
            print("\nthroughput (all episodes queued at once)")
            print(f"{'workers':>8} {'wall s':>8} {'episodes/min':>13} {'speed-up':>9}")
            base = None
            for n in counts:
                wall, _ = cluster_run(tmp / f"pool{n}", redis, n, guids, args.seconds, args.rate)
                base = base or wall * counts[0]
                print(f"{n:>8} {wall:>8.1f} {60 * args.episodes / wall:>13.1f} {base / wall:>8.2f}×", flush=True)

            remote = cluster_run(tmp / "one", redis, 1, guids, args.seconds, args.rate, one_at_a_time=True)[1]
        finally:
            redis.stop()
        local = local_run(tmp, guids, args.seconds, args.rate)
    print("\noverhead per stage (one episode at a time; median over the episodes; ms)")
    print(f"{'stage':>11} {'in-process':>11} {'on a worker':>12} {'overhead':>9}")
    extra = []
    for name in STAGES:
        here, there = statistics.median(local[name]) * 1000, statistics.median(remote[name]) * 1000
        extra.append(there - here)
        print(f"{name:>11} {here:>11.0f} {there:>12.0f} {there - here:>+9.0f}")
    print(f"{'mean':>11} {'':>11} {'':>12} {statistics.mean(extra):>+9.0f}")


if __name__ == "__main__":
    main()

"""`earmark serve` with a broker and two real `earmark worker` processes, through a real
redis-server: episodes processed on the workers are written once, as the in-process pipeline
writes them; a worker killed with -9 mid-task loses nothing; Redis stopped for a moment stops
nothing but the work, which goes on when it is back. The engines are the fault campaign's
(tests/faults/child.py: fake ASR, embedder, diarizer and a validly answering fake LLM)."""

from __future__ import annotations

import re

import httpx
import pytest

from earmark.cli.worker import live_workers
from tests.distributed.cluster import SEGMENTS, STAGES, Cluster
from tests.faults.harness import Earmark, episode_rows, free_port, kill, wait_for
from tests.loopback import LoopbackServer


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_server):
    feed = LoopbackServer()
    c = Cluster(tmp_path_factory.mktemp("cluster"), redis_server, feed)
    c.add_feed("abcdef", broken="f")
    try:
        c.serve()
        c.start_worker("w1")
        c.start_worker("w2")
        yield c
    finally:
        c.stop()
        feed.close()


def counts(em: Earmark, episode_id: int) -> dict[str, int]:
    one = lambda sql: em.one(sql, episode_id)  # noqa: E731
    return {
        "segments": one("SELECT count(*) FROM segments WHERE episode_id = ?"),
        "transcripts": one("SELECT count(*) FROM transcripts WHERE episode_id = ?"),
        "summaries": one("SELECT count(*) FROM summaries WHERE episode_id = ?"),
        "chapter sets": one("SELECT count(*) FROM chapter_sets WHERE episode_id = ?"),
    }


def test_episodes_are_computed_on_the_workers_and_written_once(cluster, tmp_path):
    ids = [cluster.ids[g] for g in "abc"]
    for episode_id in ids:
        cluster.process(episode_id)
    used = set()
    for episode_id in ids:
        job = cluster.wait_done(episode_id)
        stages = cluster.em.stages(job["id"])
        assert {name: stages[name]["state"] for name in STAGES} == dict.fromkeys(STAGES, "done")
        workers = {name: stages[name]["worker"] for name in STAGES}
        assert set(workers.values()) <= {"w1@test", "w2@test"}, workers  # every stage ran on a worker
        used |= set(workers.values())
        assert counts(cluster.em, episode_id) == {"segments": SEGMENTS, "transcripts": 1, "summaries": 1, "chapter sets": 1}
    assert used == {"w1@test", "w2@test"}

    # The same episode processed in-process (no broker) holds the same rows, times and ids aside.
    local = Earmark(tmp_path / "local" / "home")
    local.run("add", cluster.feed.url("/feed.rss"))
    local_id = local.one("SELECT id FROM episodes WHERE guid = 'a'")
    local.run("process", str(local_id), "--wait", timeout=120)
    assert episode_rows(local, local_id) == episode_rows(cluster.em, cluster.ids["a"])

    # The jobs list says which worker ran what; `earmark workers` lists both, idle.
    listed = cluster.em.run("jobs")
    assert "w1@test" in listed or "w2@test" in listed
    live = {w.name: w for w in live_workers(cluster.settings(), 2.0)}
    assert set(live) == {"w1@test", "w2@test"}
    assert all(w.running == [] and set(w.queues) == {"asr", "llm", "index"} for w in live.values())


def test_a_worker_killed_mid_task_loses_nothing(cluster):
    episode_id = cluster.ids["d"]
    cluster.process(episode_id)

    def transcribing():
        job = cluster.em.job(episode_id)
        row = job and cluster.em.stages(job["id"])["transcript"]
        return row is not None and row["state"] == "running" and row["worker"]

    victim = wait_for(transcribing, "a worker to start the transcript", timeout=60).split("@")[0]
    kill(cluster.workers[victim])
    job = cluster.wait_done(episode_id)
    survivor = {"w1": "w2@test", "w2": "w1@test"}[victim]
    assert cluster.em.stages(job["id"])["transcript"]["worker"] == survivor
    assert counts(cluster.em, episode_id) == {"segments": SEGMENTS, "transcripts": 1, "summaries": 1, "chapter sets": 1}
    cluster.start_worker(victim)  # the next test has two again


def test_redis_stopped_for_a_moment(cluster):
    episode_id = cluster.ids["e"]
    cluster.redis.stop()
    try:
        # Pages and the API go on without the broker; a request to process is taken.
        page = httpx.get(cluster.base + "/", headers={**cluster.headers(), "Accept": "text/html"}, timeout=10)
        assert page.status_code == 200
        cluster.process(episode_id)
        assert cluster._answers(f"/api/v1/jobs?episode_id={episode_id}")
        wait_for(lambda: (cluster.em.job(episode_id) or {"stage": None})["stage"] == "transcript",
                 "the job to reach the transcript stage", timeout=30)
        assert cluster.em.job(episode_id)["state"] == "running"  # waiting for the broker, not failed
    finally:
        cluster.redis.start()  # empty: whatever it held is lost, as after a crash
    cluster.wait_done(episode_id, timeout=120)
    assert counts(cluster.em, episode_id) == {"segments": SEGMENTS, "transcripts": 1, "summaries": 1, "chapter sets": 1}


def test_a_stage_that_fails_on_a_worker_says_where_and_why(cluster):
    episode_id = cluster.ids["f"]  # its "audio" is text
    cluster.process(episode_id)
    job = wait_for(lambda: (j := cluster.em.job(episode_id)) is not None and j["state"] in ("done", "failed") and j,
                   "the job to end", timeout=60)
    transcript = cluster.em.stages(job["id"])["transcript"]
    assert (job["state"], transcript["state"]) == ("failed", "failed")
    assert re.fullmatch(r"transcript: on w[12]@test: \S+\.wav: not a readable audio file \(.+\)", job["error"]), job["error"]
    assert transcript["worker"] in ("w1@test", "w2@test")
    assert counts(cluster.em, episode_id)["segments"] == 0


def test_worker_commands_say_what_is_wrong(tmp_path):
    em = Earmark(tmp_path / "home")  # no broker_url: everything runs in-process
    assert "no broker_url" in em.run("workers", code=1)
    em.settings('broker_url = "amqp://127.0.0.1/"')
    assert "broker_url must be a Redis URL" in em.run("workers", code=1)
    em.settings(f'broker_url = "redis://127.0.0.1:{free_port()}/0"')  # nothing listens there
    assert "unknown queue(s) gpu" in em.run("worker", "--queues", "asr,gpu", code=1)
    assert "cannot be reached" in em.run("workers", "--timeout", "1", code=1, timeout=60)

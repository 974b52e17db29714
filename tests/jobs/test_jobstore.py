"""JobStore on its own: claiming, restart recovery, and the CLI's queue-only path."""

from __future__ import annotations

import socket
import subprocess
import sys

from typer.testing import CliRunner

from earmark.cli.app import app
from earmark.store.jobs import JobStore
from tests.jobs.conftest import subscribe_feed, wav_bytes


def dead_owner() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid is free (and very unlikely reused within the test)
    return f"{socket.gethostname()}:{child.pid}"


def test_recover_requeues_only_jobs_of_dead_workers(fake_settings, fake_library, server):
    server.add("/r.wav", wav_bytes(2), content_type="audio/wav")
    server.add("/s.wav", wav_bytes(2), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server,
                         [{"guid": g, "title": g, "audio": f"/{g}.wav"} for g in "rs"])
    store = JobStore(fake_library)
    mine, orphan = store.enqueue(ids["r"], priority=0), store.enqueue(ids["s"], priority=0)
    assert store.claim().id == mine.id and store.claim().id == orphan.id and store.claim() is None
    fake_library.conn.execute("UPDATE jobs SET owner = ? WHERE id = ?", (dead_owner(), orphan.id))

    assert store.recover(max_attempts=3) == [orphan.id]  # ours is alive: left running
    assert (store.get(mine.id).state, store.get(orphan.id).state) == ("running", "queued")

    # A job that keeps killing its worker is not retried for ever.
    assert store.claim().id == orphan.id
    fake_library.conn.execute("UPDATE jobs SET owner = ?, attempts = 3 WHERE id = ?", (dead_owner(), orphan.id))
    assert store.recover(max_attempts=3) == [orphan.id]
    gave_up = store.get(orphan.id)
    assert gave_up.state == "failed" and "interrupted 3 times" in gave_up.error


def test_process_without_wait_only_queues(fake_settings, fake_library, server):
    server.add("/q.wav", wav_bytes(2), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [{"guid": "q", "title": "Queued one", "audio": "/q.wav"}])
    result = CliRunner().invoke(app, ["process", str(ids["q"])])
    assert result.exit_code == 0 and "Queued job" in result.output
    [job] = JobStore(fake_library).list()
    assert (job.state, job.priority, job.attempts) == ("queued", 10, 0)
    assert server.requests_to("/q.wav") == []
    table = CliRunner().invoke(app, ["jobs"])
    assert table.exit_code == 0 and "queued" in table.output
    missing = CliRunner().invoke(app, ["transcript", str(ids["q"])])
    assert missing.exit_code == 1 and "no transcript yet" in missing.output


def test_a_running_job_beats_while_a_long_stage_reports_nothing(fake_settings, fake_library, server, monkeypatch):
    """Another host judges a job only by its heartbeat: a model call of minutes must not make a
    live job look abandoned (and be run twice)."""
    import time

    from earmark.jobs import runner
    from earmark.jobs.runner import Pipeline
    from earmark.store import jobs as jobs_module

    server.add("/b.wav", wav_bytes(2), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [{"guid": "b", "title": "b", "audio": "/b.wav"}])
    store = JobStore(fake_library)
    job = store.claim(store.enqueue(ids["b"], priority=0).id)
    fake_library.conn.execute("UPDATE jobs SET owner = 'another-host:1', heartbeat = 0 WHERE id = ?", (job.id,))
    assert store.recover(max_attempts=3) == [job.id]  # silent for long: taken back
    job = store.claim(job.id)
    monkeypatch.setattr(runner, "HEARTBEAT_EVERY", 0.05)
    with Pipeline(fake_library, fake_settings)._beating(job.id):
        fake_library.conn.execute("UPDATE jobs SET owner = 'another-host:1', heartbeat = 0 WHERE id = ?", (job.id,))
        time.sleep(0.3)  # a stage deep in one model call: no progress written
        assert store.recover(max_attempts=3) == []  # its beat says it is alive
    beat = fake_library.conn.execute("SELECT heartbeat FROM jobs WHERE id = ?", (job.id,)).fetchone()[0]
    assert beat > time.time() - jobs_module.STALE_AFTER

"""Jobs and their stages in SQLite. Claiming is one ``BEGIN IMMEDIATE`` transaction, so several
threads or processes sharing the library never run the same job twice."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from earmark.errors import NotFound
from earmark.models import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, StageRun
from earmark.store.db import rows_in
from earmark.store.library import Library

# The one list of a job's stages, in the order they run: enqueue writes a job_stages row for each, by
# position. It lives here, in the store layer, because the store must not import earmark.jobs (which
# sits above it); earmark/jobs/stages.py builds the stage table (progress weight and function of
# each) from this tuple and refuses to import when the two disagree. The runner, `earmark process`
# and jobs/eta.py take the names from here.
STAGES = ("download", "transcript", "speakers", "names", "index", "chapters", "summary", "highlights")
# A running job whose worker has not reported for this long is taken to be dead.
STALE_AFTER = 120.0


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _stage(row: sqlite3.Row) -> StageRun:
    return StageRun(
        name=row["name"],
        state=row["state"],
        progress=row["progress"],
        error=row["error"],
        attempts=row["attempts"],
        engine=row["engine"],
        model=row["model"],
        checkpoint=json.loads(row["checkpoint"]) if row["checkpoint"] else None,
        worker=row["worker"],
        started_at=_dt(row["started_at"]),
        finished_at=_dt(row["finished_at"]),
    )


def _alive(owner: str | None, heartbeat: float | None, now: float) -> bool:
    """Whether the worker that claimed a job is still at it: on this host its pid says so (a
    long model call may go quiet for a while); elsewhere only the heartbeat can tell."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return bool(owner) and (heartbeat or 0) > now - STALE_AFTER
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobStore:
    def __init__(self, library: Library):
        self.library = library

    # -- reading ----------------------------------------------------------------------------

    def _job(self, row: sqlite3.Row) -> Job:
        stages = self.library.conn.execute(
            "SELECT * FROM job_stages WHERE job_id = ? ORDER BY position", (row["id"],)
        ).fetchall()
        return Job(
            id=row["id"],
            episode_id=row["episode_id"],
            state=row["state"],
            priority=row["priority"],
            stage=row["stage"],
            progress=row["progress"],
            error=row["error"],
            attempts=row["attempts"],
            created_at=_dt(row["created_at"]),  # type: ignore[arg-type]
            started_at=_dt(row["started_at"]),
            finished_at=_dt(row["finished_at"]),
            cancel_requested=bool(row["cancel_requested"]),
            stages=[_stage(s) for s in stages],
        )

    def get(self, job_id: int) -> Job:
        row = self.library.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job with id {job_id}")
        return self._job(row)

    def list(self, *, episode_id: int | None = None, limit: int = 100) -> list[Job]:
        """Live jobs first (in the order they will run), then finished ones, newest first."""
        where, params = ("WHERE episode_id = ?", (episode_id,)) if episode_id is not None else ("", ())
        rows = self.library.conn.execute(
            f"SELECT * FROM jobs {where}"  # one episode's: through the index jobs_by_episode
            " ORDER BY state = 'running' DESC, state = 'queued' DESC, priority DESC,"
            " CASE WHEN state IN ('queued', 'running') THEN id ELSE -id END LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [self._job(row) for row in rows]

    def latest(self, episode_ids: Sequence[int]) -> dict[int, tuple[str, float]]:
        """State and progress of each episode's newest job (episodes without one are left out)."""
        sql = "SELECT episode_id, state, progress FROM jobs WHERE episode_id IN ({ids}) ORDER BY id"
        return {row[0]: (row[1], row[2]) for row in rows_in(self.library.conn, sql, episode_ids)}

    def stage_speeds(self, name: str, *, limit: int = 100) -> list[tuple[str | None, str | None, float]]:
        """The newest finished runs of stage ``name`` (at most ``limit``, newest first), each as
        (engine, model, seconds per minute of the episode's audio). Runs that only passed a
        publisher's transcript through, and episodes of unknown length, are left out."""
        rows = self.library.conn.execute(
            "SELECT s.engine, s.model, (s.finished_at - s.started_at) * 60.0 / e.duration"
            " FROM job_stages s"
            " JOIN jobs j ON j.id = s.job_id JOIN episodes e ON e.id = j.episode_id"
            " WHERE s.name = ? AND s.state = 'done' AND s.finished_at >= s.started_at AND e.duration > 0"
            " AND s.engine IS NOT 'publisher' ORDER BY s.finished_at DESC LIMIT ?",
            (name, limit),
        ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def cancel_requested(self, job_id: int) -> bool:
        row = self.library.conn.execute("SELECT cancel_requested, state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return row is None or bool(row["cancel_requested"]) or row["state"] == CANCELLED

    # -- queue ------------------------------------------------------------------------------

    def enqueue(self, episode_id: int, *, priority: int, only: Collection[str] | None = None) -> Job:
        """Queue processing of an episode. A live job for it is returned instead (raised to
        ``priority`` when the user asks for background work now). ``only``: run just these stages
        (the others start done: redoing the understanding of an episode already transcribed)."""
        self.library.episode(episode_id)
        now = time.time()
        with self.library.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM jobs WHERE episode_id = ? AND state IN ('queued', 'running')", (episode_id,)
            ).fetchone()
            if row:
                job_id = row["id"]
                conn.execute("UPDATE jobs SET priority = max(priority, ?) WHERE id = ?", (priority, job_id))
            else:
                job_id = conn.execute(
                    "INSERT INTO jobs (episode_id, priority, created_at) VALUES (?, ?, ?)", (episode_id, priority, now)
                ).lastrowid
                conn.executemany(
                    "INSERT INTO job_stages (job_id, name, position, state, progress) VALUES (?, ?, ?, ?, ?)",
                    [(job_id, name, n, *(("queued", 0.0) if only is None or name in only else ("done", 100.0)))
                     for n, name in enumerate(STAGES)],
                )
        return self.get(job_id)

    def claim(self, job_id: int | None = None) -> Job | None:
        """Mark the best queued job (or ``job_id`` if queued) running for this process."""
        now = time.time()
        with self.library.transaction() as conn:
            if job_id is None:
                row = conn.execute(
                    "SELECT id FROM jobs WHERE state = 'queued' ORDER BY priority DESC, id LIMIT 1"
                ).fetchone()
            else:
                row = conn.execute("SELECT id FROM jobs WHERE id = ? AND state = 'queued'", (job_id,)).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, owner = ?, heartbeat = ?,"
                " started_at = coalesce(started_at, ?), error = NULL WHERE id = ?",
                (owner_id(), now, now, row["id"]),
            )
        return self.get(row["id"])

    def recover(self, max_attempts: int) -> list[int]:
        """Jobs left 'running' by a process that died go back to the queue (or fail, once they
        have been tried ``max_attempts`` times: a job that kills its worker must not loop)."""
        now = time.time()
        recovered = []
        # A read first: this runs on every idle poll of the server's workers, and a write
        # transaction each time would take the library's write lock for nothing.
        running = self.library.conn.execute("SELECT owner, heartbeat FROM jobs WHERE state = 'running'").fetchall()
        if all(_alive(row["owner"], row["heartbeat"], now) for row in running):
            return recovered
        with self.library.transaction() as conn:
            for row in conn.execute("SELECT id, owner, heartbeat, attempts FROM jobs WHERE state = 'running'").fetchall():
                if _alive(row["owner"], row["heartbeat"], now):
                    continue
                if row["attempts"] >= max_attempts:
                    conn.execute(
                        "UPDATE jobs SET state = 'failed', finished_at = ?, owner = NULL,"
                        " error = ? WHERE id = ?",
                        (now, f"interrupted {row['attempts']} times; giving up", row["id"]),
                    )
                    conn.execute(
                        "UPDATE job_stages SET state = 'failed', error = 'interrupted' WHERE job_id = ? AND state = 'running'",
                        (row["id"],),
                    )
                else:
                    conn.execute("UPDATE jobs SET state = 'queued', owner = NULL WHERE id = ?", (row["id"],))
                    conn.execute(
                        "UPDATE job_stages SET state = 'queued' WHERE job_id = ? AND state = 'running'", (row["id"],)
                    )
                recovered.append(row["id"])
        return recovered

    def cancel(self, job_id: int) -> Job:
        """A queued job is cancelled at once; a running one stops at its next progress report."""
        self.get(job_id)
        now = time.time()
        with self.library.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET state = 'cancelled', finished_at = ?, cancel_requested = 1 WHERE id = ? AND state = 'queued'",
                (now, job_id),
            )
            conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'", (job_id,))
        return self.get(job_id)

    def retry(self, job_id: int) -> Job:
        """Queue a failed or cancelled job again; stages already done are not redone."""
        job = self.get(job_id)
        if job.state not in (FAILED, CANCELLED):
            return job
        with self.library.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET state = 'queued', cancel_requested = 0, attempts = 0, error = NULL,"
                " finished_at = NULL WHERE id = ?",
                (job_id,),
            )
            conn.execute("UPDATE job_stages SET state = 'queued', error = NULL WHERE job_id = ? AND state != 'done'", (job_id,))
        return self.get(job_id)

    # -- while running ---------------------------------------------------------------------

    def beat(self, job_id: int) -> None:
        """The running job's worker is alive (written while a long stage gives no progress)."""
        with self.library.transaction() as conn:
            conn.execute("UPDATE jobs SET heartbeat = ? WHERE id = ? AND state = 'running'", (time.time(), job_id))

    def start_stage(self, job_id: int, name: str) -> StageRun:
        now = time.time()
        with self.library.transaction() as conn:
            conn.execute("UPDATE jobs SET stage = ?, heartbeat = ? WHERE id = ?", (name, now, job_id))
            conn.execute(
                "UPDATE job_stages SET state = 'running', attempts = attempts + 1, error = NULL, worker = NULL,"
                " started_at = coalesce(started_at, ?) WHERE job_id = ? AND name = ?",
                (now, job_id, name),
            )
        return next(s for s in self.get(job_id).stages if s.name == name)

    def set_worker(self, job_id: int, name: str, worker: str) -> None:
        """The ``earmark worker`` computing the stage (earmark/jobs/remote.py)."""
        with self.library.transaction() as conn:
            conn.execute("UPDATE job_stages SET worker = ? WHERE job_id = ? AND name = ?", (worker, job_id, name))

    @staticmethod
    def stage_done(conn: sqlite3.Connection, job_id: int, name: str) -> bool:
        """Inside the caller's transaction: whether the stage's result is written already."""
        row = conn.execute("SELECT state FROM job_stages WHERE job_id = ? AND name = ?", (job_id, name)).fetchone()
        return row is not None and row[0] == DONE

    def report(self, job_id: int, name: str, stage_progress: float, job_progress: float) -> None:
        with self.library.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET progress = ?, heartbeat = ? WHERE id = ?", (job_progress, time.time(), job_id)
            )
            conn.execute(
                "UPDATE job_stages SET progress = ? WHERE job_id = ? AND name = ?", (stage_progress, job_id, name)
            )

    @staticmethod
    def save_checkpoint(conn: sqlite3.Connection, job_id: int, name: str, checkpoint: dict | None, progress: float) -> None:
        """Inside the caller's transaction, so a checkpoint and the results it covers land together."""
        conn.execute(
            "UPDATE job_stages SET checkpoint = ?, progress = ? WHERE job_id = ? AND name = ?",
            (json.dumps(checkpoint) if checkpoint is not None else None, progress, job_id, name),
        )
        conn.execute("UPDATE jobs SET heartbeat = ? WHERE id = ?", (time.time(), job_id))

    def finish_stage(
        self, job_id: int, name: str, *, engine: str | None = None, model: str | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        def run(c: sqlite3.Connection) -> None:
            c.execute(
                "UPDATE job_stages SET state = 'done', progress = 100, finished_at = ?, engine = ?, model = ?"
                " WHERE job_id = ? AND name = ?",
                (time.time(), engine, model, job_id, name),
            )

        if conn is not None:
            run(conn)
        else:
            with self.library.transaction() as c:
                run(c)

    def fail_stage(self, job_id: int, name: str, error: str) -> None:
        """Mark one stage failed with its reason while the job goes on (understanding stages: a
        failed summary leaves the transcript and the other stages alone)."""
        with self.library.transaction() as conn:
            conn.execute(
                "UPDATE job_stages SET state = 'failed', error = ?, finished_at = ? WHERE job_id = ? AND name = ?",
                (error, time.time(), job_id, name),
            )

    def end(self, job_id: int, state: str, *, stage: str | None = None, error: str | None = None, retry: bool = False) -> None:
        """Finish a job (done / failed / cancelled), recording a failing stage's reason. With
        ``retry`` a failed job goes back to the queue instead."""
        now = time.time()
        with self.library.transaction() as conn:
            if stage is not None:
                conn.execute(
                    "UPDATE job_stages SET state = ?, error = ?, finished_at = ? WHERE job_id = ? AND name = ?",
                    (QUEUED if retry else state, error, now, job_id, stage),
                )
            if retry:
                conn.execute("UPDATE jobs SET state = 'queued', owner = NULL, error = ? WHERE id = ?", (error, job_id))
            else:
                conn.execute(
                    "UPDATE jobs SET state = ?, error = ?, finished_at = ?, owner = NULL,"
                    " progress = CASE WHEN ? = 'done' THEN 100 ELSE progress END WHERE id = ?",
                    (state, error, now, state, job_id),
                )


__all__ = ["JobStore", "STAGES", "QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLED"]

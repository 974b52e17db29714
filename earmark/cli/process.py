"""`earmark process [EPISODE_ID] [--wait] [--redo understanding]`: queue an episode for download →
transcript → speakers → summary, chapters, highlights, or run it now; or redo the understanding of
episodes already transcribed (after an upgrade changed the prompts, or with another model)."""

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from earmark.cli.app import JSON_OPTION, app, console, err_console, open_library, print_json
from earmark.errors import NotFound
from earmark.jobs import Pipeline
from earmark.jobs.understanding import STAGES as UNDERSTANDING, outdated
from earmark.models import DONE, PRIORITY_USER
from earmark.store.transcripts import TranscriptStore

REDO = {"understanding": ("names", *UNDERSTANDING), "index": ("index",)}


@app.command()
def process(
    episode_id: int | None = typer.Argument(None, help="An episode's ID from `earmark episodes` (all outdated ones "
                                                        "with --redo understanding and no ID)."),
    wait: bool = typer.Option(False, "--wait", help="Run it here and now, with a progress bar."),
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
        TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
        console=err_console, disable=json, transient=True,
    ) as bar:
        task = bar.add_task("queued", total=100)
        pipeline.progress = lambda e: bar.update(task, description=e.stage, completed=e.job_progress)
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

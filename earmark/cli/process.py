"""`earmark process EPISODE_ID [--wait]`: queue an episode for download → transcript, or run it now."""

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from earmark.cli.app import JSON_OPTION, app, console, err_console, open_library, print_json
from earmark.jobs import Pipeline
from earmark.models import DONE, PRIORITY_USER


@app.command()
def process(
    episode_id: int = typer.Argument(..., help="An episode's ID from `earmark episodes`."),
    wait: bool = typer.Option(False, "--wait", help="Run it here and now, with a progress bar."),
    json: bool = JSON_OPTION,
) -> None:
    """Download and transcribe an episode (publisher transcript first, else local speech recognition)."""
    settings, library = open_library()
    episode = library.episode(episode_id)
    pipeline = Pipeline(library, settings)
    job = pipeline.enqueue(episode_id, priority=PRIORITY_USER)
    if not wait:
        if json:
            print_json(job)
        else:
            console.print(f"Queued job {job.id} for [bold]{escape(episode.title)}[/].", highlight=False, soft_wrap=True)
        return
    pipeline.recover()  # a job this episode had in a killed process is taken up again
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
        console=err_console, disable=json, transient=True,
    ) as bar:
        task = bar.add_task("queued", total=100)
        pipeline.progress = lambda e: bar.update(task, description=e.stage, completed=e.job_progress)
        job = pipeline.run_job(job.id)
    if json:
        print_json(job)
    elif job.state == DONE:
        console.print(f"Processed [bold]{escape(episode.title)}[/] (job {job.id}).", highlight=False, soft_wrap=True)
    else:
        err_console.print(f"[red]Job {job.id} {job.state}:[/] {escape(job.error or '')}", highlight=False, soft_wrap=True)
    if job.state != DONE:
        raise typer.Exit(1)

import asyncio

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from earmark.cli.app import JSON_OPTION, app, console, err_console, open_library, print_json
from earmark.feeds.refresh import refresh_many, refresh_targets
from earmark.jobs.auto import queue_new_episodes


@app.command()
def refresh(
    podcast_id: int | None = typer.Argument(None, help="Refresh only this podcast (default: all)."),
    json: bool = JSON_OPTION,
) -> None:
    """Check feeds for new episodes."""
    settings, library = open_library()
    ids = [library.podcast(podcast_id).id] if podcast_id is not None else refresh_targets(library)
    with Progress(
        TextColumn("Refreshing"), BarColumn(), MofNCompleteColumn(), console=err_console, disable=json
    ) as bar:
        task = bar.add_task("refresh", total=len(ids))
        results = asyncio.run(refresh_many(library, settings, ids, progress=lambda _: bar.advance(task)))
    queued = queue_new_episodes(library, settings, results)
    if json:
        print_json(results)
    else:
        titles = library.podcast_titles()
        for r in results:
            if r.status == "error":
                console.print(f"[red]✗[/] {escape(titles.get(r.podcast_id, r.url))}: {escape(r.error or '')}")
            elif r.new_episodes or r.updated_episodes:
                console.print(
                    f"[green]✓[/] {escape(titles.get(r.podcast_id, r.url))}: {r.new_episodes} new, {r.updated_episodes} updated"
                )
        failed = sum(r.status == "error" for r in results)
        console.print(f"{len(results)} checked, {failed} failed.")
        if queued:
            console.print(f"{len(queued)} new episode(s) queued for processing (earmark jobs).")
    if any(r.status == "error" for r in results):
        raise typer.Exit(1)

"""`earmark download EPISODE_ID`: fetch an episode's audio (resuming a partial one), or delete it."""

import asyncio

import typer
from rich.markup import escape  # titles may contain [brackets] that Rich would read as markup
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from earmark.cli.app import JSON_OPTION, app, console, err_console, open_library, print_json
from earmark.downloads import delete_download, download_episode


@app.command()
def download(
    episode_id: int = typer.Argument(..., help="An episode's ID from `earmark episodes`."),
    delete: bool = typer.Option(False, "--delete", help="Delete the downloaded file (and any partial one)."),
    json: bool = JSON_OPTION,
) -> None:
    """Download an episode's audio; run again to resume an interrupted download."""
    settings, library = open_library()
    episode = library.episode(episode_id)
    if delete:
        removed = delete_download(library, settings, episode_id)
        if json:
            print_json({"episode_id": episode_id, "deleted": removed})
        elif removed:
            console.print(f"Deleted the download of [bold]{escape(episode.title)}[/].", highlight=False, soft_wrap=True)
        else:
            console.print(f"Episode {episode_id} has no download.")
        return
    existing = library.download(episode_id)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=json,
        transient=True,
    ) as bar:
        task = bar.add_task(escape(episode.title[:40]), total=None)
        record = asyncio.run(
            download_episode(
                library,
                settings,
                episode_id,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    if json:
        print_json(record)
    elif existing is not None and existing.path == record.path and existing.finished_at == record.finished_at:
        console.print(f"Already downloaded: {escape(record.path)}", highlight=False, soft_wrap=True)
    else:
        console.print(
            f"Downloaded [bold]{escape(episode.title)}[/] → {escape(record.path)} ({record.size:,} bytes)",
            highlight=False,
            soft_wrap=True,
        )

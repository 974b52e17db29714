"""`earmark download EPISODE_ID`: fetch an episode's audio (resuming a partial one), or delete it."""

import typer
from rich.markup import escape  # titles may contain [brackets] that Rich would read as markup

from earmark.cli.app import JSON_OPTION, app, console, download_with_bar, open_library, print_json
from earmark.downloads import delete_download


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
    record = download_with_bar(library, settings, episode_id, label=episode.title[:40], quiet=json)
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

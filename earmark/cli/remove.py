import os

import typer
from rich.markup import escape

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json


@app.command()
def remove(
    podcast_id: int = typer.Argument(..., help="A podcast's ID from `earmark podcasts`."),
    json: bool = JSON_OPTION,
) -> None:
    """Unsubscribe from a podcast and delete its downloaded files."""
    _, library = open_library()
    title = library.podcast(podcast_id).title
    deleted = 0
    for path in library.remove_podcast(podcast_id):
        try:
            os.remove(path)
            deleted += 1
        except FileNotFoundError:
            pass
    if json:
        print_json({"id": podcast_id, "title": title, "removed": True, "files_deleted": deleted})
    else:
        console.print(f"Removed [bold]{escape(title)}[/].")

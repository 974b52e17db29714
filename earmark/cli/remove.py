import os

import typer

from earmark.cli.app import app, console, open_library


@app.command()
def remove(podcast_id: int = typer.Argument(..., help="A podcast's ID from `earmark podcasts`.")) -> None:
    """Unsubscribe from a podcast and delete its downloaded files."""
    _, library = open_library()
    title = library.podcast(podcast_id).title
    for path in library.remove_podcast(podcast_id):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
    console.print(f"Removed [bold]{title}[/].")

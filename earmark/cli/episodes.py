import typer
from rich.markup import escape
from rich.table import Table

from earmark.cli.app import JSON_OPTION, app, console, duration, open_library, print_json, when


@app.command()
def episodes(
    podcast_id: int = typer.Argument(..., help="A podcast's ID from `earmark podcasts`."),
    limit: int = typer.Option(50, "--limit", "-n", help="How many, newest first (0: all)."),
    json: bool = JSON_OPTION,
) -> None:
    """List a podcast's episodes, newest first."""
    _, library = open_library()
    podcast = library.podcast(podcast_id)
    items = library.episodes(podcast_id, limit=limit or None)
    if json:
        print_json(items)
        return
    table = Table("ID", "Published", "Length", "Title", title=f"{escape(podcast.title)} ({podcast.episode_count} episodes)")
    for e in items:
        table.add_row(str(e.id), when(e.published), duration(e.duration), escape(e.title))
    console.print(table)

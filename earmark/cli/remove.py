import typer
from rich.markup import escape

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json
from earmark.downloads import delete_files
from earmark.errors import NotFound
from earmark.store.library import OWNER_ID


@app.command()
def remove(
    podcast_id: int = typer.Argument(..., help="A podcast's ID from `earmark podcasts`."),
    json: bool = JSON_OPTION,
) -> None:
    """Unsubscribe from a podcast and delete its downloaded files (kept while another user follows it)."""
    _, library = open_library()
    title = library.podcast(podcast_id).title
    deleted = delete_files(library.unsubscribe(OWNER_ID, podcast_id))
    try:
        library.podcast(podcast_id)
        shared = True  # another user still follows it: episodes and files stay for them
    except NotFound:
        shared = False
    if json:
        print_json({"id": podcast_id, "title": title, "removed": not shared, "files_deleted": deleted})
    elif shared:
        console.print(f"Unsubscribed from [bold]{escape(title)}[/]; another user still follows it, so it stays in the library.")
    else:
        console.print(f"Removed [bold]{escape(title)}[/].")

import asyncio

import typer
from rich.markup import escape

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json
from earmark.feeds.refresh import subscribe


@app.command()
def add(url: str = typer.Argument(..., help="The feed's address (RSS or Atom)."), json: bool = JSON_OPTION) -> None:
    """Subscribe to a podcast by its feed URL."""
    settings, library = open_library()
    with console.status(f"Fetching {escape(url)} …"):
        podcast, result = asyncio.run(subscribe(library, settings, url))
    if json:
        print_json(podcast)
    elif result.status == "exists":
        console.print(f"Already subscribed: [bold]{escape(podcast.title)}[/] (id {podcast.id})")
    else:
        console.print(f"Subscribed to [bold]{escape(podcast.title)}[/] (id {podcast.id}): {podcast.episode_count} episodes")

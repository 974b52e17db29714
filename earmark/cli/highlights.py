"""`earmark highlights [EPISODE_ID] [--json]`: an episode's best moments, or the latest across the library."""

from typing import Optional

import typer
from rich.markup import escape

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json
from earmark.cli.understanding_common import stored_or_compute
from earmark.store.understanding import UnderstandingStore
from earmark.transcripts.timecode import format_clock


@app.command()
def highlights(
    episode_id: Optional[int] = typer.Argument(None, help="An episode's ID; leave out for the whole library."),
    json_out: bool = JSON_OPTION,
    refresh: bool = typer.Option(False, "--refresh", help="Find them again even if stored."),
    limit: int = typer.Option(50, "--limit", help="Across the library: how many."),
) -> None:
    """Show an episode's highlights (computed now if not stored yet), or the newest across the library."""
    settings, library = open_library()
    if episode_id is None:
        result = UnderstandingStore(library).all_highlights(limit=limit)
    else:
        result = stored_or_compute("highlights", settings, library, episode_id, refresh=refresh)
    if json_out:
        print_json(result)
        return
    if not result:
        console.print("No highlights yet.")
    titles: dict[int, str] = {}
    for h in result:
        if episode_id is None and h.episode_id not in titles:
            titles[h.episode_id] = library.episode(h.episode_id).title
            console.print(f"\n[bold]{escape(titles[h.episode_id])}[/] (episode {h.episode_id})")
        console.print(f"[cyan]{format_clock(h.start)}–{format_clock(h.end)}[/] [bold]{escape(h.title)}[/]", highlight=False)
        console.print(f"    {escape(h.why)}", highlight=False)

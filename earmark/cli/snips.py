"""`earmark snips [--podcast ID] [--tag T] [--favorite] [--json]`: list snips, newest first."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json, when
from earmark.store.library import OWNER_ID
from earmark.store.snips import SnipFilter, SnipStore
from earmark.transcripts.timecode import format_clock


@app.command()
def snips(
    podcast: int = typer.Option(None, "--podcast", help="Only this podcast's snips."),
    tag: str = typer.Option(None, "--tag", help="Only snips with this tag."),
    favorite: bool = typer.Option(False, "--favorite", help="Only favourites."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many."),
    json: bool = JSON_OPTION,
) -> None:
    """List saved snips, newest first."""
    _settings, library = open_library()
    found = SnipStore(library, OWNER_ID).list(SnipFilter(podcast_id=podcast, tag=tag, favorite=True if favorite else None, limit=limit))
    if json:
        print_json(found)
        return
    if not found:
        console.print("No snips yet. Save one with `earmark snip EPISODE_ID --at 12:34`.")
        return
    table = Table("ID", "Episode", "At", "Title", "State", "Saved")
    for s in found:
        title = ("★ " if s.favorite else "") + (s.title or s.excerpt[:60] or "–")
        table.add_row(str(s.id), str(s.episode_id), f"{format_clock(s.start)}–{format_clock(s.end)}", escape(title), s.state, when(s.created_at))
    console.print(table)

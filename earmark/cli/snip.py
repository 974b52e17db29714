"""`earmark snip EPISODE_ID --at 12:34 [--boundary fixed:60] [--wait] [--json]`: save a moment."""

from __future__ import annotations

import re

import typer
from rich.markup import escape

from earmark.cli.app import (
    JSON_OPTION,
    app,
    console,
    err_console,
    open_library,
    print_json,
)
from earmark.snips import create_snip, enrich_snip
from earmark.snips.service import WAITING
from earmark.transcripts.timecode import format_clock

_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)$")


def parse_time(text: str) -> float:
    """754, 754.5, 12:34 or 1:02:03 → seconds."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        match = _CLOCK.match(text)
        if not match or float(match[3]) >= 60 or (match[1] is not None and int(match[2]) >= 60):
            raise typer.BadParameter(f"{text!r} is not a time: use seconds (754), MM:SS (12:34) or H:MM:SS (1:02:03)")
        seconds = int(match[1] or 0) * 3600 + int(match[2]) * 60 + float(match[3])
    if not seconds >= 0 or seconds == float("inf"):
        raise typer.BadParameter("the time must be ≥ 0")
    return seconds


@app.command()
def snip(
    episode_id: int = typer.Argument(..., help="An episode's ID from `earmark episodes`."),
    at: str = typer.Option(..., "--at", help="Where in the episode: 754, 12:34 or 1:02:03."),
    boundary: str = typer.Option(None, "--boundary", help='"auto" (default: the snip_boundary setting) or fixed:30/60/90/120.'),
    wait: bool = typer.Option(False, "--wait", help="Make the AI card here and now instead of in the background."),
    json: bool = JSON_OPTION,
) -> None:
    """Save a moment of an episode as a snip (the AI card follows in the background, or now with --wait)."""
    position = parse_time(at)
    settings, library = open_library()
    try:
        made = create_snip(library, settings, episode_id, position, boundary)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if wait:
        made = enrich_snip(library, settings, made.id)
    if json:
        print_json(made)
        return
    span = f"{format_clock(made.start)}–{format_clock(made.end)}"
    console.print(f"Saved snip {made.id} ({span}){': [bold]' + escape(made.title) + '[/]' if made.title else ''}.",
                  highlight=False, soft_wrap=True)
    for takeaway in made.takeaways:
        console.print(f"  • {escape(takeaway)}", highlight=False, soft_wrap=True)
    if made.quote:
        who = f" — {escape(made.quote_speaker)}" if made.quote_speaker else ""
        console.print(f"  “{escape(made.quote)}”{who}", highlight=False, soft_wrap=True)
    if made.state == "failed":
        err_console.print(f"[yellow]No AI card:[/] {escape(made.error or '')}", highlight=False, soft_wrap=True)
    elif made.state == "pending" and wait and made.error == WAITING:
        err_console.print(f"The episode has no transcript or audio yet; queued it. Run `earmark process {episode_id} --wait`.",
                          highlight=False, soft_wrap=True)

"""`earmark discover "query" [--json]`: search Apple Podcasts and Podcast Index for shows to
subscribe to; without a query (or with --category), what is popular now."""

from __future__ import annotations

import asyncio
import dataclasses

import typer
from rich.markup import escape
from rich.table import Table

from earmark.cli.app import (
    JSON_OPTION,
    app,
    console,
    err_console,
    open_library,
    print_json,
)
from earmark.directory import (
    CATEGORIES,
    mark_subscribed,
    search,
    subscriptions,
    trending,
)


@app.command()
def discover(
    query: str = typer.Argument("", help="A show, a topic, an Apple Podcasts link or a feed address."),
    category: str | None = typer.Option(
        None, "--category", help=f"Popular shows in a category: {', '.join(CATEGORIES)}."),
    limit: int = typer.Option(20, "--limit", min=1, max=50),
    as_json: bool = JSON_OPTION,
) -> None:
    """Find podcasts in the directories (then: earmark add FEED_URL)."""
    if category is not None and category not in CATEGORIES:
        raise typer.BadParameter(f"one of: {', '.join(CATEGORIES)}", param_hint="--category")
    settings, library = open_library()
    try:
        if query.strip() and category is None:
            results = asyncio.run(search(settings, query, limit=limit))
        else:
            results = asyncio.run(trending(settings, category, limit=limit))
        shows = mark_subscribed(results.shows, subscriptions(library))
    finally:
        library.close()
    notes = [s for s in results.sources if s.state not in ("ok", "cached")]
    if as_json:
        print_json({
            "query": results.query, "category": results.category,
            "results": [dataclasses.asdict(s) for s in shows],
            "sources": [{**dataclasses.asdict(s), "name": s.name} for s in results.sources],
        })
    elif not shows:
        console.print("Nothing found.")
    else:
        table = Table("#", "Show", "Episodes", "Categories", "Feed", title=None if query.strip() else "Popular now")
        for n, show in enumerate(shows, 1):
            # Directory text is data: escaped so "[...]" is not read as markup.
            name = f"[bold]{escape(show.title)}[/]" + (f"\n[dim]{escape(show.author)}[/]" if show.author else "")
            if show.podcast_id:
                name += f"\n[green]subscribed (id {show.podcast_id})[/]"
            count = "" if show.episode_count is None else str(show.episode_count)
            table.add_row(str(n), name, count, escape(", ".join(show.categories[:3])), escape(show.feed_url))
        console.print(table)
    for note in notes:
        colour = "red" if note.state == "error" else "yellow"
        err_console.print(f"[{colour}]{escape(note.name)}:[/] {escape(note.message or note.state)}",
                          highlight=False, soft_wrap=True)

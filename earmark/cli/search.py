"""`earmark search "query" [--podcast ID] [--mode keyword|semantic|combined] [--json]` and
`earmark search --reindex` and `earmark search --like EPISODE_ID@12:34` (more like this moment)."""

from __future__ import annotations

from datetime import UTC, datetime

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
from earmark.errors import NotFound
from earmark.search import (
    COMBINED,
    MODES,
    Searcher,
    SearchFilters,
    reindex_all,
)
from earmark.search.embed import get_embedder
from earmark.transcripts.timecode import format_clock


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint=name) from None


def parse_moment(value: str) -> tuple[int, float]:
    """``ID@SECONDS``, ``ID@MM:SS`` or ``ID@HH:MM:SS`` → (episode id, seconds)."""
    episode, sep, at = value.partition("@")
    try:
        episode_id = int(episode)
        parts = [float(p) for p in at.split(":")] if sep else [0.0]
        if episode_id < 1 or not 1 <= len(parts) <= 3 or any(not 0 <= p < float("inf") for p in parts):
            raise ValueError
    except ValueError:
        raise typer.BadParameter("use EPISODE_ID@SECONDS or EPISODE_ID@MM:SS, e.g. 12@754 or 12@12:34",
                                 param_hint="--like") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return episode_id, seconds


@app.command()
def search(
    query: str = typer.Argument("", help="Words, a \"phrase\", or a prefix like vort*."),
    podcast: int | None = typer.Option(None, "--podcast", help="Only this podcast (ID from `earmark podcasts`)."),
    mode: str = typer.Option(COMBINED, "--mode", help="keyword, semantic or combined."),
    since: str | None = typer.Option(None, "--since", help="Episodes published on or after YYYY-MM-DD."),
    until: str | None = typer.Option(None, "--until", help="Episodes published before YYYY-MM-DD."),
    limit: int = typer.Option(20, "--limit", min=1, max=200),
    reindex: bool = typer.Option(False, "--reindex", help="Rebuild the whole search index."),
    keyword_only: bool = typer.Option(False, "--keyword-only", help="With --reindex: skip the embeddings."),
    like: str | None = typer.Option(
        None, "--like", help="More like this moment: EPISODE_ID@SECONDS or EPISODE_ID@MM:SS (e.g. 12@12:34)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search every transcript, title, show note, chapter, summary and snip."""
    _settings, library = open_library()
    if reindex:
        embedder = None if keyword_only else get_embedder()
        count = reindex_all(library, embedder, progress=lambda n, total: err_console.print(f"indexed {n}/{total}", end="\r"))
        err_console.print(f"Reindexed {count} transcribed episodes.")
        return
    if mode not in MODES:
        raise typer.BadParameter(f"choose from {', '.join(MODES)}", param_hint="--mode")
    filters = SearchFilters(podcast, _date(since, "--since"), _date(until, "--until"))
    if like is not None:
        if query.strip():
            raise typer.BadParameter("give either a query or --like, not both", param_hint="--like")
        episode_id, at = parse_moment(like)
        try:
            hits = Searcher(library).more_like(episode_id, at, filters, limit)
        except NotFound as exc:
            err_console.print(f"[red]{escape(str(exc))}[/]")
            raise typer.Exit(1) from None
    else:
        if not query.strip():
            raise typer.BadParameter("give a query, --like EPISODE_ID@SECONDS, or --reindex", param_hint="QUERY")
        hits = Searcher(library).search(query, mode=mode, filters=filters, limit=limit)
    if as_json:
        print_json(hits)
        return
    if not hits:
        console.print("No results.")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("Podcast", "Episode", "At", "Snippet"):
        table.add_column(column)
    for hit in hits:
        snippet = "".join(f"[bold yellow]{escape(s.text)}[/]" if s.hit else escape(s.text) for s in hit.snippet)
        episode = f"{hit.episode_id} {escape(hit.episode_title or '')}" if hit.episode_id else "–"
        table.add_row(escape(hit.podcast_title), episode, format_clock(hit.start), snippet)
    console.print(table)

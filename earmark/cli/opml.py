"""`earmark opml import FILE` / `earmark opml export [FILE]`."""

import asyncio
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from earmark.cli.app import JSON_OPTION, EarmarkGroup, app, console, err_console, open_library, print_json
from earmark.errors import FeedError, OPMLError
from earmark.feeds.opml import export_opml, import_feeds, read_opml

opml_app = typer.Typer(cls=EarmarkGroup, help="Import or export subscriptions as OPML.", no_args_is_help=True)
app.add_typer(opml_app, name="opml")


@opml_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="An OPML file exported by another podcast player."),
    no_refresh: bool = typer.Option(False, "--no-refresh", help="Only subscribe; load the feeds later with `earmark refresh`."),
    json: bool = JSON_OPTION,
) -> None:
    """Subscribe to every feed in an OPML file, then load the new ones."""
    settings, library = open_library()
    doc = read_opml(file)  # before the bar: a broken file fails here, with nothing added
    with Progress(
        TextColumn("Refreshing"), BarColumn(), MofNCompleteColumn(), console=err_console, disable=json or no_refresh
    ) as bar:
        task = bar.add_task("refresh", total=None)
        summary = asyncio.run(
            import_feeds(
                library,
                settings,
                doc,
                refresh=not no_refresh,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    every_feed_failed = bool(summary.failed) and not summary.refreshed
    if json:
        print_json(summary)
    else:
        _report(summary, file, library)
    if every_feed_failed:  # subscribed (kept, as other players do), but nothing could be loaded
        raise FeedError(f"none of the {len(summary.failed)} new feeds in {file} could be loaded")


def _report(summary, file: Path, library) -> None:
    for raw in summary.invalid:
        console.print(f"[yellow]skipped[/] {escape(repr(raw))}: not a feed address", highlight=False)
    for result in summary.failed:
        title = library.podcast(result.podcast_id).title
        console.print(f"[red]✗[/] {escape(title)}: {escape(result.error or '')}", highlight=False)
    console.print(
        f"{summary.feeds} feeds in {escape(str(file))}: {len(summary.added)} added,"
        f" {len(summary.already_subscribed)} already subscribed.",
        highlight=False,
    )
    if summary.refreshed or summary.failed:
        console.print(f"{len(summary.refreshed)} loaded, {len(summary.failed)} failed (kept, with their error).")


@opml_app.command("export")
def export(file: Path | None = typer.Argument(None, help="Where to write the OPML (default: standard output).")) -> None:
    """Write every subscription as an OPML 2.0 file."""
    _, library = open_library()
    podcasts = library.podcasts()
    text = export_opml(podcasts)
    if file is None:
        sys.stdout.write(text)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OPMLError(f"{file}: cannot write the file: {exc.strerror or exc}") from exc
    console.print(f"Exported {len(podcasts)} subscriptions to {escape(str(file))}", highlight=False)

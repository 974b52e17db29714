"""The Typer app every command module registers on, and what they share: settings, the library,
JSON output, and turning EarmarkError into a one-line message instead of a traceback."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from earmark.config import Settings
from earmark.errors import EarmarkError
from earmark.models import as_dict
from earmark.store.library import Library
from earmark.transcripts.timecode import format_clock


class EarmarkGroup(TyperGroup):
    def invoke(self, ctx) -> Any:
        try:
            return super().invoke(ctx)
        except EarmarkError as exc:
            # Escaped: messages quote feed text and URLs ("[SSL: …]"); soft_wrap keeps it one line.
            err_console.print(f"[red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=EarmarkGroup,
    help="Earmark: a local-first, AI-powered podcast player.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")


def open_library() -> tuple[Settings, Library]:
    settings = Settings.load()
    return settings, Library(settings.db_path)


def print_json(value: Any) -> None:
    """Records, lists of records or plain data as JSON on stdout."""

    def convert(item: Any) -> Any:
        if isinstance(item, list):
            return [convert(i) for i in item]
        if hasattr(item, "__dataclass_fields__"):
            return as_dict(item)
        return item

    sys.stdout.write(json.dumps(convert(value), ensure_ascii=False, indent=2) + "\n")


def when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "–"


def duration(seconds: int | None) -> str:
    if not seconds:
        return "–"
    return format_clock(seconds)


def download_with_bar(library: Library, settings: Settings, episode_id: int, *, label: str, quiet: bool):
    """Download (or resume) an episode with a Rich progress bar on stderr; returns its Download."""
    import asyncio

    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from earmark.downloads import download_episode

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err_console, disable=quiet, transient=True) as bar:
        task = bar.add_task(escape(label), total=None)
        return asyncio.run(
            download_episode(
                library, settings, episode_id, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
        )

"""`earmark backup PATH` / `earmark restore PATH`: the library to a file and back."""

from pathlib import Path

import typer
from rich.markup import escape

from earmark.cli.app import JSON_OPTION, app, console, print_json
from earmark.config import Settings
from earmark.models import as_dict
from earmark.store.backup import LibraryCheck, backup as backup_library, restore as restore_library


def _figures(info: LibraryCheck) -> str:
    return (f"{info.podcasts} podcasts, {info.episodes} episodes, {info.snips} snips;"
            f" {info.size / 1e6:.1f} MB, schema {info.schema}, integrity ok")


@app.command()
def backup(
    path: Path = typer.Argument(..., help="A file to write, or a folder to put a dated backup in."),
    json: bool = JSON_OPTION,
) -> None:
    """Back up the library (safe while `earmark serve` runs)."""
    info = backup_library(Settings.load().db_path, path)
    if json:
        print_json(info)
    else:
        console.print(f"Backed up to [bold]{escape(str(info.path))}[/]: {_figures(info)}.", highlight=False)


@app.command()
def restore(
    path: Path = typer.Argument(..., help="A backup made by `earmark backup`."),
    json: bool = JSON_OPTION,
) -> None:
    """Replace the library with a backup (stop `earmark serve` first). The library it replaces is kept beside it."""
    info, kept = restore_library(path, Settings.load().db_path)
    if json:
        print_json({"restored": as_dict(info), "previous": str(kept) if kept else None})
        return
    console.print(f"Restored {escape(str(path))}: {_figures(info)}.", highlight=False)
    if kept:
        console.print(f"The library it replaced is kept in {escape(str(kept))}.", highlight=False)

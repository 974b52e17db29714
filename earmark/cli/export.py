"""`earmark export markdown DIR` / `earmark export readwise` / `earmark export notion`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.markup import escape

from earmark.cli.app import (
    JSON_OPTION,
    EarmarkGroup,
    app,
    console,
    err_console,
    open_library,
    print_json,
)
from earmark.export import ExportReport

export_app = typer.Typer(cls=EarmarkGroup, help="Send snips to Markdown/Obsidian, Readwise or Notion.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")


def _show(report: ExportReport, json: bool) -> None:
    if json:
        print_json({**dataclasses.asdict(report), "ok": report.ok})
    else:
        for where, action in report.containers.items():
            console.print(f"{action:>9}  {escape(where)}", highlight=False)
        console.print(
            f"{report.target}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.skipped)} unchanged, {len(report.deleted)} deleted"
            + (f", {len(report.waiting)} waiting" if report.waiting else ""),
            highlight=False,
        )
    if report.error:
        err_console.print(f"[red]Error:[/] {escape(report.error)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


@export_app.command("markdown")
def markdown(
    directory: Path = typer.Argument(..., help="Folder for the files, e.g. inside an Obsidian vault."),
    json: bool = JSON_OPTION,
) -> None:
    """One Markdown file per episode; re-exports update Earmark's block and keep your own text."""
    from earmark.export.markdown import export_markdown

    settings, library = open_library()
    _show(export_markdown(library, settings, directory), json)


@export_app.command("readwise")
def readwise(json: bool = JSON_OPTION) -> None:
    """Send new or changed snips to Readwise as podcast highlights (setting readwise_token)."""
    from earmark.export.readwise import export_readwise

    settings, library = open_library()
    _show(export_readwise(library, settings), json)


@export_app.command("notion")
def notion(json: bool = JSON_OPTION) -> None:
    """A Notion page per episode under notion_parent_page_id (setting notion_token)."""
    from earmark.export.notion import export_notion

    settings, library = open_library()
    _show(export_notion(library, settings), json)

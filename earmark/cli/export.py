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
from earmark.errors import EarmarkError
from earmark.export import ExportReport

export_app = typer.Typer(cls=EarmarkGroup, help="Send snips to Markdown/Obsidian, Readwise or Notion.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")


USER_OPTION = typer.Option(None, "--user", help="Whose snips, to their own Readwise/Notion (`earmark user set`); default: the owner.")


def _for_user(name: str | None):
    """(settings with the user's export settings, library, user id)."""
    from earmark.store.accounts import AccountStore
    from earmark.store.library import OWNER_ID

    settings, library = open_library()
    if name is None:
        user_id = OWNER_ID
    else:
        user = AccountStore(library).by_name(name)
        if user is None:
            raise EarmarkError(f"no user named {name!r} (see `earmark user list`)")
        user_id = user.id
    own = AccountStore(library).export_settings(user_id)
    if user_id != OWNER_ID:  # never another user's (the owner's) tokens from settings.toml
        settings = dataclasses.replace(settings, readwise_token=None, notion_token=None, notion_parent_page_id=None)
    return dataclasses.replace(settings, **own), library, user_id


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
    user: str = USER_OPTION,
    json: bool = JSON_OPTION,
) -> None:
    """One Markdown file per episode; re-exports update Earmark's block and keep your own text."""
    from earmark.export.markdown import export_markdown

    settings, library, user_id = _for_user(user)
    _show(export_markdown(library, settings, directory, user_id=user_id), json)


@export_app.command("readwise")
def readwise(user: str = USER_OPTION, json: bool = JSON_OPTION) -> None:
    """Send new or changed snips to Readwise as podcast highlights (setting readwise_token)."""
    from earmark.export.readwise import export_readwise

    settings, library, user_id = _for_user(user)
    if user is not None and not settings.readwise_token:
        raise EarmarkError(f"{user} has no Readwise token: earmark user set {user} --readwise-token TOKEN")
    _show(export_readwise(library, settings, user_id=user_id), json)


@export_app.command("notion")
def notion(user: str = USER_OPTION, json: bool = JSON_OPTION) -> None:
    """A Notion page per episode under notion_parent_page_id (setting notion_token)."""
    from earmark.export.notion import export_notion

    settings, library, user_id = _for_user(user)
    if user is not None and not (settings.notion_token and settings.notion_parent_page_id):
        raise EarmarkError(f"{user} has no Notion token or page: earmark user set {user} --notion-token … --notion-parent-page …")
    _show(export_notion(library, settings, user_id=user_id), json)

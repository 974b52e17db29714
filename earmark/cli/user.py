"""`earmark user add|passwd|remove|list|token`: accounts for the web login and for phone apps' sync."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from earmark.accounts import check_name, hash_password
from earmark.cli.app import JSON_OPTION, EarmarkGroup, app, console, open_library, print_json
from earmark.downloads import delete_files
from earmark.errors import EarmarkError
from earmark.store.accounts import AccountStore

user_app = typer.Typer(cls=EarmarkGroup, help="Accounts: who may log in and sync.", no_args_is_help=True)
app.add_typer(user_app, name="user")

STDIN_OPTION = typer.Option(False, "--password-stdin", help="Read the password from standard input (for scripts).")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _store() -> AccountStore:
    _, library = open_library()
    return AccountStore(library)


def _named(store: AccountStore, name: str):
    user = store.by_name(name)
    if user is None:
        raise EarmarkError(f"no user named {name!r} (see `earmark user list`)")
    return user


@user_app.command("add")
def add(name: str = typer.Argument(..., help="The user name (also in sync addresses)."), password_stdin: bool = STDIN_OPTION) -> None:
    """Add a user. The first one owns the library that is already here."""
    store = _store()
    check_name(name)
    if store.by_name(name) is not None:
        raise EarmarkError(f"there is already a user named {name!r}")
    user = store.add(name, hash_password(_password(password_stdin)))
    owner = " (owner of this library)" if user.is_owner else ""
    console.print(f"Added [bold]{escape(name)}[/]{owner}.")


@user_app.command("passwd")
def passwd(name: str = typer.Argument(...), password_stdin: bool = STDIN_OPTION) -> None:
    """Change a user's password; their web sessions end."""
    store = _store()
    user = _named(store, name)
    store.set_password(user.id, hash_password(_password(password_stdin)))
    console.print(f"Changed the password of [bold]{escape(name)}[/].")


@user_app.command("remove")
def remove(name: str = typer.Argument(...)) -> None:
    """Remove a user, their snips, tokens, devices and sync state, and the podcasts only they followed."""
    store = _store()
    store.remove(_named(store, name).id)
    library = store.library
    gone = 0
    for podcast_id in library.unfollowed():
        delete_files(library.remove_podcast(podcast_id))
        gone += 1
    console.print(f"Removed [bold]{escape(name)}[/]" + (f" and {gone} podcast(s) only they followed." if gone else "."))


@user_app.command("list")
def list_(json: bool = JSON_OPTION) -> None:
    """Users, with who owns the library."""
    users = _store().users()
    if json:
        print_json([{"id": u.id, "name": u.name, "owner": u.is_owner, "has_password": u.has_password} for u in users])
        return
    if not users:
        console.print("No users yet: `earmark user add NAME`. On 127.0.0.1 the player needs none.")
        return
    table = Table("ID", "Name", "Role", "Since")
    for u in users:
        since = datetime.fromtimestamp(u.created_at, UTC).astimezone().strftime("%Y-%m-%d")
        table.add_row(str(u.id), escape(u.name or ""), "owner" if u.is_owner else "user", since)
    console.print(table)


@user_app.command("set")
def set_(
    name: str = typer.Argument(...),
    readwise_token: str = typer.Option(None, "--readwise-token", help="Their Readwise access token (\"\" clears it)."),
    notion_token: str = typer.Option(None, "--notion-token", help="Their Notion integration's secret."),
    notion_parent_page: str = typer.Option(None, "--notion-parent-page", help="The Notion page their episode pages go under."),
) -> None:
    """Where a user's snips are exported (`earmark export … --user NAME`); the owner's default to settings.toml."""
    store = _store()
    user = _named(store, name)
    values = {"readwise_token": readwise_token, "notion_token": notion_token, "notion_parent_page_id": notion_parent_page}
    changes = {k: v for k, v in values.items() if v is not None}
    if not changes:
        raise EarmarkError("nothing to set: give --readwise-token, --notion-token or --notion-parent-page")
    store.set_export_settings(user.id, **changes)
    console.print(f"Set {', '.join(sorted(changes))} for [bold]{escape(name)}[/].")


@user_app.command("token")
def token(
    name: str = typer.Argument(...),
    label: str = typer.Option("", "--label", help="What the token is for."),
    revoke: int = typer.Option(None, "--revoke", help="Revoke the token with this id instead."),
    list_tokens: bool = typer.Option(False, "--list", help="List the user's tokens (ids and labels)."),
) -> None:
    """A new API token for scripts (`Authorization: Bearer …`); shown once."""
    store = _store()
    user = _named(store, name)
    if revoke is not None:
        store.revoke_token(user.id, revoke)
        console.print(f"Revoked token {revoke}.")
    elif list_tokens:
        for token_id, token_label, created in store.tokens(user.id):
            when = datetime.fromtimestamp(created, UTC).astimezone().strftime("%Y-%m-%d %H:%M")
            console.print(f"{token_id}  {escape(token_label) or '–'}  {when}")
    else:
        sys.stdout.write(store.new_token(user.id, label) + "\n")

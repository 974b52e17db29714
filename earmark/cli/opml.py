"""`earmark opml import FILE` / `earmark opml export [FILE]` (to be filled in)."""
import typer

from earmark.cli.app import EarmarkGroup, app

opml_app = typer.Typer(cls=EarmarkGroup, help="Import or export subscriptions as OPML.", no_args_is_help=True)
app.add_typer(opml_app, name="opml")

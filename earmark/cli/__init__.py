"""``earmark`` command line: one module per command, all registered on ``earmark.cli.app.app``."""

from earmark.cli import add, download, episodes, opml, podcasts, refresh, remove, serve  # noqa: F401  (register)
from earmark.cli.app import app


def main() -> None:
    app()

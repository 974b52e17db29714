"""``earmark`` command line: one module per command, all registered on ``earmark.cli.app.app``."""

from earmark.cli import add, episodes, podcasts, refresh, remove, serve  # noqa: F401  (register commands)
from earmark.cli.app import app


def main() -> None:
    app()

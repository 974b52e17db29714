"""``earmark`` command line: one module per command, all registered on ``earmark.cli.app.app``."""

from earmark.cli import (  # noqa: F401  (register)
    add,
    download,
    episodes,
    jobs,
    opml,
    podcasts,
    process,
    refresh,
    remove,
    serve,
    transcript,
)
from earmark.cli.app import app


def main() -> None:
    app()

"""``earmark`` command line: one module per command, all registered on ``earmark.cli.app.app``."""

from earmark.cli import (  # noqa: F401  (register)
    add,
    upload,
    ask,
    backup,
    chapters,
    discover,
    highlights,
    share,
    summary,
    download,
    episodes,
    export,
    jobs,
    opml,
    podcasts,
    process,
    search,
    refresh,
    remove,
    serve,
    snip,
    snips,
    transcript,
    user,
    worker,
)
from earmark.cli.app import app


def main() -> None:
    app()

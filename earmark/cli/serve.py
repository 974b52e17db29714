import logging
import re

import typer
from rich.markup import escape

from earmark.cli.app import app, console

_TOKEN = re.compile(r"(?<=[?&]token=)[^&\s]*")


class HideToken(logging.Filter):
    """Access-log lines never carry the access token (the first visit's ?token=… link)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN.sub("…", a) if isinstance(a, str) else a for a in record.args)
        return True


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on. Any non-loopback address requires an access token."),
    port: int = typer.Option(8321, help="Port to listen on."),
) -> None:
    """Start the Earmark player in your browser (http://127.0.0.1:8321)."""
    import uvicorn

    from earmark.config import Settings
    from earmark.errors import EarmarkError
    from earmark.net import serving_on
    from earmark.store.backup import BackupError, check
    from earmark.web.app import app_for_host

    settings = Settings.load()
    if settings.db_path.is_file():
        try:
            check(settings.db_path, quick=True)
        except BackupError as exc:
            raise EarmarkError(f"{exc}. Restore a backup with `earmark restore FILE`, or move the file aside"
                               " to start with an empty library.") from None
    serving_on(port)  # feeds may not point Earmark at its own API
    web_app, token = app_for_host(host, settings)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    if token:
        console.print(f"Earmark is playing at [bold]{escape(url)}?token={escape(token)}[/]  (Ctrl+C to stop)", soft_wrap=True)
        console.print("API clients send the header: Authorization: Bearer <token>", highlight=False)
    else:
        console.print(f"Earmark is playing at [bold]{escape(url)}[/]  (Ctrl+C to stop)", soft_wrap=True)
    logging.getLogger("uvicorn.access").addFilter(HideToken())
    uvicorn.run(web_app, host=host, port=port, log_level="warning")

"""The web app. For now a library page and the podcasts API; the player lands with the web issue."""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from earmark.config import Settings
from earmark.models import as_dict
from earmark.store.library import Library


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()
    library = Library(settings.db_path)
    app = FastAPI(title="Earmark", version="0.1.0")

    @app.get("/api/v1/podcasts")
    def list_podcasts() -> list[dict]:
        return [as_dict(p) for p in library.podcasts()]

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        rows = "".join(
            f"<li><strong>{escape(p.title)}</strong> — {p.episode_count} episodes"
            + (f" <em>({escape(p.error or '')})</em>" if p.status == "error" else "")
            + "</li>"
            for p in library.podcasts()
        )
        body = f"<ul>{rows}</ul>" if rows else "<p>No subscriptions yet. Run <code>earmark add URL</code>.</p>"
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Earmark</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            f"<body><h1>Earmark</h1>{body}</body></html>"
        )

    return app

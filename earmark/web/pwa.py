"""The installable, offline player: the web app manifest, the service worker (static/sw.js, served
from the root so its scope is the whole app) and the page shown offline for a page never visited.

Neither the manifest nor the worker holds any data, so the guard lets them through without the
access token (a browser fetches the manifest without cookies)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from earmark.web.pages import STATIC_DIR, _render

router = APIRouter(include_in_schema=False)
PUBLIC_PATHS = ("/sw.js", "/manifest.webmanifest")  # no token needed (GuardMiddleware)

THEME = "#c2410c"  # app.css --accent
BACKGROUND = "#f7f5f2"  # app.css --bg

MANIFEST = {
    "name": "Earmark",
    "short_name": "Earmark",
    "description": "Your podcasts, transcripts and snips — on your own machine.",
    "id": "/",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "orientation": "any",
    "theme_color": THEME,
    "background_color": BACKGROUND,
    "categories": ["entertainment", "education", "news"],
    "icons": [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ],
    "shortcuts": [
        {"name": "Queue", "url": "/queue"},
        {"name": "Snips", "url": "/snips"},
    ],
}


@router.get("/manifest.webmanifest")
async def manifest() -> JSONResponse:
    return JSONResponse(MANIFEST, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    # no-cache: the browser checks for a new worker on each visit (it also does at most every 24 h).
    return FileResponse(
        STATIC_DIR / "sw.js", media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@router.get("/offline", response_class=HTMLResponse)
async def offline_page(request: Request) -> HTMLResponse:
    """What the service worker shows for a page it has no copy of while offline."""
    return _render(request, "offline.html", {"page": "offline"})

"""The artwork routes: ``/artwork/podcast/{id}`` and ``/artwork/episode/{id}`` (the episode's own
image, else its show's), ``?size=96|300|600``. Pages show artwork only through these, never from
the publisher's address (earmark/artwork.py fetches it once and keeps it).

WebP when the request accepts it, else JPEG; an ETag with 304 on If-None-Match. A URL carrying
``v`` (the source's hash, as the pages write it) names one image for good and is cached a year;
without it, or while the placeholder stands in, for a short while. Outside /api/v1 and the
OpenAPI document, like the pages; the same guard (host check, token cookie) covers it.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path as PathParam, Request
from fastapi.responses import Response

from earmark import artwork
from earmark.web.deps import private_uploads
from earmark.web.schemas import MAX_ID

router = APIRouter(include_in_schema=False, dependencies=[Depends(private_uploads)])  # (your own audio is yours)
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
LONG = "private, max-age=31536000, immutable"
SHORT = "private, max-age=3600"  # the placeholder, or a URL without v: the artwork may yet change
FETCHERS = 8  # artwork work at once: a first library view of 500 shows leaves the shared threads free


def version(*sources: str | None) -> str:
    """A short hash of the sources an artwork URL stands for: it changes when they do."""
    usable = [s for s in sources if artwork.usable(s)]
    return artwork.source_hash("\n".join(usable))[:12] if usable else "0"


def podcast_artwork_url(podcast, size: int = 300) -> str:
    """The local address of a podcast's artwork (pages use this, never the feed's address)."""
    return f"/artwork/podcast/{podcast.id}?size={artwork.nearest_size(size)}&v={version(podcast.image)}"


def episode_artwork_url(episode, podcast=None, size: int = 300) -> str:
    """The local address of an episode's artwork (its own, else its show's)."""
    show = podcast.image if podcast is not None else None
    return f"/artwork/episode/{episode.id}?size={artwork.nearest_size(size)}&v={version(episode.image, show)}"


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


async def _respond(request: Request, sources: list[str | None], title: str, status: int = 200) -> Response:
    settings = request.app.state.settings
    webp = "image/webp" in request.headers.get("accept", "")
    state = request.app.state
    if getattr(state, "artwork_limiter", None) is None:  # made on the app's own event loop
        state.artwork_limiter = anyio.CapacityLimiter(FETCHERS)
    size = artwork.nearest_size(request.query_params.get("size"))
    result = await anyio.to_thread.run_sync(
        lambda: artwork.rendition(settings, sources, title=title, size=size, webp=webp), limiter=state.artwork_limiter)
    first = next((s for s in sources if artwork.usable(s)), None)
    # A year only for the image the URL names; a fallback (the show's, the placeholder) may yet be replaced.
    lasting = result.source is not None and result.source == first and request.query_params.get("v") == version(*sources)
    headers = {"ETag": result.etag, "Cache-Control": LONG if lasting else SHORT, "Vary": "Accept"}
    if status == 200 and _matches(request.headers.get("if-none-match"), result.etag):
        return Response(status_code=304, headers=headers)
    return Response(result.data, status_code=status, media_type=result.media_type, headers=headers)


@router.get("/artwork/podcast/{podcast_id}")
async def podcast_artwork(request: Request, podcast_id: IdPath) -> Response:
    row = request.app.state.library.conn.execute(
        "SELECT image, title, url FROM podcasts WHERE id = ?", (podcast_id,)).fetchone()
    if row is None:
        return await _respond(request, [], "", status=404)
    return await _respond(request, [row[0]], row[1] or row[2] or "")


@router.get("/artwork/episode/{episode_id}")
async def episode_artwork(request: Request, episode_id: IdPath) -> Response:
    row = request.app.state.library.conn.execute(
        "SELECT e.image, p.image, p.title, p.url FROM episodes e JOIN podcasts p ON p.id = e.podcast_id"
        " WHERE e.id = ?", (episode_id,)).fetchone()
    if row is None:
        return await _respond(request, [], "", status=404)
    own, show, title, url = row
    return await _respond(request, [own, show], title or url or "")

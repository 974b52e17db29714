"""Discover: GET /api/v1/directory/search, /directory/trending and /directory/preview.

Directory answers are data: every text field is plain text for the page to set with textContent,
and addresses are http(s) only. When no directory can answer (offline, all down) the answer is a
502 ``directory_unavailable`` whose message says why, directory by directory; when one fails the
others' results come with its ``state: "error"`` and message."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from earmark.directory import (
    CATEGORIES,
    DirectoryError,
    DirectoryResults,
    feed_key,
    mark_subscribed,
    subscriptions,
)
from earmark.directory import service as directory
from earmark.web.api.schemas import (
    DirectoryResultsOut,
    DirectoryShowOut,
    DirectorySourceOut,
    FeedPreviewOut,
    PreviewEpisodeOut,
)
from earmark.web.deps import APIError, LibraryDep, SettingsDep, get_user_id
from earmark.web.discover import art_path
from earmark.web.schemas import WORDY, ErrorResponse

router = APIRouter(tags=["directory"])

Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]


UNAVAILABLE = {"model": ErrorResponse, "description": "No directory could answer (offline, down, rate-limited)"}


async def _subscriptions(library, request: Request) -> dict:
    """The asking user's subscriptions by feed key, read in the threadpool (off the event loop)."""
    return await run_in_threadpool(subscriptions, library, get_user_id(request))


def _out(results: DirectoryResults, subscribed: dict, request: Request) -> DirectoryResultsOut:
    shows = mark_subscribed(results.shows, subscribed)
    return DirectoryResultsOut(
        query=results.query, category=results.category,
        results=[
            DirectoryShowOut(
                feed_url=s.feed_url, title=s.title, author=s.author, artwork=s.artwork,
                artwork_path=art_path(request.app.state, s.artwork, 300), episode_count=s.episode_count,
                categories=list(s.categories), description=s.description, link=s.link, itunes_id=s.itunes_id,
                podcastindex_id=s.podcastindex_id, sources=list(s.sources), score=s.score,
                subscribed=s.podcast_id is not None, subscription=s.podcast_id,
            )
            for s in shows
        ],
        sources=[DirectorySourceOut(source=st.source, name=st.name, state=st.state, message=st.message, count=st.count)
                 for st in results.sources],
    )


@router.get(
    "/directory/search", response_model=DirectoryResultsOut,
    responses={422: {"model": ErrorResponse, "description": "Nothing to search for"}, 502: UNAVAILABLE},
)
async def directory_search(
    request: Request,
    library: LibraryDep,
    settings: SettingsDep,
    q: Annotated[str, Query(
        max_length=directory.MAX_QUERY, description="A name, a topic, an Apple Podcasts page or a feed address",
        json_schema_extra={"pattern": WORDY},  # documents the 422 bad_query for a query without a word
    )],
    limit: Annotated[int, Query(ge=1, le=50)] = 25,
) -> DirectoryResultsOut:
    """Search Apple Podcasts and Podcast Index at once; one result per feed, best first."""
    if not re.search(WORDY, q):
        raise APIError(422, "bad_query", f"nothing to search for in {q!r}: type a name or a topic")
    try:
        results = await directory.search(settings, q, limit=limit)
    except DirectoryError as exc:
        raise APIError(502, "directory_unavailable", str(exc)) from None
    return _out(results, await _subscriptions(library, request), request)


@router.get("/directory/trending", response_model=DirectoryResultsOut, responses={422: {"model": ErrorResponse}, 502: UNAVAILABLE})
async def directory_trending(
    request: Request,
    library: LibraryDep,
    settings: SettingsDep,
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 25,
) -> DirectoryResultsOut:
    """Popular now, in a category or overall: Podcast Index's trending feeds and Apple's top chart."""
    try:
        results = await directory.trending(settings, category, limit=limit)
    except DirectoryError as exc:
        raise APIError(502, "directory_unavailable", str(exc)) from None
    return _out(results, await _subscriptions(library, request), request)


@router.get(
    "/directory/preview", response_model=FeedPreviewOut,
    responses={
        403: {"model": ErrorResponse, "description": "Asked by another site's page"},
        422: {"model": ErrorResponse, "description": "Not a feed address, or not a feed"},
        502: {"model": ErrorResponse, "description": "The feed's host could not be reached"},
    },
)
async def directory_preview(
    request: Request,
    library: LibraryDep,
    settings: SettingsDep,
    url: Annotated[str, Query(min_length=1, max_length=2000, description="The feed's address")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> FeedPreviewOut:
    """Read a feed without subscribing: the show and its latest episodes."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        # A GET, so another web page could make this server fetch addresses on your network
        # (an <img> pointing here); only Earmark's own pages may ask.
        raise APIError(403, "forbidden", "feed previews are for Earmark's own pages")
    found = await directory.preview(settings, url, limit=limit)  # FeedError → 422, FetchError → 502
    subscription = (await _subscriptions(library, request)).get(feed_key(found.feed_url))
    return FeedPreviewOut(
        feed_url=found.feed_url, title=found.title, author=found.author, description=found.description,
        image=found.image, image_path=art_path(request.app.state, found.image, 300), link=found.link, categories=list(found.categories), episode_count=found.episode_count,
        episodes=[PreviewEpisodeOut(title=e.title, published=e.published, duration=e.duration, description=e.description)
                  for e in found.episodes],
        subscribed=subscription is not None, subscription=subscription,
    )

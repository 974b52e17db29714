"""Podcasts: list, subscribe, show, unsubscribe, refresh, and a podcast's episodes (paged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from earmark.downloads import delete_files
from earmark.feeds.refresh import refresh_many, subscribe
from earmark.jobs.auto import queue_new_episodes
from earmark.web.api.episodes import summaries
from earmark.web.deps import LibraryDep, PlaybackDep, PodcastIdPath, SettingsDep, UserIdDep
from earmark.web.schemas import (
    EpisodePageOut,
    ErrorResponse,
    PodcastOut,
    RefreshOut,
    SubscribeIn,
)

router = APIRouter(tags=["podcasts"])


_PODCAST_LIST = TypeAdapter(list[PodcastOut])


@router.get("/podcasts", response_model=list[PodcastOut])
def list_podcasts(library: LibraryDep, user: UserIdDep) -> Response:
    """Your subscriptions."""
    # Serialized once, here: FastAPI would validate the 2,000 records of a big library a second time.
    podcasts = [PodcastOut.model_validate(p) for p in library.podcasts(user)]
    return Response(_PODCAST_LIST.dump_json(podcasts), media_type="application/json")


@router.post(
    "/podcasts",
    response_model=PodcastOut,
    status_code=201,
    responses={
        200: {"model": PodcastOut, "description": "Already subscribed"},
        422: {"model": ErrorResponse, "description": "Not a feed"},
        502: {"model": ErrorResponse, "description": "The feed's host could not be reached"},
    },
)
async def add_podcast(
    body: SubscribeIn, library: LibraryDep, settings: SettingsDep, user: UserIdDep, response: Response
) -> PodcastOut:
    """Subscribe to a feed and load its episodes. Nothing is kept when the first fetch fails."""
    podcast, result = await subscribe(library, settings, body.url.strip(), user_id=user)
    if result.status == "exists":
        response.status_code = 200
    return PodcastOut.model_validate(podcast)


@router.get("/podcasts/{podcast_id}", response_model=PodcastOut)
def get_podcast(podcast_id: PodcastIdPath, library: LibraryDep) -> PodcastOut:
    return PodcastOut.model_validate(library.podcast(podcast_id))


@router.delete("/podcasts/{podcast_id}", status_code=204)
def delete_podcast(podcast_id: PodcastIdPath, library: LibraryDep, settings: SettingsDep, user: UserIdDep) -> Response:
    """Unsubscribe; the last listener to leave a podcast also deletes its downloaded files."""
    delete_files(library.unsubscribe(user, podcast_id), within=settings.downloads_dir)
    return Response(status_code=204)


@router.post("/podcasts/{podcast_id}/refresh", response_model=RefreshOut)
async def refresh_podcast(
    podcast_id: PodcastIdPath, library: LibraryDep, settings: SettingsDep, request: Request
) -> RefreshOut:
    """Fetch the feed now. A failure is recorded on the podcast and reported in `status`/`error`."""
    await run_in_threadpool(library.podcast, podcast_id)  # 404 first (store reads in the threadpool)
    [result] = await refresh_many(library, settings, [podcast_id])
    queued = await run_in_threadpool(queue_new_episodes, library, settings, [result])
    if queued and (workers := getattr(request.app.state, "workers", None)):
        workers.wake()
    return RefreshOut(
        podcast_id=result.podcast_id,
        url=result.url,
        status=result.status,
        new_episodes=result.new_episodes,
        updated_episodes=result.updated_episodes,
        error=result.error,
        podcast=PodcastOut.model_validate(await run_in_threadpool(library.podcast, podcast_id)),
    )


@router.get("/podcasts/{podcast_id}/episodes", response_model=EpisodePageOut)
def list_episodes(
    podcast_id: PodcastIdPath,
    library: LibraryDep,
    playback: PlaybackDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> EpisodePageOut:
    """Newest first, with each episode's play state."""
    podcast = library.podcast(podcast_id)
    episodes = library.episodes(podcast_id, limit=limit, offset=offset)
    return EpisodePageOut(
        items=summaries(library, playback, episodes), total=podcast.episode_count, limit=limit, offset=offset
    )

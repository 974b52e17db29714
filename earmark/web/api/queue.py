"""The up-next queue."""

from __future__ import annotations

from fastapi import APIRouter

from earmark.web.api.episodes import summaries
from earmark.web.deps import LibraryDep, PlaybackDep
from earmark.web.schemas import ErrorResponse, QueueIn, QueueOut

router = APIRouter(tags=["queue"])


def _queue(library, playback) -> QueueOut:
    ids = playback.queue()
    return QueueOut(episode_ids=ids, episodes=summaries(library, playback, [library.episode(i) for i in ids]))


@router.get("/queue", response_model=QueueOut)
def get_queue(library: LibraryDep, playback: PlaybackDep) -> QueueOut:
    return _queue(library, playback)


@router.put(
    "/queue",
    response_model=QueueOut,
    responses={404: {"model": ErrorResponse, "description": "An unknown episode id; the queue is unchanged"}},
)
def put_queue(body: QueueIn, library: LibraryDep, playback: PlaybackDep) -> QueueOut:
    """Replace the queue with these episodes, in this order (an empty list clears it)."""
    playback.set_queue(body.episode_ids)
    return _queue(library, playback)

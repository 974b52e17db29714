"""Endpoints whose feature has not landed yet. They answer 501 with a JSON error that says so
(after a 404 for an unknown episode), never a made-up result; each is replaced by a real router
as its feature arrives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from earmark.web.deps import APIError, EpisodeIdPath, LibraryDep
from earmark.web.schemas import MAX_ID, ErrorResponse

router = APIRouter(tags=["not yet available"])

TRANSCRIPTS = "Transcripts have not landed in Earmark yet (issue #3)"
PROCESSING = "Episode processing (transcripts and the job pipeline) has not landed in Earmark yet (issue #3)"
UNDERSTANDING = "Summaries, chapters, highlights and ask-the-episode have not landed in Earmark yet (issue #4)"
SNIPS = "Snips have not landed in Earmark yet (issue #6)"
SEARCH = "Search has not landed in Earmark yet (issue #7)"

_RESPONSES = {
    404: {"model": ErrorResponse, "description": "No episode with that id"},
    501: {"model": ErrorResponse, "description": "The feature has not landed yet"},
}


def _pending(message: str) -> APIError:
    return APIError(501, "not_implemented", message)


def _episode_route(method: str, path: str, message: str) -> None:
    async def endpoint(episode_id: EpisodeIdPath, library: LibraryDep) -> None:
        library.episode(episode_id)  # an unknown episode is a 404 whatever the feature
        raise _pending(message)

    endpoint.__name__ = f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{episode_id}', 'episode')}"
    router.add_api_route(path, endpoint, methods=[method], responses=_RESPONSES, summary=f"{message} (501)")


def _route(method: str, path: str, message: str) -> None:
    has_snip = "{snip_id}" in path

    if has_snip:

        async def endpoint(snip_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> None:
            raise _pending(message)

    else:

        async def endpoint() -> None:
            raise _pending(message)

    endpoint.__name__ = f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{snip_id}', 'snip')}"
    router.add_api_route(path, endpoint, methods=[method], responses=_RESPONSES, summary=f"{message} (501)")


_episode_route("GET", "/episodes/{episode_id}/transcript", TRANSCRIPTS)
_episode_route("POST", "/episodes/{episode_id}/process", PROCESSING)
_episode_route("GET", "/episodes/{episode_id}/summary", UNDERSTANDING)
_episode_route("GET", "/episodes/{episode_id}/chapters", UNDERSTANDING)
_episode_route("GET", "/episodes/{episode_id}/highlights", UNDERSTANDING)
_episode_route("POST", "/episodes/{episode_id}/ask", UNDERSTANDING)
_episode_route("GET", "/episodes/{episode_id}/snips", SNIPS)
_episode_route("POST", "/episodes/{episode_id}/snips", SNIPS)
_route("GET", "/snips", SNIPS)
_route("GET", "/snips/export", SNIPS)  # before /snips/{snip_id}
_route("GET", "/snips/{snip_id}", SNIPS)
_route("PATCH", "/snips/{snip_id}", SNIPS)
_route("DELETE", "/snips/{snip_id}", SNIPS)
_route("GET", "/search", SEARCH)
_route("GET", "/jobs", PROCESSING)

"""What the API routers share: the app's one Library and Settings, who is asking (their user id and
Playback), id parameters, and APIError for answers that are not an EarmarkError (a 501, a 415)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from earmark.config import Settings
from earmark.errors import NotFound
from earmark.store.library import OWNER_ID, Library
from earmark.store.playback import Playback
from earmark.web.schemas import MAX_ID


class APIError(Exception):
    """An error answer with its own status and code; the app's handler turns it into JSON."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def get_library(request: Request) -> Library:
    return request.app.state.library


def get_user_id(request: Request) -> int:
    """The user asking (set by the app's guard): a login session or API token's, else the owner."""
    return getattr(request.state, "user_id", OWNER_ID)


def get_playback(request: Request) -> Playback:
    return Playback(request.app.state.library, get_user_id(request))


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def private_uploads(request: Request) -> None:
    """Your own audio is yours: a route naming an uploads podcast (or one of its episodes) that the
    asking user does not follow answers 404, as if it did not exist."""
    params = request.path_params
    library: Library = request.app.state.library
    try:
        named = int(params.get("podcast_id", params.get("episode_id", 0)))
    except (TypeError, ValueError):
        return  # the route's own validation answers
    if not 0 < named <= MAX_ID:
        return
    if "podcast_id" in params:
        podcast_id = named
    else:
        row = library.conn.execute("SELECT podcast_id FROM episodes WHERE id = ?", (named,)).fetchone()
        if row is None:
            return
        podcast_id = row[0]
    if library.is_private_to(get_user_id(request), podcast_id):
        raise NotFound(f"no podcast with id {podcast_id}" if "podcast_id" in params else f"no episode with id {params['episode_id']}")


LibraryDep = Annotated[Library, Depends(get_library)]
PlaybackDep = Annotated[Playback, Depends(get_playback)]
UserIdDep = Annotated[int, Depends(get_user_id)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PodcastIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="podcast id")]
EpisodeIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="episode id")]

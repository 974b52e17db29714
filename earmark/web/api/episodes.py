"""Episodes: metadata with sanitized show notes, audio (the download with Range, or a redirect to
the enclosure), play position and played state."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import FileResponse, RedirectResponse

from earmark.errors import NotFound
from earmark.models import Episode
from earmark.store.library import Library
from earmark.store.playback import Playback
from earmark.web.api.processing import episode_stages
from earmark.web.deps import EpisodeIdPath, LibraryDep, PlaybackDep, SettingsDep, UserIdDep
from earmark.web.sanitize import show_notes_html
from earmark.web.schemas import (
    DownloadOut,
    EpisodeDetailOut,
    EpisodeSummaryOut,
    PlaybackOut,
    PlayedIn,
    PositionIn,
)

router = APIRouter(tags=["episodes"])

_MIME = re.compile(r"[A-Za-z0-9][\w.+-]*/[\w.+-]+")


def summaries(library: Library, playback: Playback, episodes: list[Episode]) -> list[EpisodeSummaryOut]:
    ids = [e.id for e in episodes]
    states = playback.states(ids)
    downloaded = library.downloaded_ids(ids)
    return [
        EpisodeSummaryOut.model_validate(
            {
                **{name: getattr(e, name) for name in EpisodeSummaryOut.model_fields if hasattr(e, name)},
                "downloaded": e.id in downloaded,
                "playback": PlaybackOut.model_validate(states[e.id]),
            }
        )
        for e in episodes
    ]


@router.get("/episodes/{episode_id}", response_model=EpisodeDetailOut)
def get_episode(episode_id: EpisodeIdPath, library: LibraryDep, playback: PlaybackDep) -> EpisodeDetailOut:
    episode = library.episode(episode_id)
    [summary] = summaries(library, playback, [episode])
    record = library.download(episode_id)
    return EpisodeDetailOut.model_validate(
        {
            **summary.model_dump(),
            "description": episode.description,
            "show_notes_html": show_notes_html(episode.description_html, episode.description),
            "link": episode.link,
            "enclosure_length": episode.enclosure_length,
            "audio_url": f"/api/v1/episodes/{episode_id}/audio",
            "transcripts": episode.transcripts,
            "chapters": episode.chapters,
            "persons": episode.persons,
            "soundbites": episode.soundbites,
            "funding": episode.funding,
            "download": DownloadOut(
                downloaded=record is not None,
                size=record.size if record else None,
                finished_at=record.finished_at if record else None,
            ),
            "stages": episode_stages(library, episode_id),
        }
    )


def _media_type(episode: Episode, path: Path) -> str:
    declared = (episode.enclosure_type or "").split(";")[0].strip()
    if _MIME.fullmatch(declared):
        return declared
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@router.head("/episodes/{episode_id}/audio", include_in_schema=False)
@router.get(
    "/episodes/{episode_id}/audio",
    response_class=FileResponse,
    responses={
        200: {"description": "The downloaded file (HTTP Range supported: 206 for a range)"},
        307: {"description": "Not downloaded: a redirect to the feed's enclosure URL"},
    },
)
def get_audio(episode_id: EpisodeIdPath, library: LibraryDep, settings: SettingsDep):
    episode = library.episode(episode_id)
    record = library.download(episode_id)
    if record is not None:
        path = Path(record.path).resolve()
        # Only files inside the downloads folder are served, whatever the record says.
        if path.is_relative_to(settings.downloads_dir.resolve()) and path.is_file():
            return FileResponse(path, media_type=_media_type(episode, path))
    url = episode.enclosure_url or ""
    if url.lower().startswith(("http://", "https://")):
        return RedirectResponse(url, status_code=307)
    raise NotFound(f"episode {episode_id} has no audio")


@router.put("/episodes/{episode_id}/position", response_model=PlaybackOut)
def put_position(episode_id: EpisodeIdPath, body: PositionIn, playback: PlaybackDep) -> PlaybackOut:
    return PlaybackOut.model_validate(playback.set_position(episode_id, body.seconds, at=body.at))


@router.post("/episodes/{episode_id}/played", response_model=PlaybackOut)
def post_played(
    episode_id: EpisodeIdPath, playback: PlaybackDep, library: LibraryDep, settings: SettingsDep, user: UserIdDep,
    body: Annotated[PlayedIn | None, Body()] = None,
) -> PlaybackOut:
    """Mark played (the default; the position goes back to 0) or, with `{"played": false}`, unplayed.
    Marked played, its download is deleted when your settings for the podcast say so (`auto_delete`)."""
    from earmark.web.api.listening import auto_delete

    played = body.played if body is not None else True
    state = playback.set_played(episode_id, played)
    if played:
        auto_delete(library, settings, user, episode_id)
    return PlaybackOut.model_validate(state)

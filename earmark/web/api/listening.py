"""How the asking user listens: playback settings per podcast, the player's listening reports, the
listening statistics and history. Also the auto-delete of a finished episode's download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator, Field

from earmark.config import Settings
from earmark.downloads import delete_files
from earmark.store.library import Library
from earmark.store.listening import (
    Listening,
    ListeningReport,
    PodcastSettings,
    others_still_listening,
)
from earmark.uploads import is_upload
from earmark.web.api.schemas import (
    HistoryItemOut,
    HistoryOut,
    ListeningOut,
    PodcastSettingsOut,
    PodcastStatsOut,
    StatsOut,
)
from earmark.web.deps import LibraryDep, PodcastIdPath, UserIdDep
from earmark.web.schemas import EpisodeId, _In

router = APIRouter(tags=["listening"])

SPEED = Field(ge=0.5, le=3.0, allow_inf_nan=False)
# JSON has one number type: 30.0 is the integer 30 (as JSON Schema says); "30" is still refused.
Seconds = Annotated[
    int, Field(ge=0, le=600, strict=True), BeforeValidator(lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)
]


class PodcastSettingsIn(_In):
    """Every field is optional: a missing one takes its default (PUT replaces the whole record)."""

    speed: Annotated[float, SPEED] | None = Field(None, description="playback speed for this podcast; null: the player's own")
    skip_silence: bool = Field(False, description="shorten silent stretches (downloaded episodes only)")
    volume_boost: float = Field(1.0, ge=1.0, le=3.0, allow_inf_nan=False, description="gain factor, 1 is off (limited, never clips)")
    skip_intro: Seconds = Field(0, description="seconds skipped at the start of each episode")
    skip_outro: Seconds = Field(0, description="seconds left out at the end; the episode is finished there")
    auto_delete: bool = Field(False, description="delete the download once finished (never an upload's file)")


class ListeningReportIn(_In):
    session: str = Field(
        pattern=r"^[A-Za-z0-9_-]{8,64}$", description="a key the player made for this listening session"
    )
    episode_id: EpisodeId
    listened_seconds: float = Field(ge=0, le=1_000_000, allow_inf_nan=False, description="wall-clock seconds played, cumulative")
    media_seconds: float = Field(ge=0, le=1_000_000, allow_inf_nan=False, description="episode seconds covered, cumulative")
    silence_saved_seconds: float = Field(0, ge=0, le=1_000_000, allow_inf_nan=False, description="of which skipped as silence")


class ListeningIn(_In):
    reports: list[ListeningReportIn] = Field(min_length=1, max_length=100)


def _out(s: PodcastSettings) -> PodcastSettingsOut:
    return PodcastSettingsOut.model_validate(s, from_attributes=True)


@router.get("/podcasts/{podcast_id}/settings", response_model=PodcastSettingsOut)
def get_settings(podcast_id: PodcastIdPath, library: LibraryDep, user: UserIdDep) -> PodcastSettingsOut:
    """Your playback settings for this podcast (the defaults until you set them)."""
    return _out(Listening(library, user).settings(podcast_id))


@router.put("/podcasts/{podcast_id}/settings", response_model=PodcastSettingsOut)
def put_settings(
    podcast_id: PodcastIdPath, body: PodcastSettingsIn, library: LibraryDep, user: UserIdDep
) -> PodcastSettingsOut:
    """Replace your playback settings for this podcast."""
    return _out(Listening(library, user).set_settings(PodcastSettings(podcast_id, **body.model_dump())))


@router.post("/listening", response_model=ListeningOut)
def post_listening(body: ListeningIn, library: LibraryDep, user: UserIdDep) -> ListeningOut:
    """The player's reports: cumulative seconds per session, so sending one again counts once."""
    reports = [
        ListeningReport(r.session, r.episode_id, r.listened_seconds, r.media_seconds, r.silence_saved_seconds)
        for r in body.reports
    ]
    recorded, unknown = Listening(library, user).record(reports)
    return ListeningOut(recorded=recorded, unknown_episode_ids=unknown)


def stats_of(library: Library, user: int, days: int | None) -> StatsOut:
    stats = Listening(library, user).summary(days)
    return StatsOut(
        days=days,
        listened_seconds=stats.listened,
        media_seconds=stats.media,
        saved_seconds=stats.saved,
        silence_saved_seconds=stats.silence_saved,
        podcasts=[
            PodcastStatsOut(
                podcast_id=r.podcast_id, title=r.title, listened_seconds=r.listened, saved_seconds=r.saved,
                silence_saved_seconds=r.silence_saved, episodes=r.episodes,
            )
            for r in stats.podcasts
        ],
    )


@router.get("/stats", response_model=StatsOut)
def get_stats(
    library: LibraryDep, user: UserIdDep, days: Annotated[int | None, Query(ge=1, le=36_500)] = None
) -> StatsOut:
    """Your listening: time listened and time saved, in all and per podcast (over the last `days`)."""
    return stats_of(library, user, days)


def history_of(library: Library, user: int, limit: int, offset: int) -> HistoryOut:
    items, total = Listening(library, user).history(limit, offset)
    return HistoryOut(
        items=[
            HistoryItemOut(
                episode_id=i.episode_id, podcast_id=i.podcast_id, title=i.title, podcast_title=i.podcast_title,
                listened_seconds=i.listened, saved_seconds=i.saved,
                last_listened_at=i.last_at, played=i.played,
            )
            for i in items
        ],
        total=total, limit=limit, offset=offset,
    )


@router.get("/history", response_model=HistoryOut)
def get_history(
    library: LibraryDep,
    user: UserIdDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> HistoryOut:
    """Episodes you listened to, the latest first."""
    return history_of(library, user, limit, offset)


def auto_delete(library: Library, settings: Settings, user: int, episode_id: int) -> bool:
    """After ``user`` finished the episode: delete its download when their setting for the podcast
    says so — never an upload (the only copy), never while a job uses the file, never while another
    follower has yet to finish it. Returns whether it was deleted."""
    episode = library.episode(episode_id)
    record = library.download(episode_id)
    if record is None or not library.is_subscribed(user, episode.podcast_id):
        return False  # only a follower's own setting may delete the shared file
    if not Listening(library, user).settings(episode.podcast_id).auto_delete:
        return False
    if is_upload(library, episode_id) or others_still_listening(library, user, episode_id):
        return False
    if library.conn.execute(
        "SELECT 1 FROM jobs WHERE episode_id = ? AND state IN ('queued', 'running')", (episode_id,)
    ).fetchone():
        return False
    library.forget_download(episode_id)  # (the record goes either way: the episode streams from now on)
    delete_files([record.path], within=settings.downloads_dir)
    return True

"""Automatic processing: after a refresh, queue the new episodes of the podcasts the settings
name, at background priority (anything the user asks for goes ahead of them)."""

from __future__ import annotations

from collections.abc import Iterable

from earmark.config import Settings
from earmark.errors import ConfigError
from earmark.models import PRIORITY_BACKGROUND, Job, RefreshResult
from earmark.store.jobs import JobStore
from earmark.store.library import Library


def _chosen(settings: Settings) -> set[int] | None:
    """The podcast ids to process; None means all."""
    value = settings.auto_process_podcasts.strip()
    if value == "all":
        return None
    try:
        return {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        raise ConfigError(f"auto_process_podcasts must be 'all' or podcast ids like '1,4': {value!r}") from None


def queue_new_episodes(library: Library, settings: Settings, results: Iterable[RefreshResult]) -> list[Job]:
    if settings.auto_process == "none":
        return []
    if settings.auto_process != "new":
        raise ConfigError(f"auto_process must be 'none' or 'new', not {settings.auto_process!r}")
    chosen = _chosen(settings)
    jobs = JobStore(library)
    queued = []
    for result in results:
        if not result.new_episodes or (chosen is not None and result.podcast_id not in chosen):
            continue
        if result.new_episodes >= library.podcast(result.podcast_id).episode_count:
            continue  # the first load of a subscription: its back catalogue is not "new"
        for episode_id in library.newest_seen(result.podcast_id, result.new_episodes):
            queued.append(jobs.enqueue(episode_id, priority=PRIORITY_BACKGROUND))
    return queued

"""Snips out of Earmark: Markdown / Obsidian files, Readwise highlights, Notion pages.

Each target remembers what it already holds in the ``export_state`` table (target, key,
remote_id, content_hash): a snip is recorded only after the target accepted it, so an error or a
rate limit never loses a snip — the next run sends what is still missing or changed.

A request to Readwise or Notion is written down before it is sent (an in-flight row, forgotten in
the transaction that records the answer), so a run killed with a request in flight leaves a note:
the next run asks the target what it holds from that request before sending anything, and does not
send again what arrived (see readwise.py and notion.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from earmark.errors import EarmarkError
from earmark.models import Episode, Podcast, Snip
from earmark.store.exports import ExportState, State  # noqa: F401  (the exporters' state, re-exported)
from earmark.store.library import OWNER_ID, Library
from earmark.store.snips import SnipFilter, SnipStore


class ExportError(EarmarkError, RuntimeError):
    """An export target refused or could not be reached; the message says which and why."""


@dataclass
class ExportReport:
    """What one export run did. Entries are keys such as ``snip:12``, ``page:episode:5`` or file paths."""

    target: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since the last export
    deleted: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # nothing to send yet (no text) — sent later
    containers: dict[str, str] = field(default_factory=dict)  # file path / Notion page → created, updated, unchanged
    error: str | None = None  # set when the run stopped early; what is not recorded is sent next time

    @property
    def ok(self) -> bool:
        return self.error is None


# -- shared helpers -------------------------------------------------------------------------------


def content_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def state_target(target: str, user_id: int) -> str:
    """Each user's exports are tracked apart (their own Readwise/Notion/folder); the owner's keep
    the names they had before accounts."""
    return target if user_id == OWNER_ID else f"{target}:user{user_id}"


def all_snips(library: Library, user_id: int = OWNER_ID) -> list[Snip]:
    """The user's snips, oldest first (SnipStore.list pages newest first): one user's snips never
    go to another's Readwise or Notion."""
    store, found, offset = SnipStore(library, user_id), [], 0
    while True:
        page = store.list(SnipFilter(limit=500, offset=offset))
        found.extend(page)
        if len(page) < 500:
            break
        offset += 500
    return sorted(found, key=lambda s: (s.created_at.timestamp() if s.created_at else 0, s.id or 0))


def by_episode(library: Library, snips: list[Snip]) -> Iterator[tuple[Podcast, Episode, list[Snip]]]:
    """Snips grouped by episode (in episode id order), each episode's snips in listening order."""
    groups: dict[int, list[Snip]] = {}
    for snip in snips:
        groups.setdefault(snip.episode_id, []).append(snip)
    podcasts: dict[int, Podcast] = {}
    for episode_id in sorted(groups):
        episode = library.episode(episode_id)
        if episode.podcast_id not in podcasts:
            podcasts[episode.podcast_id] = library.podcast(episode.podcast_id)
        yield podcasts[episode.podcast_id], episode, sorted(groups[episode_id], key=lambda s: (s.start, s.id or 0))


Group = tuple[Podcast, Episode, list[Snip]]


def exported_groups(library: Library, state: ExportState, user_id: int,
                    on_missing: Callable[[str], object] = lambda key: None) -> dict[int, Group]:
    """``user_id``'s snips by episode (:func:`by_episode`), plus, with no snips, every episode
    exported before whose snips are all gone, so its page or block is emptied. ``on_missing(key)``
    for such an episode that is no longer in the library."""
    groups = {episode.id: (podcast, episode, snips)
              for podcast, episode, snips in by_episode(library, all_snips(library, user_id))}
    for key in state.all("episode:"):
        episode_id = int(key.split(":", 1)[1])
        if episode_id not in groups:
            try:
                episode = library.episode(episode_id)
                groups[episode_id] = (library.podcast(episode.podcast_id), episode, [])
            except LookupError:
                on_missing(key)
    return groups


def timestamp_link(base_url: str, snip: Snip) -> str:
    """A link that opens the episode in Earmark at the snip's start."""
    return f"{base_url.rstrip('/')}/episodes/{snip.episode_id}?t={int(snip.start)}"


def episode_url(episode: Episode) -> str | None:
    return episode.link or episode.enclosure_url

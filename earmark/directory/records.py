"""Typed records of podcast directories: a show one lists, how each directory answered, and the
merged answer Discover shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from earmark.errors import EarmarkError

ITUNES = "itunes"
PODCASTINDEX = "podcastindex"
SOURCE_NAMES = {ITUNES: "Apple Podcasts", PODCASTINDEX: "Podcast Index"}


class DirectoryError(EarmarkError):
    """No directory could answer (offline, every one down or refusing). The message says why,
    directory by directory."""


class SourceError(DirectoryError):
    """One directory failed: unreachable, timed out, rate-limited, an error status, or an answer
    that is not the JSON it documents."""


@dataclass(frozen=True)
class DirectoryShow:
    """A show as a directory lists it. Text is data from the directory: escape it when shown."""

    feed_url: str
    title: str
    author: str = ""
    artwork: str | None = None
    episode_count: int | None = None
    categories: tuple[str, ...] = ()
    description: str = ""
    link: str | None = None  # the show's page at the directory
    itunes_id: int | None = None
    podcastindex_id: int | None = None
    sources: tuple[str, ...] = ()  # which directories listed it
    score: float = 0.0  # merged rank: the sum of 1/(rank+1) over the directories listing it
    podcast_id: int | None = None  # set when the library already follows this feed


@dataclass(frozen=True)
class SourceStatus:
    """How one directory answered: ``ok``, ``cached`` (a fresh copy from the last day), ``stale``
    (the directory failed; an older copy is shown), ``error`` or ``skipped`` (not configured)."""

    source: str
    state: str
    message: str | None = None
    count: int = 0

    @property
    def name(self) -> str:
        return SOURCE_NAMES.get(self.source, self.source)


@dataclass
class DirectoryResults:
    query: str | None  # the search, or None for trending
    category: str | None
    shows: list[DirectoryShow] = field(default_factory=list)
    sources: list[SourceStatus] = field(default_factory=list)


@dataclass(frozen=True)
class PreviewEpisode:
    title: str
    published: datetime | None = None
    duration: int | None = None
    description: str = ""


@dataclass(frozen=True)
class FeedPreview:
    """A show's feed read before subscribing: what it says about itself and its latest episodes."""

    feed_url: str
    title: str
    author: str = ""
    description: str = ""
    image: str | None = None
    link: str | None = None
    categories: tuple[str, ...] = ()
    episode_count: int = 0
    episodes: tuple[PreviewEpisode, ...] = ()
    podcast_id: int | None = None


def feed_key(url: str) -> str:
    """The feed address compared when merging directories and marking subscriptions: scheme,
    ``www.``, default port, case of the host and a trailing slash do not matter (directories list
    the same feed as http and https, with and without www)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower().removeprefix("www.")
        port = parts.port
    except ValueError:
        return text.lower()
    if not host:
        return text.lower()
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return netloc + (parts.path.rstrip("/") or "") + query

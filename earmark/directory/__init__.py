"""Podcast directories (Apple's iTunes Search API, Podcast Index) behind one seam: search, trending
by category, merged and de-duplicated by feed address, cached for a day; a feed preview before
subscribing. See service.py."""

from earmark.directory.records import (
    ITUNES,
    PODCASTINDEX,
    SOURCE_NAMES,
    DirectoryError,
    DirectoryResults,
    DirectoryShow,
    FeedPreview,
    PreviewEpisode,
    SourceError,
    SourceStatus,
    feed_key,
)
from earmark.directory.service import (
    CATEGORIES,
    mark_subscribed,
    merge,
    preview,
    search,
    subscriptions,
    trending,
)

__all__ = [
    "CATEGORIES", "ITUNES", "PODCASTINDEX", "SOURCE_NAMES", "DirectoryError", "DirectoryResults", "DirectoryShow",
    "FeedPreview", "PreviewEpisode", "SourceError", "SourceStatus", "feed_key", "mark_subscribed", "merge",
    "preview", "search", "subscriptions", "trending",
]

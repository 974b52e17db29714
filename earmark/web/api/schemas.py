"""Response models of the routers in this package that are not in earmark/web/schemas.py (which
holds the shared bases and fields, the errors, and the podcasts, episodes, queue, jobs, transcripts
and OPML models): directory, listening, search, snips and understanding. Their request models stay
with their routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from earmark.web.schemas import _Out


# -- directory (Discover) ---------------------------------------------------------------------


# "subscription", not "podcast_id": a null podcast_id reads as a link to /podcasts/{podcast_id} to
# clients that follow ids (the contract fuzzer does), and most results are not subscribed.
class DirectoryShowOut(BaseModel):
    feed_url: str
    title: str
    author: str
    artwork: str | None = Field(description="the directory's address of the show's artwork (http or https)")
    artwork_path: str | None = Field(description="the artwork from this server (pages load only these)")
    episode_count: int | None
    categories: list[str]
    description: str
    link: str | None = Field(description="the show's page at the directory")
    itunes_id: int | None
    podcastindex_id: int | None
    sources: list[Literal["itunes", "podcastindex"]]
    score: float = Field(description="merged rank: the sum of 1/(rank+1) over the directories listing it")
    subscribed: bool = Field(description="whether the library already follows this feed")
    subscription: int | None = Field(description="then the library's podcast id (as in /api/v1/podcasts/ID)")


class DirectorySourceOut(BaseModel):
    source: Literal["itunes", "podcastindex"]
    name: str
    state: Literal["ok", "cached", "stale", "error", "skipped"]
    message: str | None
    count: int


class DirectoryResultsOut(BaseModel):
    query: str | None
    category: str | None
    results: list[DirectoryShowOut]
    sources: list[DirectorySourceOut]


class PreviewEpisodeOut(BaseModel):
    title: str
    published: datetime | None
    duration: int | None
    description: str


class FeedPreviewOut(BaseModel):
    feed_url: str
    title: str
    author: str
    description: str
    image: str | None
    image_path: str | None = Field(description="the image from this server (pages load only these)")
    link: str | None
    categories: list[str]
    episode_count: int
    episodes: list[PreviewEpisodeOut]
    subscribed: bool = Field(description="whether the library already follows this feed")
    subscription: int | None = Field(description="then the library's podcast id (as in /api/v1/podcasts/ID)")


# -- listening: settings per podcast, stats, history ------------------------------------------


class PodcastSettingsOut(BaseModel):
    podcast_id: int
    speed: float | None
    skip_silence: bool
    volume_boost: float
    skip_intro: int
    skip_outro: int
    auto_delete: bool


class ListeningOut(BaseModel):
    recorded: int
    unknown_episode_ids: list[int] = Field(description="reports for episodes that no longer exist, dropped")


class PodcastStatsOut(BaseModel):
    podcast_id: int | None = Field(description="null: a podcast since removed")
    title: str
    listened_seconds: float
    saved_seconds: float = Field(description="episode time covered minus time spent (speed and skipped silence)")
    silence_saved_seconds: float
    episodes: int


class StatsOut(BaseModel):
    days: int | None = Field(description="the period (null: all time)")
    listened_seconds: float
    media_seconds: float
    saved_seconds: float
    silence_saved_seconds: float
    podcasts: list[PodcastStatsOut]


class HistoryItemOut(BaseModel):
    episode_id: int
    podcast_id: int | None
    title: str
    podcast_title: str
    listened_seconds: float
    saved_seconds: float
    last_listened_at: datetime
    played: bool


class HistoryOut(BaseModel):
    items: list[HistoryItemOut]
    total: int
    limit: int
    offset: int


# -- search -----------------------------------------------------------------------------------


class SpanOut(BaseModel):
    text: str
    hit: bool


class SearchResult(BaseModel):
    kind: str
    podcast_id: int
    podcast_title: str
    episode_id: int | None
    episode_title: str | None
    published: datetime | None
    start: float | None
    end: float | None
    snippet: list[SpanOut]
    score: float
    found_by: list[str]


class SearchResponse(BaseModel):
    query: str
    mode: str
    results: list[SearchResult]


class SimilarResponse(BaseModel):
    episode_id: int
    t: float
    results: list[SearchResult]


# -- snips ------------------------------------------------------------------------------------


class ShareOut(_Out):
    text: str = Field(description="the whole message: quote, attribution and a timestamp link")
    link: str = Field(description="plays the episode from the snip's start")
    twitter: str = Field(description="a Twitter/X share link")
    whatsapp: str = Field(description="a WhatsApp share link")


class SnipOut(_Out):
    id: int
    episode_id: int
    tapped_at: float
    start: float
    end: float
    boundary: str
    state: str = Field(description="pending (card not yet made) / ready / failed (see error; the snip is kept)")
    title: str
    takeaways: list[str]
    quote: str
    quote_speaker: str | None
    excerpt: str
    note: str
    tags: list[str]
    favorite: bool
    edited: list[str] = Field(description="fields the user changed; AI runs leave them alone")
    error: str | None
    engine: str | None
    model: str | None
    prompt_version: str | None
    created_at: datetime | None
    updated_at: datetime | None
    episode_title: str = ""
    podcast_id: int | None = None
    podcast_title: str = ""
    share: ShareOut | None = Field(None, description="share text and Twitter/X and WhatsApp links")


class SnipPageOut(_Out):
    items: list[SnipOut]
    limit: int
    offset: int
    has_more: bool


# -- understanding: summary, chapters, highlights, ask ----------------------------------------
#
# What made a result (earmark.models.Provenance) is one response model, ProvenanceOut (with
# created_at, StoredProvenanceOut, for the stored results), whose fields a result lists flat, after
# its own, as the API always has. Pydantic orders a model's fields from its furthest base to itself
# (the MRO reversed), and the OpenAPI document and every response keep that order, so a result's own
# fields sit in a second base: SummaryOut(StoredProvenanceOut, _Summary) lists episode_id,
# paragraphs, takeaways, then engine, model, prompt_version, created_at (tests/ai/test_provenance.py).
# A snip's are required and sit mid-record, its created_at being the tap's: SnipOut spells them out.


class ProvenanceOut(_Out):
    engine: str | None = None
    model: str | None = None
    prompt_version: str | None = None


class StoredProvenanceOut(ProvenanceOut):
    created_at: datetime | None = None


class _Summary(_Out):
    episode_id: int
    paragraphs: list[str]
    takeaways: list[str]


class SummaryOut(StoredProvenanceOut, _Summary):
    pass


class ChapterMarkOut(_Out):
    start: float
    end: float | None = None
    title: str
    href: str | None = None
    image: str | None = None
    generated: bool = False


class _Chapters(_Out):
    episode_id: int
    source: str = Field(description="publisher / generated")
    origin: str = Field(description="psc / podcast-chapters / id3 / show-notes / llm")
    stored: bool = Field(description="false when read straight from the feed (the episode is not processed yet)")
    chapters: list[ChapterMarkOut]


class ChaptersOut(StoredProvenanceOut, _Chapters):
    pass


class _Highlight(_Out):
    id: int | None = None
    episode_id: int
    start: float
    end: float
    title: str
    why: str
    quote: str = ""


class HighlightOut(StoredProvenanceOut, _Highlight):
    pass


class LibraryHighlightOut(HighlightOut):
    episode_title: str
    podcast_id: int
    podcast_title: str


class HighlightsOut(_Out):
    episode_id: int
    highlights: list[HighlightOut]


class HighlightPageOut(_Out):
    items: list[LibraryHighlightOut]
    limit: int
    offset: int
    has_more: bool


class CitationOut(_Out):
    start: float
    end: float
    text: str


class _Answer(_Out):
    question: str
    answer: str
    answerable: bool
    citations: list[CitationOut]


class AnswerOut(ProvenanceOut, _Answer):  # an answer is not stored: no created_at
    pass

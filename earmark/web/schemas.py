"""Request and response models of the JSON API (/api/v1). Requests are strict: a wrong type is a
422, never coerced; unknown fields are refused. The response models of the directory, listening,
search, snips and understanding routers are in earmark/web/api/schemas.py."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

MAX_ID = 2**53 - 1  # a larger id must be a 422 (not a SQLite overflow); exact as a JSON number everywhere
# JSON has one number type: 12.0 is the integer 12 (as JSON Schema says); "12" is still refused.
EpisodeId = Annotated[
    int, Field(ge=1, le=MAX_ID, strict=True), BeforeValidator(lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)
]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls but tab and newlines
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# Character classes that Python and the OpenAPI document's ECMA regexes read alike (their \w and
# \s differ beyond ASCII: "Ø" is a word character to one, U+0085 a space to one, U+FEFF to the other).
TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
NOT_BLANK = r"[^\s\u0085\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # some character that is not a space
WORDY = r"[^\s\u0085\ufeff\x00-\x1f\x7f!-/:-@\[-`{-~]"  # something to look for: not a space nor ASCII punctuation


def _document_no_control(schema: dict) -> None:
    """The validator below, in the OpenAPI document: a pattern on every text property."""

    def mark(node: dict) -> None:
        if node.get("type") == "string" and "pattern" not in node and "enum" not in node:
            node["pattern"] = NO_CONTROL
        for child in node.get("anyOf", []):
            mark(child)
        if isinstance(node.get("items"), dict):
            mark(node["items"])

    for node in schema.get("properties", {}).values():
        mark(node)


class _In(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra=_document_no_control)

    @model_validator(mode="after")
    def _no_control_characters(self):
        """NUL and other control characters in text are refused, not stored (nor sent to exports)."""
        for name, value in self:
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and _CONTROL.search(text):
                    raise ValueError(f"{name}: control characters (such as NUL) are not allowed")
        return self


# -- errors ---------------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str
    details: list[dict] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# -- shared pieces --------------------------------------------------------------------------------


class PersonOut(_Out):
    name: str
    role: str = "host"
    group: str = "cast"
    img: str | None = None
    href: str | None = None


class FundingOut(_Out):
    url: str
    text: str = ""


class ChapterOut(_Out):
    start: float
    title: str
    href: str | None = None
    image: str | None = None


class TranscriptLinkOut(_Out):
    url: str
    type: str
    language: str | None = None
    rel: str | None = None


class SoundbiteOut(_Out):
    start: float
    duration: float
    title: str | None = None


# -- podcasts -------------------------------------------------------------------------------------


class PodcastOut(_Out):
    id: int
    url: str
    title: str
    author: str = ""
    description: str = ""
    link: str | None = None
    image: str | None = None
    language: str | None = None
    categories: list[str] = []
    persons: list[PersonOut] = []
    funding: list[FundingOut] = []
    podcast_guid: str | None = None
    explicit: bool | None = None
    locked: bool | None = None
    added_at: datetime | None = None
    status: str = Field(description="new / ok / error")
    error: str | None = None
    last_checked: datetime | None = None
    last_success: datetime | None = None
    episode_count: int = 0
    kind: str = Field("feed", description="feed, or uploads: your own audio (no feed: never refreshed, not in OPML)")


class SubscribeIn(_In):
    url: str = Field(min_length=1, max_length=4096, description="The feed's address (RSS or Atom)")


class RefreshOut(BaseModel):
    podcast_id: int
    url: str
    status: str = Field(description="updated / not-modified / unchanged / error")
    new_episodes: int = 0
    updated_episodes: int = 0
    error: str | None = None
    podcast: PodcastOut


# -- episodes -------------------------------------------------------------------------------------


class PlaybackOut(_Out):
    position: float = Field(description="seconds")
    played: bool
    updated_at: datetime | None = None


class DownloadOut(BaseModel):
    downloaded: bool
    size: int | None = None
    finished_at: datetime | None = None


class StageOut(_Out):
    """One processing stage of an episode's latest job (download, transcript, …)."""

    name: str
    state: str = Field(description="queued / running / done / failed / cancelled")
    progress: float | None = Field(None, description="0-100")
    error: str | None = None
    engine: str | None = None
    model: str | None = None
    worker: str | None = Field(None, description="the `earmark worker` computing it (null: the server itself)")
    eta_seconds: float | None = Field(
        None, ge=0, description="seconds this stage has left, from its measured speed on this machine (while its job"
                                " runs; null when done or unknown)")


class EpisodeSummaryOut(_Out):
    id: int
    podcast_id: int
    guid: str
    title: str
    published: datetime | None = None
    duration: int | None = Field(None, description="seconds")
    image: str | None = None
    enclosure_url: str | None = None
    enclosure_type: str | None = None
    season: int | None = None
    number: int | None = None
    episode_type: str | None = None
    explicit: bool | None = None
    downloaded: bool = False
    playback: PlaybackOut


class EpisodeDetailOut(EpisodeSummaryOut):
    description: str = Field("", description="plain text")
    show_notes_html: str = Field("", description="the feed's show notes, sanitized")
    link: str | None = None
    enclosure_length: int | None = None
    audio_url: str = Field(description="where the player gets the audio (this API)")
    transcripts: list[TranscriptLinkOut] = []
    chapters: list[ChapterOut] = Field([], description="chapters in the feed itself (Podlove)")
    persons: list[PersonOut] = []
    soundbites: list[SoundbiteOut] = []
    funding: list[FundingOut] = []
    download: DownloadOut
    stages: list[StageOut] = Field([], description="the stages of the latest processing job; empty when never processed")


class EpisodePageOut(BaseModel):
    items: list[EpisodeSummaryOut]
    total: int
    limit: int
    offset: int


class UploadOut(BaseModel):
    """An uploaded file, now an episode of an uploads podcast (its audio already downloaded)."""

    episode: EpisodeDetailOut
    podcast: PodcastOut
    created: bool = Field(description="false when the same file was already in this podcast (that episode is returned)")


class PositionIn(_In):
    seconds: float = Field(ge=0, le=10_000_000, allow_inf_nan=False, description="play position in seconds")
    at: float | None = Field(
        default=None, ge=0, le=10_000_000_000, allow_inf_nan=False,
        description="when the position was taken (Unix seconds): a position sent late (queued offline) "
                    "does not replace a newer one",
    )


class PlayedIn(_In):
    played: bool = True


# -- queue ----------------------------------------------------------------------------------------


class QueueIn(_In):
    episode_ids: list[EpisodeId] = Field(
        max_length=10_000, description="the new order, up next first", json_schema_extra={"uniqueItems": True}
    )

    @field_validator("episode_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("an episode may appear in the queue only once")
        return value


class QueueOut(BaseModel):
    episode_ids: list[int]
    episodes: list[EpisodeSummaryOut]


# -- OPML -----------------------------------------------------------------------------------------


class FailedFeedOut(BaseModel):
    podcast_id: int
    url: str
    error: str | None = None


class OPMLImportOut(BaseModel):
    feeds: int = Field(description="distinct feeds in the file")
    added: list[int]
    already_subscribed: list[int]
    refreshed: list[int]
    failed: list[FailedFeedOut]
    invalid: list[str] = Field(description="xmlUrl values that are not feed addresses")


# -- processing -----------------------------------------------------------------------------------


class JobOut(_Out):
    id: int
    episode_id: int
    state: str = Field(description="queued / running / done / failed / cancelled")
    priority: int
    stage: str | None = Field(None, description="the stage running now (or last run)")
    progress: float = Field(description="0-100 over all stages")
    error: str | None = None
    attempts: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    eta_seconds: float | None = Field(
        None, ge=0, description="seconds the job has left, from each stage's measured speed on this machine (null"
                                " unless running, or when the episode's length is unknown)")
    stages: list[StageOut] = []


class TranscriptSegmentOut(BaseModel):
    start: float
    end: float
    speaker: str | None = None
    text: str


class TranscriptOut(BaseModel):
    segments: list[TranscriptSegmentOut]
    source: str = Field(description="publisher / asr")
    format: str = Field(description="what it was read from: srt / vtt / json / html / text / asr")
    engine: str | None = None
    model: str | None = None
    language: str | None = None
    total: int = Field(description="segments in the whole transcript")
    offset: int = 0

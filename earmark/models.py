"""Typed records passed between the feed parser, the store, the CLI and the web app."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any, TypeVar


@dataclass(slots=True)
class Person:
    """``podcast:person``. Role and group are lower-cased, defaulting to host / cast as the spec says."""

    name: str
    role: str = "host"
    group: str = "cast"
    img: str | None = None
    href: str | None = None


@dataclass(slots=True)
class TranscriptLink:
    """One ``podcast:transcript``; an episode may offer several formats."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None


@dataclass(slots=True)
class ChaptersLink:
    """``podcast:chapters``: a JSON chapters document fetched later."""

    url: str
    type: str


@dataclass(slots=True)
class Chapter:
    start: float  # seconds
    title: str
    href: str | None = None
    image: str | None = None


@dataclass(slots=True)
class Soundbite:
    start: float
    duration: float
    title: str | None = None


@dataclass(slots=True)
class Funding:
    url: str
    text: str = ""


@dataclass(slots=True)
class AlternateEnclosure:
    type: str
    sources: list[str] = field(default_factory=list)
    length: int | None = None
    bitrate: float | None = None
    height: int | None = None
    lang: str | None = None
    title: str | None = None
    rel: str | None = None
    default: bool = False


@dataclass(slots=True)
class Episode:
    guid: str
    title: str
    published: datetime | None = None  # UTC
    duration: int | None = None  # seconds
    description: str = ""  # plain text
    description_html: str = ""  # raw from the feed; sanitized only when shown
    link: str | None = None
    enclosure_url: str | None = None
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    image: str | None = None
    season: int | None = None
    number: int | None = None
    episode_type: str | None = None  # full / trailer / bonus
    explicit: bool | None = None
    transcripts: list[TranscriptLink] = field(default_factory=list)
    chapters_link: ChaptersLink | None = None
    chapters: list[Chapter] = field(default_factory=list)  # Podlove psc:chapters in the feed
    persons: list[Person] = field(default_factory=list)
    soundbites: list[Soundbite] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)
    alternate_enclosures: list[AlternateEnclosure] = field(default_factory=list)
    # Set by the store:
    id: int | None = None
    podcast_id: int | None = None
    first_seen: datetime | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class Podcast:
    url: str
    title: str = ""
    author: str = ""
    description: str = ""
    link: str | None = None
    image: str | None = None
    language: str | None = None
    categories: list[str] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)
    podcast_guid: str | None = None
    explicit: bool | None = None
    locked: bool | None = None
    # Set by the store:
    id: int | None = None
    added_at: datetime | None = None
    status: str = "new"  # new / ok / error
    error: str | None = None
    last_checked: datetime | None = None
    last_success: datetime | None = None
    episode_count: int = 0
    kind: str = "feed"  # "feed", or "uploads": your own audio, no feed to refresh or export


@dataclass(slots=True)
class ParsedFeed:
    """What one feed document says. ``new_url`` is ``itunes:new-feed-url`` when present."""

    podcast: Podcast
    episodes: list[Episode]
    new_url: str | None = None


@dataclass(slots=True)
class Download:
    episode_id: int
    path: str
    status: str  # done (only after the file is complete and verified)
    size: int
    finished_at: datetime | None = None


@dataclass(slots=True)
class RefreshResult:
    podcast_id: int
    url: str
    status: str  # updated / not-modified / unchanged / error
    new_episodes: int = 0
    updated_episodes: int = 0
    error: str | None = None
    unreachable: bool = False  # the error was in reaching the feed (FetchError), not in reading it


T = TypeVar("T")


def to_json(value: Any) -> str | None:
    """Serialize a record or list of records for a JSON column."""
    if value is None:
        return None
    if isinstance(value, list):
        return json.dumps([dataclasses.asdict(v) for v in value], ensure_ascii=False)
    return json.dumps(dataclasses.asdict(value), ensure_ascii=False)


def from_json_list(cls: type[T], text: str | None) -> list[T]:
    return [cls(**item) for item in json.loads(text)] if text else []


def from_json_one(cls: type[T], text: str | None) -> T | None:
    return cls(**json.loads(text)) if text else None


def as_dict(record: Any) -> dict:
    """A JSON-ready dict of a record (datetimes as ISO 8601 strings)."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, PurePath):
            return str(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert(dataclasses.asdict(record))


@dataclass(slots=True)
class Word:
    start: float  # seconds
    end: float
    text: str


@dataclass(slots=True)
class Segment:
    """One stretch of speech: a cue, a paragraph or a sentence, with its words when known."""

    start: float  # seconds
    end: float
    text: str
    speaker: str | None = None  # who is speaking, as shown: a name, or "Speaker N"
    words: list[Word] = field(default_factory=list)
    label: str | None = None  # the diarizer's own label ("Speaker N") that ``speaker`` names


@dataclass(slots=True)
class Transcript:
    segments: list[Segment]
    source: str  # "publisher" | "asr"
    format: str  # what it was read from: srt / vtt / json / podlove / html / text / asr
    language: str | None = None


# Job states; "live" ones block a second job for the same episode.
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
PRIORITY_USER, PRIORITY_BACKGROUND = 10, 0


@dataclass(slots=True)
class StageRun:
    """One stage of a job (download, transcript, …) as recorded in the store."""

    name: str
    state: str = QUEUED
    progress: float = 0.0  # 0-100
    error: str | None = None
    attempts: int = 0
    engine: str | None = None  # what produced the result
    model: str | None = None
    checkpoint: dict | None = None  # resumable stages: where to go on
    worker: str | None = None  # the `earmark worker` computing it (None: this process)
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(slots=True)
class Job:
    """Processing one episode: its stages in order, run by the pipeline."""

    id: int
    episode_id: int
    state: str
    priority: int
    stage: str | None
    progress: float  # 0-100 over all stages
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = False
    stages: list[StageRun] = field(default_factory=list)


# -- provenance: what made an AI result -----------------------------------------------------------
#
# Every AI result (summary, chapters, highlights, an answer, a snip's card, speaker names) says what
# made it: the engine, the model, the prompt versions ("system@1+summary@3") and, once stored, when.
# ``Provenance`` is that one record. The result types keep its fields flat (``engine``, ``model``,
# ``prompt_version``, ``created_at``) rather than holding a ``provenance`` field, on purpose: they
# are the SQLite columns one to one, the store and the tests build results positionally, and
# ``as_dict`` (the CLI's --json, the snips API) and the API's response models expose them flat, so
# a nested field would change every one of those for no gain. ``Provenanced`` gives each result the
# record as ``.provenance`` (read it there when passing provenance on: the stage records, the CLI,
# the API); the API's flat fields are one response model in earmark/web/api/schemas.py,
# ``ProvenanceOut`` (``StoredProvenanceOut`` with created_at), shared by the results' models.


@dataclass(frozen=True, slots=True)
class Provenance:
    """What made an AI result. ``created_at`` is when it was stored (None until it is, and for
    results kept with no time of their own: an answer, a snip's card)."""

    engine: str | None = None  # "llama-cpp", "openai", "fake"; "publisher:<origin>" for a feed's chapters
    model: str | None = None
    prompt_version: str | None = None  # the prompts used, "name@version" joined by "+"
    created_at: datetime | None = None


class Provenanced:
    """Mixin for the records that carry a ``Provenance`` as flat fields (see the comment above).
    A record without one of the fields (speaker names have no prompt version, an answer no time)
    reads as None there; ``PROVENANCE_TIME`` names the field holding when it was made, None where
    ``created_at`` means something else (a snip's is when the listener tapped, not the card's)."""

    __slots__ = ()
    PROVENANCE_TIME: str | None = "created_at"

    @property
    def provenance(self) -> Provenance:
        when = getattr(self, self.PROVENANCE_TIME, None) if self.PROVENANCE_TIME else None
        return Provenance(getattr(self, "engine", None), getattr(self, "model", None),
                          getattr(self, "prompt_version", None), when)


@dataclass(slots=True)
class Snip(Provenanced):
    """A saved moment. Stored the instant the listener taps; the AI card (title, takeaways, quote)
    arrives later. Fields named in ``edited`` were changed by the user and are never overwritten
    by a later AI run."""

    episode_id: int
    tapped_at: float  # seconds into the episode where the listener tapped
    start: float  # the snip's bounds, snapped to sentence starts/ends when a transcript exists
    end: float
    boundary: str = "auto"  # "auto" or "fixed:30" / "fixed:60" / "fixed:90" / "fixed:120"
    state: str = "pending"  # pending → ready (card done) / failed (card failed; the snip stays)
    title: str = ""
    takeaways: list[str] = field(default_factory=list)
    quote: str = ""
    quote_speaker: str | None = None
    excerpt: str = ""  # the transcript text between start and end
    note: str = ""
    tags: list[str] = field(default_factory=list)
    favorite: bool = False
    edited: list[str] = field(default_factory=list)
    error: str | None = None
    engine: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    user_id: int = 1  # whose snip it is (the owner's by default)

    PROVENANCE_TIME = None  # created_at is when the listener tapped; the card's time is not kept


# -- understanding (summary, chapters, highlights, ask) ------------------------------------------


@dataclass(frozen=True, slots=True)
class Dropped:
    """An AI-written item left out because it failed a check (kept for the benchmark and for
    anyone asking why a summary is shorter than expected)."""

    task: str  # summary / chapters / highlights / names / answer / snip
    text: str
    reason: str


@dataclass(slots=True)
class SpeakerName:
    """Who a diarized speaker is, and what the episode said that shows it."""

    label: str  # "Speaker N", the diarizer's label
    name: str  # the display name ("Speaker N" when nobody is named)
    source: str  # self / welcome / vocative / feed / list / llm / none
    evidence: str = ""  # the line that names them


@dataclass(slots=True)
class Summary(Provenanced):
    paragraphs: list[str]
    takeaways: list[str]
    engine: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    created_at: datetime | None = None
    episode_id: int | None = None


@dataclass(slots=True)
class ChapterMark:
    """A chapter as Earmark keeps it: ``generated`` when an AI made it, else the publisher's;
    ``origin`` says where from (psc / podcast-chapters / id3 / show-notes / llm)."""

    start: float
    title: str
    end: float | None = None
    href: str | None = None
    image: str | None = None
    generated: bool = False
    origin: str = ""


@dataclass(slots=True)
class EpisodeChapters(Provenanced):
    chapters: list[ChapterMark]
    source: str  # publisher / generated
    origin: str  # psc / podcast-chapters / id3 / show-notes / llm
    engine: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    created_at: datetime | None = None
    episode_id: int | None = None


@dataclass(slots=True)
class Highlight(Provenanced):
    start: float
    end: float
    title: str
    why: str
    quote: str = ""
    engine: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    created_at: datetime | None = None
    episode_id: int | None = None
    id: int | None = None


@dataclass(slots=True)
class LibraryHighlight(Highlight):
    """A highlight with the episode and podcast it is from (the highlights page, reel and feed)."""

    episode_title: str = ""
    podcast_id: int | None = None
    podcast_title: str = ""


@dataclass(slots=True)
class Passage:
    start: float
    end: float
    text: str
    score: float = 0.0


@dataclass(slots=True)
class Citation:
    start: float  # where to jump: the cited passage's start
    end: float
    text: str


@dataclass(slots=True)
class Answer(Provenanced):
    question: str
    answer: str
    answerable: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    engine: str | None = None
    model: str | None = None
    prompt_version: str | None = None

"""The snip job's stages in one table, beside the episode job's (stages.py): for each stage, in the
order it runs, its share of the snip's work, the inputs the runner reads for it from the library,
whether it has to run, and the function that runs it. The functions are store-free: they compute
with the engines and the inputs handed to them in the ``SnipContext`` and return a ``Step``;
snip_runner.py reads the inputs, walks this table and alone writes what the steps say.

A snip is enriched with its bounds snapped to sentences and an AI card: on the episode's complete
transcript when it has one, else on a window transcribed around the tap (the audio fetched first,
as the episode job's download stage fetches it, by jobs/download.py). When the complete transcript
lands later, ``resnap`` moves the bounds onto it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from earmark.ai.asr import ASREngine
from earmark.ai.llm import LLMEngine
from earmark.ai.tasks.snip_card import build_card
from earmark.config import Settings
from earmark.errors import EarmarkError
from earmark.jobs.download import AudioFile, download_audio
from earmark.models import Episode, Segment, Snip
from earmark.snips import boundaries as B

log = logging.getLogger(__name__)

WAITING = "waiting for the episode's transcript (queued for processing)"  # a snip's error while it waits

# What the runner can read for a stage (snip_runner.READERS says how):
TRANSCRIPT = "transcript"  # the complete transcript around the tap's window (None when there is none)
DOWNLOAD = "download"  # the episode's audio file when it is already here
PODCAST = "podcast"  # the podcast's title, for the card's prompt
LANDED = "landed"  # the complete transcript around the snip's bounds as last written
INPUTS = (TRANSCRIPT, DOWNLOAD, PODCAST, LANDED)


@dataclass(slots=True)
class SnipContext:
    """What a snip's stages run with: the inputs the runner read, the engines it was given (loaded
    on first call), and what the earlier stages returned (folded in by the runner)."""

    settings: Settings
    snip: Snip  # as last written
    episode: Episode
    asr: Callable[[], ASREngine]
    llm: Callable[[], LLMEngine]
    read: set[str] = field(default_factory=set)  # the inputs read so far (each is read once)
    transcript: list[Segment] | None = None
    download: Path | None = None
    podcast: str = ""
    landed: list[Segment] | None = None
    audio: AudioFile | None = None  # the audio the window is transcribed from
    segments: list[Segment] | None = None  # what the card was made on
    snapped_on: str | None = None  # TRANSCRIPT or "window" once the card stage ran; None: not known

    @property
    def window(self) -> tuple[float, float]:
        return B.window(self.snip.tapped_at, self.episode.duration)


@dataclass(frozen=True, slots=True)
class Step:
    """What one stage found, for the runner to record and fold into the context."""

    state: str | None = None  # the snip's state to write; None: nothing to write on the snip
    error: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # snip fields (those the user edited are kept)
    audio: AudioFile | None = None
    fetched: bool = False  # ``audio`` was downloaded now: the library records it
    segments: list[Segment] | None = None
    snapped_on: str | None = None
    wait: bool = False  # no transcript and no audio: queue the episode, the snip waits for it
    last: bool = False  # no later stage runs


Run = Callable[[SnipContext], Step]
Due = Callable[[SnipContext], bool]


@dataclass(frozen=True, slots=True)
class SnipStage:
    name: str
    weight: float  # share of the snip's work (the window's ASR and the card weigh most)
    inputs: tuple[str, ...]  # read by the runner before ``due``
    run: Run
    due: Due


def _no_transcript(ctx: SnipContext) -> bool:
    return not ctx.transcript


# -- audio and window: only when the episode has no complete transcript -------------------------------


def audio(ctx: SnipContext) -> Step:
    """The episode's audio, downloaded now when it is not here yet, so a snip on an episode nobody
    downloaded is useful in seconds (only the window is then transcribed; the episode job is not
    started). Without audio to get, the snip waits for the episode's processing."""
    if ctx.download is None and not ctx.episode.enclosure_url:
        return Step(wait=True, last=True)
    try:
        found = download_audio(ctx.episode, ctx.settings, existing=ctx.download)
    except (EarmarkError, OSError) as exc:
        log.warning("snip on episode %s: downloading the audio failed (%s); queued for processing", ctx.episode.id, exc)
        return Step(wait=True, last=True)
    return Step(audio=found, fetched=found.path != ctx.download)


def transcribe_window(ctx: SnipContext) -> Step:
    """Speech recognition of the window around the tap only, not the whole episode."""
    assert ctx.audio is not None  # the audio stage ran (else it ended the work)
    lo, hi = ctx.window
    try:
        segments = list(ctx.asr().transcribe(ctx.audio.path, offset=lo, duration=hi - lo))
    except EarmarkError as exc:
        return Step(state="failed", error=f"transcribing the window: {exc}", last=True)
    return Step(segments=segments, snapped_on="window")


# -- card ---------------------------------------------------------------------------------------------


def card(ctx: SnipContext) -> Step:
    """Bounds snapped to sentences (a user's bounds stay; their excerpt follows) and the AI card.
    A card that fails leaves the snip failed with the reason, its bounds and excerpt written."""
    snip = ctx.snip
    sentences = B.split_sentences(ctx.segments if ctx.segments is not None else ctx.transcript or [])
    on = ctx.snapped_on or TRANSCRIPT
    if not sentences:
        return Step(state="failed", error="no speech found around the tap", last=True)
    user_bounds = bool({"start", "end"} & set(snip.edited))
    if user_bounds:
        snapped = B.resnap(sentences, snip.start, snip.end)
        fields: dict[str, Any] = {"excerpt": B.overlap_excerpt(sentences, snip.start, snip.end)}
    else:
        snapped = B.snap(sentences, snip.tapped_at, snip.boundary)
        fields = {"start": snapped.start, "end": snapped.end, "excerpt": snapped.excerpt}
    try:
        made = build_card(
            ctx.llm(), sentences, snapped, tapped_at=snip.tapped_at, podcast=ctx.podcast, episode=ctx.episode.title,
            choose_start=not user_bounds and B.parse_boundary(snip.boundary)[0] == "auto",
        )
    except EarmarkError as exc:
        log.warning("snip %s: no card: %s", snip.id, exc)
        return Step(state="failed", error=f"card: {exc}", fields=fields, snapped_on=on)
    if made.start_index is not None and not user_bounds:
        moved = B.choose_start(sentences, snapped, made.start_index)
        fields.update(start=moved.start, excerpt=moved.excerpt)
    return Step(state="ready", snapped_on=on, fields={
        **fields, "title": made.title, "takeaways": made.takeaways, "quote": made.quote,
        "quote_speaker": made.quote_speaker, "engine": made.engine, "model": made.model,
        "prompt_version": made.prompt_version,
    })


# -- resnap -------------------------------------------------------------------------------------------


def resnap_due(ctx: SnipContext) -> bool:
    """After a card made on a window, when the complete transcript landed meanwhile; alone (the
    re-snap pass over snips the transcript overtook), whenever a complete transcript is there."""
    return ctx.landed is not None and ctx.snapped_on != TRANSCRIPT


def resnap(ctx: SnipContext) -> Step:
    """Bounds moved onto the complete transcript (unless the user set them) and the excerpt
    refreshed. Always a write, even of nothing new: the snip's ``updated_at`` then says it is done."""
    snip = ctx.snip
    sentences = B.split_sentences(ctx.landed or [])
    fields: dict[str, Any] = {}
    if sentences:
        if {"start", "end"} & set(snip.edited):
            fields["excerpt"] = B.overlap_excerpt(sentences, snip.start, snip.end)
        else:
            snapped = B.resnap(sentences, snip.start, snip.end)
            fields = {"start": snapped.start, "end": snapped.end, "excerpt": snapped.excerpt}
    return Step(state=snip.state, error=snip.error, fields=fields, snapped_on=TRANSCRIPT)


# -- the table ----------------------------------------------------------------------------------------

SNIP_TABLE: tuple[SnipStage, ...] = (
    SnipStage("audio", 20.0, (TRANSCRIPT, DOWNLOAD), audio, _no_transcript),
    SnipStage("window", 40.0, (TRANSCRIPT,), transcribe_window, _no_transcript),
    SnipStage("card", 35.0, (TRANSCRIPT, PODCAST), card, lambda ctx: True),
    SnipStage("resnap", 5.0, (LANDED,), resnap, resnap_due),
)
SNIP_BY_NAME: dict[str, SnipStage] = {stage.name: stage for stage in SNIP_TABLE}
if any(set(stage.inputs) - set(INPUTS) for stage in SNIP_TABLE):
    raise ImportError("a snip stage names an input the runner cannot read")


__all__ = ["INPUTS", "SNIP_BY_NAME", "SNIP_TABLE", "WAITING", "SnipContext", "SnipStage", "Step"]

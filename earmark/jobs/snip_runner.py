"""The snip side of the runner: enriches one snip by walking the snip stage table (snip_stages.py) in
order, reading from the library the inputs each stage names, and writing what each stage returns.
The stage functions only compute; as runner.py is for an episode's job, this module is the only
writer of a snip's enrichment (its bounds and card, the audio a stage fetched, the episode queued).

The store is the queue (snips in state ``pending``, earmark.snips.enrich): each stage's result is
written as soon as it is returned, so a crash loses at most the stage under way, and a snip left
pending is enriched again from the start on the next pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from earmark.ai.asr import ASREngine, get_asr
from earmark.ai.llm import LLMEngine, get_llm
from earmark.config import Settings
from earmark.jobs.snip_stages import (
    DOWNLOAD,
    LANDED,
    PODCAST,
    SNIP_BY_NAME,
    SNIP_TABLE,
    TRANSCRIPT,
    WAITING,
    SnipContext,
    SnipStage,
    Step,
)
from earmark.models import PRIORITY_USER, Snip
from earmark.snips import boundaries as B
from earmark.store.jobs import JobStore
from earmark.store.library import Library
from earmark.store.snips import SnipStore
from earmark.store.transcripts import TranscriptStore


class SnipRunner:
    """Enriches snips with the engines it is given (or those the settings name, loaded on first
    use and kept for the snips after, so a pass over many snips loads a model once)."""

    def __init__(self, library: Library, settings: Settings, *, llm: LLMEngine | None = None,
                 asr: ASREngine | None = None):
        self.library = library
        self.settings = settings
        self.snips = SnipStore(library)  # the pipeline's store: every user's snips
        self.transcripts = TranscriptStore(library)
        self._llm, self._asr = llm, asr
        self._readers: dict[str, Callable[[SnipContext], object]] = {
            TRANSCRIPT: self._transcript, DOWNLOAD: self._download, PODCAST: self._podcast, LANDED: self._landed,
        }

    def llm(self) -> LLMEngine:
        if self._llm is None:  # an error here is the card's failure (raised inside its stage)
            self._llm = get_llm(self.settings)
        return self._llm

    def asr(self) -> ASREngine:
        if self._asr is None:
            self._asr = get_asr(self.settings)
        return self._asr

    def enrich(self, snip_id: int) -> Snip:
        """Bounds and card for a pending snip (every stage of the table); the snip as written."""
        return self._run(snip_id, SNIP_TABLE)

    def resnap(self, snip_id: int) -> Snip:
        """Only the re-snap stage: the bounds of a snip the complete transcript overtook."""
        return self._run(snip_id, (SNIP_BY_NAME["resnap"],))

    # -- running ---------------------------------------------------------------------------------

    def _run(self, snip_id: int, stages: Sequence[SnipStage]) -> Snip:
        snip = self.snips.get(snip_id)
        ctx = SnipContext(self.settings, snip, self.library.episode(snip.episode_id), asr=self.asr, llm=self.llm)
        for stage in stages:
            for name in stage.inputs:
                if name not in ctx.read:  # each input is read once: the card uses what the audio stage saw
                    setattr(ctx, name, self._readers[name](ctx))
                    ctx.read.add(name)
            if not stage.due(ctx):
                continue
            step = stage.run(ctx)
            self._record(ctx, step)
            _fold(ctx, step)
            if step.last:
                break
        return ctx.snip

    def _record(self, ctx: SnipContext, step: Step) -> None:
        """The one place a stage's result is written."""
        if step.audio is not None and step.fetched:
            self.library.record_download(ctx.episode.id, str(step.audio.path), step.audio.size)
        if step.wait:  # the episode's job brings the transcript; the pass after it enriches the snip
            JobStore(self.library).enqueue(ctx.episode.id, priority=PRIORITY_USER)
            ctx.snip = self.snips.set_card(ctx.snip.id, state="pending", error=WAITING)
        elif step.state is not None:
            ctx.snip = self.snips.set_card(ctx.snip.id, state=step.state, error=step.error, **step.fields)

    # -- the inputs a stage may name ---------------------------------------------------------------

    def _transcript(self, ctx: SnipContext) -> object:
        lo, hi = ctx.window
        return self.transcripts.segments_between(ctx.episode.id, lo - B.CONTEXT, hi + B.CONTEXT)

    def _download(self, ctx: SnipContext) -> object:
        record = self.library.download(ctx.episode.id)
        return Path(record.path) if record is not None and Path(record.path).is_file() else None

    def _podcast(self, ctx: SnipContext) -> object:
        episode = ctx.episode
        return self.library.podcast(episode.podcast_id).title if episode.podcast_id else ""

    def _landed(self, ctx: SnipContext) -> object:
        snip = ctx.snip  # as last written: after the card, its new bounds
        return self.transcripts.segments_between(snip.episode_id, snip.start - B.CONTEXT, snip.end + B.CONTEXT)


def _fold(ctx: SnipContext, step: Step) -> None:
    """What the stages after this one see of its result."""
    if step.audio is not None:
        ctx.audio = step.audio
    if step.segments is not None:
        ctx.segments = step.segments
    if step.snapped_on is not None:
        ctx.snapped_on = step.snapped_on


__all__ = ["SnipRunner"]

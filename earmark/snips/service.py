"""Snips against the library: create one at once, enrich it later (bounds on the transcript or on a
window transcribed around the tap, then the AI card), re-snap when the full transcript lands, and
apply a user's edit of its bounds. Enriching and re-snapping are the snip job's stages
(earmark/jobs/snip_stages.py), run and written by earmark/jobs/snip_runner.py; the functions here
are their entry points for the enricher, the CLI and the web."""

from __future__ import annotations

import math

from earmark.ai.asr import ASREngine
from earmark.ai.llm import LLMEngine
from earmark.config import Settings
from earmark.jobs.snip_runner import SnipRunner
from earmark.jobs.snip_stages import WAITING  # noqa: F401  (named here as before)
from earmark.models import Segment, Snip
from earmark.snips import boundaries as B
from earmark.snips.boundaries import CONTEXT, WINDOW_AFTER, WINDOW_BEFORE, window  # noqa: F401  (named here as before)
from earmark.snips.wake import notify
from earmark.store.library import OWNER_ID, Library
from earmark.store.snips import SnipStore
from earmark.store.transcripts import TranscriptStore

MAX_SNIP_SECONDS = 600.0


def transcript_segments(library: Library, episode_id: int, lo: float, hi: float) -> list[Segment] | None:
    """The complete transcript's segments overlapping [lo, hi]; None when the episode has no
    complete transcript. Reads only that stretch, so it is fast on long episodes."""
    return TranscriptStore(library).segments_between(episode_id, lo, hi)


# -- create ---------------------------------------------------------------------------------------


def create_snip(
    library: Library, settings: Settings, episode_id: int, position: float, boundary: str | None = None,
    *, user_id: int = OWNER_ID, client_id: str | None = None,
) -> Snip:
    """Store a snip for a tap at ``position`` seconds and return it at once: bounds snapped to
    sentences when the episode has a transcript, else a provisional window. No model runs here;
    the background enricher (earmark.snips.enrich) does the rest. ``client_id``: the client's
    idempotency key; a snip this user already made with that key is returned as it is."""
    position = float(position)
    if not math.isfinite(position) or position < 0:
        raise ValueError("position must be a number of seconds ≥ 0")
    boundary = boundary or settings.snip_boundary
    B.parse_boundary(boundary)  # ValueError when malformed
    episode = library.episode(episode_id)  # NotFound
    if episode.duration:
        # A feed's duration is approximate (and dynamic ads move it): a tap a little past it is the
        # end; one far past it is a wrong number.
        if position > episode.duration + max(60.0, 0.1 * episode.duration):
            raise ValueError(f"position {position:g} s is past the end of the episode ({episode.duration:g} s)")
        position = min(position, float(episode.duration))
    segments = transcript_segments(
        library, episode_id, position - B.MAX_AUTO - CONTEXT * 2, position + WINDOW_AFTER + CONTEXT
    )
    snapped = B.snap(segments, position, boundary) if segments else None
    if snapped is not None:
        start, end, excerpt = snapped.start, snapped.end, snapped.excerpt
    else:
        (start, end), excerpt = B.provisional(position, episode.duration), ""
    snip = SnipStore(library, user_id).create(
        Snip(episode_id=episode_id, tapped_at=position, start=start, end=end, boundary=boundary, excerpt=excerpt),
        client_id=client_id,
    )
    notify()
    return snip


# -- enrich and re-snap: stages of the snip job (earmark/jobs/snip_stages.py) ------------------------


def enrich_snip(
    library: Library,
    settings: Settings,
    snip_id: int,
    *,
    llm: LLMEngine | None = None,
    asr: ASREngine | None = None,
) -> Snip:
    """Bounds and card for a pending snip. Without a transcript: transcribe the window around the
    tap (downloading the audio first when needed); only when there is no audio to get, queue the
    episode for processing and leave the snip pending (``WAITING``) until its transcript lands. A
    card that fails marks the snip failed, with the reason; the snip itself is kept."""
    return SnipRunner(library, settings, llm=llm, asr=asr).enrich(snip_id)


def resnap_snip(library: Library, snip_id: int, settings: Settings | None = None) -> Snip:
    """Move the snip's bounds onto the episode's complete transcript (unless the user set them)
    and refresh its excerpt. Idempotent; always touches ``updated_at``."""
    return SnipRunner(library, settings or Settings.load()).resnap(snip_id)


def snips_to_resnap(library: Library) -> list[int]:
    """Snips last written before their episode's complete transcript (e.g. snapped on a window)."""
    return SnipStore(library).resnap_ids()


def pending_snips(library: Library, *, include_waiting: bool = False) -> list[int]:
    """Snips to enrich: pending ones, except those waiting for a transcript that has not landed."""
    return SnipStore(library).pending_ids(include_waiting=include_waiting)


# -- a user's edit ----------------------------------------------------------------------------------


def edit_snip(library: Library, snip_id: int, *, user_id: int | None = None, **changes) -> Snip:
    """Apply a user's edit (to their own snip when ``user_id`` is given). Bounds are checked
    (0 ≤ start < end ≤ duration, at most 10 minutes) and the excerpt follows them when a transcript exists."""
    store = SnipStore(library, user_id)
    snip = store.get(snip_id)
    if "start" in changes or "end" in changes:
        start = float(changes.get("start", snip.start))
        end = float(changes.get("end", snip.end))
        duration = library.episode(snip.episode_id).duration
        if not (0 <= start < end):
            raise ValueError("start must be ≥ 0 and before end")
        if duration and end > duration:
            raise ValueError(f"end is past the episode's end ({duration} s)")
        if end - start > MAX_SNIP_SECONDS:
            raise ValueError("a snip may last at most 10 minutes")
    snip = store.update(snip_id, **changes)
    if "start" in changes or "end" in changes:
        segments = transcript_segments(library, snip.episode_id, snip.start - CONTEXT, snip.end + CONTEXT)
        if segments:
            snip = store.set_card(
                snip_id, state=snip.state, error=snip.error,
                excerpt=B.overlap_excerpt(B.split_sentences(segments), snip.start, snip.end),
            )
    return snip

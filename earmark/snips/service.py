"""Snips against the library: create one at once, enrich it later (bounds on the transcript or on a
window transcribed around the tap, then the AI card), re-snap when the full transcript lands, and
apply a user's edit of its bounds."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
from pathlib import Path

from earmark.ai.asr import ASREngine, get_asr
from earmark.ai.llm import LLMEngine, get_llm
from earmark.ai.tasks.snip_card import build_card
from earmark.config import Settings
from earmark.errors import EarmarkError
from earmark.models import PRIORITY_USER, Episode, Segment, Snip
from earmark.snips import boundaries as B
from earmark.snips.wake import notify
from earmark.store.jobs import JobStore
from earmark.store.library import OWNER_ID, Library
from earmark.store.snips import SnipStore
from earmark.store.transcripts import TranscriptStore

log = logging.getLogger(__name__)

WINDOW_BEFORE, WINDOW_AFTER = 150.0, 30.0  # what is transcribed around a tap when no transcript exists
CONTEXT = 60.0  # extra transcript read around a window, so its first sentence is whole
WAITING = "waiting for the episode's transcript (queued for processing)"
MAX_SNIP_SECONDS = 600.0


def window(position: float, duration: float | None = None) -> tuple[float, float]:
    """The stretch of audio transcribed for a tap at ``position`` when no transcript exists."""
    lo = max(0.0, position - WINDOW_BEFORE)
    hi = position + WINDOW_AFTER
    if duration:
        hi = min(hi, float(duration))
        lo = min(lo, max(0.0, hi - 1.0))
    return round(lo, 3), round(max(hi, lo + 1.0), 3)


def transcript_segments(library: Library, episode_id: int, lo: float, hi: float) -> list[Segment] | None:
    """The complete transcript's segments overlapping [lo, hi]; None when the episode has no
    complete transcript. Reads only that stretch, so it is fast on long episodes."""
    return TranscriptStore(library).segments_between(episode_id, lo, hi)


def _overlap_excerpt(sentences: list[B.Sentence], start: float, end: float) -> str:
    """For bounds a user set (possibly inside sentences): every sentence they touch."""
    return " ".join(s.text for s in sentences if s.end > start and s.start < end)


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


# -- enrich ---------------------------------------------------------------------------------------


def _enqueue_processing(library: Library, episode_id: int) -> None:
    JobStore(library).enqueue(episode_id, priority=PRIORITY_USER)


def _local_audio(library: Library, settings: Settings, episode: Episode) -> Path | None:
    """The episode's audio file, downloading it first when it is not here yet (so a snip on an
    episode nobody downloaded is useful in seconds: only the window around the tap is then
    transcribed, and the full pipeline is not started). None when there is no audio to get."""
    record = library.download(episode.id)
    if record is not None and Path(record.path).is_file():
        return Path(record.path)
    if not episode.enclosure_url:
        return None
    from earmark.downloads.fetcher import fetch_enclosure

    try:
        path, size = _run_async(fetch_enclosure(settings, episode))
    except (EarmarkError, OSError) as exc:
        log.warning("snip on episode %s: downloading the audio failed (%s); queued for processing", episode.id, exc)
        return None
    library.record_download(episode.id, str(path), size)
    return Path(path)


def _run_async(coro):
    """Run ``coro`` to completion from sync code, even when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


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
    episode for processing and leave the snip pending until its transcript lands. A card that fails marks the snip failed, with the reason;
    the snip itself is kept."""
    store = SnipStore(library)
    snip = store.get(snip_id)
    episode = library.episode(snip.episode_id)
    lo, hi = window(snip.tapped_at, episode.duration)
    segments = transcript_segments(library, snip.episode_id, lo - CONTEXT, hi + CONTEXT)
    from_window = False
    if not segments:
        audio = _local_audio(library, settings, episode)
        if audio is None:
            _enqueue_processing(library, snip.episode_id)
            return store.set_card(snip_id, state="pending", error=WAITING)
        try:
            engine = asr or get_asr(settings)
            segments = list(engine.transcribe(audio, offset=lo, duration=hi - lo))
        except EarmarkError as exc:
            return store.set_card(snip_id, state="failed", error=f"transcribing the window: {exc}")
        from_window = True
    sentences = B.split_sentences(segments)
    if not sentences:
        return store.set_card(snip_id, state="failed", error="no speech found around the tap")

    user_bounds = bool({"start", "end"} & set(snip.edited))
    if user_bounds:
        snapped = B.resnap(sentences, snip.start, snip.end)
        fields: dict = {"excerpt": _overlap_excerpt(sentences, snip.start, snip.end)}
    else:
        snapped = B.snap(sentences, snip.tapped_at, snip.boundary)
        fields = {"start": snapped.start, "end": snapped.end, "excerpt": snapped.excerpt}

    podcast = library.podcast(episode.podcast_id).title if episode.podcast_id else ""
    try:
        engine = llm or get_llm(settings)
        card = build_card(
            engine, sentences, snapped, tapped_at=snip.tapped_at, podcast=podcast, episode=episode.title,
            choose_start=not user_bounds and B.parse_boundary(snip.boundary)[0] == "auto",
        )
    except EarmarkError as exc:
        log.warning("snip %s: no card: %s", snip_id, exc)
        result = store.set_card(snip_id, state="failed", error=f"card: {exc}", **fields)
    else:
        if card.start_index is not None and not user_bounds:
            moved = B.choose_start(sentences, snapped, card.start_index)
            fields.update(start=moved.start, excerpt=moved.excerpt)
        result = store.set_card(
            snip_id, state="ready", title=card.title, takeaways=card.takeaways, quote=card.quote,
            quote_speaker=card.quote_speaker, engine=card.engine, model=card.model,
            prompt_version=card.prompt_version, **fields,
        )
    if from_window and transcript_segments(library, snip.episode_id, 0, 0) is not None:
        result = resnap_snip(library, snip_id)  # the full transcript landed while the window ran
    return result


# -- re-snap on the full transcript ---------------------------------------------------------------


def resnap_snip(library: Library, snip_id: int) -> Snip:
    """Move the snip's bounds onto the episode's complete transcript (unless the user set them)
    and refresh its excerpt. Idempotent; always touches ``updated_at``."""
    store = SnipStore(library)
    snip = store.get(snip_id)
    segments = transcript_segments(library, snip.episode_id, snip.start - CONTEXT, snip.end + CONTEXT) or []
    sentences = B.split_sentences(segments)
    fields: dict = {}
    if sentences:
        if {"start", "end"} & set(snip.edited):
            fields["excerpt"] = _overlap_excerpt(sentences, snip.start, snip.end)
        else:
            snapped = B.resnap(sentences, snip.start, snip.end)
            fields = {"start": snapped.start, "end": snapped.end, "excerpt": snapped.excerpt}
    return store.set_card(snip_id, state=snip.state, error=snip.error, **fields)


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
                excerpt=_overlap_excerpt(B.split_sentences(segments), snip.start, snip.end),
            )
    return snip

"""Transcript stage, second half: local ASR over the downloaded audio, window by window, so the
pipeline can save each finished window and a killed job resumes at the last one. Store-free."""

from __future__ import annotations

import contextvars
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from earmark.ai.asr import ASREngine
from earmark.errors import AudioError
from earmark.models import Segment
from earmark.transcripts.timecode import format_clock


@dataclass(frozen=True, slots=True)
class AudioInfo:
    duration: float  # seconds
    codec: str


@dataclass(slots=True)
class Chunk:
    index: int  # 0-based window number
    start: float
    end: float
    segments: list[Segment]
    language: str | None = None  # the run's language as known after this window (detected or given)


TRUNCATED_AT = 0.9  # the audio must still decode at 90% of the length the file states
# Formats whose header states the length (MP4's index, MP3's Xing/Info frame, FLAC's STREAMINFO), so
# a truncated file claims more than it holds. Elsewhere the length is measured or estimated from the
# bitrate (raw AAC: a quiet start makes a 2-minute file "43 minutes"), and proves nothing.
STATED_LENGTH_FORMATS = {"mov", "mp4", "m4a", "mp3", "flac"}


def _states_length(path: Path, formats: set[str]) -> bool:
    """Whether the file's header states its length. An MP3 does only with a Xing/Info/VBRI frame
    at its start: without one ffmpeg guesses from the first frame's bitrate (a VBR file with a
    quiet start, or a stitched ad, "lasts" far longer than it does)."""
    if not STATED_LENGTH_FORMATS & formats:
        return False
    if "mp3" not in formats:
        return True
    with open(path, "rb") as f:
        head = f.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:  # the ID3v2 tag before the first frame (syncsafe size)
            skip = 10 + ((head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F))
        f.seek(skip)
        frame = f.read(4096)
    return any(mark in frame for mark in (b"Xing", b"Info", b"VBRI"))


TAIL_FRAMES = 3000  # decoded at most looking for the end (seeks land up to a page early: Ogg pages last seconds)


def _decodes_at(container, stream, seconds: float) -> float | None | bool:
    """Seek to ``seconds`` and decode on until audio heard at ``seconds`` or later: then
    ``seconds``. When the file ends first: where its last frame ends (None: nothing decodes
    there). True when there is no verdict (the file cannot seek; the seek landed too far back)."""
    import av

    reached = None
    try:
        container.seek(int(seconds * 1_000_000), backward=True, any_frame=False)
        for n, frame in enumerate(container.decode(stream)):
            if frame.time is None:
                return True
            reached = frame.time + frame.samples / (frame.sample_rate or 1)
            if reached >= seconds:
                return seconds
            if n >= TAIL_FRAMES:
                return True
    except av.error.FFmpegError:
        return True
    return reached


def probe_audio(path: Path) -> AudioInfo:
    """Open the file with PyAV and decode its first audio frame: a cheap check, before any model
    loads, that turns empty, corrupt or non-audio files into one clear message. A truncated file
    (an interrupted upload, a download cut short and served as is) still states its full length in
    its header; one seek towards the end tells: if nothing decodes at 90% of that length, the file
    is refused with where its audio stops, rather than transcribed as if the rest were silence."""
    import av  # heavy import, only here

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: the downloaded file is missing")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name}: the downloaded file is empty (0 bytes)")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{path.name}: no audio stream in the file")
            stream = container.streams.audio[0]
            try:
                codec = stream.codec_context.name
            except AttributeError:  # PyAV has no decoder for it
                codec = None
            if not codec:
                tag = getattr(stream.codec_context, "codec_tag", "") or "unknown"
                raise AudioError(f"{path.name}: unsupported audio codec ({tag})")
            for _frame in container.decode(stream):
                break
            else:
                raise AudioError(f"{path.name}: the audio stream has no decodable frames")
            if container.duration:
                duration = container.duration / 1_000_000  # av.time_base
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                raise AudioError(f"{path.name}: cannot tell how long the audio is")
            if duration > 2.0 and _states_length(path, set((container.format.name or "").split(","))):
                heard = _decodes_at(container, stream, TRUNCATED_AT * duration)
                if heard is None or (heard is not True and heard < (TRUNCATED_AT - 0.05) * duration):
                    where = f"at about {format_clock(heard)}" if heard else f"before {format_clock(TRUNCATED_AT * duration)}"
                    raise AudioError(
                        f"{path.name}: the audio file is truncated: it stops {where} of the {format_clock(duration)} it"
                        " states (an interrupted upload, or a damaged file); to fetch it anew: earmark download EPISODE --delete"
                    )
    except AudioError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)  # without the full path, already named
        raise AudioError(f"{path.name}: not a readable audio file ({reason})") from exc
    return AudioInfo(duration, codec)


CUT_SEARCH_SECONDS = 30.0  # look for the pause to cut at in the last 30 s of a window (at most a third of it)
CUT_LOOKAHEAD_SECONDS = 0.5  # audio past the nominal end decoded too, to tell whether that moment is silent
MIN_PAUSE_SECONDS = 0.1  # a gap in speech at least this long counts as a pause
CUT_MARGIN_SECONDS = 0.3  # the nominal end is kept when this much silence lies on both sides of it
_SR = 16_000


def _speech_regions(samples) -> list[tuple[int, int]] | None:
    """Speech as (start, end) sample indexes by faster-whisper's Silero VAD, tuned for short pauses
    (its transcription defaults merge anything under 2 s); None when the VAD is unavailable."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError:
        return None
    options = VadOptions(min_silence_duration_ms=int(MIN_PAUSE_SECONDS * 1000), speech_pad_ms=30)
    return [(s["start"], s["end"]) for s in get_speech_timestamps(samples, options)]


def _quiet_regions(samples, hop: int = _SR // 50) -> list[tuple[int, int]]:
    """The fallback without the VAD: speech = 20 ms frames louder than a tenth of the loud frames' level."""
    import numpy as np

    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    if not len(frames):
        return []
    energy = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    loud = energy > max(1e-3, 0.1 * float(np.percentile(energy, 95)))
    regions, start = [], None
    for n, flag in enumerate([*loud, False]):
        if flag and start is None:
            start = n
        elif not flag and start is not None:
            regions.append((start * hop, n * hop))
            start = None
    return regions


def find_cut(audio: Path, start: float, nominal: float, *, search: float = CUT_SEARCH_SECONDS,
             vad: bool = True) -> float:
    """Where a window that should end at ``nominal`` ends: ``nominal`` itself when it falls well inside
    a pause, else the middle of the longest pause (or the part of it before ``nominal``) in the
    ``search`` seconds before it (never before ``start``).
    Deterministic, so a resumed job cuts where the first run did. Without any pause: ``nominal``."""
    from earmark.audio import decode as _decode  # PyAV decoding, 16 kHz mono float32
    import numpy as np

    lo = max(start, nominal - search)
    blocks = [b for _, b in _decode(audio, lo, nominal + CUT_LOOKAHEAD_SECONDS)]
    if not blocks:
        return nominal
    samples = np.concatenate(blocks)
    at = int(round((nominal - lo) * _SR))  # the nominal end, as a sample index
    if len(samples) <= at:  # the audio ends before the nominal end
        return nominal
    speech = _speech_regions(samples) if vad else None
    if speech is None:
        speech = _quiet_regions(samples)
    margin = int(CUT_MARGIN_SECONDS * _SR)
    if all(e <= at - margin or s >= at + margin for s, e in speech):
        return nominal  # already well inside a pause (a window starting just before a word loses it)
    edges = [0, *[x for region in speech for x in region], len(samples)]
    best = None
    for a, b in zip(edges[0::2], edges[1::2]):
        b = min(b, at)  # only pauses (or their parts) before the nominal end
        if b - a >= MIN_PAUSE_SECONDS * _SR and (best is None or b - a > best[1] - best[0]):
            best = (a, b)
    if best is None:
        return nominal
    return round(lo + (best[0] + best[1]) / 2 / _SR, 3)


MIN_WINDOW_SECONDS = 60.0  # windows are not split below this to make their count a multiple of those run at once


def transcribe_chunks(
    engine: ASREngine,
    audio: Path,
    duration: float,
    *,
    chunk_seconds: float,
    start: float = 0.0,
    start_chunk: int = 0,
    language: str | None = None,
    progress: Callable[[float], None] | None = None,  # seconds of audio done
    cut: Callable[[Path, float, float], float] | None = None,
) -> Iterator[Chunk]:
    """Yield each window's segments once the window is finished, in order, from ``start`` seconds on
    (window number ``start_chunk``). Windows are about ``chunk_seconds`` long and end in a pause
    (:func:`find_cut`), so no word is split by a cut; the next window starts exactly where the last
    ended. A segment belongs to the window its start falls in: one the engine reports outside the
    window is dropped, so nothing is duplicated across windows. ``language`` (None: the engine
    detects it) is what the engine reported on the first window, for all later windows; each
    chunk carries it so a caller can save it with the checkpoint.

    An engine with ``parallel`` > 1 (faster-whisper on a CPU: two windows on one thread each finish
    sooner than one window on two threads, engines/faster_whisper.py) transcribes that many windows
    at once, cut to equal lengths so they finish together; the later windows start once the first
    has told its language. ``progress`` is only ever called from the caller's thread."""
    cut = cut or (lambda path, lo, nominal: find_cut(path, lo, nominal, search=min(CUT_SEARCH_SECONDS, chunk_seconds / 3)))
    parallel = max(1, int(getattr(engine, "parallel", 1) or 1))
    if parallel > 1:
        yield from _side_by_side(engine, audio, duration, _plan(audio, duration, start, chunk_seconds, parallel, cut),
                                 start_chunk, language, progress, parallel)
        return
    index = start_chunk
    while start < duration or index == 0:
        nominal = start + chunk_seconds
        end = duration if nominal >= duration else min(max(cut(audio, start, nominal), start + 1e-3), nominal)
        segments = [
            segment
            for segment in engine.transcribe(audio, language=language, offset=start, duration=end - start, progress=progress)
            if _belongs(segment, start, end, duration)
        ]
        if language is None:
            language = getattr(engine, "last_language", None)
        yield Chunk(index, start, end, segments, language)
        start, index = end, index + 1
        if end >= duration:
            break


def _belongs(segment: Segment, start: float, end: float, duration: float) -> bool:
    return start <= segment.start < end or (end == duration and segment.start >= end)


def _plan(audio: Path, duration: float, start: float, chunk_seconds: float, parallel: int,
          cut: Callable[[Path, float, float], float]) -> list[tuple[float, float]]:
    """The windows from ``start`` to the end, as (start, end): of equal nominal length, at most
    ``chunk_seconds``, as many as a multiple of ``parallel`` where that keeps them at least
    MIN_WINDOW_SECONDS long, every cut in a pause. The cuts only decode a few seconds around each,
    so planning them all first is cheap."""
    left = max(0.0, duration - start)
    count = max(1, math.ceil(left / chunk_seconds))
    count = max(count, min(math.ceil(count / parallel) * parallel, int(left // MIN_WINDOW_SECONDS)))
    origin, length = start, left / count
    windows = []
    for n in range(count):
        nominal = origin + (n + 1) * length  # not from the last cut: the cuts must not drift
        end = duration if n == count - 1 or nominal >= duration else min(max(cut(audio, start, nominal), start + 1e-3), nominal)
        windows.append((start, end))
        start = end
        if end >= duration:
            break
    return windows


def _side_by_side(engine: ASREngine, audio: Path, duration: float, windows: list[tuple[float, float]],
                  first_index: int, language: str | None, progress: Callable[[float], None] | None,
                  parallel: int) -> Iterator[Chunk]:
    told = threading.Event()  # the language is known (given, or detected on the first window)
    if language is not None:
        told.set()
    said = [language]
    stop = threading.Event()  # the caller has gone (an error, a cancelled job): workers quit at their next segment
    done = [w[0] for w in windows]  # how far each window has got
    lock = threading.Lock()

    def work(n: int, start: float, end: float) -> list[Segment]:
        while n and not told.wait(0.2):
            if stop.is_set():
                return []
        if stop.is_set():
            return []

        def heard(seconds: float) -> None:
            with lock:
                done[n] = max(done[n], min(float(seconds), end))

        out = []
        try:
            for segment in engine.transcribe(audio, language=said[0], offset=start, duration=end - start, progress=heard):
                if n == 0 and not told.is_set():
                    said[0] = getattr(engine, "last_language", None)
                    told.set()
                if stop.is_set():
                    return out
                if _belongs(segment, start, end, duration):
                    out.append(segment)
        finally:
            if n == 0 and not told.is_set():
                said[0] = getattr(engine, "last_language", None)
                told.set()
        heard(end)
        return out

    def report() -> None:
        if progress is not None:
            with lock:
                seconds = windows[0][0] + sum(d - w[0] for d, w in zip(done, windows))
            progress(seconds)  # outside the lock: it writes to the store, and may raise Cancelled

    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="asr-window")
    # Each window runs in a copy of the caller's context: the job's priority at the compute gate.
    futures = [pool.submit(contextvars.copy_context().run, work, n, *w) for n, w in enumerate(windows)]
    try:
        for n, (future, (start, end)) in enumerate(zip(futures, windows)):
            while not future.done():
                wait([future], timeout=1.0)
                report()
            segments = future.result()
            report()
            yield Chunk(first_index + n, start, end, segments, said[0])
    finally:
        stop.set()
        told.set()
        pool.shutdown(wait=True, cancel_futures=True)

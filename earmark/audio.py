"""Decoding audio for every stage that reads samples (speech-to-text, speakers, cut points): PyAV
streams a file as 16 kHz mono float32 blocks, only inside the requested window, so memory stays at
one block; :func:`chunks` groups blocks into chunks of at most a given length, each cut in a pause
(faster-whisper's Silero VAD, else the quietest 100 ms)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from earmark.errors import AudioError

SAMPLE_RATE = 16_000
CUT_SEARCH_SECONDS = 30.0  # where to look for a pause before a chunk's end


def probe(path: Path) -> None:
    """Raise AudioError, saying why, unless ``path`` is a file with a decodable audio stream."""
    import av

    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes)")
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream in the file")
            stream = container.streams.audio[0]
            if stream.codec_context is None or not stream.codec_context.name:
                raise AudioError(f"{path}: unsupported audio codec")
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from exc


def decode(path: Path, start: float, end: float) -> Iterator[tuple[float, np.ndarray]]:
    """16 kHz mono float32 blocks covering [start, end), as (absolute start time, samples).

    Seeks to ``start`` and stops at ``end``, so memory stays at one block. Samples are made exactly
    like faster_whisper.decode_audio (s16 resampling, / 32768) so results match a direct call.
    """
    import av
    from av.audio.resampler import AudioResampler

    decoded_any = False
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            if start > 0:
                try:
                    container.seek(int((start + origin) * av.time_base), backward=True, any_frame=False)
                except av.FFmpegError:
                    container.seek(0)  # not seekable: decode from the top and skip
            resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            pos: float | None = None  # absolute time of the next output sample
            for frame in itertools.chain(_frames(container.decode(stream)), [None]):
                if frame is not None and pos is None:
                    pos = (float(frame.time) - origin) if frame.time is not None else 0.0
                    pos = max(pos, 0.0)
                if frame is not None:
                    frame.pts = None
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
                    block_start = pos
                    pos += len(samples) / SAMPLE_RATE
                    if pos <= start:
                        continue
                    if block_start < start:
                        samples = samples[int(round((start - block_start) * SAMPLE_RATE)) :]
                        block_start = start
                    if block_start >= end:
                        break
                    if pos > end:
                        samples = samples[: int(round((end - block_start) * SAMPLE_RATE))]
                    if len(samples):
                        decoded_any = True
                        yield block_start, samples
                if pos is not None and pos >= end:
                    break
    except av.FFmpegError as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc})") from exc
    if not decoded_any and start == 0:
        raise AudioError(f"{path}: no audio could be decoded")


def _frames(frames):
    """Skip frames the decoder rejects (damage inside an otherwise good file), like faster-whisper."""
    import av

    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def chunks(blocks, start: float, chunk_seconds: float) -> Iterator[tuple[float, np.ndarray]]:
    """Group decoded blocks into chunks of at most ``chunk_seconds``, each cut in a pause."""
    limit = int(chunk_seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    size = 0
    chunk_start: float | None = None
    for block_start, samples in blocks:
        if chunk_start is None:
            chunk_start = block_start
        pending.append(samples)
        size += len(samples)
        while size > limit:
            buf = np.concatenate(pending)
            cut = _find_cut(buf, limit)
            yield chunk_start, buf[:cut]
            rest = buf[cut:]
            chunk_start += cut / SAMPLE_RATE
            pending, size = [rest], len(rest)
    if size:
        yield chunk_start, np.concatenate(pending)


def _find_cut(buf: np.ndarray, limit: int) -> int:
    """A sample index ≤ limit in the middle of the longest pause the VAD finds in the last
    CUT_SEARCH_SECONDS (or last third) before ``limit``; without a pause of 100 ms, the quietest 100 ms."""
    from faster_whisper.vad import get_speech_timestamps

    lo = limit - int(min(CUT_SEARCH_SECONDS, limit / SAMPLE_RATE / 3) * SAMPLE_RATE)
    window = buf[lo:limit]
    speech = get_speech_timestamps(window)
    edges = [0] + [x for s in speech for x in (s["start"], s["end"])] + [len(window)]
    gaps = [(edges[i + 1] - edges[i], edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
    length, a, b = max(gaps)
    if length >= SAMPLE_RATE // 10:
        return lo + (a + b) // 2
    hop = SAMPLE_RATE // 10
    frames = window[: len(window) // hop * hop].reshape(-1, hop)
    if not len(frames):
        return limit
    quietest = int(np.argmin((frames**2).mean(axis=1)))
    return lo + quietest * hop + hop // 2

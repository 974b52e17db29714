"""The default speech-to-text engine: faster-whisper (CTranslate2), int8 on CPU.

* Weights: ``settings.asr_model`` — "base" (default, assembled from its packages), "tiny.en"
  (bundled, fast), a CTranslate2 model directory, or any faster-whisper model name (downloaded by
  faster-whisper, for users with internet). See :mod:`earmark.engines.weights`.
* Word timestamps and faster-whisper's built-in Silero VAD are always on. English-only models
  (``*.en``) are told "en"; multilingual models detect the language on the first chunk of a run
  and keep it for the rest (``engine.last_language``).
* Bounded memory: the file is decoded with PyAV as a stream, only inside the requested window
  (seeking to ``offset``), and transcribed in chunks of at most ``chunk_seconds`` (10 min ≈ 40 MB
  of 16 kHz float samples plus ≈ 20 MB of features), each cut in a pause found by the VAD near the
  chunk's end, so a 3 h episode never holds more than one chunk. Times are shifted back to
  absolute seconds from the start of the file.
* ``progress(seconds)`` is called with the absolute position reached (seconds from the start of the
  file, like the segment times: ``offset`` … ``offset + duration``), after each segment and chunk.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from earmark.ai.asr import register_asr
from earmark.config import Settings
from earmark.engines.weights import resolve_model
from earmark.errors import AudioError
from earmark.models import Segment, Word

SAMPLE_RATE = 16_000
CHUNK_SECONDS = 600.0  # longest stretch of audio held and transcribed at once
CUT_SEARCH_SECONDS = 30.0  # where to look for a pause before a chunk's end
BEAM_SIZE = 5


def _cpu_threads() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(
        self,
        model: str,
        settings: Settings | None = None,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int | None = None,
        beam_size: int = BEAM_SIZE,
        chunk_seconds: float = CHUNK_SECONDS,
    ) -> None:
        self.model = model
        self._settings = settings
        self.device = device
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or _cpu_threads()
        self.beam_size = beam_size
        self.chunk_seconds = float(chunk_seconds)
        self.last_language: str | None = None
        self.last_language_probability: float | None = None
        self._whisper = None
        self._lock = threading.Lock()

    # -- model ---------------------------------------------------------------------------------

    @property
    def whisper(self):
        """The faster_whisper.WhisperModel, loaded once on first use."""
        if self._whisper is None:
            with self._lock:
                if self._whisper is None:
                    from faster_whisper import WhisperModel

                    settings = self._settings or Settings.load()
                    path = resolve_model(settings, self.model)
                    self._whisper = WhisperModel(
                        path, device=self.device, compute_type=self.compute_type, cpu_threads=self.cpu_threads
                    )
        return self._whisper

    def transcribe_options(self, language: str | None) -> dict:
        """Keyword arguments for WhisperModel.transcribe (the benchmark calls faster-whisper with the same)."""
        return {"language": language, "beam_size": self.beam_size, "word_timestamps": True, "vad_filter": True}

    # -- transcription -------------------------------------------------------------------------

    def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        offset: float = 0.0,
        duration: float | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Iterator[Segment]:
        audio = Path(audio)
        if offset < 0 or (duration is not None and duration < 0):
            raise ValueError(f"offset and duration must not be negative (got {offset}, {duration})")
        _probe(audio)  # unreadable files fail here, at the call, not at the first next()
        end = math.inf if duration is None else offset + duration
        return self._run(audio, language, float(offset), end, progress)

    def _run(self, audio: Path, language, start: float, end: float, progress) -> Iterator[Segment]:
        whisper = self.whisper
        if not whisper.model.is_multilingual:
            language = "en"
        self.last_language, self.last_language_probability = language, (1.0 if language else None)
        done = start
        for chunk_start, chunk in _chunks(_decode(audio, start, end), start, self.chunk_seconds):
            chunk_end = chunk_start + len(chunk) / SAMPLE_RATE
            segments, info = whisper.transcribe(chunk, **self.transcribe_options(language))
            if language is None:  # detected on the first chunk; keep it for the rest of the file
                language = info.language
                self.last_language, self.last_language_probability = info.language, info.language_probability
            for seg in segments:
                record = _segment(seg, chunk_start, chunk_end)
                if record is None:
                    continue
                yield record
                if progress is not None:
                    done = max(done, float(record.end))
                    progress(done)
            done = float(chunk_end)
            if progress is not None:
                progress(done)


@register_asr("faster-whisper")
def make_engine(settings: Settings) -> FasterWhisperEngine:
    return FasterWhisperEngine(settings.asr_model, settings)


def _segment(seg, shift: float, limit: float) -> Segment | None:
    text = seg.text.strip()
    if not text:
        return None

    def t(x: float) -> float:
        return round(float(min(shift + x, limit)), 3)

    words = [Word(start=t(w.start), end=t(w.end), text=w.word.strip()) for w in (seg.words or []) if w.word.strip()]
    return Segment(start=t(seg.start), end=t(seg.end), text=text, words=words)


# -- audio ---------------------------------------------------------------------------------------


def _probe(path: Path) -> None:
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


def _decode(path: Path, start: float, end: float) -> Iterator[tuple[float, np.ndarray]]:
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


def _chunks(blocks, start: float, chunk_seconds: float) -> Iterator[tuple[float, np.ndarray]]:
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
    """A sample index ≤ limit in the middle of the longest pause in the last CUT_SEARCH_SECONDS
    (or last third) before ``limit``."""
    lo = limit - int(min(CUT_SEARCH_SECONDS, limit / SAMPLE_RATE / 3) * SAMPLE_RATE)
    window = buf[lo:limit]
    try:
        from faster_whisper.vad import get_speech_timestamps

        speech = get_speech_timestamps(window)
    except Exception:  # VAD unavailable: fall back to the quietest 100 ms
        speech = None
    if speech is not None:
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

"""The default speech-to-text engine: faster-whisper (CTranslate2), int8 on CPU.

* Weights: ``settings.asr_model`` — "base" (default, assembled from its packages), "tiny.en"
  (bundled, fast), a CTranslate2 model directory, or any faster-whisper model name (downloaded by
  faster-whisper, for users with internet). See :mod:`earmark.engines.weights`.
* Word timestamps and faster-whisper's built-in Silero VAD are always on. English-only models
  (``*.en``) are told "en"; multilingual models detect the language on the first chunk of a run
  and keep it for the rest (``engine.last_language``).
* Bounded memory: the file is decoded with PyAV as a stream (:mod:`earmark.audio`), only inside the requested window
  (seeking to ``offset``), and transcribed in chunks of at most ``chunk_seconds`` (10 min ≈ 40 MB
  of 16 kHz float samples plus ≈ 20 MB of features), each cut in a pause found by the VAD near the
  chunk's end, so a 3 h episode never holds more than one chunk. Times are shifted back to
  absolute seconds from the start of the file.
* ``progress(seconds)`` is called with the absolute position reached (seconds from the start of the
  file, like the segment times: ``offset`` … ``offset + duration``), after each segment and chunk.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from earmark.ai.asr import register_asr
from earmark.ai.gate import COMPUTE, cpu_count
from earmark.audio import SAMPLE_RATE, chunks, decode, probe
from earmark.config import Settings
from earmark.engines.weights import resolve_model
from earmark.models import Segment, Word

CHUNK_SECONDS = 600.0  # longest stretch of audio held and transcribed at once


def default_threads() -> int:
    """Half the cores, at least one, for each window: Whisper base (int8) on one thread per window
    with two windows at once beat one window on both threads (bench/bench_pipeline.py, 30 minutes
    of speech on 2 cores, 2026-12-07: raw faster-whisper on 1 thread 428.8 s, on 2 threads 258.5 s,
    Earmark's transcript stage with two 1-thread windows 239.8 s)."""
    return max(1, cpu_count() // 2)


def default_windows(threads: int) -> int:
    """Windows of one episode transcribed at once on the CPU: as many as the cores hold at
    ``threads`` each. Each takes its cores at the compute gate, so a language-model call (every
    core) still goes between two steps of theirs."""
    return max(1, cpu_count() // threads)


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
        windows: int | None = None,
        beam_size: int = Settings.asr_beam_size,
        chunk_seconds: float = CHUNK_SECONDS,
    ) -> None:
        self.model = model
        self._settings = settings
        self.device = device
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or default_threads()
        # Windows of one episode transcribed at once (jobs/asr.py), each on its own CTranslate2 worker.
        self.parallel = windows or (default_windows(self.cpu_threads) if device == "cpu" else 1)
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
                        path, device=self.device, compute_type=self.compute_type, cpu_threads=self.cpu_threads,
                        num_workers=self.parallel,
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
        probe(audio)  # unreadable files fail here, at the call, not at the first next()
        end = math.inf if duration is None else offset + duration
        return self._run(audio, language, float(offset), end, progress)

    def _run(self, audio: Path, language, start: float, end: float, progress) -> Iterator[Segment]:
        whisper = self.whisper
        if not whisper.model.is_multilingual:
            language = "en"
        self.last_language, self.last_language_probability = language, (1.0 if language else None)
        done = start
        for chunk_start, chunk in chunks(decode(audio, start, end), start, self.chunk_seconds):
            chunk_end = chunk_start + len(chunk) / SAMPLE_RATE
            # The gate is taken for each step (the VAD and features, then each ~30 s window the
            # decoder yields a segment from), so a user's request waits seconds, not a chunk.
            with COMPUTE.held(cores=self.cpu_threads):
                segments, info = whisper.transcribe(chunk, **self.transcribe_options(language))
            if language is None:  # detected on the first chunk; keep it for the rest of the file
                language = info.language
                self.last_language, self.last_language_probability = info.language, info.language_probability
            segments = iter(segments)
            while True:
                with COMPUTE.held(cores=self.cpu_threads):
                    seg = next(segments, None)
                if seg is None:
                    break
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
    compute_type = {"cpu": "int8", "cuda": "float16"}.get(settings.asr_device, "default")
    return FasterWhisperEngine(settings.asr_model, settings, device=settings.asr_device, compute_type=compute_type,
                               beam_size=settings.asr_beam_size, cpu_threads=settings.asr_threads or None,
                               windows=settings.asr_windows or None)


def _segment(seg, shift: float, limit: float) -> Segment | None:
    text = seg.text.strip()
    if not text:
        return None

    def t(x: float) -> float:
        return round(float(min(shift + x, limit)), 3)

    words = [Word(start=t(w.start), end=t(w.end), text=w.word.strip()) for w in (seg.words or []) if w.word.strip()]
    return Segment(start=t(seg.start), end=t(seg.end), text=text, words=words)

"""Transcript stage, second half: local ASR over the downloaded audio, window by window, so the
pipeline can save each finished window and a killed job resumes at the last one. Store-free."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from earmark.ai.asr import ASREngine
from earmark.errors import AudioError
from earmark.models import Segment


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


def probe_audio(path: Path) -> AudioInfo:
    """Open the file with PyAV and decode its first audio frame: a cheap check, before any model
    loads, that turns empty, corrupt or non-audio files into one clear message."""
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
    except AudioError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)  # without the full path, already named
        raise AudioError(f"{path.name}: not a readable audio file ({reason})") from exc
    return AudioInfo(duration, codec)


def transcribe_chunks(
    engine: ASREngine,
    audio: Path,
    duration: float,
    *,
    chunk_seconds: float,
    start_chunk: int = 0,
    language: str | None = None,
    progress: Callable[[float], None] | None = None,  # seconds of audio done
) -> Iterator[Chunk]:
    """Yield each window's segments once the window is finished, from ``start_chunk`` on."""
    count = max(1, math.ceil(duration / chunk_seconds))
    for index in range(start_chunk, count):
        start = index * chunk_seconds
        length = min(chunk_seconds, duration - start)
        segments = []
        for segment in engine.transcribe(audio, language=language, offset=start, duration=length, progress=progress):
            segments.append(segment)
        yield Chunk(index, start, start + length, segments)

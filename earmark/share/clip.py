"""An audio clip of a snip, cut from the downloaded episode with PyAV: decoded, cut to the sample
(not to the nearest keyframe or packet), and encoded as MP3 (LAME) or M4A (AAC) with title
metadata. Memory stays bounded: frames are encoded as they are decoded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from earmark.errors import AudioError

FORMATS = {".mp3": ("mp3", "libmp3lame", 128_000), ".m4a": ("ipod", "aac", 128_000), ".mp4": ("mp4", "aac", 128_000)}
SEEK_MARGIN = 2.0  # seconds decoded before ``start`` (decoders need a little run-up after a seek)
MAX_CLIP_SECONDS = 30 * 60.0


@dataclass(slots=True)
class Clip:
    path: Path
    duration: float  # seconds of audio written
    sample_rate: int
    channels: int
    codec: str


def clip_format(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise AudioError(f"{path}: a clip is written as .mp3 or .m4a, not {suffix or 'a file without extension'!r}")
    return suffix


def _rate_for(codec_name: str, rate: int) -> int:
    import av

    rates = av.Codec(codec_name, "w").audio_rates
    if not rates or rate in rates:
        return rate
    higher = [r for r in rates if r >= rate]
    return min(higher) if higher else max(rates)


def make_clip(
    source: str | os.PathLike,
    out: str | os.PathLike,
    start: float,
    end: float,
    *,
    title: str | None = None,
    artist: str | None = None,
    album: str | None = None,
    comment: str | None = None,
) -> Clip:
    """Write ``source``'s audio from ``start`` to ``end`` seconds to ``out`` (.mp3 or .m4a).
    Raises AudioError when the source is missing or unreadable, or holds no audio in that span."""
    import av
    from av.audio.resampler import AudioResampler

    source, out = Path(source), Path(out)
    suffix = clip_format(out)
    container_format, codec_name, bit_rate = FORMATS[suffix]
    start = max(0.0, float(start))
    end = float(end)
    if not end > start:
        raise AudioError(f"{source}: cannot clip an empty span ({start:.2f}–{end:.2f} s)")
    if end - start > MAX_CLIP_SECONDS:
        raise AudioError(f"{source}: a clip is at most {MAX_CLIP_SECONDS / 60:.0f} minutes long")
    if not source.is_file():
        raise AudioError(f"{source}: the audio file does not exist")
    if source.stat().st_size == 0:
        raise AudioError(f"{source}: the audio file is empty")
    if codec_name not in av.codecs_available:
        raise AudioError(f"cannot write {suffix} clips: this PyAV build has no {codec_name} encoder")

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioError(f"{out}: cannot write the clip: {exc}") from exc
    tmp = out.with_name(f".{out.stem}.part{suffix}")
    try:
        with av.open(str(source), mode="r", metadata_errors="ignore") as reader:
            if not reader.streams.audio:
                raise AudioError(f"{source}: no audio stream in the file")
            stream = reader.streams.audio[0]
            channels = min(2, stream.codec_context.channels or 1)
            layout = "stereo" if channels == 2 else "mono"
            rate = _rate_for(codec_name, stream.codec_context.sample_rate or 44_100)
            with av.open(str(tmp), mode="w", format=container_format) as writer:
                for key, value in (("title", title), ("artist", artist), ("album", album), ("comment", comment)):
                    if value:
                        writer.metadata[key] = value
                encoder = writer.add_stream(codec_name, rate=rate, layout=layout)
                encoder.bit_rate = bit_rate
                written = _transcode(av, AudioResampler, reader, stream, encoder, writer, start, end, rate, layout)
        if written == 0:
            raise AudioError(f"{source}: no audio between {start:.2f} s and {end:.2f} s (the file is shorter)")
        os.replace(tmp, out)
    except AudioError:
        tmp.unlink(missing_ok=True)
        raise
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        tmp.unlink(missing_ok=True)
        if str(getattr(exc, "filename", "") or "") == str(tmp):
            raise AudioError(f"{out}: cannot write the clip: {exc}") from exc
        raise AudioError(f"{source}: cannot read the audio: {exc}") from exc
    return Clip(out, written / rate, rate, channels, codec_name)


def _frames(av, reader, stream, start: float):
    """Decoded frames from a little before ``start`` (the first one carries the time of its first
    sample). Seeks when that is safe; decodes from the beginning when the seek overshoots or the
    frames carry no timestamps."""
    if start > SEEK_MARGIN:
        try:
            reader.seek(int((start - SEEK_MARGIN) * av.time_base), backward=True, any_frame=False)
        except av.FFmpegError:
            pass
        else:
            decoded = reader.decode(stream)
            first = next(decoded, None)
            if first is None:
                return  # nothing after the seek point: the file ends before the clip
            if first.time is not None and first.time <= start:
                yield first
                yield from decoded
                return
            decoded.close()
            reader.seek(0, backward=True, any_frame=False)  # unplaceable or overshot: from the top
    yield from reader.decode(stream)


def _transcode(av, AudioResampler, reader, stream, encoder, writer, start, end, rate, layout) -> int:
    """Decode, cut to [start, end) to the sample, encode; returns the samples written."""
    resampler = AudioResampler(format="fltp", layout=layout, rate=rate)
    fifo = av.AudioFifo()
    frame_size = encoder.codec_context.frame_size or 1024
    written = 0
    position: float | None = None  # time of the next resampled sample
    first_sample = round(start * rate)
    last_sample = round(end * rate)

    def encode(frame) -> None:
        nonlocal written
        frame.pts = written
        frame.time_base = Fraction(1, rate)
        frame.sample_rate = rate
        written += frame.samples
        for packet in encoder.encode(frame):
            writer.mux(packet)

    def take(resampled) -> None:
        nonlocal position
        for frame in resampled:
            n = frame.samples
            begin = round(position * rate)  # absolute sample index of this frame's first sample
            position += n / rate
            lo, hi = max(first_sample - begin, 0), min(last_sample - begin, n)
            if hi <= lo:
                continue
            if lo == 0 and hi == n:
                piece = frame
            else:
                array = frame.to_ndarray()[:, lo:hi]
                piece = av.AudioFrame.from_ndarray(array.copy(), format="fltp", layout=layout)
                piece.sample_rate = rate
            piece.pts = None
            fifo.write(piece)
            while fifo.samples >= frame_size:
                encode(fifo.read(frame_size))

    for frame in _frames(av, reader, stream, start):
        if position is None:
            position = float(frame.time) if frame.time is not None else 0.0
        frame.pts = None  # the resampler keeps no timing; positions are counted in samples
        take(resampler.resample(frame))
        if position * rate >= last_sample:
            break
    if position is not None:
        take(resampler.resample(None))
    if fifo.samples:
        encode(fifo.read())
    for packet in encoder.encode(None):
        writer.mux(packet)
    return written

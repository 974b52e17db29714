"""Fixtures for sharing: a podcast with one episode and its snip (made directly with SnipStore, no
LLM), and audio made with the `wave` module: silence, a tone, silence, so a cut's placement shows."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from earmark.models import Episode, ParsedFeed, Podcast, Snip
from earmark.store.snips import SnipStore

RATE = 22_050
TONE = (5.0, 10.0)  # the tone sounds from 5 s to 10 s of a 15 s file; silence elsewhere
LENGTH = 15.0


def tone_wav(path: Path, *, rate: int = RATE, channels: int = 1, tone: tuple[float, float] = TONE,
             length: float = LENGTH) -> Path:
    t = np.arange(int(rate * length)) / rate
    signal = np.where((t >= tone[0]) & (t < tone[1]), 0.4 * np.sin(2 * np.pi * 440 * t), 0.0)
    samples = (signal * 32767).astype("<i2")
    if channels == 2:
        samples = np.repeat(samples, 2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def png(colour: tuple[int, int, int], size: tuple[int, int] = (300, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def decode(path: Path) -> tuple[np.ndarray, int]:
    """All samples of a file (mono mix, float) and the sample rate, decoded with PyAV."""
    import av

    chunks, rate = [], None
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            rate = frame.sample_rate
            array = frame.to_ndarray().astype(np.float64)
            if not frame.format.is_planar:
                array = array.reshape(-1, len(frame.layout.channels)).T
            if frame.format.name.startswith("s16"):
                array = array / 32768
            chunks.append(array.mean(axis=0))
    return np.concatenate(chunks), rate


@pytest.fixture
def make_episode(library):
    """make_episode(**episode fields, podcast_title=…, podcast_image=…) → the stored Episode."""
    count = 0

    def make(podcast_title: str = "Science Everyday", podcast_image: str | None = None, **fields) -> Episode:
        nonlocal count
        count += 1
        podcast, _ = library.add_podcast(f"http://127.0.0.1:1/feed{count}.rss")
        fields.setdefault("title", "Ep. 42: How bees find home")
        episode = Episode(guid=f"g{count}", **fields)
        feed = ParsedFeed(Podcast(url=podcast.url, title=podcast_title, image=podcast_image), [episode])
        library.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
        return library.episodes(podcast.id)[0]

    return make


@pytest.fixture
def make_snip(library):
    def make(episode: Episode, start: float = 4.0, end: float = 6.5, **fields) -> Snip:
        fields.setdefault("tapped_at", end)
        return SnipStore(library).create(Snip(episode_id=episode.id, start=start, end=end, **fields))

    return make

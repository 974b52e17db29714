"""Shared pieces for pipeline tests: a feed on the loopback server whose episodes carry
``podcast:transcript`` links, real (silent) WAV audio, and the fake ASR engine."""

from __future__ import annotations

import asyncio
import io
import wave
from xml.sax.saxutils import quoteattr

import pytest

from earmark.config import Settings
from earmark.feeds.refresh import subscribe
from earmark.store.library import Library
from tests.ai.fakes import valid_answer

SECONDS = 40.0  # audio length; with 10 s windows the fake ASR runs 4 chunks of 5 segments


def wav_bytes(seconds: float = SECONDS, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(b"\x80" * int(seconds * rate))
    return out.getvalue()


def feed_xml(server, items: list[dict]) -> bytes:
    """``items``: dicts with guid, title, audio (path on the server), transcripts [(path, type)]."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>',
        "<title>Jobs Show</title><link>https://example.org/</link><description>d</description>",
    ]
    for n, item in enumerate(items):
        parts.append(
            f"<item><guid>{item['guid']}</guid><title>{item['title']}</title>"
            f"<pubDate>Mon, 0{n + 1} Jan 2024 10:00:00 GMT</pubDate>"
            f"<enclosure url={quoteattr(server.url(item['audio']))} type=\"audio/mpeg\"/>"
        )
        for path, mime in item.get("transcripts", []):
            parts.append(f"<podcast:transcript url={quoteattr(server.url(path))} type={quoteattr(mime)}/>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def subscribe_feed(library: Library, settings: Settings, server, items: list[dict]) -> dict[str, int]:
    """Serve and subscribe to the feed; returns episode ids by guid."""
    server.add("/feed.rss", feed_xml(server, items))
    podcast, _ = asyncio.run(subscribe(library, settings, server.url("/feed.rss")))
    return {e.guid: e.id for e in library.episodes(podcast.id)}


@pytest.fixture
def fake_settings(settings, fake_llm) -> Settings:
    """The fake ASR engine in 10 s windows, written to settings.toml so subprocesses see it too."""
    (settings.home).mkdir(parents=True, exist_ok=True)
    (settings.home / "settings.toml").write_text(
        'asr_engine = "fake"\nasr_chunk_seconds = 10.0\nhttp_timeout = 5.0\nllm_engine = "fake"\n'
        "semantic_index = false\n"  # embeddings are tested in tests/search; keep pipeline timings model-free
    )
    fake_llm.reset(default=valid_answer)  # understanding stages get valid answers for every task
    return Settings.load()


@pytest.fixture
def fake_library(fake_settings) -> Library:
    lib = Library(fake_settings.db_path)
    yield lib
    lib.close()

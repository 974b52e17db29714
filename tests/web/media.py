"""A tiny podcast for web tests: a generated WAV tone, a WebVTT transcript with voice tags, and an
RSS feed that links both (plus Podlove chapters), served from tests/loopback.py."""

from __future__ import annotations

import io
import math
import struct
import wave
from xml.sax.saxutils import escape

CUES = [
    (0.0, 4.0, "Alice", "Welcome to the loopback show."),
    (4.0, 8.0, "Bob", "Today we talk about sine waves."),
    (8.0, 12.0, "Alice", "They are pure tones at one frequency."),
    (12.0, 16.0, "Bob", "And they make fine test audio."),
    (16.0, 20.0, "Alice", "Thanks for listening, goodbye."),
]


def tone_wav(seconds: float = 60.0, rate: int = 8000, freq: float = 440.0) -> bytes:
    """Mono 16-bit PCM, a quiet sine tone."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        frames += struct.pack("<h", int(3000 * math.sin(2 * math.pi * freq * n / rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


def vtt(cues=CUES) -> bytes:
    def stamp(t: float) -> str:
        return f"00:00:{int(t):02d}.{int(round((t % 1) * 1000)):03d}"

    blocks = ["WEBVTT\n"]
    blocks += [f"{stamp(a)} --> {stamp(b)}\n<v {who}>{text}\n" for a, b, who, text in cues]
    return "\n".join(blocks).encode()


def feed(base: str, *, title: str = "Loopback Show", notes: str = "<p>Show notes with <b>bold</b> words.</p>",
         transcript: bool = True) -> bytes:
    """One episode whose enclosure is /ep1.wav and transcript /ep1.vtt on ``base``."""
    link = f'<podcast:transcript url="{base}/ep1.vtt" type="text/vtt"/>' if transcript else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:psc="http://podlove.org/simple-chapters">
<channel><title>{escape(title)}</title><link>https://example.org/</link><description>A show made for tests</description>
<itunes:author>Test Hosts</itunes:author>
<item><guid isPermaLink="false">ep1</guid><title>Sine waves and you</title>
<pubDate>Tue, 14 Nov 2023 22:13:20 GMT</pubDate><itunes:duration>01:00</itunes:duration>
<description><![CDATA[{notes}]]></description>
<enclosure url="{base}/ep1.wav" type="audio/wav" length="960044"/>
{link}
<psc:chapters version="1.2"><psc:chapter start="00:00:00" title="Hello"/><psc:chapter start="00:00:08" title="Tones"/><psc:chapter start="00:00:16" title="Goodbye"/></psc:chapters>
</item></channel></rss>""".encode()


def serve_show(server, **options) -> str:
    """Put the show on the loopback server; returns the feed's URL."""
    server.add("/ep1.wav", tone_wav(), content_type="audio/wav")
    server.add("/ep1.vtt", vtt(), content_type="text/vtt")
    server.add("/show.rss", feed(server.base, **options))
    return server.url("/show.rss")

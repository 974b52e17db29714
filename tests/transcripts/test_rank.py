from __future__ import annotations

from earmark.models import TranscriptLink
from earmark.transcripts import rank_transcripts


def test_rank_prefers_speaker_formats_then_srt_html_text():
    links = [
        TranscriptLink("https://x.test/t.txt", "text/plain"),
        TranscriptLink("https://x.test/t", "text/html"),
        TranscriptLink("https://x.test/t.srt", "application/x-subrip", rel="captions"),
        TranscriptLink("https://x.test/t.bin", "application/octet-stream"),
        TranscriptLink("https://x.test/t.vtt", "text/vtt", rel="captions"),
        TranscriptLink("https://x.test/t.json", "application/json"),
    ]
    assert [link.url.rsplit("/", 1)[1] for link in rank_transcripts(links)] == [
        "t.json",
        "t.vtt",
        "t.srt",
        "t",
        "t.txt",
        "t.bin",
    ]


def test_rank_uses_url_when_type_is_missing_and_keeps_feed_order_on_ties():
    links = [
        TranscriptLink("https://x.test/es.srt", "application/srt", language="es"),
        TranscriptLink("https://x.test/captions.vtt?x=1", ""),
        TranscriptLink("https://x.test/en.srt", "text/srt; charset=utf-8", language="en"),
    ]
    assert [link.url for link in rank_transcripts(links)] == [
        "https://x.test/captions.vtt?x=1",
        "https://x.test/es.srt",
        "https://x.test/en.srt",
    ]
    assert rank_transcripts([]) == []

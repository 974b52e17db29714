"""Publisher chapters (earmark/transcripts/publisher_chapters.py), in order of preference: psc in
the feed, podcast:chapters JSON over HTTP, ID3 CHAP in the file, show-notes timestamps."""

from __future__ import annotations

import json

from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags

from earmark.models import Chapter, ChaptersLink, Episode
from earmark.transcripts.publisher_chapters import chapters_from_audio, chapters_from_show_notes, publisher_chapters

JSON_CHAPTERS = {"version": "1.2.0", "chapters": [
    {"startTime": 0, "title": "Cold open"}, {"startTime": 95.5, "title": "Interview"},
    {"startTime": 300, "title": "Hidden art", "toc": False}, {"startTime": 600, "title": "Outro"},
]}
NOTES = "In this episode:\n00:00 Intro\n(02:15) The bees\n[1:02:03] - Late topic\nThanks to our sponsor 12 items."


def _episode(**kw) -> Episode:
    return Episode(guid="g", title="Ep", **kw)


def test_psc_in_the_feed_comes_first(settings, server):
    server.add("/c.json", json.dumps(JSON_CHAPTERS).encode(), content_type="application/json+chapters")
    ep = _episode(chapters=[Chapter(0, "Start"), Chapter(60.5, "Middle")],
                  chapters_link=ChaptersLink(server.url("/c.json"), "application/json+chapters"), description=NOTES)
    found = publisher_chapters(ep, settings)
    assert (found.source, found.origin) == ("publisher", "psc")
    assert [(c.start, c.title, c.end, c.generated) for c in found.chapters] == [
        (0, "Start", 60.5, False), (60.5, "Middle", None, False)]
    assert server.requests_to("/c.json") == []  # no need to fetch


def test_podcast_chapters_json_over_http(settings, server):
    server.add("/c.json", json.dumps(JSON_CHAPTERS).encode(), content_type="application/json+chapters")
    ep = _episode(chapters_link=ChaptersLink(server.url("/c.json"), "application/json+chapters"), description=NOTES,
                  duration=700)
    found = publisher_chapters(ep, settings)
    assert found.origin == "podcast-chapters"
    assert [(c.start, c.title) for c in found.chapters] == [(0, "Cold open"), (95.5, "Interview"), (600, "Outro")]
    assert found.chapters[-1].end == 700


def test_unreachable_chapters_json_falls_back_to_show_notes(settings, server):
    ep = _episode(chapters_link=ChaptersLink(server.url("/missing.json"), "application/json+chapters"),
                  description=NOTES)
    found = publisher_chapters(ep, settings)
    assert found.origin == "show-notes"
    assert [(c.start, c.title) for c in found.chapters] == [(0, "Intro"), (135, "The bees"), (3723, "Late topic")]


def test_show_notes_timestamps_forms():
    html = "<p>Chapters</p><ul><li>Welcome &amp; hello – 00:00</li><li>Deep dive 14:30</li></ul>"
    assert [(c.start, c.title) for c in chapters_from_show_notes(_episode(description_html=html))] == [
        (0, "Welcome & hello"), (870, "Deep dive")]
    # a lone timestamp or out-of-order times are not a chapter list
    assert chapters_from_show_notes(_episode(description="We met at 10:30 and talked.")) == []
    assert chapters_from_show_notes(_episode(description="05:00 B\n01:00 A")) == []


def _mp3_with_chapters(path, chapters):
    path.write_bytes(b"\xff\xfb\x90\x64" + b"\x00" * 4000)  # a frame header and silence: enough for ID3
    tags = ID3()
    ids = []
    for n, (start, end, title) in enumerate(chapters):
        ids.append(f"chp{n}")
        tags.add(CHAP(element_id=f"chp{n}", start_time=int(start * 1000), end_time=int(end * 1000),
                      sub_frames=[TIT2(text=[title])]))
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                  sub_frames=[TIT2(text=["TOC"])]))
    tags.save(path)


def test_id3_chap_frames_from_the_downloaded_file(settings, tmp_path):
    audio = tmp_path / "ep.mp3"
    _mp3_with_chapters(audio, [(0, 30, "Hello"), (30, 90.25, "Bees"), (90.25, 200, "Bread")])
    assert [(c.start, c.title) for c in chapters_from_audio(audio)] == [(0, "Hello"), (30, "Bees"), (90.25, "Bread")]
    found = publisher_chapters(_episode(description=NOTES), settings, audio)
    assert found.origin == "id3" and [c.title for c in found.chapters] == ["Hello", "Bees", "Bread"]
    plain = tmp_path / "plain.mp3"
    plain.write_bytes(b"\xff\xfb\x90\x64" + b"\x00" * 400)
    assert chapters_from_audio(plain) == []
    assert publisher_chapters(_episode(), settings, plain) is None

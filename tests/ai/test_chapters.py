"""Chapters: the publisher's first (psc in the feed, podcast:chapters JSON over HTTP, ID3 CHAP in
the file, show-notes timestamps), otherwise generated: topic changes from word use (and embeddings),
each chapter titled from its own text, titles checked."""

from __future__ import annotations

import json

from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags

from earmark.ai.tasks.chapters import chapters_from_audio, chapters_from_show_notes, generate_chapters, publisher_chapters
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.topics import topic_changes
from tests.engines.fake_llm import FakeLLM
from earmark.models import Chapter, ChaptersLink, Episode
from tests.ai.fakes import TOPIC_CHANGES, scripted_transcript, valid_answer

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


def test_topic_changes_found_from_word_use_apart_and_at_turns():
    segments = scripted_transcript().segments
    found = topic_changes(segments, None, min_seconds=40)
    clear = [c.start for c in found if not c.borderline]
    assert len(clear) == 3, found
    for true, got in zip(TOPIC_CHANGES, clear):
        assert abs(true - got) <= 12, (TOPIC_CHANGES, clear)
    starts = [c.start for c in found]
    assert all(b - a >= 40 for a, b in zip([0.0, *starts], [*starts, segments[-1].end]))
    assert topic_changes(segments, None, min_seconds=200) == []  # nothing fits a 200 s minimum twice


def _reader(titles=None, new_topic=True):
    """Fake answers: a section's title is its first line's opening words (or ``titles`` in
    order); borderline topic changes are answered ``new_topic``."""
    titles = list(titles or [])

    def answer(messages, schema):
        props = schema["properties"]
        if "new_topic" in props:
            return json.dumps({"new_topic": new_topic})
        if "advert" in props and titles:
            return json.dumps({"title": titles.pop(0), "advert": False, "key": [1, 2], "best": 2})
        return valid_answer(messages, schema)

    return answer


def test_generated_chapters_are_titled_from_their_own_text():
    transcript = scripted_transcript()
    llm = FakeLLM(default=_reader())
    result = generate_chapters(transcript, llm, title="Field Notes", min_seconds=40)
    assert (result.source, result.origin, result.engine) == ("generated", "llm", "fake")
    assert "section@" in result.prompt_version
    assert len(result.chapters) == 4 and all(c.generated for c in result.chapters)
    assert [c.title.split()[0].strip(",") for c in result.chapters] == ["Welcome", "Now", "Switching", "Finally"]
    assert result.chapters[0].start == 0 and result.chapters[1].end == result.chapters[2].start
    assert result.chapters[-1].end == transcript.segments[-1].end
    readings = [c for c in llm.history if "advert" in c.schema["properties"]]
    # each call sees one section only: the bread section's call holds no bee line
    bread = next(c for c in readings if "Gerald the starter" in c.prompt)
    assert "forty two hives" not in bread.prompt and "chess" not in bread.prompt.lower()


def test_a_borderline_change_the_model_does_not_confirm_is_no_chapter():
    segments = scripted_transcript().segments
    borderline = [c for c in topic_changes(segments, None, min_seconds=40, cutoff=2.5, margin=2.0) if c.borderline]
    assert borderline
    kept = generate_chapters(segments, FakeLLM(default=_reader(new_topic=True)), min_seconds=40)
    merged = generate_chapters(segments, FakeLLM(default=_reader(new_topic=False)), min_seconds=40)
    assert len(merged.chapters) <= len(kept.chapters)


def test_a_title_naming_what_the_section_never_says_is_asked_again_then_dropped():
    llm = FakeLLM(default=_reader(titles=["Welcome and bees", "Rex the Dog", "Rex the Dog", "Cycling", "Chess club"]))
    ctx = Context(llm, "Field Notes")
    result = generate_chapters(scripted_transcript(), llm, ctx=ctx, min_seconds=40)
    titles = [c.title for c in result.chapters]
    assert "Rex the Dog" not in titles and len(titles) == 4
    retry = next(c for c in llm.history if "Problems with that answer" in c.prompt)
    assert '"Rex"' in retry.prompt  # the problem was told to the model
    assert any(d.task == "chapters" and d.text == "Rex the Dog" for d in ctx.dropped)

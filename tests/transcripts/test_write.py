"""Writers: what they produce, and that reading it back gives the same segments."""

from __future__ import annotations

import json

import pytest

from earmark.models import Segment, Transcript, Word
from earmark.transcripts import (
    parse_transcript,
    to_p20_json,
    to_srt,
    to_text,
    to_vtt,
    write_transcript,
)
from earmark.transcripts.timecode import format_clock
from earmark.transcripts.write import PARAGRAPH_S
from tests.transcripts.conftest import read

SAMPLE = Transcript(
    segments=[
        Segment(0.0, 2.5, "Hello & welcome to the <3 show.", "Anna Lee", [Word(0.0, 0.4, "Hello")]),
        Segment(2.5, 4.123, "Thanks: glad to be here.", "Ben"),
        Segment(4.2, 3725.999, "A very long answer.", "Ben"),
        Segment(3726.0, 3727.001, "Bye.", "Anna Lee"),
    ],
    source="asr",
    format="asr",
    language="en",
)


def rows(transcript):
    return [(round(s.start, 3), round(s.end, 3), s.speaker, s.text) for s in transcript.segments]


def test_srt_shape():
    assert to_srt(SAMPLE).startswith(
        "1\n00:00:00,000 --> 00:00:02,500\nAnna Lee: Hello & welcome to the <3 show.\n\n"
        "2\n00:00:02,500 --> 00:00:04,123\nBen: Thanks: glad to be here.\n"
    )
    assert "\n4\n01:02:06,000 --> 01:02:07,001\nAnna Lee: Bye.\n" in to_srt(SAMPLE)


def test_vtt_shape_escapes_text_and_tags_speakers():
    vtt = to_vtt(SAMPLE)
    assert vtt.startswith(
        "WEBVTT\nLanguage: en\n\n00:00:00.000 --> 00:00:02.500\n"
        "<v Anna Lee>Hello &amp; welcome to the &lt;3 show.\n"
    )


def test_p20_json_shape():
    doc = json.loads(to_p20_json(SAMPLE))
    assert doc["version"] == "1.0.0"
    assert doc["segments"][1] == {
        "speaker": "Ben",
        "startTime": 2.5,
        "endTime": 4.123,
        "body": "Thanks: glad to be here.",
    }
    no_speaker = Transcript([Segment(1, 2, "x y")], "asr", "asr")
    assert json.loads(to_p20_json(no_speaker))["segments"] == [
        {"startTime": 1, "endTime": 2, "body": "x y"}
    ]


@pytest.mark.parametrize("fmt, read_as", [("srt", "srt"), ("vtt", "vtt"), ("json", "json")])
def test_sample_round_trips(fmt, read_as):
    back = parse_transcript(write_transcript(SAMPLE, fmt))
    assert back.format == read_as
    assert rows(back) == rows(SAMPLE)


@pytest.mark.parametrize(
    "name",
    [
        "podcastnamespace__buzzsprout_bonus-episode.srt",
        "podcastnamespace__buzzsprout_bonus-episode.html",
        "podcastnamespace__podcasting-qa_voice-tags_crlf.vtt",
        "talkpython__000_tptm_introducing_the_show.vtt",
        "virtualcoffee__s2e1.srt",
        "virtualcoffee__s2e6.srt",
    ],
)
@pytest.mark.parametrize("fmt", ["srt", "vtt", "json"])
def test_corpus_round_trips_to_the_millisecond(name, fmt):
    original = read(name)
    assert rows(parse_transcript(write_transcript(original, fmt))) == rows(original)


def test_literal_angle_brackets_survive_vtt_and_json_not_srt():
    # Eric talks about "<p>-Tags": plain text in Podlove JSON, escaped in VTT; SRT has no
    # escaping and its readers take "<p>" for a tag.
    original = read("podlove__podlovers-ep3_transcript.json")
    for fmt in ("vtt", "json"):
        assert rows(parse_transcript(write_transcript(original, fmt))) == rows(original)
    back = parse_transcript(to_srt(original))
    differ = [(a, b) for a, b in zip(rows(original), rows(back)) if a != b]
    assert len(differ) == 1 and "<p>-Tags" in differ[0][0][3] and " -Tags" in differ[0][1][3]


def test_slug_speakers_survive_vtt_and_json_only():
    # Podlove voice slugs ("timpritlove") are not name-shaped, so as an SRT "timpritlove:" label
    # they read back as text; VTT voice tags and JSON carry any name.
    original = read("podlove__forschergeist-fg064_transcript.json")
    for fmt in ("vtt", "json"):
        assert rows(parse_transcript(write_transcript(original, fmt))) == rows(original)
    assert parse_transcript(to_srt(original)).segments[0].speaker is None


def test_word_level_json_round_trips_as_sentences():
    original = read("podcastnamespace__buzzsprout_wordlevel_no-body_2020.json")
    back = parse_transcript(to_p20_json(original), "application/json")
    assert rows(back) == rows(original)  # sentences are not mistaken for a word list


def test_plain_text_paragraphs_and_stamps():
    text = to_text(SAMPLE)
    assert text.split("\n\n")[:2] == [
        "[00:00:00] Anna Lee: Hello & welcome to the <3 show.",
        "[00:00:02] Ben: Thanks: glad to be here. A very long answer.",
    ]
    back = parse_transcript(text)
    assert back.format == "text"
    assert [(s.start, s.speaker, s.text) for s in back.segments] == [
        (0.0, "Anna Lee", "Hello & welcome to the <3 show."),
        (2.0, "Ben", "Thanks: glad to be here. A very long answer."),
        (3726.0, "Anna Lee", "Bye."),
    ]


def test_plain_text_round_trip_keeps_turns_and_words():
    original = read("podcastnamespace__buzzsprout_bonus-episode.srt")
    back = parse_transcript(to_text(original), "text/plain")
    # Speaker turns survive (5 Travis, 3 Gilon, 2 Sarah in the file; Travis's long turns break
    # into paragraphs at sentence ends), and so does every word.
    turns = [
        s.speaker
        for i, s in enumerate(back.segments)
        if i == 0 or back.segments[i - 1].speaker != s.speaker
    ]
    assert turns == [
        "Travis",
        "Sarah",
        "Travis",
        "Gilon",
        "Travis",
        "Gilon",
        "Travis",
        "Sarah",
        "Gilon",
        "Travis",
    ]
    assert (
        " ".join(s.text for s in back.segments).split()
        == " ".join(s.text for s in original.segments).split()
    )
    for seg in back.segments:
        assert seg.start == int(seg.start)  # whole-second stamps
    assert len(back.segments) == 12  # Travis's two longest turns (117 s, 186 s) break once each
    for a, b in zip(back.segments, back.segments[1:]):
        if a.speaker == b.speaker:
            assert b.start - a.start >= PARAGRAPH_S - 1 and a.text[-1] in ".?!"


@pytest.mark.parametrize("seconds, shown", [
    (0, "0:00"), (5.9, "0:05"), (304, "5:04"), (754.9, "12:34"), (3723, "1:02:03"), (36000, "10:00:00"),
    (-3, "0:00"), (None, ""),
])
def test_the_one_clock_people_see(seconds, shown):
    assert format_clock(seconds) == shown


def test_unknown_writer_format():
    with pytest.raises(ValueError, match="unknown transcript format 'docx'"):
        write_transcript(SAMPLE, "docx")

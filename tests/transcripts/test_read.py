"""Reading rules on small made-up documents: format detection, speaker labels, decoding, errors."""

from __future__ import annotations

import json
import random

import pytest

from earmark.errors import EarmarkError, TranscriptError
from earmark.transcripts import attach_words, parse_transcript
from earmark.transcripts.speakers import is_speaker_label
from earmark.transcripts.timecode import parse_clock
from tests.transcripts.conftest import TRANSCRIPTS, WORDLEVEL_NO_BODY

SRT = "1\n00:00:01,000 --> 00:00:03,000\nAnna: Hello there.\n\n2\n00:00:03,500 --> 00:00:05,000\nBen: Hi.\n"


def rows(transcript):
    return [(s.start, s.end, s.speaker, s.text) for s in transcript.segments]


@pytest.mark.parametrize(
    "content, mime, url, fmt",
    [
        (SRT, "application/x-subrip", "", "srt"),
        (SRT, "text/plain", "", "srt"),  # servers mislabel SRT; the timing line proves it
        (SRT, "", "https://x.test/t.txt", "srt"),
        (SRT.replace(",", "."), "", "", "vtt"),  # header-less VTT
        (
            "WEBVTT\n\n00:01.000 --> 00:03.000\n<v Anna>Hello there.\n",
            "application/octet-stream",
            "",
            "vtt",
        ),
        (
            '{"version": "1.0.0", "segments": [{"startTime": 1, "endTime": 3, "body": "Hello there."}]}',
            "text/plain",
            "",
            "json",
        ),
        (
            '[{"start": "00:00:01.000", "end": "00:00:03.000", "speaker": "1", "text": "Hello there."}]',
            "application/json",
            "",
            "podlove",
        ),
        ("<p><strong>Anna:</strong> Hello there.</p>", "", "", "html"),
        ("Anna: Hello there.\n\nBen: Hi.\n", "", "", "text"),
        ("Anna: Hello there.\n\nBen: Hi.\n", "text/html; charset=utf-8", "", "text"),
    ],
)
def test_format_detection(content, mime, url, fmt):
    transcript = parse_transcript(content, mime, url)
    assert transcript.format == fmt
    assert transcript.segments[0].text == "Hello there."


def test_header_less_vtt_with_mime_and_voice_spans_in_one_cue():
    vtt = "00:00:00.000 --> 00:00:04.000\n<v Anna>One two.</v>\n<v Ben>Three four.</v>\n"
    a, b = parse_transcript(vtt, "text/vtt").segments
    assert (a.speaker, a.text, a.start) == ("Anna", "One two.", 0.0)
    assert (b.speaker, b.text, b.end) == ("Ben", "Three four.", 4.0)
    assert a.end == b.start and 0 < b.start < 4


def test_vtt_notes_styles_settings_and_karaoke_tags_are_not_text():
    vtt = (
        "WEBVTT - a title\nKind: captions\nLanguage: en\n\nNOTE a comment\n\nSTYLE\n::cue { color: red }\n\n"
        "intro\n00:00:01.000 --> 00:00:02.500 align:start position:10%\n"
        "<c.yellow>Hi</c> <00:00:01.500><i>there</i> &lt;3\n"
    )
    transcript = parse_transcript(vtt, "text/vtt")
    assert transcript.language == "en"
    assert rows(transcript) == [(1.0, 2.5, None, "Hi there <3")]


def test_mid_cue_label_of_a_known_speaker_splits_the_cue():
    srt = (
        "1\n00:00:00,000 --> 00:00:02,000\nDan: Hi Bekah.\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\nBekah: Hi Dan.\n\n"
        "3\n00:00:04,000 --> 00:00:14,000\nSo that's the show. Dan: Right, and\nBekah: bye\n"
    )
    segments = parse_transcript(srt, "application/srt").segments
    assert [(s.speaker, s.text) for s in segments] == [
        ("Dan", "Hi Bekah."),
        ("Bekah", "Hi Dan."),
        ("Bekah", "So that's the show."),
        ("Dan", "Right, and"),
        ("Bekah", "bye"),
    ]
    third, fourth, fifth = segments[2:]
    assert third.start == 4.0 and fifth.end == 14.0
    assert third.end == fourth.start < fourth.end == fifth.start  # time shared by characters
    assert 4.0 < fourth.start < fifth.start < 14.0


def test_unknown_names_and_sentences_with_colons_are_not_speakers():
    srt = (
        "1\n00:00:00,000 --> 00:00:02,000\nAnna: The thing is: we\nChoose Your Own Adventure: books.\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\nNote: this is not a person. Here's why: none.\n\n"
        "3\n00:00:04,000 --> 00:00:06,000\nat 10:30: we met\n"
    )
    segments = parse_transcript(srt, "application/srt").segments
    assert [s.speaker for s in segments] == ["Anna", "Anna", "Anna"]
    assert segments[0].text == "The thing is: we Choose Your Own Adventure: books."
    assert segments[1].text.startswith("Note: this is not a person.")


@pytest.mark.parametrize(
    "label, ok",
    [
        ("Travis", True),
        ("Bekah Hawrot Weigel", True),
        ("Speaker 1", True),
        ("SPEAKER_00", True),
        ("Dr. Ada Lovelace", True),
        ("Ludwig van Beethoven", True),
        ("Zoë O'Brien-Smith", True),
        ("Tensorflow.js", False),
        ("the thing", False),
        ("Choose Your Own Big Adventure", False),
        ("Q&A", False),
        ("10", False),
        ("Note", False),
        ("So", False),
        ("", False),
    ],
)
def test_speaker_label_shape(label, ok):
    assert is_speaker_label(label) is ok


def test_plain_text_stamps_and_headers():
    text = (
        "[00:00:05] Anna: Hello there.\n\nMore from Anna.\n\n"
        "Ben (00:01:02):\nHi, I'm Ben.\n\n(1:10) Anna: Bye.\n"
    )
    assert rows(parse_transcript(text, "text/plain")) == [
        (5.0, 62.0, "Anna", "Hello there."),
        (5.0, 62.0, "Anna", "More from Anna."),
        (62.0, 70.0, "Ben", "Hi, I'm Ben."),
        (70.0, 70.0, "Anna", "Bye."),
    ]


def test_plain_text_one_turn_per_line_without_times():
    segments = parse_transcript("Anna: Hello.\nBen: Hi.\nAnna: Bye.\n", "text/plain").segments
    assert [(s.speaker, s.text, s.start) for s in segments] == [
        ("Anna", "Hello.", 0.0),
        ("Ben", "Hi.", 0.0),
        ("Anna", "Bye.", 0.0),
    ]


def test_html_strong_labels_skip_scripts_and_headings():
    html = (
        "<!doctype html><html lang='de'><head><title>T</title><script>var a = '<p>x</p>';</script></head>"
        "<body><h1>Episode 1 transcript</h1><p><b>Anna:</b> Hallo &amp; willkommen.</p>"
        "<p><b>Ben:</b> Danke.<br>Gern.</p>"
        "<p>Wie <cite>Das Buch</cite> sagt, um <time>10:00</time>.</p></body></html>"
    )
    transcript = parse_transcript(html.encode(), "text/html")
    assert transcript.language == "de"
    assert [(s.speaker, s.text) for s in transcript.segments] == [
        ("Anna", "Hallo & willkommen."),
        ("Ben", "Danke."),
        ("Ben", "Gern."),
        ("Ben", "Wie Das Buch sagt, um 10:00."),
    ]


def test_decoding_bom_crlf_utf16_and_legacy_bytes():
    crlf = "\ufeffWEBVTT\r\n\r\n00:00.000 --> 00:01.000\r\n<v Zoë>Grüße\r\n"
    assert rows(parse_transcript(crlf.encode("utf-8"), "text/vtt")) == [(0.0, 1.0, "Zoë", "Grüße")]
    assert rows(parse_transcript(crlf.encode("utf-16"), "text/vtt")) == [(0.0, 1.0, "Zoë", "Grüße")]
    legacy = SRT.replace("Hello there.", "Caf\u00e9 \u201cnoir\u201d.").encode("cp1252")
    assert parse_transcript(legacy, "application/srt").segments[0].text == "Café “noir”."


def test_p20_json_phrases_stay_segments_and_body_is_plain_text():
    doc = {
        "version": "1.0.0",
        "segments": [
            {
                "speaker": "Anna",
                "startTime": "1.5",
                "endTime": 3,
                "body": "Hello  there,\n friend.",
            },
            {"speaker": "Ben", "startTime": 3.2, "endTime": 4, "body": "Hi <3 & bye."},
            {"startTime": 4.5, "endTime": 5, "body": "   "},  # no text: dropped
            {"speaker": "Ben", "endTime": 6, "body": "no start: dropped"},
        ],
    }
    assert rows(parse_transcript(json.dumps(doc), "application/json")) == [
        (1.5, 3.0, "Anna", "Hello there, friend."),
        (3.2, 4.0, "Ben", "Hi <3 & bye."),
    ]


def test_p20_word_level_splits_at_pauses_and_speakers():
    words = [
        ("A", 0.0, "one"),
        ("A", 0.5, "two"),
        ("A", 5.0, "three"),
        ("B", 5.5, "four"),
        ("B", 6.0, "five"),
    ]
    doc = {
        "segments": [
            {"speaker": s, "startTime": t, "endTime": t + 0.4, "body": w} for s, t, w in words
        ]
    }
    segments = parse_transcript(json.dumps(doc), "application/json").segments
    assert [(s.speaker, s.text, len(s.words)) for s in segments] == [
        ("A", "one two", 2),
        ("A", "three", 1),
        ("B", "four five", 2),
    ]


def test_body_less_word_timings_need_text():
    data = (TRANSCRIPTS / WORDLEVEL_NO_BODY).read_bytes()
    with pytest.raises(TranscriptError, match="none has a 'body'"):
        parse_transcript(data, "application/json")
    short = parse_transcript(SRT, "application/srt")
    with pytest.raises(TranscriptError, match="2492 timings, 3 words"):
        attach_words(data, short)


@pytest.mark.parametrize(
    "content, mime, message",
    [
        (b"", "text/vtt", "empty"),
        (b"  \r\n\t", "", "empty"),
        (random.Random(7).randbytes(4096), "application/srt", "binary"),
        (b"WEBVTT\n\n\x00\x01\x02\x03", "text/vtt", "binary"),
        (
            b'{"version": "1.0.0", "segments": [{"startTime": 1, "endTi',
            "application/json",
            "not valid JSON",
        ),
        (b'{"version": "1.0.0", "segments": [{"startTime": 1, "endTi', "", "not valid JSON"),
        (b'{"version": "1.2.0", "chapters": []}', "application/json", "chapters document"),
        (b"[1, 2, 3]", "application/json", "neither"),
        (b'{"segments": []}', "application/json", "no timed segments"),
        (b"1\nhello\n", "application/srt", "no SRT cues"),
        (b"WEBVTT\n\nNOTE only a note\n", "text/vtt", "no WebVTT cues"),
        (b"<html><head><title>x</title></head><body></body></html>", "text/html", "no paragraphs"),
    ],
)
def test_bad_input_raises_transcript_error(content, mime, message):
    with pytest.raises(TranscriptError, match=message) as info:
        parse_transcript(content, mime)
    assert isinstance(info.value, ValueError) and isinstance(info.value, EarmarkError)


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("00:00:02,400", 2.4),
        ("00:02.400", 2.4),
        ("1:02:03.5", 3723.5),
        ("0:53", 53.0),
        ("62.25", 62.25),
        (94, 94.0),
        ("100:00:00", 360000.0),
        ("abc", None),
        (-1, None),
        (True, None),
        (None, None),
        ("12:3x", None),
    ],
)
def test_parse_clock(value, seconds):
    assert parse_clock(value) == seconds


def test_bom_does_not_hide_the_format_from_sniffing():
    vtt = "\ufeffWEBVTT\n\n00:00.000 --> 00:01.000\n<v Anna>Hi.\n".encode()
    assert parse_transcript(vtt).format == "vtt"
    assert parse_transcript(vtt.decode()).format == "vtt"  # already-decoded text keeps its BOM
    doc = '\ufeff{"segments": [{"startTime": 0, "endTime": 1, "body": "Hi there."}]}'
    for content in (doc, doc.encode()):
        assert rows(parse_transcript(content)) == [(0.0, 1.0, None, "Hi there.")]

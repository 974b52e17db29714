"""Every corpus transcript, read the way the app reads it, with facts checked by reading the
files by eye."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from earmark.transcripts import contributor_names
from tests.transcripts.conftest import CHAPTERS, TRANSCRIPTS, read

# file → (format, segment count, first speaker, first text starts with, speakers)
FACTS = {
    "podcastnamespace__buzzsprout_bonus-episode.html": (
        "html",
        10,
        "Travis",
        "When you first get started in podcasting, it's almost",
        {"Travis", "Sarah", "Gilon"},
    ),
    "podcastnamespace__buzzsprout_bonus-episode.srt": (
        "srt",
        222,
        "Travis",
        "When you first get started in podcasting, it's",
        {"Travis", "Sarah", "Gilon"},
    ),
    "podcastnamespace__buzzsprout_bonus-episode_2021_inline-speaker_bom.vtt": (
        "vtt",
        222,
        "Travis",
        "When you first get started in podcasting, it's",
        {"Travis", "Sarah", "Gilon"},
    ),
    "podcastnamespace__buzzsprout_bonus-episode_2024_voice-tags_bom.vtt": (
        "vtt",
        222,
        "Travis",
        "When you first get started in podcasting, it's",
        {"Travis", "Sarah", "Gilon"},
    ),
    "podcastnamespace__buzzsprout_wordlevel_no-body_2020.json": (
        "json",
        136,
        "Travis",
        "When you first get started in podcasting, it's almost",
        {"Travis", "Sarah", "Gilon"},
    ),
    "podcastnamespace__example_speakers.json": (
        "json",
        2,
        "Darth Vader",
        "I am your father.",
        {"Darth Vader", "Luke"},
    ),
    "podcastnamespace__podcasting-qa_voice-tags_crlf.vtt": (
        "vtt",
        7,
        "Sarah",
        "In today's episode, you'll learn",
        {"Sarah", "Gillian"},
    ),
    "podlove__forschergeist-fg064_transcript.json": (
        "podlove",
        1067,
        "timpritlove",
        "Hallo und herzlich willkommen zu Forschergeist,",
        {"timpritlove", "robertranisch"},
    ),
    "podlove__podlovers-ep3_transcript.json": (
        "podlove",
        675,
        "Eric",
        "Dann sage ich einfach mal: Hallo und willkommen",
        {"Eric", "Simon", "Michi", "Alex"},
    ),
    "talkpython__000_tptm_introducing_the_show.vtt": (
        "vtt",
        52,
        None,
        "Talk Python To Me, episode number zero",
        {None},
    ),
    "virtualcoffee__s1e0_corrected.srt": (
        "srt",
        54,
        "Bekah Hawrot Weigel",
        "Hey, I'm Bekah.",
        {
            "Bekah Hawrot Weigel",
            "Dan Ott",
            "Nick Taylor",
            "Marie Antons",
            "Tori Crawford",
            "Kirk Shillingford",
        },
    ),
    "virtualcoffee__s1e0_raw-buzzsprout.srt": (
        "srt",
        49,
        "Bekah Hawrot Weigel",
        "Hey, I'm Bekah.",
        {
            "Bekah Hawrot Weigel",
            "Dan Ott",
            "Nicky Taylor",
            "Marie Antons",
            "Tori Crawford",
            "Kirk Shillingford",
        },
    ),
    "virtualcoffee__s1e1.srt": (
        "srt",
        1101,
        "Bekah",
        "Hey, this is season one episode, one of the",
        {"Bekah", "Dan", "Nick"},
    ),
    "virtualcoffee__s2e1.srt": (
        "srt",
        1016,
        "Bekah Hawrot Weigel",
        "Hello, and welcome back to the Virtual",
        {"Bekah Hawrot Weigel", "Dan Ott", "Gant"},
    ),
    "virtualcoffee__s2e6.srt": (
        "srt",
        756,
        "Bekah Hawrot Weigel",
        "Hello, and welcome to season two, episode",
        {"Bekah Hawrot Weigel", "Dan Ott", "Courtney Landau", "Unknown"},
    ),
    "virtualcoffee__s5e999_bonus.srt": (
        "srt",
        1682,
        "Dan Ott",
        "Hello, and welcome to a special Kirk Day Bonus Episode",
        {"Dan Ott", "Bekah Hawrot Weigel", "Kirk Shillingford"},
    ),
}

MARKUP = re.compile(r"<[A-Za-z/!]|&(?:[a-z]+|#\d+|#x[0-9a-f]+);|-->", re.I)
LEFTOVERS = re.compile(r"[\ufeff\r\n\t\x00-\x1f]")


def test_every_corpus_transcript_has_facts(corpus_files):
    assert {p.name for p in corpus_files} == set(FACTS)


@pytest.mark.parametrize("name", sorted(FACTS))
def test_corpus_transcript_is_well_formed(name):
    transcript = read(name)
    segments = transcript.segments
    assert segments
    assert transcript.source == "publisher"
    for before, seg in zip([None, *segments], segments):
        assert seg.end >= seg.start >= 0
        if before is not None:
            assert seg.start >= before.start
        assert seg.text and seg.text == seg.text.strip()
        if transcript.format not in ("json", "podlove"):  # JSON text is plain, "<p>" is literal
            assert not MARKUP.search(seg.text), seg.text
        assert "  " not in seg.text and not LEFTOVERS.search(seg.text)
        assert seg.speaker is None or (seg.speaker.strip() and not MARKUP.search(seg.speaker))
        for word in seg.words:
            assert seg.start <= word.start <= word.end <= seg.end
            assert word.text and " " not in word.text


@pytest.mark.parametrize("name", sorted(FACTS))
def test_corpus_transcript_facts(name):
    fmt, count, first_speaker, first_text, speakers = FACTS[name]
    transcript = read(name)
    assert transcript.format == fmt
    assert len(transcript.segments) == count
    assert transcript.segments[0].speaker == first_speaker
    assert transcript.segments[0].text.startswith(first_text)
    assert {s.speaker for s in transcript.segments} == speakers


def _rows(name):
    return [(s.start, s.end, s.speaker, s.text) for s in read(name).segments]


def test_buzzsprout_srt_inline_vtt_and_voice_tag_vtt_agree():
    # Same episode three ways: SRT "Travis:", VTT with BOM + CRLF + "Travis:", VTT with BOM +
    # "<v Travis>" tags (whose converter left one speaker, "Gilon:", inline).
    srt = _rows("podcastnamespace__buzzsprout_bonus-episode.srt")
    assert _rows("podcastnamespace__buzzsprout_bonus-episode_2021_inline-speaker_bom.vtt") == srt
    assert _rows("podcastnamespace__buzzsprout_bonus-episode_2024_voice-tags_bom.vtt") == srt
    assert srt[0][:2] == (0.179, 2.399)  # the label does not push the cue's start
    assert Counter(row[2] for row in srt) == {"Travis": 141, "Gilon": 55, "Sarah": 26}
    gilon = next(row for row in srt if row[2] == "Gilon")
    assert gilon[:2] == (219.36, 222.509) and gilon[3].startswith("So is there an ideal")


def test_buzzsprout_html_reads_cite_time_and_entities():
    segments = read("podcastnamespace__buzzsprout_bonus-episode.html").segments
    assert [(s.start, s.speaker) for s in segments[:4]] == [
        (0.0, "Travis"),
        (53.0, "Sarah"),
        (102.0, "Travis"),
        (219.0, "Gilon"),
    ]
    assert segments[0].end == 53.0  # a paragraph ends where the next begins
    assert "it's almost guaranteed" in segments[0].text  # &#39; decoded
    assert segments[-1].start == 691.0


def test_word_level_json_becomes_sentences_with_words():
    transcript = read("podcastnamespace__buzzsprout_wordlevel_no-body_2020.json")
    segments = transcript.segments
    assert sum(len(s.words) for s in segments) == 2492  # every timing kept, in order
    first = segments[0]
    assert first.text.endswith("doesn't mean that you have to make all the mistakes.")
    assert (first.start, first.end) == (0.18, 8.58)
    assert [w.text for w in first.words[:4]] == ["When", "you", "first", "get"]
    assert (first.words[0].start, first.words[0].end) == (0.18, 0.3)
    # Buzzsprout's lone "." token sticks to its word in the sentence, stays a word of its own.
    second = segments[1]
    assert second.text.endswith("our very first podcast.")
    assert [w.text for w in second.words[-2:]] == ["podcast", "."]
    # Sentences end at punctuation or a speaker change, never mid-sentence for no reason.
    for seg in segments[:-1]:
        assert seg.text[-1] in ".?!" or seg.speaker != segments[segments.index(seg) + 1].speaker


def test_example_word_level_json_merges_by_speaker():
    darth, luke = read("podcastnamespace__example_speakers.json").segments
    assert (darth.start, darth.end, darth.text) == (0.5, 2.5, "I am your father.")
    assert [w.text for w in darth.words] == ["I", "am", "your", "father."]
    assert (luke.speaker, luke.text, len(luke.words)) == ("Luke", "Nooooo", 1)


def test_virtual_coffee_labels_land_where_the_file_puts_them():
    segments = read("virtualcoffee__s1e1.srt").segments
    going = next(i for i, s in enumerate(segments) if s.text == "It's going")
    # The "Dan:" label opens the next cue, mid-sentence: Dan speaks from there on.
    assert [(s.speaker, s.text) for s in segments[going : going + 2]] == [
        ("Bekah", "It's going"),
        ("Dan", "pretty good."),
    ]


def test_virtual_coffee_false_labels_stay_text():
    segments = read("virtualcoffee__s2e1.srt").segments
    adventure = next(s for s in segments if "Choose Your Own Adventure:" in s.text)
    assert adventure.speaker == "Gant"
    assert adventure.text == "There's a couple there's a Choose Your Own Adventure:"
    book = next(s for s in segments if "Tensorflow.js:" in s.text)
    assert book.text == "released his new book, Learning Tensorflow.js: Powerful machine"
    assert book.speaker == "Dan Ott"


def test_virtual_coffee_unknown_speaker_is_kept():
    unknown = [s for s in read("virtualcoffee__s2e6.srt").segments if s.speaker == "Unknown"]
    assert [(s.start, s.text) for s in unknown] == [
        (481.209, "really solidifying it."),
        (2264.579, "I don't know. I just,"),
        (2744.789, "Yeah, definitely. And"),
    ]


def test_short_names_join_the_full_name_given_earlier():
    counts = Counter(s.speaker for s in read("virtualcoffee__s5e999_bonus.srt").segments)
    # The file writes "Dan Ott:" 19 times and "Dan:" 386 times; one person, one name.
    assert counts == {"Dan Ott": 774, "Bekah Hawrot Weigel": 616, "Kirk Shillingford": 292}


def test_crlf_voice_tags_and_entities():
    segments = read("podcastnamespace__podcasting-qa_voice-tags_crlf.vtt").segments
    assert "Welcome to Podcasting Q&A, where you learn" in segments[2].text
    gillian = next(s for s in segments if s.speaker == "Gillian")
    assert (gillian.start, gillian.text) == (
        19.08,
        "Hi Buzzsprout, Gillian here from breaking through",
    )


def test_podlove_speaker_ids_map_to_contributor_names():
    config = (CHAPTERS / "podlove__forschergeist_fg-64_player-config.json").read_bytes()
    names = contributor_names(config)
    assert names == {"1": "Tim Pritlove", "68": "Robert Ranisch", "7": "Michael Sonnabend"}
    from earmark.transcripts import parse_transcript

    data = (TRANSCRIPTS / "podlove__forschergeist-fg064_transcript.json").read_bytes()
    transcript = parse_transcript(data, "application/json", speakers=names)
    assert Counter(s.speaker for s in transcript.segments) == {
        "Robert Ranisch": 848,
        "Tim Pritlove": 219,
    }


def test_podlove_text_is_kept_as_written():
    segments = read("podlove__podlovers-ep3_transcript.json").segments
    assert sum("einfach mal <p>-Tags mehr Padding" in s.text for s in segments) == 1


def test_podlove_end_before_start_is_clamped():
    segments = read("podlove__forschergeist-fg064_transcript.json").segments
    oh_man = next(s for s in segments if s.start == 5347.901)
    assert (oh_man.end, oh_man.text) == (5347.901, "Oh man.")  # the file says end 5347.800


def test_talkpython_vtt_has_no_speakers_and_exact_times():
    segments = read("talkpython__000_tptm_introducing_the_show.vtt").segments
    me = next(s for s in segments if s.text == "This is your host, Michael Kennedy.")
    assert (me.start, me.end) == (39.8, 41.86)

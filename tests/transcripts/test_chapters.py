from __future__ import annotations

import pytest

from earmark.errors import ChaptersError, EarmarkError
from earmark.models import Chapter
from earmark.transcripts import parse_chapters_json
from tests.transcripts.conftest import CHAPTERS

# file → (count, first title, second chapter's start, last title)
FACTS = {
    "podcastnamespace__example.json": (9, "Intro", 168.0, "Outro"),
    "podcastnamespace__exampleComplex.json": (10, "Intro", 168.0, "Outro"),
    "podcastnamespace__example_v1.0.0_marker_draft2020.json": (3, "Intro", 94.0, "News Discussion"),
    "podlove__forschergeist_chapters.json": (13, "Intro", 42.922, "Ausklang"),
    "podlove__forschergeist_fg-60_player-config.json": (
        9,
        "Intro",
        43.007,
        "IPCC Klimawandel als Sicherheitsrisiko",
    ),
    "podlove__forschergeist_fg-64_player-config.json": (19, "Intro", 42.181, "Ausklang"),
    "podlove__forschergeist_fg-67_player-config.json": (
        12,
        "Intro",
        42.367,
        "Lernfähigkeit der Gesellschaft",
    ),
    "podlove__forschergeist_fg-70_player-config.json": (13, "Intro", 29.648, "Ausklang"),
    "podlove__podlovers-ep3_chapters.json": (16, "Begrüßung", 26.196, "Und Tschüss"),
}


def test_every_corpus_chapters_file_has_facts():
    assert {p.name for p in CHAPTERS.iterdir()} == set(FACTS)


@pytest.mark.parametrize("name", sorted(FACTS))
def test_corpus_chapters(name):
    count, first, second_start, last = FACTS[name]
    chapters = parse_chapters_json((CHAPTERS / name).read_bytes())
    assert len(chapters) == count
    assert (chapters[0].start, chapters[0].title) == (0.0, first)
    assert chapters[1].start == second_start
    assert chapters[-1].title == last
    assert [c.start for c in chapters] == sorted(c.start for c in chapters)
    assert all(c.title for c in chapters)
    assert all(c.href is None or c.href.startswith("http") for c in chapters)
    assert all(c.image is None or c.image.startswith("http") for c in chapters)


def test_toc_false_is_left_out_unless_asked_for():
    data = (CHAPTERS / "podcastnamespace__exampleComplex.json").read_bytes()
    shown = parse_chapters_json(data)
    assert 4826.0 not in [c.start for c in shown]
    everything = parse_chapters_json(data, include_hidden=True)
    assert len(everything) == 11
    assert Chapter(4826.0, "", None, "https://example.com/images/parisfrance.jpg") in everything


def test_draft_2020_marker_and_links():
    chapters = parse_chapters_json(
        (CHAPTERS / "podcastnamespace__example_v1.0.0_marker_draft2020.json").read_bytes()
    )
    assert chapters[1] == Chapter(
        94.0,
        "Donation Segment",
        "http://example.com/link/to/funding_platform",
        "http://example.com/podcast/episode/chapter_art2.jpg",
    )


def test_podlove_empty_links_are_none_and_spec_img_url_map():
    podlove = parse_chapters_json((CHAPTERS / "podlove__forschergeist_chapters.json").read_bytes())
    assert podlove[1] == Chapter(42.922, "Begrüßung", None, None)
    spec = parse_chapters_json((CHAPTERS / "podcastnamespace__example.json").read_bytes())
    assert spec[3] == Chapter(
        410.0,
        "Namespace",
        "https://github.com/Podcastindex-org/podcast-namespace",
        "https://example.com/images/namepsace_example.jpg",
    )


def test_only_hidden_chapters_give_an_empty_list():
    doc = '{"chapters": [{"startTime": 5, "toc": false, "img": "https://x.test/a.jpg"}]}'
    assert parse_chapters_json(doc) == []
    assert parse_chapters_json(doc, include_hidden=True) == [
        Chapter(5.0, "", None, "https://x.test/a.jpg")
    ]


def test_unsorted_and_odd_times():
    doc = '{"chapters": [{"startTime": "90.5", "title": "B"}, {"startTime": 0, "title": " A "}, {"title": "no time"}]}'
    assert parse_chapters_json(doc) == [Chapter(0.0, "A"), Chapter(90.5, "B")]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b'{"version": "1.2.0", "chapters": [{"startTime": 0, "ti', "not valid JSON"),
        (b'{"version": "1.2.0"}', "no chapters"),
        (b'{"chapters": [{"title": "x"}]}', "readable start time"),
        (b"\x00\xff\x00binary", "binary"),
    ],
)
def test_bad_chapters(content, message):
    with pytest.raises(ChaptersError, match=message) as info:
        parse_chapters_json(content)
    assert isinstance(info.value, ValueError) and isinstance(info.value, EarmarkError)

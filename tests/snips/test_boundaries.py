import itertools

import pytest

from earmark.models import Segment
from earmark.snips.boundaries import (
    auto_candidates,
    choose_start,
    parse_boundary,
    provisional,
    resnap,
    snap,
    split_sentences,
)
from tests.snips.helpers import transcript


def _containing(truth, position):
    for n, (start, end, _) in enumerate(truth):
        if start <= position <= end:
            return n
    return None


def test_sentences_from_word_timed_segments():
    segments, truth = transcript(5)
    sentences = split_sentences(segments)
    assert [(s.start, s.end, s.text) for s in sentences] == truth


@pytest.mark.parametrize("index,into", [(0, 1.0), (5, 0.2), (14, 2.5), (23, 3.9), (33, 1.0), (42, 0.0)])
def test_auto_never_cuts_and_holds_the_tapped_sentence(index, into):
    segments, truth = transcript(60)
    position = truth[index][0] + into
    result = snap(segments, position, "auto")
    starts = {t[0] for t in truth}
    ends = {t[1] for t in truth}
    assert result.start in starts and result.end in ends  # never mid-sentence, never mid-word
    tapped = _containing(truth, position)
    assert tapped is not None
    assert result.start <= truth[tapped][0] and truth[tapped][1] == result.end  # ends with the tapped sentence
    assert truth[tapped][2] in result.excerpt
    assert result.excerpt.startswith("Sentence") and result.excerpt.endswith(".")
    if position > 60:
        assert 20 <= result.end - result.start <= 120
        assert all(20 <= result.end - segments[j].start <= 120 for j in result.candidates)


def test_auto_fallback_prefers_a_turn_start_or_pause():
    # sentences are 4.3 s apart; a new speaker from sentence 20 (start 86 s)
    segments, truth = transcript(40, speakers={20: "Guest"})
    tap = truth[29][0] + 1.0  # end = end of sentence 29 ≈ 128.6
    result = snap(segments, tap, "auto")
    assert result.start == truth[20][0]  # the guest's turn begins a complete thought
    plain, _ = transcript(40)
    result = snap(plain, tap, "auto")
    assert abs((result.end - result.start) - 45) < 4.3  # no turn, no pause: about 45 s


def test_llm_may_choose_only_a_candidate():
    segments, truth = transcript(60)
    sentences = split_sentences(segments)
    result = snap(sentences, 150.0, "auto")
    pick = result.candidates[0]
    moved = choose_start(sentences, result, pick)
    assert moved.start == truth[pick][0] and moved.end == result.end
    with pytest.raises(ValueError):
        choose_start(sentences, result, result.end_index)  # 0 s before the end is no candidate


def test_tap_in_a_pause_ends_with_the_sentence_before():
    segments, truth = transcript(30, pauses={15: 8.0})
    tap = truth[14][1] + 4.0  # in the 8 s pause before sentence 15
    assert _containing(truth, tap) is None
    result = snap(segments, tap, "auto")
    assert result.end == truth[14][1]
    fixed = snap(segments, tap, "fixed:30")
    assert fixed.end == truth[15][1]  # fixed: the first sentence end at/after the tap


def test_tap_in_the_first_seconds():
    segments, truth = transcript(30, start=2.0)
    result = snap(segments, 0.5, "auto")  # before anyone speaks
    assert (result.start, result.end) == (truth[0][0], truth[0][1])
    result = snap(segments, 9.0, "auto")  # in the third sentence, 7 s in: no start 20 s before
    assert _containing(truth, 9.0) == 1
    assert (result.start, result.end) == (truth[0][0], truth[1][1])
    result = snap(segments, 9.0, "fixed:60")
    assert (result.start, result.end) == (truth[0][0], truth[1][1])


def test_tap_past_the_end():
    segments, truth = transcript(30)
    result = snap(segments, truth[-1][1] + 100, "auto")
    assert result.end == truth[-1][1]
    assert 20 <= result.end - result.start <= 120
    result = snap(segments, truth[-1][1] + 100, "fixed:60")
    assert result.end == truth[-1][1]


@pytest.mark.parametrize("length", [30, 60, 90, 120])
def test_fixed_lengths(length):
    segments, truth = transcript(80)
    sentence_step = truth[1][0] - truth[0][0]
    result = snap(segments, 200.0, f"fixed:{length}")
    assert result.start in {t[0] for t in truth} and result.end in {t[1] for t in truth}
    assert abs((result.end - result.start) - length) <= sentence_step / 2 + 0.01
    tapped = _containing(truth, 200.0) or next(n for n, t in enumerate(truth) if t[1] >= 200.0)
    assert result.end == truth[tapped][1]


def test_long_cues_without_words_split_at_sentence_ends_between_words():
    # SRT-like cues: several sentences per cue, and a sentence running across a cue boundary.
    cues = [
        Segment(0.0, 10.0, "First one here. Second one is a bit longer than the first. Third"),
        Segment(10.0, 20.0, "runs across the cue. Fourth is short! Fifth asks why?"),
        Segment(20.0, 30.0, "Sixth ends it all."),
    ]
    sentences = split_sentences(cues)
    assert [s.text for s in sentences] == [
        "First one here.", "Second one is a bit longer than the first.", "Third runs across the cue.",
        "Fourth is short!", "Fifth asks why?", "Sixth ends it all.",
    ]
    for a, b in itertools.pairwise(sentences):
        assert a.start < a.end <= b.start
    result = snap(cues, 14.0, "fixed:30")
    assert result.excerpt.split(". ")[0] == "First one here"
    assert result.excerpt.endswith("Fourth is short!") or result.excerpt.endswith("why?")


def test_resnap_is_idempotent_and_moves_to_sentences():
    segments, truth = transcript(60)
    first = resnap(segments, truth[10][0] + 0.7, truth[20][1] - 0.4)
    assert (first.start, first.end) == (truth[10][0], truth[20][1])
    again = resnap(segments, first.start, first.end)
    assert (again.start, again.end, again.excerpt) == (first.start, first.end, first.excerpt)


def test_parse_boundary_and_provisional():
    assert parse_boundary(None) == ("auto", None)
    assert parse_boundary("fixed:60") == ("fixed", 60.0)
    for bad in ("fixed", "fixed:x", "fixed:0", "sometimes"):
        with pytest.raises(ValueError):
            parse_boundary(bad)
    assert provisional(100.0) == (55.0, 105.0)
    assert provisional(10.0) == (0.0, 15.0)
    assert provisional(500.0, duration=300) == (255.0, 300.0)


def test_no_text_no_snap():
    assert snap([], 10.0) is None
    assert auto_candidates(split_sentences(transcript(3)[0]), 0) == [0]

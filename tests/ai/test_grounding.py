"""The checks every AI text goes through: numbers and names against the source, whole sentences,
no loops."""

import pytest

from earmark.ai.grounding import (
    Source, drop_repeated_sentences, ends_sentence, names, numbers, repeats, sentences, strip_speaker, supported_share,
    whole_sentences,
)

SOURCE = Source.of(
    "Welcome to the show, I'm Val Moreno and with me is Tom Becker. The Tacoma Narrows Bridge fell in nineteen "
    "forty. The repair cost six point four million dollars. Tom keeps forty two hives in Leeds. About 1,200 "
    "people walked across, and 75 percent of them were locals. The mites are a problem.",
    "Show notes: Val Moreno talks to Tom Becker about bridges.",
)


@pytest.mark.parametrize("text, values", [
    ("He keeps forty two hives", {"42"}),
    ("in nineteen forty", {"1940"}),
    ("six point four million dollars", {"6400000"}),
    ("6.4 million dollars, 1,200 people", {"6400000", "1200"}),
    ("the 1990s, 75% and the 3rd", {"1990", "75", "3"}),
    ("one of the two", set()),  # small number words are not claims
])
def test_numbers_are_read_as_values(text, values):
    assert values <= set(numbers(text)) and (values or not numbers(text))


@pytest.mark.parametrize("text, problems", [
    ("Tom Becker explains that the Tacoma Narrows Bridge collapsed in 1940.", []),
    ("It cost 6.4 million dollars and 1200 people walked.", []),
    ("Overall, Tom keeps 42 hives in Leeds.", []),  # "Overall" is a common word, not a name
    ("Tom keeps 43 hives.", ["43"]),
    ("The bridge fell in 1941 and cost 5 million dollars.", ["1941", "5000000"]),
    ("In London, Tom met Sarah.", ["London", "Sarah"]),
    ("Paris is far from Leeds.", ["Paris"]),  # a sentence-initial name that is no common word
])
def test_unsupported_numbers_and_names(text, problems):
    assert SOURCE.unsupported(text) == problems


def test_titles_are_title_cased_so_only_real_names_count():
    assert SOURCE.unsupported("Mite Problems in Leeds", title=True) == []
    assert SOURCE.unsupported("The Impact of Hive Location", title=True) == []
    assert SOURCE.unsupported("Sarah's Hives in Leeds", title=True) == ["Sarah's"]
    assert names("Later, Sarah met Tom in Paris.") == ["Sarah", "Tom", "Paris"]


def test_no_text_is_left_cut_off():
    assert whole_sentences("The bridge fell. But the wind wasn't a") == "The bridge fell."
    assert whole_sentences("But the wind wasn't a") == ""
    assert whole_sentences("It ended well!") == "It ended well!"


def test_a_title_s_full_stop_does_not_end_a_sentence():
    """"The hospital's head of imaging, Dr." was a highlight's whole line."""
    text = "The head of imaging, Dr. Paul Fenton, called it the biggest gift. It opens in June."
    assert sentences(text) == ["The head of imaging, Dr. Paul Fenton, called it the biggest gift.", "It opens in June."]
    assert whole_sentences("The gift was big. The head of imaging, Dr. Paul Fen") == "The gift was big."
    assert whole_sentences("The head of imaging, Dr. Paul Fen") == ""
    assert not ends_sentence("The head of imaging, Dr.") and ends_sentence("He saw the Dr.'s notes.")


def test_loops_and_repeated_sentences():
    looped = ["The bridge fell in the wind that day. The bridge fell in the wind that day."]
    assert repeats(looped) and not repeats(["The bridge fell.", "Then it was rebuilt in steel."])
    assert drop_repeated_sentences(["The bridge fell in the wind that day. It was cold.",
                                    "The bridge fell in the wind that day. Nobody was hurt."]) == [
        "The bridge fell in the wind that day. It was cold.", "Nobody was hurt."]
    # a loop inside one sentence
    assert drop_repeated_sentences(["Susan Reed has played the organ there since 1989, has played the organ there "
                                    "since 1989. She is retired."]) == ["She is retired."]


def test_copied_speaker_prefixes_and_support():
    assert strip_speaker("Tom Becker: The deck twisted.") == "The deck twisted."
    assert strip_speaker("[3] Val: Hello.") == "Hello."
    assert strip_speaker("Henry Ward: Lucy Price: Quite a lot.") == "Quite a lot."  # seen on h2
    assert strip_speaker("The point: bees matter.") == "The point: bees matter."
    assert strip_speaker("Speaker 1: Why did night trains nearly vanish?") == "Why did night trains nearly vanish?"  # d2
    assert strip_speaker("At 7: 30 the bell rang.") == "At 7: 30 the bell rang."
    assert supported_share("The bridges twisted", "the bridge twisted in the wind") == 1.0
    assert supported_share("Engineers added dampers", "the bridge twisted") == 0.0


def test_descriptions_of_people_the_source_never_gives_are_cut():
    source = Source.of("I'm Ruth Palmer. I spent 11 years as a marine engineer. Lucy Price, an astronomer, joins us.")
    assert source.cut_unsupported_roles("Ruth Palmer, a historian, shares her story.") == (
        "Ruth Palmer shares her story.", ["Ruth Palmer, a historian"])
    assert source.cut_unsupported_roles("Ruth Palmer, a marine engineer, and Lucy Price, an astronomer, talk.") == (
        "Ruth Palmer, a marine engineer, and Lucy Price, an astronomer, talk.", [])
    # a description between commas inside a sentence, or at its end: nothing else is touched
    assert source.cut_unsupported_roles("In 2009, the year he began, he fixed a clock.")[1] == []
    assert source.cut_unsupported_roles("She thanked Ruth, a historian. Then she left.") == (
        "She thanked Ruth. Then she left.", ["Ruth, a historian"])  # seen on h2: "… is Victor Shaw, a renowned astronomer."
    assert source.cut_unsupported_roles("She thanked Lucy Price, an astronomer.")[1] == []
    # a relation the source never states (d1: "Tom Fletcher, her husband, …" of the host's guest)
    assert source.cut_unsupported_roles("Lucy Price, her husband, fixed it.") == (
        "Lucy Price fixed it.", ["Lucy Price, her husband"])
    assert source.cut_unsupported_roles("Lucy Price, their astronomer, fixed it.")[1] == []


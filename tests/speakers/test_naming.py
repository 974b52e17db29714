from earmark.models import Person, Segment, Word
from earmark.speakers.assign import assign_speakers
from earmark.speakers.diarize import Turn, cluster
from earmark.speakers.naming import name_speakers

import numpy as np


def seg(label, text, start=0.0):
    return Segment(start, start + 1, text, label, [], label)


def named(segments, **options) -> dict[str, str]:
    return {n.label: n.name for n in name_speakers(segments, **options)}


def test_self_introductions_name_the_speaker_who_says_them():
    segments = [seg("Speaker 1", "Hi, I'm Maya and this is the show."), seg("Speaker 2", "And I'm Tom."),
                seg("Speaker 1", "Today we talk about bees."), seg("Speaker 3", "Thanks for having me.")]
    assert named(segments) == {"Speaker 1": "Maya", "Speaker 2": "Tom", "Speaker 3": "Speaker 1"}
    [maya, *_] = name_speakers(segments)
    assert maya.source == "self" and maya.evidence == "Hi, I'm Maya and this is the show."


def test_an_honorific_is_not_taken_for_the_name():
    segments = [seg("Speaker 1", "Welcome back to Deep History, I'm Dr. Emma Lawson, and today it is lighthouses."),
                seg("Speaker 1", "Joining me is Professor Owen Hart."), seg("Speaker 2", "Thanks, Emma.")]
    found = named(segments)
    assert found["Speaker 1"].startswith("Emma") and found["Speaker 2"].startswith("Owen")


def test_host_phrasing_and_welcomed_guest_names_the_next_other_speaker():
    segments = [seg("Speaker 1", "Welcome to the show, I'm your host, Ana Silva."), seg("Speaker 1", "Welcome, Dan."),
                seg("Speaker 2", "Thanks, glad to be here."), seg("Speaker 1", "So tell me.")]
    assert named(segments) == {"Speaker 1": "Ana Silva", "Speaker 2": "Dan"}


def test_not_names_are_ignored():
    segments = [seg("Speaker 1", "I'm so glad. I'm Not sure. I'm Happy to be here."), seg("Speaker 2", "Me too."),
                seg("Speaker 1", "Look, it works."), seg("Speaker 2", "Right, I see."), seg("Speaker 1", "Okay.")]
    assert named(segments) == {"Speaker 1": "Speaker 1", "Speaker 2": "Speaker 2"}


def test_podcast_person_names_host_first_and_completes_short_names():
    persons = [Person("Dan Brown", role="guest"), Person("Maya Lopez", role="host")]
    segments = [seg("Speaker 1", "Hello there."), seg("Speaker 2", "Hi."), seg("Speaker 1", "Bye.")]
    assert named(segments, persons=persons) == {"Speaker 1": "Maya Lopez", "Speaker 2": "Dan Brown"}
    intro = [seg("Speaker 1", "Hello."), seg("Speaker 2", "I'm Maya.")]
    assert named(intro, persons=persons) == {"Speaker 2": "Maya Lopez", "Speaker 1": "Dan Brown"}


def test_vocatives_name_the_next_speaker():
    """"Tom, welcome to the show." and a panel introduced as a list, each guest then addressed by name."""
    segments = [seg("A", "Welcome to Val Radio. My guests today are Anna Morgan, a historian, and David Hughes."),
                seg("A", "Anna, let us start with you. What happened in 1940?"), seg("B", "The bridge fell."),
                seg("A", "What do you make of that, David?"), seg("C", "It was the wind."),
                seg("B", "Thanks, David."), seg("C", "Sure.")]
    assert named(segments) == {"A": "Speaker 1", "B": "Anna Morgan", "C": "David Hughes"}
    assert {n.label: n.source for n in name_speakers(segments)}["B"] == "vocative"
    interview = [seg("A", "I'm Val Moreno."), seg("A", "Tom, welcome to the show."), seg("B", "Thanks, Val.")]
    assert named(interview) == {"A": "Val Moreno", "B": "Tom"}


def test_a_name_said_only_at_a_sentence_start_is_not_a_vocative_unless_the_episode_knows_it():
    segments = [seg("A", "Honey, that is the question."), seg("B", "It is."), seg("A", "Sarah, over to you."),
                seg("B", "Well.")]
    assert named(segments) == {"A": "Speaker 1", "B": "Speaker 2"}  # nothing says Sarah is a person here
    assert named(segments, show_notes="With our guest Sarah Lee.")["B"] == "Sarah Lee"


def test_the_model_may_only_pick_a_name_the_episode_gives():
    segments = [seg("A", "Welcome to Crossing Lines. My guests are Anna Morgan and David Hughes."),
                seg("A", "So, over to Anna first."), seg("B", "Hello, everyone, it is good to be here."),
                seg("B", "I study old maps and the people who drew them for a living."), seg("C", "Hi.")]
    asked = []

    def ask(labels, lines, candidates):
        asked.append((labels, candidates))
        return {"B": "Anna Morgan", "C": "Rex"}  # Rex is nobody the episode names: refused

    long = [Segment(10.0 * k, 10.0 * k + 9, s.text, s.label, [], s.label) for k, s in enumerate(segments * 3)]
    names = {n.label: n for n in name_speakers(long, ask=ask, titles=["Crossing Lines"])}
    assert asked and asked[0][1] == ["Anna Morgan", "David Hughes"]  # not the podcast's name
    assert names["B"].name == "Anna Morgan" and names["B"].source == "llm"
    assert names["C"].name.startswith("Speaker")


def test_segment_split_at_turn_change_shown_by_words():
    words = [Word(0.0, 0.4, "Yes,"), Word(0.5, 0.9, "exactly"), Word(1.0, 1.4, "right."),
             Word(2.0, 2.4, "And"), Word(2.5, 2.9, "then"), Word(3.0, 3.5, "what?")]
    segment = Segment(0.0, 3.5, "Yes, exactly right. And then what?", None, words)
    out = assign_speakers([segment], [Turn(0.0, 1.6, 0), Turn(1.8, 4.0, 1)])
    assert [(s.speaker, s.text, s.start, s.end) for s in out] == [
        ("Speaker 1", "Yes, exactly right.", 0.0, 1.4), ("Speaker 2", "And then what?", 2.0, 3.5)]
    # a single stray word does not split a segment
    out = assign_speakers([segment], [Turn(0.0, 0.45, 1), Turn(0.45, 4.0, 0)])
    assert [s.speaker for s in out] == ["Speaker 1"]


def test_clustering_finds_the_groups_and_stops_at_the_threshold():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 16) * 5
    emb = np.concatenate([c + rng.normal(0, 0.3, (10, 16)) for c in centres])[[*range(0, 30, 3), *range(1, 30, 3), *range(2, 30, 3)]]
    labels = cluster(emb, 0.5)
    assert len(set(labels)) == 3
    assert len(set(cluster(emb, 2.0))) == 1


def test_the_model_is_not_believed_where_nobody_says_the_name_before_the_speaker_speaks():
    segments = [Segment(10.0 * k, 10.0 * k + 9, text, label, [], label) for k, (label, text) in enumerate([
        ("A", "My guests are Anna Morgan and David Hughes."), ("B", "Trains used to run every night across Europe."),
        ("A", "And why did they stop?"), ("B", "Cheap flights, mostly, in the nineties."), ("C", "And high costs.")] * 2)]
    names = {n.label: n.name for n in name_speakers(segments, ask=lambda labels, lines, names: {"A": "Anna Morgan",
                                                                                               "B": "Anna Morgan"})}
    assert names == {"A": "Speaker 1", "B": "Speaker 2", "C": "Speaker 3"}



def test_a_guest_welcomed_by_surname_alone_gets_the_full_name_the_episode_gives():
    """Speech recognition heard "Owen Fletcher, welcome to the show." as "Oh in Fletcher, …"."""
    segments = [seg("A", "I'm Ruth Palmer."), seg("A", "Oh in Fletcher, welcome to the show."),
                seg("B", "Thank you, Ruth."), seg("A", "Tell us about the ferries.")]
    notes = "Ruth Palmer talks with Owen Fletcher, a former ferry engineer."
    assert named(segments, show_notes=notes) == {"A": "Ruth Palmer", "B": "Owen Fletcher"}
    assert named(segments) == {"A": "Ruth Palmer", "B": "Speaker 1"}  # nobody the episode names
    chat = [seg("A", "I'm Ruth Palmer."), seg("A", "Everyone, welcome to the show."), seg("B", "Hi.")]
    assert named(chat, show_notes=notes)["B"] == "Speaker 1"


def test_the_one_guest_a_list_leaves_is_the_one_speaker_left():
    """d2: "Anna, let's start with you" heard as "And a, …"; David is addressed by name; the list
    of guests leaves Anna for the one guest left unnamed."""
    def said(label, text, start):
        return Segment(start, start + 25, text, label, [], label)

    segments = [said("A", "My guests today are Anna Morgan, a historian at the University of Bristol and David Hughes.", 0),
                said("A", "And a, let us start with you. What happened?", 25), said("B", "The line closed in 2009.", 50),
                said("A", "What do you make of that, David?", 75), said("C", "It was the cheap flights.", 100)]
    names = {n.label: n for n in name_speakers(segments)}
    assert (names["B"].name, names["B"].source) == ("Anna Morgan", "list")
    assert names["B"].evidence == segments[0].text
    assert names["C"].name == "David Hughes" and names["A"].name == "Speaker 1"
    # two speakers left for one name: no guess
    cohost = [*segments, said("D", "And I would add the night trains of 1965.", 125)]
    assert named(cohost)["B"] == "Speaker 2" and named(cohost)["D"] == "Speaker 3"
    # a speaker heard for under 20 s is no guest of the list (a diarizer's stray label)
    stray = [*segments, seg("E", "Yes.", 130)]
    assert named(stray)["B"] == "Anna Morgan" and named(stray)["E"] == "Speaker 2"

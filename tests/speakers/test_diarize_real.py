"""Diarization on espeak-ng conversations with known turns (real audio, real VAD and embeddings).

Measured (resemblyzer, 3 s windows, threshold 0.16): two voices and three voices both found with
the right count, 100 % of speech time on the right speaker, mean turn-boundary error 0.06 s.
The bounds below leave margin."""

from __future__ import annotations

import pytest

from earmark.jobs.speakers import default_diarizer, label_speakers
from earmark.speakers.naming import name_speakers
from earmark.models import Segment, Word
from tests.speakers.voices import LINES, conversation, score

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def diarizer():
    return default_diarizer("auto")


@pytest.mark.parametrize("speakers", [[0, 0, 1, 0, 1, 1], [0, 1, 2]], ids=["two", "three"])
def test_turns_match_what_was_fed_in(tmp_path, diarizer, speakers):
    rec = conversation(tmp_path / "talk.wav", speakers)
    turns = diarizer.diarize(rec.path)
    result = score(rec.turns, turns)
    print(diarizer.name, result)
    assert result["speakers"] == len(set(speakers))
    assert result["accuracy"] >= 0.9
    assert result["boundary_error"] <= 0.5 and result["max_boundary_error"] <= 1.5


def test_segments_get_the_speaker_of_their_turn(tmp_path, diarizer):
    rec = conversation(tmp_path / "talk.wav", [0, 1], lines=LINES[:6])
    # segments as ASR would give them: one per line, words spread evenly
    segments = []
    for (a, b, _), line in zip(rec.turns, rec.lines):
        words = line.split()
        w = (b - a) / len(words)
        segments.append(Segment(a, b, line, None, [Word(a + i * w, a + (i + 1) * w, x) for i, x in enumerate(words)]))
    segments[1].text = "Thanks for having me, I'm Tom."
    result = label_speakers(rec.path, segments, diarizer=diarizer)
    assert [s.label for s in result.segments] == ["Speaker 1", "Speaker 2"] * 3
    names = {n.label: n.name for n in name_speakers(result.segments)}
    assert [names[s.label] for s in result.segments] == ["Speaker 1", "Tom"] * 3
    assert result.engine.endswith(diarizer.embedder.name) and result.model

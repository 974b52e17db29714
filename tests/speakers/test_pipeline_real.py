"""The whole pipeline with the real faster-whisper tiny.en engine on a two-voice espeak recording:
self-introductions name the speakers."""

from __future__ import annotations

import pytest

from earmark.config import Settings
from earmark.jobs.runner import Pipeline
from earmark.models import Person
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore
from tests.jobs.conftest import subscribe_feed
from tests.speakers.voices import conversation

pytestmark = pytest.mark.real_model

LINES = [
    "Hi, I'm Maya, and this is the show about rivers and the towns beside them.",
    "And I'm Tom. Thanks for having me on the show today.",
    "Tom, what got you interested in rivers in the first place?",
    "My grandfather ran a small mill, and I watched the wheel turn every summer.",
    "That sounds wonderful. Thank you for listening, everyone.",
]


def test_self_introductions_name_speakers_through_the_pipeline(settings, server, tmp_path):
    rec = conversation(tmp_path / "ep.wav", [0, 1], lines=LINES)
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "settings.toml").write_text('asr_model = "tiny.en"\nsemantic_index = false\nhttp_timeout = 5.0\n')
    settings = Settings.load()
    library = Library(settings.db_path)
    try:
        server.add("/ep.wav", rec.path.read_bytes(), content_type="audio/wav")
        ids = subscribe_feed(library, settings, server, [{"guid": "e", "title": "E", "audio": "/ep.wav"}])
        pipeline = Pipeline(library, settings)
        # up to the names: the understanding stages after them are other tests' business
        job = pipeline.run_job(pipeline.enqueue(ids["e"], only=("download", "transcript", "speakers", "names")).id)
        stage = next(s for s in job.stages if s.name == "speakers")
        assert (stage.state, stage.engine.startswith("earmark-diarizer/"), bool(stage.model)) == ("done", True, True)
        names = next(s for s in job.stages if s.name == "names")
        assert (names.state, names.engine) == ("done", "rules")  # self-introductions: no model needed
        segments = TranscriptStore(library).get(ids["e"]).segments
        print([(s.start, s.speaker, s.text) for s in segments])
        for (a, b, who), line in zip(rec.turns, LINES):
            inside = [s for s in segments if a - 0.5 <= (s.start + s.end) / 2 <= b + 0.5]
            assert inside, line
            assert {s.speaker for s in inside} == {["Maya", "Tom"][who]}, (line, inside)
    finally:
        library.close()


def test_podcast_person_names_the_speakers(tmp_path):
    from earmark.jobs.speakers import default_diarizer, label_speakers
    from earmark.models import Segment
    from earmark.speakers.naming import name_speakers

    from tests.speakers.voices import LINES as PLAIN

    rec = conversation(tmp_path / "ep.wav", [0, 1], lines=PLAIN[:6])
    segments = [Segment(a, b, line) for (a, b, _), line in zip(rec.turns, PLAIN[:6])]
    persons = [Person("Tom Reed", role="guest"), Person("Maya Lopez", role="host")]
    result = label_speakers(rec.path, segments, diarizer=default_diarizer())
    names = {n.label: n.name for n in name_speakers(result.segments, persons=persons)}
    assert [names[s.label] for s in result.segments] == ["Maya Lopez", "Tom Reed"] * 3

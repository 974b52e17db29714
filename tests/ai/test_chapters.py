"""Generated chapters (the publisher's own: tests/transcripts/test_publisher_chapters.py): topic
changes from word use (and embeddings), each chapter titled from its own text, titles checked."""

from __future__ import annotations

import json

from earmark.ai.tasks.chapters import generate_chapters
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.topics import topic_changes
from tests.ai.fakes import TOPIC_CHANGES, scripted_transcript, valid_answer
from tests.engines.fake_llm import FakeLLM


def test_topic_changes_found_from_word_use_apart_and_at_turns():
    segments = scripted_transcript().segments
    found = topic_changes(segments, None, min_seconds=40)
    starts = [c.start for c in found]
    assert len(starts) == 3, found
    for true, got in zip(TOPIC_CHANGES, starts):
        assert abs(true - got) <= 12, (TOPIC_CHANGES, starts)
    assert all(b - a >= 40 for a, b in zip([0.0, *starts], [*starts, segments[-1].end]))
    assert topic_changes(segments, None, min_seconds=200) == []  # nothing fits a 200 s minimum twice


def _reader(titles=None):
    """Fake answers: a section's title is its first line's opening words (or ``titles`` in order)."""
    titles = list(titles or [])

    def answer(messages, schema):
        props = schema["properties"]
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


def test_the_model_is_asked_only_for_titles():
    llm = FakeLLM(default=_reader())
    generate_chapters(scripted_transcript(), llm, min_seconds=40)
    assert llm.history and all("advert" in c.schema["properties"] for c in llm.history)


def test_a_title_naming_what_the_section_never_says_is_asked_again_then_dropped():
    llm = FakeLLM(default=_reader(titles=["Welcome and bees", "Rex the Dog", "Rex the Dog", "Cycling", "Chess club"]))
    ctx = Context(llm, "Field Notes")
    result = generate_chapters(scripted_transcript(), llm, ctx=ctx, min_seconds=40)
    titles = [c.title for c in result.chapters]
    assert "Rex the Dog" not in titles and len(titles) == 4
    retry = next(c for c in llm.history if "Problems with that answer" in c.prompt)
    assert '"Rex"' in retry.prompt  # the problem was told to the model
    assert any(d.task == "chapters" and d.text == "Rex the Dog" for d in ctx.dropped)

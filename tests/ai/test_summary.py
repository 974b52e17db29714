"""Summary with the fake engine: one call when it fits, chunk → notes → combine when it does not,
schema validation with retries, and the transcript as the shared prefix of every task."""

from __future__ import annotations

import json

import pytest

from earmark.ai.tasks.chapters import generate_chapters
from earmark.ai.tasks.common import LLMOutputError, chunk_segments, segment_line
from earmark.ai.tasks.highlights import find_highlights
from earmark.ai.tasks.summary import summarize
from earmark.engines.fake_llm import FakeLLM
from tests.ai.fakes import long_transcript, scripted_transcript, valid_answer

GOOD = json.dumps({"paragraphs": ["Tom Hardy keeps 42 hives.", "Maria bakes sourdough."],
                   "takeaways": ["Bees.", "Bread.", "Bikes."]})


def test_short_transcript_one_call_transcript_first_and_provenance():
    llm = FakeLLM(answers=[GOOD], context=4096)
    result = summarize(scripted_transcript(), llm, title="Field Notes 1")
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives." and len(result.takeaways) == 3
    assert (result.engine, result.model) == ("fake", "fake-llm-1")
    assert set(result.prompt_version.split("+")) == {"summary@1", "system@1", "transcript@1"}
    [call] = llm.history
    roles = [m.role for m in call.messages]
    assert roles == ["system", "user", "user"]
    assert "Tom keeps forty two hives" in call.messages[1].content  # transcript in the prefix
    assert "Tom keeps forty two hives" not in call.messages[2].content  # instruction last, alone
    assert "takeaways" in call.messages[2].content
    assert call.schema["properties"]["takeaways"]["minItems"] == 3


def test_long_transcript_is_chunked_on_segment_boundaries_and_combined():
    transcript = long_transcript(minutes=30)
    llm = FakeLLM(default=valid_answer, context=2000)  # the fake raises if any prompt exceeds this
    result = summarize(transcript, llm)
    notes_calls = [c for c in llm.history if "notes" in c.schema["properties"]]
    combine_calls = [c for c in llm.history if "paragraphs" in c.schema["properties"]]
    assert len(notes_calls) >= 3 and len(combine_calls) == 1
    assert combine_calls[0] is llm.history[-1]
    # every segment line appears whole in exactly one chunk, in order
    seen = []
    for call in notes_calls:
        body = call.messages[1].content
        seen.extend(line for line in body.splitlines() if line.startswith("["))
    assert seen == [segment_line(s) for s in transcript.segments]
    assert "summary_notes@1" in result.prompt_version and "summary_combine@1" in result.prompt_version
    # the combine step sees the notes (tagged with their part's start), not the transcript
    assert "a note" in combine_calls[0].messages[1].content


def test_chunking_respects_budget():
    segments = long_transcript(minutes=10).segments
    chunks = chunk_segments(segments, lambda t: len(t.split()), 200)
    assert [s for c in chunks for s in c] == segments
    for chunk in chunks:
        assert sum(len(segment_line(s).split()) + 1 for s in chunk) <= 200


def test_invalid_output_is_retried_with_the_error_then_accepted():
    llm = FakeLLM(answers=["not json at all", json.dumps({"paragraphs": ["only one"], "takeaways": []}), GOOD])
    result = summarize(scripted_transcript(), llm)
    assert result.takeaways == ["Bees.", "Bread.", "Bikes."]
    assert len(llm.history) == 3
    second, third = llm.history[1].messages, llm.history[2].messages
    assert second[-2].role == "assistant" and second[-2].content == "not json at all"
    assert "not valid JSON" in second[-1].content
    assert "paragraphs" in third[-1].content and "too short" in third[-1].content  # jsonschema's message


def test_gives_up_after_bounded_retries_with_a_clear_error():
    llm = FakeLLM(default='{"paragraphs": []}')
    with pytest.raises(LLMOutputError, match="no valid summary after 3 attempts"):
        summarize(scripted_transcript(), llm)
    assert len(llm.history) == 3


def test_tasks_share_the_transcript_prefix():
    transcript = scripted_transcript()
    llm = FakeLLM(default=valid_answer, context=8192)
    summarize(transcript, llm, title="T")
    generate_chapters(transcript, llm, title="T")
    find_highlights(transcript, llm, title="T")
    assert len(llm.history) == 3
    prefixes = {tuple(call.messages[:2]) for call in llm.history}
    assert len(prefixes) == 1  # same system + transcript messages for every task
    # the fake reports prompt-cache hits the way a KV-cache engine does: the whole prefix
    prefix_words = sum(len(m.content.split()) for m in llm.history[0].messages[:2])
    completions = [llm.complete(list(c.messages)) for c in llm.history[1:3]]
    assert all(c.cached_tokens >= prefix_words for c in completions)

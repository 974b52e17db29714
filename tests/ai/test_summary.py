"""Summary with the fake engine: the episode read section by section, key sentences pointed at,
paragraphs written from them alone, takeaways picked among them and checked, and whatever fails a
check asked for once more, then dropped and recorded. The readings are shared between tasks."""

from __future__ import annotations

import json

import pytest

from earmark.ai.tasks.chapters import generate_chapters
from earmark.ai.tasks.common import Context, LLMOutputError
from earmark.ai.tasks.highlights import find_highlights
from earmark.ai.tasks.summary import summarize
from earmark.engines.fake_llm import FakeLLM
from tests.ai.fakes import numbered_lines, scripted_transcript, valid_answer


def answers(paragraphs=None, takeaways=None):
    """Valid extractive answers, with the paragraphs / takeaways calls scripted (lists are used
    one call at a time)."""
    paragraphs, takeaways = list(paragraphs or []), list(takeaways or [])

    def answer(messages, schema):
        props = schema["properties"]
        if "paragraphs" in props and paragraphs:
            return json.dumps({"paragraphs": paragraphs.pop(0)})
        if "takeaways" in props and takeaways:
            return json.dumps({"takeaways": takeaways.pop(0)})
        return valid_answer(messages, schema)

    return answer


def test_paragraphs_come_from_the_key_sentences_alone_and_record_provenance():
    llm = FakeLLM(default=answers())
    result = summarize(scripted_transcript(), llm, title="Field Notes")
    assert result.paragraphs and 3 <= len(result.takeaways) <= 7
    assert (result.engine, result.model) == ("fake", "fake-llm-1")
    assert {"section@2", "summary@3", "summary_paragraphs@1", "summary_takeaways@1"} <= set(result.prompt_version.split("+"))
    write = next(c for c in llm.history if "paragraphs" in c.schema["properties"])
    listed = numbered_lines(write.messages)
    assert 4 <= len(listed) < len(scripted_transcript().segments)  # the key sentences, not the transcript
    assert all(": " in m.content.split("\n")[3] for m in write.messages[1:2])  # each with its speaker
    # the takeaways call shares the paragraphs call's prefix, so an engine's prompt cache serves it
    pick = next(c for c in llm.history if "takeaways" in c.schema["properties"])
    assert pick.messages[:2] == write.messages[:2]


def test_an_invented_number_is_asked_again_with_the_problem_then_dropped():
    invented = ["Tom Hardy keeps 42 hives near Bristol. He sold 7000 jars last year.", "Maria bakes sourdough."]
    llm = FakeLLM(default=answers(paragraphs=[invented, invented]))
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    retry = next(c for c in llm.history if "Problems with that answer" in c.prompt)
    assert '"7000"' in retry.prompt and "never says" in retry.prompt
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives near Bristol."  # the sentence, not the paragraph, goes
    assert [(d.task, d.text) for d in ctx.dropped] == [("summary", "He sold 7000 jars last year.")]


def test_a_fixed_answer_replaces_the_first():
    first = ["Tom keeps 43 hives.", "Maria bakes bread."]
    fixed = ["Tom keeps 42 hives.", "Maria bakes bread."]
    llm = FakeLLM(default=answers(paragraphs=[first, fixed]))
    ctx = Context(llm, "Field Notes")
    assert summarize(scripted_transcript(), llm, ctx=ctx).paragraphs == fixed and not ctx.dropped


def test_a_loop_is_retried_with_a_frequency_penalty_and_repeats_are_removed():
    loop = ["Tom keeps bees on a hill outside Bristol. Tom keeps bees on a hill outside Bristol.", "Maria bakes bread."]
    llm = FakeLLM(default=answers(paragraphs=[loop, loop]))
    result = summarize(scripted_transcript(), llm)
    retry = next(c for c in llm.history if "Problems with that answer" in c.prompt)
    assert retry.frequency_penalty > 0 and "repeats itself" in retry.prompt
    assert result.paragraphs[0] == "Tom keeps bees on a hill outside Bristol."


def test_cut_off_text_is_trimmed_to_whole_sentences():
    cut = ["Tom keeps bees outside Bristol. But the wind wasn't a", "Maria bakes bread."]
    result = summarize(scripted_transcript(), FakeLLM(default=answers(paragraphs=[cut])))
    assert result.paragraphs == ["Tom keeps bees outside Bristol.", "Maria bakes bread."]


def test_a_takeaway_its_sentence_does_not_support_is_dropped():
    def takeaway_answers(messages, schema):
        return [{"note": 1, "text": numbered_lines(messages)[1]}, {"note": 2, "text": "Tom won the lottery in 1999."},
                {"note": 3, "text": numbered_lines(messages)[3]}]

    calls = []

    def answer(messages, schema):
        if "takeaways" in schema["properties"]:
            calls.append(1)
            return json.dumps({"takeaways": takeaway_answers(messages, schema)})
        return valid_answer(messages, schema)

    ctx = Context(FakeLLM(default=answer), "Field Notes")
    result = summarize(scripted_transcript(), ctx.engine, ctx=ctx)
    assert len(calls) == 2  # asked once more
    assert len(result.takeaways) == 2 and not any("lottery" in t for t in result.takeaways)
    assert any("lottery" in d.text and "1999" in d.reason for d in ctx.dropped)


def test_gives_up_after_bounded_retries_with_a_clear_error():
    llm = FakeLLM(default='{"title": 5}')
    with pytest.raises(LLMOutputError, match="no valid section reading after 3 attempts"):
        summarize(scripted_transcript(), llm)
    assert len(llm.history) == 3


def test_the_tasks_of_one_episode_read_each_section_once():
    transcript = scripted_transcript()
    llm = FakeLLM(default=valid_answer)
    generate_chapters(transcript, llm, title="T", min_seconds=40)
    reads = len([c for c in llm.history if "advert" in c.schema["properties"]])
    chapters = generate_chapters(transcript, llm, title="T", min_seconds=40)
    starts = [c.start for c in chapters.chapters]
    summarize(transcript, llm, title="T", chapter_starts=starts)
    find_highlights(transcript, llm, title="T", chapter_starts=starts)
    assert reads == len(chapters.chapters)
    assert len([c for c in llm.history if "advert" in c.schema["properties"]]) == reads
    # the instruction comes before the section, so calls share a prefix the engine can cache
    first, second = [c for c in llm.history if "advert" in c.schema["properties"]][:2]
    assert first.messages[1].content.split("Section 1")[0] == second.messages[1].content.split("Section 2")[0]

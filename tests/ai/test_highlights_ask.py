"""Highlights (moments grown around each section's best sentence, titled from their own text and
checked) and ask (hybrid retrieval, the answer citing the sentences that hold it, checked), with
the fake engine."""

from __future__ import annotations

import json

from earmark.ai.tasks.ask import NOT_SAID, SentenceRetriever, ask
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.highlights import MAX_SECONDS, MIN_SECONDS, find_highlights
from tests.engines.fake_llm import FakeLLM
from earmark.models import Segment
from tests.ai.fakes import numbered_lines, scripted_transcript, valid_answer


def test_highlights_are_whole_sentences_inside_their_sections_and_never_overlap():
    transcript = scripted_transcript()
    found = find_highlights(transcript, FakeLLM(default=valid_answer), title="Field Notes")
    assert 3 <= len(found) <= 8
    starts = {s.start for s in transcript.segments}
    ends = {s.end for s in transcript.segments}
    for h in found:
        assert MIN_SECONDS <= h.end - h.start <= MAX_SECONDS
        assert h.start in starts and h.end in ends and h.quote and h.title and h.why.endswith(".")
        assert (h.engine, h.model) == ("fake", "fake-llm-1") and "highlights@" in h.prompt_version
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))
    assert len({h.title.lower() for h in found}) == len(found)


def test_a_highlight_title_and_line_come_from_the_moment_alone():
    llm = FakeLLM(default=valid_answer)
    find_highlights(scripted_transcript(), llm, title="Field Notes")
    writes = [c for c in llm.history if "why" in c.schema["properties"]]
    assert writes
    for call in writes:
        lines = numbered_lines(call.messages)
        assert 3 <= len(lines) <= 20  # a moment's sentences, not the episode


def test_a_duplicate_or_unsupported_title_is_asked_again_then_the_moment_dropped():
    def answer(messages, schema):
        if "why" in schema["properties"]:
            return json.dumps({"title": "Tom's Bees", "why": "Tom explains his 99 hives in Paris."})
        return valid_answer(messages, schema)

    llm = FakeLLM(default=answer)
    ctx = Context(llm, "Field Notes")
    found = find_highlights(scripted_transcript(), llm, ctx=ctx)
    assert found == []  # every moment kept failing: none shown rather than a wrong one
    retry = next(c for c in llm.history if "Problems with that answer" in c.prompt)
    assert '"99"' in retry.prompt and '"Paris"' in retry.prompt
    assert ctx.dropped and all(d.task == "highlights" for d in ctx.dropped)


YES, NO = '{"answers": true}', '{"answers": false}'
SEGMENTS = [
    Segment(0, 6, "Welcome back, today it is bridges.", "Val"),
    Segment(6, 14, "The Millennium Bridge in London started to wobble on its opening day.", "Tom"),
    Segment(14, 22, "People walking on it fell into step with the sway.", "Tom"),
    Segment(22, 30, "The fix, two years later, added dozens of dampers under the deck.", "Tom"),
    Segment(30, 38, "Now something completely different: my garden.", "Val"),
    Segment(38, 46, "I grow tomatoes and beans in raised beds.", "Val"),
    Segment(46, 54, "The beans climb up bamboo canes every summer.", "Val"),
]


def _pick(word: str | None):
    """The model's choice: the shown sentence holding ``word`` (0, none, when ``word`` is None)."""
    def answer(messages, schema):
        lines = numbered_lines(messages)
        return json.dumps({"sentence": next(k for k, line in lines.items() if word in line) if word else 0})
    return answer


def _say(text: str) -> str:
    return json.dumps({"answer": text})


def test_retrieval_stems_the_question():
    [found] = SentenceRetriever(SEGMENTS).find("When was it fixed?", 1)
    assert found[0] <= 22 < found[1]  # "fixed" finds "fix"
    [found] = SentenceRetriever(SEGMENTS).find("Which beans climb?", 1)
    assert found[0] <= 46 < found[1]


def test_the_answer_cites_the_one_sentence_that_holds_it():
    llm = FakeLLM(answers=[_pick("dampers"), YES, _say("They added dozens of dampers under the deck."), YES])
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm, title="Bridges")
    assert result.answerable and result.answer == "They added dozens of dampers under the deck."
    [citation] = result.citations
    assert (citation.start, citation.end) == (22, 30) and "dampers" in citation.text
    pick, sentence_check, write, check = llm.history
    assert "How was the wobbly bridge fixed?" in pick.prompt and "sentence" in pick.schema["properties"]
    # the sentence is checked and the answer written from the chosen sentence alone, then read beside the question
    for call in (sentence_check, write):
        assert "dampers" in call.prompt and "opening day" not in call.prompt
    assert "They added dozens of dampers" in check.prompt and "How was the wobbly bridge fixed?" in check.prompt
    assert "answers" in check.schema["properties"]
    assert result.passages and all(p.text for p in result.passages)
    assert {"ask@4", "ask_check@1", "ask_answer@1", "ask_answer_check@1"} <= set(result.prompt_version.split("+"))


def test_an_answer_the_sentence_does_not_hold_is_replaced_by_the_sentence():
    for invented, dropped in (("It was fixed with steel cables in 1999.", ['"1999"']),  # a number the sentence lacks
                              ("The wobbly bridge was fixed.", [])):  # nothing the question did not say
        llm = FakeLLM(answers=[_pick("dampers"), YES, _say(invented), YES])
        ctx = Context(llm, "Bridges")
        result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm, ctx=ctx)
        assert result.answerable and result.answer == "The fix, two years later, added dozens of dampers under the deck."
        assert invented not in llm.history[-1].prompt
        assert [next(w for w in dropped if w in d.reason) for d in ctx.dropped] == dropped


def test_a_sentence_the_model_asked_apart_rejects_is_declined():
    llm = FakeLLM(answers=[_pick("wobble"), NO])
    ctx = Context(llm, "Bridges")
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm, ctx=ctx)
    assert not result.answerable and result.answer == NOT_SAID and result.citations == []
    assert len(llm.history) == 2 and "opening day" in llm.history[1].prompt and "dampers" not in llm.history[1].prompt
    assert ctx.dropped[0].task == "answer"


def test_an_answer_to_a_neighbouring_question_is_declined():
    llm = FakeLLM(answers=[_pick("wobble"), YES, _say("It wobbled on its opening day."), NO])  # true, but not how it was fixed
    ctx = Context(llm, "Bridges")
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm, ctx=ctx)
    assert not result.answerable and result.answer == NOT_SAID and result.citations == []
    assert "opening day" in llm.history[3].prompt and ctx.dropped[0].task == "answer"
    assert "does not answer" in ctx.dropped[0].reason


def test_ask_declines():
    llm = FakeLLM(answers=[_pick(None)])
    result = ask(SEGMENTS, "What is the bridge's colour?", llm)
    assert not result.answerable and result.answer == NOT_SAID and result.citations == [] and len(llm.history) == 1
    nothing = FakeLLM()
    assert ask(SEGMENTS, "zebra quokka?", nothing).answer == NOT_SAID and nothing.history == []

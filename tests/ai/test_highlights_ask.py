"""Highlights (30–120 s, sentence-aligned, 3–8) and ask-the-episode (citations inside the
retrieved passages; declining when the passages don't say)."""

from __future__ import annotations

import json

import pytest

from earmark.ai.tasks.ask import NOT_SAID, ask, retrieve
from earmark.ai.tasks.common import LLMOutputError
from earmark.ai.tasks.highlights import find_highlights, snap_span
from earmark.engines.fake_llm import FakeLLM
from tests.ai.fakes import scripted_transcript


def _hl(spans):
    return json.dumps({"highlights": [{"start": a, "end": b, "title": f"T{a}", "why": "because"} for a, b in spans]})


def test_highlights_snapped_to_sentences_and_bounded():
    segments = scripted_transcript().segments
    starts = {s.start for s in segments}
    ends = {s.end for s in segments}
    # 3.5 s into a line, too short (10 s), too long (200 s), and one that overlaps the first
    # (moved to start after it)
    llm = FakeLLM(answers=[_hl([(3.5, 50), (100, 110), (150, 350), (20, 60)])])
    found = find_highlights(segments, llm)
    assert len(found) == 4
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))  # no two overlap
    assert found[1].start == next(s.start for s in segments if s.start >= found[0].end)
    for h in found:
        assert 30 <= h.end - h.start <= 120
        assert h.start in starts and h.end in ends
        assert h.quote.startswith(next(s.text for s in segments if s.start == h.start))
        assert (h.engine, h.model) == ("fake", "fake-llm-1") and "highlights@1" in h.prompt_version
    assert found[0].start == 0.0  # 3.5 s snapped back to the line's start
    assert 30 <= found[1].end - found[1].start  # 100–110 widened to 30 s
    assert [h.start for h in found] == sorted(h.start for h in found)


def test_highlights_too_few_usable_moments_are_retried():
    llm = FakeLLM(answers=[_hl([(0, 5), (0, 6), (0, 7)]), _hl([(0, 40), (60, 100), (120, 160)])])
    found = find_highlights(scripted_transcript(), llm)
    assert len(found) == 3 and len(llm.history) == 2
    assert "usable moments" in llm.history[1].messages[-1].content


def test_snap_span_impossible_cases():
    segments = scripted_transcript().segments
    assert snap_span(segments, 280, 290) is None  # within the last 30 s nothing fits
    i, j = snap_span(segments, 0, 500)
    assert segments[j].end - segments[i].start <= 120


def test_retrieve_ranks_the_passage_that_holds_the_answer():
    segments = scripted_transcript().segments
    found = retrieve(segments, "How old is the sourdough starter Gerald?")
    assert found and any("eleven years old" in p.text for p in found)
    best = max(found, key=lambda p: p.score)
    assert "Gerald" in best.text
    assert retrieve(segments, "quantum chromodynamics lattice") == []


def test_ask_cites_retrieved_passage_start_times():
    segments = scripted_transcript().segments

    def answer(messages, schema):
        enum = schema["properties"]["citations"]["items"]["enum"]
        holder = next(s for s in enum if "eleven years" in messages[-1].content.split(f"(start {s:g},")[1].split("(start ")[0])
        return json.dumps({"answerable": True, "answer": "Eleven years old.", "citations": [holder]})

    llm = FakeLLM(answers=[answer])
    result = ask(segments, "How old is the starter Gerald?", llm, title="Field Notes")
    assert result.answerable and result.answer == "Eleven years old."
    [cite] = result.citations
    assert any(p.start == cite.start and p.end == cite.end for p in result.passages)
    assert "eleven years old" in cite.text
    line = next(s for s in segments if "eleven years old" in s.text)
    assert cite.start <= line.start < cite.end  # jumping there plays the answer
    call = llm.history[0]
    assert call.messages[-1].content.rstrip().endswith("give no citations.")
    assert "Question: How old is the starter Gerald?" in call.messages[-1].content


def test_ask_rejects_citations_outside_the_passages_then_fails():
    llm = FakeLLM(default=json.dumps({"answerable": True, "answer": "Yes.", "citations": [9999]}))
    with pytest.raises(LLMOutputError, match="no valid answer after 3 attempts"):
        ask(scripted_transcript(), "Where does Tom keep his hives?", llm)


def test_ask_declines():
    # nothing in the episode matches: no model call at all
    llm = FakeLLM()
    result = ask(scripted_transcript(), "What is quantum chromodynamics?", llm)
    assert (result.answerable, result.answer, result.citations) == (False, NOT_SAID, [])
    assert llm.history == []
    # passages found, but the model says they don't answer it: citations dropped
    llm = FakeLLM(answers=[lambda m, s: json.dumps({"answerable": False, "answer": "The episode doesn't say what Tom's dog is called.",
                                                    "citations": s["properties"]["citations"]["items"]["enum"][:1]})])
    result = ask(scripted_transcript(), "What is the name of Tom's dog?", llm)
    assert not result.answerable and result.citations == [] and "doesn't say" in result.answer

"""The understanding tasks on the bundled model (Qwen2.5-Coder-1.5B via xllamacpp), on a scripted
5-minute conversation whose facts and topic changes are known. A few minutes on 2 cores."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from earmark.ai.llm import get_llm
from earmark.ai.tasks.ask import ask
from earmark.ai.tasks.chapters import generate_chapters
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.highlights import find_highlights
from earmark.ai.tasks.summary import summarize
from earmark.config import Settings
from tests.ai.fakes import TOPIC_CHANGES, scripted_transcript

pytestmark = pytest.mark.real_model
FIGURES: dict[str, object] = {}


@pytest.fixture(scope="module")
def llm():
    # a fixed home so the 1.1 GB GGUF is assembled (and hash-checked) once per machine
    home = Path(tempfile.gettempdir()) / "earmark-real-model-home"
    engine = get_llm(Settings(home=home, llm_engine="llama-cpp", llm_context=4096))
    yield engine
    print("\nreal-model figures:", FIGURES)


def _timed(name, fn):
    started = time.perf_counter()
    result = fn()
    FIGURES[name] = round(time.perf_counter() - started, 1)
    return result


def test_summary_names_the_key_facts(llm):
    ctx = Context(llm, "Field Notes")
    result = _timed("summary_s", lambda: summarize(scripted_transcript(), llm, ctx=ctx))
    text = " ".join(result.paragraphs + result.takeaways).lower()
    facts = {"tom hardy": "tom hardy" in text, "bees": "bee" in text, "sourdough": "sourdough" in text,
             "gerald": "gerald" in text, "bicycle": "bicycl" in text or "cycl" in text or "bike" in text,
             "chess": "chess" in text, "bristol": "bristol" in text}
    FIGURES["summary_facts"] = f"{sum(facts.values())}/{len(facts)}"
    FIGURES["summary_retries"] = ctx.usage.retries
    assert 2 <= len(result.paragraphs) <= 4 and 3 <= len(result.takeaways) <= 7
    assert sum(facts.values()) >= 5, (facts, text)


def test_chapter_boundaries_near_the_true_topic_changes(llm):
    ctx = Context(llm, "Field Notes")
    result = _timed("chapters_s", lambda: generate_chapters(scripted_transcript(), llm, ctx=ctx))
    starts = [c.start for c in result.chapters[1:]]
    near = sum(any(abs(s - true) <= 20 for s in starts) for true in TOPIC_CHANGES)
    FIGURES["chapter_starts"] = starts
    FIGURES["chapter_titles"] = [c.title for c in result.chapters]
    FIGURES["chapters_within_20s"] = f"{near}/{len(TOPIC_CHANGES)}"
    assert near >= 2 and all(c.generated and c.title for c in result.chapters)


def test_highlights_bounds(llm):
    found = _timed("highlights_s", lambda: find_highlights(scripted_transcript(), llm))
    FIGURES["highlights"] = [(h.start, h.end, h.title) for h in found]
    assert found and all(30 <= h.end - h.start <= 120 for h in found)


def test_answer_cites_the_passage_that_holds_it(llm):
    segments = scripted_transcript().segments
    line = next(s for s in segments if "eleven years old" in s.text)
    result = _timed("ask_s", lambda: ask(segments, "How old is Maria's sourdough starter?", llm))
    FIGURES["ask_answer"] = result.answer
    assert result.answerable and "eleven" in result.answer.lower() or "11" in result.answer
    assert any(c.start <= line.start < c.end for c in result.citations), result


def test_unanswerable_question_is_declined(llm):
    result = _timed("decline_s", lambda: ask(scripted_transcript().segments, "What is the name of Tom's dog?", llm))
    FIGURES["decline_answer"] = result.answer
    assert not result.answerable and result.citations == []

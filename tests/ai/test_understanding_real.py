"""The understanding tasks on the bundled model (Qwen2.5-Coder-1.5B via xllamacpp), on a held-out
scripted panel (tests/episodes/h2-panel.toml: nobody tuned prompts or thresholds on it). The
transcript is the script itself, timed by speaking it with espeak-ng, so the checks are about the
model's work, not the speech recognition: properties a listener relies on, not exact strings.
A few minutes on 2 cores."""

from __future__ import annotations

import re
import time

import pytest

from earmark.ai.grounding import Source, ends_sentence, repeats
from earmark.ai.llm import get_llm
from earmark.ai.tasks.ask import ask
from earmark.ai.tasks.chapters import generate_chapters
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.highlights import find_highlights
from earmark.ai.tasks.summary import summarize
from earmark.ai.terms import terms
from earmark.config import Settings
from earmark.jobs.understanding import text_embedder
from earmark.models import Segment, Transcript
from earmark.speakers.naming import name_speakers
from tests.episodes.scripts import HERE, load, speak

pytestmark = pytest.mark.real_model
FIGURES: dict[str, object] = {}
SCRIPT = load(HERE / "h2-panel.toml")


@pytest.fixture(scope="module")
def llm(llm_home):
    engine = get_llm(Settings(home=llm_home, llm_engine="llama-cpp", llm_context=4096))
    yield engine
    print("\nreal-model figures:", FIGURES)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    return speak(SCRIPT, tmp_path_factory.mktemp("h2") / "h2.wav")


@pytest.fixture(scope="module")
def transcript(spoken) -> Transcript:
    shown = {sid: s.name or f"Speaker {n}" for n, (sid, s) in enumerate(SCRIPT.speakers.items(), 1)}
    return Transcript([Segment(a, b, line.text, shown[line.speaker]) for line, a, b in
                       zip(SCRIPT.lines, spoken.starts, spoken.ends)], source="publisher", format="text", language="en")


@pytest.fixture(scope="module")
def source(transcript) -> Source:
    return Source.of("\n".join(s.text for s in transcript.segments), " ".join({s.speaker for s in transcript.segments}),
                     SCRIPT.title, SCRIPT.show_notes)


@pytest.fixture(scope="module")
def chapters(llm, transcript):
    ctx = Context(llm, SCRIPT.title)
    return _timed("chapters_s", lambda: generate_chapters(transcript, llm, ctx=ctx, embed=text_embedder(),
                                                           notes=SCRIPT.show_notes))


def _timed(name, fn):
    started = time.perf_counter()
    result = fn()
    FIGURES[name] = round(time.perf_counter() - started, 1)
    return result


def _normal(text: str) -> str:
    from text_to_num import alpha2digit

    return re.sub(r"(?<=\d),(?=\d{3})", "", alpha2digit(text.lower().replace("-", " "), "en"))


def test_chapters_start_at_the_topic_changes_with_titles_from_their_text(chapters, spoken, source):
    truth = spoken.topic_starts(SCRIPT)
    starts = [c.start for c in chapters.chapters[1:]]
    near = sum(any(abs(s - t) <= 20 for s in starts) for t in truth)
    FIGURES["chapters"] = [(round(c.start), c.title) for c in chapters.chapters]
    assert near >= len(truth) - 1, (truth, starts)
    assert len(starts) <= len(truth) + 2
    assert all(c.generated and c.title and not source.unsupported(c.title, title=True) for c in chapters.chapters)


def test_summary_keeps_the_facts_and_invents_nothing(llm, transcript, chapters, source):
    starts = [c.start for c in chapters.chapters]
    result = _timed("summary_s", lambda: summarize(transcript, llm, ctx=Context(llm, SCRIPT.title), chapter_starts=starts,
                                                   embed=text_embedder(), notes=SCRIPT.show_notes))
    units = [_normal(u) for u in result.paragraphs + result.takeaways]
    kept = [f.fact for f in SCRIPT.facts
            if any(all(any(_normal(alt) in u for alt in t.split("|")) for t in f.terms) for u in units)]
    FIGURES["summary"] = result.paragraphs
    FIGURES["summary_facts"] = f"{len(kept)}/{len(SCRIPT.facts)}"
    assert 2 <= len(result.paragraphs) <= 4 and 3 <= len(result.takeaways) <= 7
    assert len(kept) >= len(SCRIPT.facts) // 2, (kept, result)
    for text in result.paragraphs + result.takeaways:
        assert ends_sentence(text) and not source.unsupported(text), text
    assert not repeats(result.paragraphs, n=8)


def test_highlights_are_distinct_and_supported_by_their_own_moment(llm, transcript, chapters, source):
    starts = [c.start for c in chapters.chapters]
    found = _timed("highlights_s", lambda: find_highlights(transcript, llm, ctx=Context(llm, SCRIPT.title),
                                                           chapter_starts=starts, embed=text_embedder()))
    FIGURES["highlights"] = [(round(h.start), round(h.end), h.title, h.why) for h in found]
    assert found
    assert len({h.title.lower() for h in found}) == len(found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))
    for h in found:
        window = " ".join(s.text for s in transcript.segments if s.end > h.start and s.start < h.end)
        assert 30 <= h.end - h.start <= 120 and ends_sentence(h.why)
        assert set(terms(h.title)) & set(terms(window)), (h.title, window)
        assert not source.unsupported(h.why), h.why


def test_the_answer_cites_the_line_that_holds_it(llm, transcript, spoken):
    question = SCRIPT.questions[0]
    line = SCRIPT.line_with(question.evidence)
    result = _timed("ask_s", lambda: ask(transcript, question.question, llm, title=SCRIPT.title))
    FIGURES["answer"] = result.answer
    assert result.answerable, result
    assert all(any(_normal(alt) in _normal(result.answer) for alt in m.split("|")) for m in question.must), result.answer
    assert any(c.start <= spoken.ends[line] and c.end >= spoken.starts[line] for c in result.citations), result


def test_a_question_the_episode_does_not_answer_is_declined(llm, transcript):
    result = _timed("decline_s", lambda: ask(transcript, SCRIPT.unanswerable[0].question, llm, title=SCRIPT.title))
    FIGURES["decline"] = result.answer
    assert not result.answerable and result.citations == []


def test_guests_introduced_in_a_list_are_named_when_addressed(spoken):
    # diarizer-style labels in order of first appearance; the names come from the words alone
    order = list(dict.fromkeys(line.speaker for line in SCRIPT.lines))
    labels = {sid: f"Speaker {order.index(sid) + 1}" for sid in order}
    segments = [Segment(a, b, line.text, labels[line.speaker], [], labels[line.speaker])
                for line, a, b in zip(SCRIPT.lines, spoken.starts, spoken.ends)]
    named = {n.label: n for n in name_speakers(segments, show_notes=SCRIPT.show_notes)}
    for sid, speaker in SCRIPT.speakers.items():
        got = named[labels[sid]].name
        if speaker.said:
            assert got.split()[0] == speaker.name.split()[0], (sid, got, named[labels[sid]].evidence)
        else:
            assert got.startswith("Speaker") or got.split()[0] == (speaker.full_name or speaker.name).split()[0]

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


def test_a_highlight_line_is_its_first_whole_sentence_even_when_the_model_runs_on():
    def answer(messages, schema):
        if "why" in schema["properties"]:
            lines = numbered_lines(messages)
            title = " ".join(lines[1].split()[:4]).rstrip(".,?!")
            # two sentences, the second cut off by the token limit (as salvaged JSON arrives)
            return json.dumps({"title": title, "why": f"{lines[1]} {lines[2]} And then"})
        return valid_answer(messages, schema)

    llm = FakeLLM(default=answer)
    found = find_highlights(scripted_transcript(), llm, title="Field Notes")
    assert found
    for h in found:
        assert h.why.endswith(".") and h.why.count(". ") == 0 and "And then" not in h.why, h.why
        assert h.why in h.quote  # the moment's first sentence, nothing after it


def test_a_highlight_line_that_gives_the_host_the_guests_story_goes_to_the_guest():
    """h1/h5: "Oliver Brent shares his experience of tasting olive oil" (his guest's)."""
    from earmark.ai.tasks.highlights import _ask, _write

    chunk = [Segment(0, 5, "How many hives do you keep these days?", "Rachel Carter"),
             Segment(5, 10, "Today I look after 64 hives on 19 rooftops.", "Tom Fletcher")]
    wrong = json.dumps({"title": "Rooftop Hives", "why": "Rachel Carter looks after 64 hives on 19 rooftops."})
    llm = FakeLLM(answers=[wrong])
    ctx = Context(llm, "Field Notes")
    messages = _ask(ctx, chunk)
    assert _write(ctx, chunk, messages, json.loads(wrong), [], "en") == (
        "Rooftop Hives", "Tom Fletcher looks after 64 hives on 19 rooftops.")
    assert "it gives Rachel Carter what Tom Fletcher said" in llm.history[-1].prompt  # asked once more first
    assert [d.reason for d in ctx.dropped] == ["it gives Rachel Carter what Tom Fletcher said: given to the one whose it is"]


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


def _cite(word: str, text: str | None = None):
    def answer(messages, schema):
        lines = numbered_lines(messages)
        n = next(k for k, line in lines.items() if word in line)
        return json.dumps({"answerable": True, "evidence": [n], "answer": text or lines[n]})
    return answer


def test_retrieval_stems_the_question():
    [found] = SentenceRetriever(SEGMENTS).find("When was it fixed?", 1)
    assert found[0] <= 22 < found[1]  # "fixed" finds "fix"
    [found] = SentenceRetriever(SEGMENTS).find("Which beans climb?", 1)
    assert found[0] <= 46 < found[1]


def test_the_answer_cites_the_sentence_that_holds_it():
    llm = FakeLLM(answers=[_cite("dampers", "They added dozens of dampers under the deck."), YES])
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm, title="Bridges")
    assert result.answerable and "dampers" in result.answer
    [citation] = result.citations
    assert (citation.start, citation.end) == (22, 30) and "dampers" in citation.text
    assert "How was the wobbly bridge fixed?" in llm.history[0].prompt
    assert result.passages and all(p.text for p in result.passages)


def test_an_answer_that_copies_a_sentence_cites_that_sentence_whatever_number_the_model_gave():
    def off_by_one(messages, schema):  # d3: cited [5, 6], copied sentences 4 and 5
        lines = numbered_lines(messages)
        n = next(k for k, line in lines.items() if "dampers" in line)
        return json.dumps({"answerable": True, "evidence": [n + 1],
                           "answer": "The fix, two years later, added dozens of dampers under the deck."})
    llm = FakeLLM(answers=[off_by_one, YES])
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm)
    assert result.answerable and [c.start for c in result.citations] == [22]
    assert len(llm.history) == 2  # not asked again


def test_a_copied_sentence_with_nothing_of_the_question_is_left_out_of_the_answer():
    pasted = ("People walking on it fell into step with the sway. "
              "The fix, two years later, added dozens of dampers under the deck.")
    llm = FakeLLM(answers=[_cite("dampers", pasted), YES])
    result = ask(SEGMENTS, "How were the dampers added?", llm)
    assert result.answer == "The fix, two years later, added dozens of dampers under the deck."
    assert [c.start for c in result.citations] == [22]
    # unless that sentence holds what the question asks for
    both = ("The Millennium Bridge in London started to wobble on its opening day. "
            "The fix, two years later, added dozens of dampers under the deck.")
    llm = FakeLLM(answers=[_cite("dampers", both), YES])
    assert ask(SEGMENTS, "How long did the Millennium Bridge wobble?", llm).answer == both


def test_an_answer_its_citation_does_not_support_is_asked_again_then_declined():
    wrong = _cite("dampers", "It was fixed with steel cables in 1999.")
    llm = FakeLLM(answers=[wrong, wrong])
    ctx = Context(llm, "Bridges")
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm, ctx=ctx)
    assert not result.answerable and result.answer == NOT_SAID and result.citations == []
    assert "Problems with that answer" in llm.history[1].prompt and '"1999"' in llm.history[1].prompt
    assert ctx.dropped[0].task == "answer"


def test_the_model_asked_apart_must_agree_the_cited_sentence_answers_it():
    wobble = _cite("wobble", "It wobbled on its opening day.")  # true, but no answer to "how was it fixed?"
    declines = json.dumps({"answerable": False, "evidence": [], "answer": "Not said."})
    llm = FakeLLM(answers=[wobble, NO, declines])
    ctx = Context(llm, "Bridges")
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm, ctx=ctx)
    assert not result.answerable and result.citations == []
    check = llm.history[1]
    assert "answers" in check.schema["properties"] and "opening day" in check.prompt and "dampers" not in check.prompt
    # asked again without the sentence it cited: told, the bundled model cited the same one again
    assert "opening day" not in llm.history[2].prompt and "Problems with that answer" not in llm.history[2].prompt
    assert "dampers" in llm.history[2].prompt

    llm = FakeLLM(answers=[wobble, NO, _cite("dampers"), YES])
    result = ask(SEGMENTS, "How was the wobbly bridge fixed?", llm)
    assert result.answerable and [c.start for c in result.citations] == [22]


def test_an_answer_that_only_repeats_the_question_is_asked_again_then_declined():
    echo = _cite("beans climb", "Val grows beans.")  # h1: "Which olive variety does the farm grow?" "The farm grows olives."
    llm = FakeLLM(answers=[echo, echo])
    result = ask(SEGMENTS, "Which variety of beans does Val grow?", llm)
    assert not result.answerable and result.answer == NOT_SAID
    assert "only repeats the question" in llm.history[1].prompt
    # a yes/no question may be answered in its own words
    yes = FakeLLM(answers=[_cite("beans climb", "The beans climb bamboo canes."), YES])
    assert ask(SEGMENTS, "Do the beans climb bamboo canes?", yes).answerable


def test_an_answer_must_give_what_the_question_asks_for():
    from earmark.ai.tasks.ask import _lacks

    routes = "One operator, Lumen Rail, went from two routes in 2019 to 11 routes this year."
    assert "how many passengers" in _lacks("How many passengers did Lumen Rail carry last year?", routes, routes, "en")
    assert "a speed" in _lacks("How fast does the night train travel?", routes, routes, "en")
    assert "a number" in _lacks("How much does a school pay to join?", "Schools watch the colony all year.", "", "en")
    assert "money" in _lacks("How much does a jar cost?", "It sold 400 jars.", "", "en")
    for question, answer in [("How many colonies did Tom lose?", "He lost 31 of his 40 colonies."),
                             ("How many people work there?", "It employs 48 staff."),
                             ("How much does a jar cost?", "Nine pounds."),
                             ("How long did the repairs take?", "Fourteen months."),
                             ("How fast does it go?", "About 120 kilometres an hour."),
                             ("When did the line close?", "In 2009."), ("When does it open?", "On Monday morning.")]:
        assert _lacks(question, answer, answer, "en") is None, question
    assert _lacks("Wie viele Passagiere?", "Zwei Strecken.", "", "de") is None  # English questions only
    costs = "The company claims rising energy costs, which have tripled in three years."
    assert "names nobody" in _lacks("Who spoke for the workers at Harwick Bakeries?", costs, costs, "en")
    shaw = "Daniel Shaw, who represents the staff for the bakers' union, said families had worked there for three generations."
    assert _lacks("Who spoke for the workers at Harwick Bakeries?", shaw, shaw, "en") is None
    took_part = "Just over 4,300 runners took part."
    assert "did not happen" in _lacks("How many runners did not finish the marathon?", took_part, took_part, "en")
    for question, answer in [("How many runners didn't finish?", "About 120 runners dropped out."),
                             ("Who did not vote for the tram?", "Roger Bell voted against it and did not back the budget."),
                             ("Why couldn't the supports be patched?", "They were badly corroded.")]:
        assert _lacks(question, answer, answer, "en") is None, question

    wrong = _cite("wobble", "It wobbled on its opening day.")  # its sentence has no number: others are shown
    llm = FakeLLM(answers=[wrong, json.dumps({"answerable": False, "evidence": [], "answer": "Not said."})])
    assert ask(SEGMENTS, "How many dampers were added?", llm).answer == NOT_SAID
    assert "opening day" not in llm.history[1].prompt
    vague = _cite("dampers", "They added dampers under the deck.")  # its sentence says how long: told so
    llm = FakeLLM(answers=[vague, vague])
    assert ask(SEGMENTS, "How long after the opening did the fix come?", llm).answer == NOT_SAID
    assert "asks for a length or a time" in llm.history[1].prompt


def test_ask_declines():
    llm = FakeLLM(answers=[json.dumps({"answerable": False, "evidence": [], "answer": "Not said."})])
    result = ask(SEGMENTS, "What is the bridge's colour?", llm)
    assert not result.answerable and result.answer == NOT_SAID and result.citations == []
    nothing = FakeLLM()
    assert ask(SEGMENTS, "zebra quokka?", nothing).answer == NOT_SAID and nothing.history == []



def test_a_moment_that_opens_with_a_greeting_or_centres_on_a_sign_off_is_taken_last():
    from earmark.ai.tasks.highlights import _rank
    from earmark.ai.tasks.reading import Reading

    units = [Segment(0, 40, "Welcome to the Harbour Morning Briefing, I'm Claire Dunn.", "Claire"),
             Segment(40, 80, "The council approved the new tram line by nine votes to four last night.", "Claire"),
             Segment(80, 120, "Rusty the robot sorted 212 items in three minutes without a mistake.", "Jack"),
             Segment(120, 150, "The team built it in six weeks.", "Jack"),
             Segment(150, 190, "That's the Harbour Morning Briefing for today.", "Claire")]
    tram, robot = Reading(0, 1, 0, 80, "", False, [1], 1), Reading(2, 4, 80, 190, "", False, [2], 2)
    assert _rank(units, [(tram, (1, 1)), (robot, (2, 3))], None)[0][0] is robot  # the longer section
    assert _rank(units, [(tram, (0, 1)), (robot, (2, 3))], None)[0][0] is robot
    assert _rank(units, [(robot, (2, 3)), (tram, (0, 1))], None)[-1][0] is tram  # opens with "Welcome"
    robot.best = 4
    assert _rank(units, [(robot, (3, 4)), (tram, (1, 1))], None)[0][0] is tram  # centred on the sign-off


def test_a_story_too_short_for_a_moment_borrows_its_neighbours_and_no_two_moments_overlap():
    """A news bulletin of 25-second stories (bench_quality's d3) had moments in 3 of its 7 stories."""
    from earmark.ai.tasks.highlights import _batch, moment
    from earmark.ai.tasks.reading import Reading

    units = [Segment(10 * k, 10 * k + 9, f"Story {k // 3} says thing {k}.", "Claire") for k in range(9)]
    stories = [Reading(a, a + 2, 10 * a, 10 * a + 29, "", False, [a + 1], a + 1) for a in (0, 3, 6)]
    spans = [moment(units, r, r.best) for r in stories]
    assert spans == [(0, 3), (3, 6), (5, 8)]  # each at least MIN_SECONDS, on past the end at a tie
    assert all(units[j].end - units[i].start >= MIN_SECONDS for i, j in spans)
    ranked = list(zip(stories, spans))
    batch, rest = _batch(ranked, 3)
    assert [s for _, s in batch] == [(0, 3), (5, 8)] and [s for _, s in rest] == [(3, 6)]

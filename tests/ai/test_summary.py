"""Summary with the fake engine: the episode read section by section, key sentences pointed at,
paragraphs written from them alone, takeaways picked among them and checked, and whatever fails a
check asked for once more, then dropped and recorded. The readings are shared between tasks."""

from __future__ import annotations

import json

import pytest

from earmark.ai.prompts import load_prompt
from earmark.ai.tasks.chapters import generate_chapters
from earmark.ai.tasks.common import Context, LLMOutputError
from earmark.ai.tasks.highlights import find_highlights
from earmark.ai.tasks.summary import summarize
from tests.engines.fake_llm import FakeLLM
from tests.ai.fakes import numbered_lines, scripted_transcript, valid_answer


def answers(paragraphs=None, takeaways=None):
    """Valid extractive answers, with the paragraph / takeaways calls scripted (lists are used one
    call at a time)."""
    paragraphs, takeaways = list(paragraphs or []), list(takeaways or [])

    def answer(messages, schema):
        props = schema["properties"]
        if "paragraph" in props and paragraphs:
            return json.dumps({"paragraph": paragraphs.pop(0)})
        if "takeaways" in props and takeaways:
            return json.dumps({"takeaways": takeaways.pop(0)(messages)})
        return valid_answer(messages, schema)

    return answer


def _writes(llm):
    return [c for c in llm.history if "paragraph" in c.schema["properties"]]


def _summarized_with_retry(paragraphs, transcript=None):
    """The summary when the paragraph calls answer ``paragraphs`` in turn; its context, and the
    prompt that asked again with the problems."""
    llm = FakeLLM(default=answers(paragraphs=paragraphs))
    ctx = Context(llm, "Field Notes")
    result = summarize(transcript or scripted_transcript(), llm, ctx=ctx)
    retry = next(c for c in llm.history if "Problems with that answer" in c.prompt)
    return result, ctx, retry.prompt


def test_paragraphs_come_from_each_part_s_key_sentences_alone_and_record_provenance():
    llm = FakeLLM(default=answers())
    result = summarize(scripted_transcript(), llm, title="Field Notes")
    assert len(result.paragraphs) == 3 and 3 <= len(result.takeaways) <= 7
    assert (result.engine, result.model) == ("fake", "fake-llm-1")
    used = {load_prompt(n).id for n in ("section", "summary", "summary_takeaways")}
    assert used <= set(result.prompt_version.split("+"))
    writes = _writes(llm)
    assert len(writes) == 3
    bees, *_, chess = writes
    assert "forty two hives" in bees.prompt and "chess" not in bees.prompt.lower()  # one part each
    assert "chess" in chess.prompt.lower()
    assert "Tom: " in bees.prompt or "Maria" in bees.prompt  # speakers named
    # the informative sentences are kept, the greeting-free, question-free ones
    assert "forty two hives" in result.paragraphs[0]
    assert all(t.endswith(".") for t in result.takeaways)


def test_an_invented_number_is_asked_again_with_the_problem_then_dropped():
    invented = "Tom Hardy keeps 42 hives near Bristol. He sold 7000 jars last year."
    result, ctx, retry = _summarized_with_retry([invented, invented])
    assert '"7000"' in retry and "never says" in retry
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives near Bristol."  # the sentence, not the paragraph, goes
    assert [(d.task, d.text) for d in ctx.dropped] == [("summary", "He sold 7000 jars last year.")]


@pytest.mark.parametrize("dropped, reason", [
    ("He emphasizes the importance of dedication and resilience in his craft.", "says things its key sentences do not"),
    ("Tom: I keep forty two hives of honey bees.", "a transcript line copied with its speaker's label, not a summary"),
])
def test_a_paragraph_sentence_that_is_no_summary_is_dropped_unasked(dropped, reason):
    """Model filler its key sentences do not say, and a transcript line copied with its label (h1)."""
    llm = FakeLLM(default=answers(paragraphs=[f"Tom Hardy keeps 42 hives near Bristol. {dropped}"]))
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives near Bristol."
    assert not any("Problems with that answer" in c.prompt for c in llm.history)  # no second call for it
    assert [(d.text, d.reason) for d in ctx.dropped] == [(dropped, reason)]


def test_a_sentence_giving_one_speaker_what_another_said_is_asked_again_then_given_to_them():
    """d1: "Rachel recounts how she kept four hives" (the host; her guest kept them)."""
    transcript = scripted_transcript()
    said = transcript.segments[3]  # Tom's, told in the first person
    assert said.speaker == "Tom" and "two thousand eggs" in said.text
    said.text = "I have seen a queen bee lay up to two thousand eggs a day in June."
    wrong = "Tom Hardy keeps 42 hives near Bristol. Maria has seen a queen bee lay 2000 eggs a day."
    result, ctx, retry = _summarized_with_retry([wrong, wrong], transcript)
    assert "it gives Maria what Tom said" in retry
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives near Bristol. Tom has seen a queen bee lay 2000 eggs a day."
    assert [(d.text, d.reason) for d in ctx.dropped] == [
        ("Maria has seen a queen bee lay 2000 eggs a day.", "it gives Maria what Tom said: given to the one whose it is")]


def test_a_sentence_speaking_to_you_is_asked_again_then_dropped():
    """h2: "Victor, one of your students counted more than 600 insects" (the host's line, copied)."""
    wrong = "Tom Hardy keeps 42 hives near Bristol. Tom, your queen bee lays up to 2000 eggs a day in June."
    fixed = "Tom Hardy keeps 42 hives near Bristol. Tom says the queen bee lays up to 2000 eggs a day in June."
    result, ctx, retry = _summarized_with_retry([wrong, fixed])
    assert "it speaks to" in retry and "third person" in retry
    assert result.paragraphs[0] == fixed and not ctx.dropped
    from earmark.ai.tasks.attribution import addressed

    assert addressed('Tom calls it "the best job you can have".') is None  # a quote may say it


def test_who_said_what():
    from earmark.ai.tasks.attribution import misattributed
    from earmark.models import Segment

    spoken = [Segment(0, 1, "When I opened the hives in March, I had lost 31 of my 40 colonies.", "Tom Fletcher"),
              Segment(1, 2, "I kept four hives on the roof.", "Tom Fletcher"),
              Segment(2, 3, "So, Tom, you had 12 hives in Leeds?", "Rachel Carter"),
              Segment(3, 4, "We sold 200 jars.", "Speaker 2"),
              Segment(4, 5, "He sells the honey for 8 pounds a jar.", "Rachel Carter")]
    assert misattributed("Rachel recounts how she kept four hives.", spoken) == "it gives Rachel Carter what Tom Fletcher said"
    assert misattributed("Rachel Carter's colonies: 31 of 40 were lost.", spoken) == "it gives Rachel Carter what Tom Fletcher said"
    assert misattributed("Tom kept four hives.", spoken) is None  # his own
    assert misattributed("Rachel asks about 12 hives in Leeds.", spoken) is None  # said by her
    assert misattributed("Rachel enjoys the summer.", spoken) is None  # restates nothing said
    assert misattributed("Rachel keeps four hives on the roof.", spoken) == "it gives Rachel Carter what Tom Fletcher said"
    assert misattributed("Despite the cold, Rachel kept four hives on the roof.", spoken) == "it gives Rachel Carter what Tom Fletcher said"
    assert misattributed("Rachel thanks Tom for the four hives on the roof.", spoken) is None  # names the one who said it
    guest = [Segment(0, 1, "My guest today keeps bees on the roofs of Leeds, and has done so for 11 years.", "Rachel Carter")]
    assert misattributed("Rachel Carter has kept bees on roofs for 11 years.", guest) == "it gives Rachel Carter what they said of a guest"
    assert misattributed("Tom has kept bees on roofs for 11 years.", [*spoken, *guest]) is None  # the guest's own
    assert misattributed("Rachel Carter, the host, introduces a guest who has kept bees for 11 years.", guest) is None
    assert misattributed("The hives lost 31 colonies.", spoken) is None  # nobody named
    assert misattributed("Speaker 2 sold 200 jars.", spoken) is None  # an unnamed label is nobody to judge
    assert misattributed("Tom sells the honey for 8 pounds a jar.", spoken) is None  # the host telling his story
    # what the host said of someone else ("he", "she") is not the host's own
    assert misattributed("Rachel sells the honey for 8 pounds a jar.", spoken) == 'it gives Rachel Carter what they said of someone else ("he")'
    assert misattributed("Rachel says the honey sells for 8 pounds a jar.", spoken) is None  # reported, not hers


def test_what_a_host_says_to_a_guest_is_the_guests():
    """h1: the host's "Your family farm has 800 olive trees" made "Oliver Brent's farm has 800 olive trees"."""
    from earmark.ai.tasks.attribution import misattributed, reattributed
    from earmark.models import Segment

    units = [Segment(0, 1, "Your family farm has 800 olive trees.", "Oliver Brent"),
             Segment(1, 2, "What made your grandfather start?", "Oliver Brent"),
             Segment(2, 3, "He was a teacher, not a farmer.", "Carmen Vidal")]
    spoken = units[:1]
    assert misattributed("Oliver Brent's family farm has 800 olive trees.", spoken, everyone=units) == (
        'it gives Oliver Brent what they said to Carmen Vidal ("you")')
    assert reattributed("Oliver Brent's family farm has 800 olive trees.", spoken, everyone=units) == (
        "Carmen Vidal's family farm has 800 olive trees.")
    assert reattributed("Oliver's farm has 800 olive trees.", spoken, everyone=units) == "Carmen's farm has 800 olive trees."
    assert misattributed("Oliver Brent asks Carmen about her 800 olive trees.", spoken, everyone=units) is None
    assert misattributed("Oliver Brent's family farm has 800 olive trees.", spoken) is None  # whom he spoke to: not known
    # a news reader is not the one their story is about
    story = [Segment(0, 1, "Frank Brooks, a retired surveyor, has donated 1200 maps to the museum.", "Claire Dunn"),
             Segment(1, 2, "Mr. Brooks said he turned down a bigger offer of 90 thousand pounds.", "Jack Turner")]
    assert misattributed("Jack Turner and Frank Brooks have donated 1200 maps.", story) == (
        "it gives Jack Turner what Claire Dunn said of Frank Brooks")
    assert misattributed("Jack Turner turned down an offer of 90 thousand pounds.", story) == (
        'it gives Jack Turner what they said of someone else ("he")')
    assert misattributed("Jack Turner reports that Frank Brooks has donated 1200 maps.", story) is None
    assert reattributed("Jack Turner and Frank Brooks have donated 1200 maps.", story) is None  # not a speaker
    news = [Segment(0, 1, "We have three stories for you today, starting with the 11 kilometre tram.", "Claire Dunn"),
            Segment(1, 2, "Morning, Claire.", "Jack Turner")]  # h5: "you" is the audience, not the co-host
    assert misattributed("Claire Dunn has three stories, starting with the 11 kilometre tram.", news[:1], everyone=news) is None


def test_a_description_of_a_speaker_the_transcript_never_gives_is_cut():
    def described(messages):
        lines = numbered_lines(messages)
        return [lines[1].replace("Tom keeps", "Tom, a retired surgeon, keeps"), *[lines[k] for k in range(2, len(lines) + 1)]]

    llm = FakeLLM(default=answers(paragraphs=["Tom, a retired surgeon, keeps 42 hives."], takeaways=[described]))
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    assert result.paragraphs[0] == "Tom keeps 42 hives."
    assert result.takeaways[0].startswith("Tom keeps") and not any("surgeon" in t for t in result.takeaways)
    assert [d.text for d in ctx.dropped if "description" in d.reason] == ["Tom, a retired surgeon"] * 2


def test_a_fixed_answer_replaces_the_first():
    llm = FakeLLM(default=answers(paragraphs=["Tom keeps 43 hives.", "Tom keeps 42 hives."]))
    ctx = Context(llm, "Field Notes")
    assert summarize(scripted_transcript(), llm, ctx=ctx).paragraphs[0] == "Tom keeps 42 hives." and not ctx.dropped


def test_a_loop_is_retried_with_a_frequency_penalty_and_repeats_are_removed():
    loop = "Tom keeps bees on a hill outside Bristol. Tom keeps bees on a hill outside Bristol."
    llm = FakeLLM(default=answers(paragraphs=[loop, loop]))
    result = summarize(scripted_transcript(), llm)
    retry = next(c for c in llm.history if "Problems with that answer" in c.prompt)
    assert retry.frequency_penalty > 0 and "repeats itself" in retry.prompt
    assert result.paragraphs[0] == "Tom keeps bees on a hill outside Bristol."


def test_cut_off_text_is_trimmed_to_whole_sentences():
    cut = "Tom keeps bees outside Bristol. But the wind wasn't a"
    result = summarize(scripted_transcript(), FakeLLM(default=answers(paragraphs=[cut])))
    assert result.paragraphs[0] == "Tom keeps bees outside Bristol."


def test_a_takeaway_its_sentence_does_not_support_is_dropped():
    def wrong_second(messages):
        lines = numbered_lines(messages)
        return [lines[1], "Tom won the lottery in 1999.", *[lines[k] for k in range(3, len(lines) + 1)]]

    llm = FakeLLM(default=answers(takeaways=[wrong_second, wrong_second]))
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    assert len([c for c in llm.history if "takeaways" in c.schema["properties"]]) == 2  # asked once more
    assert result.takeaways and not any("lottery" in t for t in result.takeaways)
    assert any("lottery" in d.text and "1999" in d.reason for d in ctx.dropped)


def test_an_answer_cut_off_by_the_token_limit_keeps_its_whole_sentences():
    def answer(messages, schema):
        if "paragraph" in schema["properties"]:  # the JSON stops mid-string, as at max_tokens
            return '{"paragraph": "Tom keeps bees outside Bristol. Maria bakes bread. The chess club meets on Thurs'
        return valid_answer(messages, schema)

    llm = FakeLLM(default=answer)
    result = summarize(scripted_transcript(), llm)
    assert result.paragraphs[0] == "Tom keeps bees outside Bristol. Maria bakes bread."
    assert len(_writes(llm)) == 3  # no retry needed


def test_takeaways_the_model_cannot_give_leave_the_paragraphs_standing():
    def answer(messages, schema):
        if "takeaways" in schema["properties"]:  # cut off mid-list every time, as at max_tokens
            return '{"takeaways": ["Tom keeps bees outside Bristol and has for eleven years, selling'
        return valid_answer(messages, schema)

    llm = FakeLLM(default=answer)
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    assert result.paragraphs and result.takeaways == []
    assert len([c for c in llm.history if "takeaways" in c.schema["properties"]]) == 3  # bounded
    assert any(d.text == "key takeaways" and "no valid takeaways" in d.reason for d in ctx.dropped)


def test_gives_up_after_bounded_retries_with_a_clear_error():
    llm = FakeLLM(default='{"title": 5}')
    ctx = Context(llm, "Field Notes")
    with pytest.raises(LLMOutputError, match="no valid summary after 3 attempts"):
        summarize(scripted_transcript(), llm, ctx=ctx)
    paragraph_calls = [c for c in llm.history if "paragraph" in c.schema["properties"]]
    assert len(paragraph_calls) == 3 * 3  # bounded: three tries for each of the three paragraphs
    # a section the model cannot read is recorded and skipped, not fatal on its own
    assert any("section not read" in d.reason for d in ctx.dropped)
    assert all("section not read" in d.reason or d.text == "a paragraph" for d in ctx.dropped)


def test_a_paragraph_the_model_cannot_give_is_recorded_and_the_others_stand():
    def answer(messages, schema):
        if "paragraph" in schema["properties"] and "chess" in messages[1].content.lower():
            return '{"title": 5}'  # the last part's paragraph, every time
        return valid_answer(messages, schema)

    llm = FakeLLM(default=answer)
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    assert len(result.paragraphs) == 2 and not any("chess" in p.lower() for p in result.paragraphs)
    assert any(d.text == "a paragraph" and "no valid summary after 3 attempts" in d.reason for d in ctx.dropped)


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


def test_takeaways_out_of_order_are_each_checked_against_the_sentence_that_holds_them():
    """A small model may skip, merge or reorder the listed sentences: a takeaway is matched to the
    sentence that supports it, not to its position (else every later one would be dropped)."""
    from earmark.ai.tasks.common import Context
    from earmark.ai.tasks.summary import _takeaways
    from tests.engines.fake_llm import FakeLLM
    from earmark.models import Segment

    units = [Segment(0, 5, "Tom keeps 42 hives on a hill outside Bristol.", "Maria"),
             Segment(5, 10, "Last year his hives made 900 kilograms of honey.", "Tom"),
             Segment(10, 15, "He sells it at the Saturday market for 8 pounds a jar.", "Maria")]
    answer = json.dumps({"takeaways": ["Tom's hives made 900 kilograms of honey last year.",
                                       "Tom sells his honey at the Saturday market for 8 pounds a jar.",
                                       "Tom keeps 42 hives outside Bristol.",
                                       "Tom keeps 43 hives in Leeds."]})
    ctx = Context(FakeLLM(answers=[answer, answer]), "Field Notes")
    kept = _takeaways(ctx, units, [0, 1, 2, 0], "en")
    assert kept == ["Tom's hives made 900 kilograms of honey last year.",
                    "Tom sells his honey at the Saturday market for 8 pounds a jar.", "Tom keeps 42 hives outside Bristol."]
    # its own sentence as said stands in for it, and goes too: takeaway 3 already says it
    assert [(d.text, d.reason) for d in ctx.dropped] == [
        ("Tom keeps 43 hives in Leeds.", "takeaway 4 it states \"43\", \"Leeds\", which the transcript never says in sentence 4;"
                                         " its sentence as said instead"),
        ("Maria: Tom keeps 42 hives on a hill outside Bristol.", "restates takeaway 3")]


def _three_units():
    from earmark.models import Segment

    return [Segment(0, 5, "Tom keeps 42 hives on a hill outside Bristol.", "Maria"),
            Segment(5, 10, "Last year my hives made 900 kilograms of honey.", "Tom"),
            Segment(10, 15, "He sells it at the Saturday market for 8 pounds a jar.", "Maria")]


def test_a_takeaway_the_model_ends_without_a_full_stop_is_kept_with_one():
    from earmark.ai.tasks.summary import _takeaways

    answer = json.dumps({"takeaways": ["Tom keeps 42 hives outside Bristol",
                                       "Tom's hives made 900 kilograms of honey last year,",
                                       "Tom sells his honey at the Saturday market for 8 pounds a jar."]})
    llm = FakeLLM(answers=[answer])
    ctx = Context(llm, "Field Notes")
    assert _takeaways(ctx, _three_units(), [0, 1, 2], "en") == [
        "Tom keeps 42 hives outside Bristol.", "Tom's hives made 900 kilograms of honey last year.",
        "Tom sells his honey at the Saturday market for 8 pounds a jar."]
    assert len(llm.history) == 1 and not ctx.dropped


def test_a_takeaway_cut_off_by_the_token_limit_stays_cut_and_is_dropped():
    from earmark.ai.tasks.summary import _takeaways

    cut = '{"takeaways": ["Tom keeps 42 hives outside Bristol.", "Tom\'s hives made 900 kilograms of honey last year.", "Tom sells his honey at the Saturday'
    ctx = Context(FakeLLM(answers=[cut, cut]), "Field Notes")
    kept = _takeaways(ctx, _three_units(), [0, 1, 2], "en")
    assert kept == ["Tom keeps 42 hives outside Bristol.", "Tom's hives made 900 kilograms of honey last year."]
    assert [d.reason for d in ctx.dropped] == ["takeaway 3 must be one complete sentence"]


def test_the_model_is_shown_a_speaker_only_where_the_sentence_speaks_of_or_to_somebody():
    """A name in front of a news reader's "The council approved the tram" made the reader its
    subject; a host's "Your farm has 800 trees" made the host the farmer."""
    from earmark.ai.tasks.summary import _said
    from earmark.models import Segment

    units = [Segment(0, 5, "The council approved the tram by 9 votes to 4.", "Claire Dunn"),
             Segment(5, 10, "Your family farm has 800 olive trees.", "Oliver Brent"),
             Segment(10, 15, "My grandfather planted the first one in 1961.", "Carmen Vidal"),
             Segment(15, 20, "Has anyone told you \"you can't\"?", "Carmen Vidal")]
    assert [_said(units, k) for k in range(4)] == [
        "The council approved the tram by 9 votes to 4.",
        "Oliver Brent (to Carmen Vidal): Your family farm has 800 olive trees.",
        "Carmen Vidal: My grandfather planted the first one in 1961.",
        "Carmen Vidal: Has anyone told you \"you can't\"?"]


def test_a_takeaway_is_shown_the_sentence_said_just_before_its_own():
    """A point said over two sentences ("That was the winter of 2018." "I lost 31 of my 40
    colonies.") can be one takeaway, and its check accepts what the sentence before holds."""
    from earmark.ai.tasks.summary import _takeaways
    from earmark.models import Segment

    units = [Segment(0, 5, "What went wrong?", "Maria"), Segment(5, 10, "That was the winter of 2018.", "Tom"),
             Segment(10, 15, "When I opened the hives in March, I had lost 31 of my 40 colonies.", "Tom"),
             Segment(15, 20, "He sells honey at the Saturday market for 8 pounds a jar.", "Maria")]
    answer = json.dumps({"takeaways": ["In the winter of 2018 Tom lost 31 of his 40 colonies.",
                                       "Tom sells honey at the Saturday market for 8 pounds a jar."]})
    llm = FakeLLM(answers=[answer])
    ctx = Context(llm, "Field Notes")
    assert _takeaways(ctx, units, [2, 3], "en")[0] == "In the winter of 2018 Tom lost 31 of his 40 colonies."
    assert "[1] Tom: That was the winter of 2018. When I opened the hives" in llm.history[0].prompt  # a lead-in, as one
    assert "(just before it:" not in llm.history[0].prompt  # [2]: the sentence before it is listed

    units[1] = Segment(5, 10, "That was the winter of 2018, the one everybody remembers.", "Maria")
    llm = FakeLLM(answers=[answer])
    assert _takeaways(Context(llm, "Field Notes"), units, [2, 3], "en")[0] == "In the winter of 2018 Tom lost 31 of his 40 colonies."
    assert "(just before it: That was the winter of 2018, the one everybody remembers.)" in llm.history[0].prompt


def test_a_sentence_that_states_nothing_is_never_a_takeaway():
    from earmark.ai.tasks.reading import Reading
    from earmark.ai.tasks.summary import _spread
    from earmark.models import Segment

    units = [Segment(0, 5, "How many moths came to the old lamp?", "Tom"), Segment(5, 7, "Quite a lot.", "Lucy"),
             Segment(7, 15, "One of my students counted more than 600 insects around a single old street light.", "Lucy")]
    reading = Reading(0, 2, 0, 15, "Moths", False, key=[1, 2], best=1)  # the model pointed at "Quite a lot."
    assert _spread(units, [reading], {id(reading): [1, 2]}, "en") == [2]


def test_a_takeaway_that_states_nothing_is_dropped():
    def vague(messages):
        lines = numbered_lines(messages)
        return ["He keeps them.", *[lines[k] for k in range(2, len(lines) + 1)]]

    llm = FakeLLM(default=answers(takeaways=[vague, vague]))
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    assert "He keeps them." not in result.takeaways and result.takeaways
    assert ("He keeps them.", "takeaway 1 states nothing of its own") in [(d.text, d.reason) for d in ctx.dropped]


def test_a_takeaway_copied_in_the_first_person_names_its_speaker_and_a_question_is_dropped():
    """What the bundled model did on bench_quality's d1 and d2: sentences copied as said, a
    "Speaker 1: " label and the question before an answer included."""
    from earmark.ai.tasks.summary import _takeaways
    from earmark.models import Segment

    units = [Segment(0, 5, "Why did night trains nearly vanish across Europe after 2010?", "Speaker 1"),
             Segment(5, 10, "Cheap flights, mostly, in the 1990s.", "Speaker 2"),
             Segment(10, 15, "When I opened the hives in March, I had lost 31 of my 40 colonies.", "Tom"),
             Segment(15, 20, "Tom sells honey at the Saturday market for 8 pounds a jar.", "Maria")]
    answer = json.dumps({"takeaways": ["Speaker 1: Why did night trains nearly vanish across Europe after 2010?",
                                       "When I opened the hives in March, I had lost 31 of my 40 colonies.",
                                       "Tom sells honey at the Saturday market for 8 pounds a jar."]})
    ctx = Context(FakeLLM(answers=[answer, answer]), "Field Notes")
    assert _takeaways(ctx, units, [1, 2, 3], "en") == [
        "Tom: When I opened the hives in March, I had lost 31 of my 40 colonies.",
        "Tom sells honey at the Saturday market for 8 pounds a jar."]
    assert ("Why did night trains nearly vanish across Europe after 2010?", "takeaway 1 is a question, not a point") in [
        (d.text, d.reason) for d in ctx.dropped]

    # copied from the sentence said before its own, by someone else: that speaker's name
    units[1:2] = [Segment(5, 10, "I blame cheap flights in the 1990s.", "Anna"), Segment(10, 12, "Many routes closed by 2010.", "Ben")]
    answer = json.dumps({"takeaways": ["I blame cheap flights in the 1990s."]})
    ctx = Context(FakeLLM(answers=[answer]), "Field Notes")
    assert _takeaways(ctx, units, [2], "en") == ["Anna: I blame cheap flights in the 1990s."]


def test_two_takeaways_making_one_point_are_kept_once_the_fuller():
    """What the bundled model wrote on bench_quality's h2 (held out): two key sentences saying one
    thing became two takeaways, the second with "since 2021" in front."""
    from earmark.ai.tasks.summary import _takeaways
    from earmark.models import Segment

    said = ["The harbour tower turns off its upper floors for six weeks every May.",
            "So since 2021 the harbour tower turns off its upper floors for six weeks every May.",
            "Bird collisions dropped from about 400 a year to 90."]
    units = [Segment(5.0 * n, 5.0 * n + 5, text, "Lucy") for n, text in enumerate(said)]
    answer = json.dumps({"takeaways": said})
    ctx = Context(FakeLLM(answers=[answer]), "Turning Down the Night")
    assert _takeaways(ctx, units, [0, 1, 2], "en") == said[1:]
    assert (said[0], "restates takeaway 1") in [(d.text, d.reason) for d in ctx.dropped]


def test_a_greeting_is_never_a_takeaway_however_many_names_it_holds():
    from earmark.ai.tasks.summary import information
    from earmark.models import Segment

    assert information(Segment(0, 5, "Hello and welcome to Green Acre Talks, I'm Rachel Carter from Leeds.")) <= 0
    assert information(Segment(0, 5, "My guest keeps bees on the roofs of Leeds and has done so for 11 years.")) > 0


def test_a_sign_off_is_never_a_takeaway():
    from earmark.ai.tasks.summary import information
    from earmark.models import Segment

    for said in ("Thanks for joining us, and we'll be back tomorrow at 7 with the Elmsford headlines.",
                 "Next week we go inland to the story of the Grand Union Canal and the 300 men who dug it.",
                 "You can find all 40 episodes on the Long Now website and wherever you get your podcasts."):
        assert information(Segment(0, 5, said)) <= 0, said
    assert information(Segment(0, 5, "The canal opened in 1805 and carried 300 boats a week to London.")) > 0


def test_a_key_sentence_is_shown_with_its_speakers_short_lead_in():
    from earmark.ai.tasks.summary import _lead, _listing
    from earmark.models import Segment

    units = [Segment(0, 3, "How did you start?", "Rachel"), Segment(3, 5, "It was my grandmother, really.", "Tom"),
             Segment(5, 12, "She kept four hives behind her cottage, and when she died in 2013 nobody wanted them.", "Tom"),
             Segment(12, 15, "And now it's your full time job?", "Rachel"),
             Segment(15, 20, "Today I look after 64 hives on 19 rooftops.", "Tom")]
    assert _listing(units, [2, 4]).splitlines() == [
        "- Tom: It was my grandmother, really. She kept four hives behind her cottage, and when she died in 2013 nobody wanted them.",
        "- Tom: Today I look after 64 hives on 19 rooftops."]  # a question is not a lead-in
    assert _listing(units, [1, 2])[:2] == "- " and _listing(units, [1, 2]).count("grandmother") == 1
    # nor the end of the section before (h5: "It's what's in both our mugs right now." closed an advert),
    # nor a self-introduction
    assert _listing(units, [2], firsts={0, 2}) == "- She kept four hives behind her cottage, and when she died in 2013 nobody wanted them."
    assert _lead([Segment(0, 1, "I'm Rachel Carter.", "Rachel"), Segment(1, 2, "My guest keeps 40 hives.", "Rachel")], 1, [1]) == 1


def test_a_misattributed_sentence_is_given_to_the_one_who_said_it():
    from earmark.ai.tasks.attribution import reattributed
    from earmark.models import Segment

    spoken = [Segment(0, 1, "I now treat every hive for mites in August instead of October.", "Tom Fletcher"),
              Segment(1, 2, "My guest today keeps bees on the roofs of Leeds, and has done so for 11 years.", "Rachel Carter")]
    assert reattributed("Rachel treats every hive for mites in August.", spoken) == "Tom treats every hive for mites in August."
    assert reattributed("Rachel Carter's hives are treated in August.", spoken) == "Tom Fletcher's hives are treated in August."
    assert reattributed("Tom treats every hive for mites in August.", spoken) is None  # his own
    assert reattributed("Rachel Carter has kept bees on roofs for 11 years.", spoken) is None  # whose guest: not said


def _guest_then(line: str) -> list:
    """The host's intro of her guest, his thanks, then ``line`` by him."""
    from earmark.models import Segment

    return [Segment(0, 8, "My guest today keeps bees on the roofs of Leeds, and has done so for 11 years.", "Rachel Carter"),
            Segment(8, 12, "Thanks, Rachel, it is a pleasure to be here today.", "Tom Fletcher"),
            Segment(12, 20, line, "Tom Fletcher")]


def test_a_takeaway_that_gives_a_host_the_guests_story_is_the_hosts_sentence_as_said():
    from earmark.ai.tasks.summary import _takeaways

    units = _guest_then("I now treat every hive for mites in August instead of October.")
    answer = json.dumps({"takeaways": ["Rachel Carter has kept bees on the roofs of Leeds for 11 years.",
                                       "Rachel treats every hive for mites in August instead of October."]})
    ctx = Context(FakeLLM(answers=[answer]), "Field Notes")
    assert _takeaways(ctx, units, [0, 2], "en") == [
        "Rachel Carter: My guest today keeps bees on the roofs of Leeds, and has done so for 11 years.",
        "Tom treats every hive for mites in August instead of October."]
    assert [d.reason.rsplit(": ", 1)[1] for d in ctx.dropped] == ["their sentence as said instead", "given to the one whose it is"]


def test_a_takeaway_may_name_what_another_listed_sentence_says_but_not_its_numbers():
    """d1: "Tom has 64 hives on 19 rooftops across the city of Leeds" (Leeds said in the host's intro)
    was dropped for "Leeds", and the sentence as said, in the first person, stood in for it."""
    from earmark.ai.tasks.summary import _takeaways

    units = _guest_then("Today I look after 64 hives on 19 rooftops across the city.")
    answer = json.dumps({"takeaways": ["Tom has kept bees on the roofs of Leeds for 11 years.",
                                       "Tom looks after 64 hives on 19 rooftops across Leeds."]})
    ctx = Context(FakeLLM(answers=[answer]), "Field Notes")
    assert _takeaways(ctx, units, [0, 2], "en") == json.loads(answer)["takeaways"] and not ctx.dropped
    answer = json.dumps({"takeaways": ["Tom has kept bees on the roofs of Leeds for 11 years.",
                                       "Tom looks after 64 hives on 11 rooftops."]})
    ctx = Context(FakeLLM(answers=[answer, answer]), "Field Notes")
    assert _takeaways(ctx, units, [0, 2], "en")[1] == "Tom Fletcher: Today I look after 64 hives on 19 rooftops across the city."


def test_a_takeaway_wrong_twice_is_its_sentence_as_said_unless_that_answers_a_question():
    """On the held-out h2 the model merged and misnumbered its takeaways, and only 2 of 6 were left."""
    from earmark.ai.tasks.summary import _takeaways
    from earmark.models import Segment

    units = [Segment(0, 5, "How did the bees do that winter?", "Maria"),
             Segment(5, 10, "Badly, in the end, 31 of 40.", "Tom"),
             Segment(10, 15, "I sell the honey at the Saturday market for 8 pounds a jar.", "Tom")]
    answer = json.dumps({"takeaways": ["Tom lost 35 colonies.", "Tom sells honey in Leeds for 9 pounds."]})
    ctx = Context(FakeLLM(answers=[answer, answer]), "Field Notes")
    assert _takeaways(ctx, units, [1, 2], "en") == ["Tom: I sell the honey at the Saturday market for 8 pounds a jar."]
    assert [d.reason.endswith("its sentence as said instead") for d in ctx.dropped] == [False, True]


def test_a_description_must_be_said_of_that_person():
    """h5: "Jack Turner, a retired land surveyor, …" (the news reader given the donor's description);
    h1: "Oliver Brent is a farmer who …" (the host given his guest's)."""
    from earmark.ai.grounding import Source
    from earmark.ai.tasks.attribution import misdescribed, said_of
    from earmark.models import Segment

    units = [Segment(0, 1, "I'm Oliver Brent.", "Oliver Brent"),
             Segment(1, 2, "Today we're talking with a farmer who grows olives in the south of Spain.", "Oliver Brent"),
             Segment(2, 3, "Carmen Vidal, welcome to the show.", "Oliver Brent"),
             Segment(3, 4, "Thank you, Oliver.", "Carmen Vidal"),
             Segment(4, 5, "Frank Brooks, a retired land surveyor who is 91, has donated 1200 maps.", "Oliver Brent")]
    of, source = said_of(units), Source.of(*(u.text for u in units))
    assert source.cut_unsupported_roles("Oliver Brent, a farmer, talks to Carmen Vidal, a farmer.", of) == (
        "Oliver Brent talks to Carmen Vidal, a farmer.", ["Oliver Brent, a farmer"])
    assert source.cut_unsupported_roles("Frank Brooks, a retired land surveyor who is 91, gave maps.", of)[1] == []
    assert source.cut_unsupported_roles("Frank Brooks, a retired land surveyor who is 92, gave maps.", of)[1] == [
        "Frank Brooks, a retired land surveyor who is 92"]
    assert misdescribed("Oliver Brent is a farmer who grows olives.", of) == "the transcript never says Oliver Brent is a farmer"
    assert misdescribed("Carmen Vidal is a farmer who grows olives.", of) is None
    assert misdescribed("Oliver Brent is the host of the show.", of) is None  # seldom said in so many words


def test_a_takeaway_is_checked_against_the_sentence_holding_its_numbers():
    """d1: "… for 11 years" shared more words with "64 hives on 19 rooftops" than with its own sentence."""
    from earmark.ai.tasks.summary import _best

    said = ["Rachel Carter: My guest keeps being on the roofs of Leeds, for 11 years.", "Tom: I look after 64 hives on 19 rooftops."]
    assert _best("Tom has kept hives on rooftops for 11 years.", 1, said, "en") == 0
    assert _best("Tom has kept hives on rooftops.", 0, said, "en") == 1  # no number: the words decide


def test_a_sentence_that_only_says_who_speaks_goes():
    """h2: "The speaker is Lucy Price, a tour guide." (its description cut) and "Henry Ward is the host"."""
    llm = FakeLLM(default=answers(paragraphs=["Tom Hardy keeps 42 hives. Maria is the host."]))
    ctx = Context(llm, "Field Notes")
    result = summarize(scripted_transcript(), llm, ctx=ctx)
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives."
    assert ("Maria is the host.", "it says nothing but who speaks") in [
        (d.text, d.reason) for d in ctx.dropped]


def test_a_sentence_about_the_speaker_is_asked_again_then_dropped():
    """d2: "The speaker suggests that this is a good place to stop …" (and the sign-off it came from)."""
    from earmark.ai.tasks.summary import greeting

    wrong = "Tom Hardy keeps 42 hives. The speaker says the hives are on a hill."
    result, ctx, retry = _summarized_with_retry([wrong, wrong])
    assert 'it says "the speaker"' in retry
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives."
    assert greeting("That seems like a good place to stop.") and greeting("Thanks to everyone listening to Crossing Lines.")
    # a retry that drops what passed is not taken (d2 lost a paragraph so)
    result, ctx, _ = _summarized_with_retry([wrong, "The speaker says the hives are on a hill."])
    assert result.paragraphs[0] == "Tom Hardy keeps 42 hives."

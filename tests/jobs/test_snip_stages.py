"""The snip job's stage table (earmark/jobs/snip_stages.py): its order and inputs, stage functions
that compute without a library and return what the runner (snip_runner.py) writes."""

import ast
import inspect

from earmark.jobs import snip_runner, snip_stages
from earmark.jobs.snip_stages import SNIP_TABLE, TRANSCRIPT, SnipContext
from earmark.models import Episode, Snip
from tests.engines.fake_llm import FakeLLM
from tests.snips.helpers import transcript
from tests.snips.test_service import card_answer


def _imports(module) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


def _context(settings, *, segments=None, edited=(), enclosure=None, llm=None) -> SnipContext:
    snip = Snip(id=1, episode_id=1, tapped_at=segments[41].start + 0.5 if segments else 401.0, start=0.0, end=1.0,
                boundary="auto", edited=list(edited))
    episode = Episode(guid="g", title="Episode", duration=3600, enclosure_url=enclosure, id=1)

    def no_engine():
        raise AssertionError("no engine is needed here")

    return SnipContext(settings, snip, episode, asr=no_engine, llm=llm or no_engine, transcript=segments)


def test_the_table_in_order_with_its_inputs():
    assert [s.name for s in SNIP_TABLE] == ["audio", "window", "card", "resnap"]
    assert all(callable(s.run) and callable(s.due) and s.weight > 0 for s in SNIP_TABLE)
    assert {i for s in SNIP_TABLE for i in s.inputs} <= set(snip_stages.INPUTS)


def test_the_stages_are_store_free_and_the_runner_writes():
    assert not {m for m in _imports(snip_stages) if m.startswith("earmark.store")}
    assert {"earmark.store.snips", "earmark.store.jobs"} <= _imports(snip_runner)
    assert "download_audio" in inspect.getsource(snip_stages.audio)  # the download stage's fetch, reused


def test_card_on_the_transcript_returns_the_fields_it_would_write(settings):
    segments, truth = transcript(100)
    llm = FakeLLM(default=card_answer(quote="Sentence41"))
    ctx = _context(settings, segments=segments, llm=lambda: llm)
    audio, window, card, resnap = SNIP_TABLE
    assert not audio.due(ctx) and not window.due(ctx)  # a transcript: no audio, no ASR
    step = card.run(ctx)
    assert step.state == "ready" and step.snapped_on == TRANSCRIPT and not step.last
    assert step.fields["title"] == "Why it matters" and step.fields["end"] == truth[41][1]
    ctx.snapped_on, ctx.landed = step.snapped_on, segments
    assert not resnap.due(ctx)  # made on the complete transcript: nothing to re-snap


def test_a_user_bound_is_not_returned_and_a_failed_card_keeps_the_excerpt(settings):
    segments, truth = transcript(100)
    ctx = _context(settings, segments=segments, edited=["start", "end"],
                   llm=lambda: FakeLLM(answers=["no", "no", "no"]))
    ctx.snip.start, ctx.snip.end = truth[38][0] + 1.0, truth[41][1]
    step = snip_stages.card(ctx)
    assert step.state == "failed" and step.error.startswith("card: ")
    assert set(step.fields) == {"excerpt"} and step.fields["excerpt"].startswith(truth[38][2])


def test_without_transcript_or_audio_the_audio_stage_says_wait(settings):
    ctx = _context(settings)  # no transcript, no download, no enclosure
    step = snip_stages.audio(ctx)
    assert step.wait and step.last and step.state is None and step.audio is None

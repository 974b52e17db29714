import json
import time

import pytest

from earmark.ai.prompts import load_prompt

from earmark.errors import NotFound
from earmark.snips import create_snip, edit_snip, enrich_snip
from earmark.snips.enrich import Enricher, run_once
from earmark.snips.service import WAITING
from earmark.store.jobs import JobStore
from earmark.store.snips import SnipStore
from tests.snips.conftest import add_episode, save_transcript
from tests.snips.helpers import sentence_text, transcript

QUOTE41 = " ".join(sentence_text(41, 8).split()[:4])


def card_answer(*, pick="first", title="Why it matters", quote=QUOTE41):
    def answer(messages, schema):
        value = {"title": title, "takeaways": ["One point.", "Another point."], "quote": quote, "speaker": None}
        if schema and "start" in schema["properties"]:
            enum = schema["properties"]["start"]["enum"]
            value["start"] = enum[0] if pick == "first" else enum[-1]
        return json.dumps(value)

    return answer


def test_create_is_fast_and_runs_no_model(lib, snip_settings, episode, with_transcript, fake_llm, fake_asr):
    truth = with_transcript
    tap = truth[40][0] + 1.0
    started = time.perf_counter()
    snip = create_snip(lib, snip_settings, episode, tap)
    elapsed = time.perf_counter() - started
    print(f"\ncreate_snip with a transcript: {elapsed * 1000:.1f} ms")
    assert fake_asr.history == [] and fake_llm.history == []  # nothing ran inline
    assert snip.id and snip.state == "pending" and snip.tapped_at == tap
    assert snip.end == truth[40][1] and snip.start in {t[0] for t in truth}  # snapped already
    assert truth[40][2] in snip.excerpt

    other = add_episode(lib, 1)
    started = time.perf_counter()
    bare = create_snip(lib, snip_settings, other, 100.0)
    print(f"create_snip without a transcript: {(time.perf_counter() - started) * 1000:.1f} ms")
    assert (bare.start, bare.end, bare.excerpt) == (55.0, 105.0, "")  # provisional window
    assert fake_asr.history == [] and fake_llm.history == []


def test_create_rejects_bad_input(lib, snip_settings, episode):
    with pytest.raises(NotFound):
        create_snip(lib, snip_settings, 999, 10.0)
    with pytest.raises(ValueError):
        create_snip(lib, snip_settings, episode, -1.0)
    with pytest.raises(ValueError):
        create_snip(lib, snip_settings, episode, 10.0, "sometimes")


def test_enrich_stores_the_card_and_the_chosen_start(lib, snip_settings, episode, with_transcript, fake_llm):
    truth = with_transcript
    llm = fake_llm.reset(default=card_answer(pick="first"))
    snip = create_snip(lib, snip_settings, episode, truth[41][0] + 0.5)
    assert run_once(lib, snip_settings) == 1
    done = SnipStore(lib).get(snip.id)
    assert done.state == "ready" and done.error is None
    assert done.title == "Why it matters" and done.takeaways == ["One point.", "Another point."]
    assert done.quote == QUOTE41 and done.quote_speaker == "Ben"  # speaker from the transcript
    assert done.engine == "fake" and done.prompt_version == f"{load_prompt('system').id}+{load_prompt('snip_card').id}"
    schema = llm.history[0].schema
    first = schema["properties"]["start"]["enum"][0]
    assert done.start == truth[first][0] and done.end == truth[41][1]  # the model's pick, ≤ 120 s
    assert 20 <= done.end - done.start <= 120
    assert done.excerpt.startswith(truth[first][2]) and done.excerpt.endswith(truth[41][2])
    assert "S41" in llm.history[0].prompt  # the tapped sentence is in the prompt
    assert run_once(lib, snip_settings) == 0  # nothing left to do


def test_fixed_boundary_offers_no_start_choice(lib, snip_settings, episode, with_transcript, fake_llm):
    truth = with_transcript
    llm = fake_llm.reset(default=card_answer())
    snip = create_snip(lib, snip_settings, episode, truth[41][0] + 0.5, "fixed:30")
    run_once(lib, snip_settings)
    done = SnipStore(lib).get(snip.id)
    assert "start" not in llm.history[0].schema["properties"]
    assert (done.start, done.end) == (snip.start, snip.end) and abs(done.end - done.start - 30) < 2.2


def test_user_edits_are_never_overwritten(lib, snip_settings, episode, with_transcript, fake_llm):
    truth = with_transcript
    fake_llm.reset(default=card_answer())
    snip = create_snip(lib, snip_settings, episode, truth[41][0] + 0.5)
    edit_snip(lib, snip.id, title="Mine", start=truth[38][0] + 1.0, end=truth[41][1], note="n")
    run_once(lib, snip_settings)
    done = SnipStore(lib).get(snip.id)
    assert done.state == "ready"
    assert done.title == "Mine" and done.note == "n"
    assert (done.start, done.end) == (truth[38][0] + 1.0, truth[41][1])  # the user's bounds, as set
    assert done.takeaways == ["One point.", "Another point."]  # AI fields not edited are filled
    assert done.excerpt.startswith(truth[38][2])  # the excerpt follows the user's bounds


def test_edit_validates_bounds(lib, snip_settings, episode):
    snip = create_snip(lib, snip_settings, episode, 100.0)
    for bad in ({"start": 50.0, "end": 50.0}, {"start": -1.0}, {"end": 4000.0}, {"start": 0.0, "end": 700.0}):
        with pytest.raises(ValueError):
            edit_snip(lib, snip.id, **bad)
    assert SnipStore(lib).get(snip.id).edited == []


def test_invalid_json_is_retried_then_the_snip_fails_but_stays(lib, snip_settings, episode, with_transcript, fake_llm):
    truth = with_transcript
    llm = fake_llm.reset(answers=["not json", '{"title": ""}', '{"title": "x"}'])
    snip = create_snip(lib, snip_settings, episode, truth[41][0] + 0.5)
    run_once(lib, snip_settings)
    failed = SnipStore(lib).get(snip.id)
    assert llm.calls == 3  # one try, two retries
    assert failed.state == "failed" and "no valid snip card after 3 attempts" in failed.error
    assert failed.excerpt and failed.end == truth[41][1]  # bounds and excerpt are kept
    assert "That snip card is invalid" in llm.history[1].messages[-1].content  # the error fed back

    llm = fake_llm.reset(answers=["{oops", card_answer()])
    again = create_snip(lib, snip_settings, episode, truth[50][0] + 0.5)
    run_once(lib, snip_settings)
    assert SnipStore(lib).get(again.id).state == "ready" and llm.calls == 2
    assert SnipStore(lib).get(snip.id).state == "failed"  # a failed snip is not retried in a loop


def test_no_language_model_fails_with_the_reason(lib, snip_settings, episode, with_transcript):
    from dataclasses import replace

    settings = replace(snip_settings, llm_engine="nonesuch")
    snip = create_snip(lib, settings, episode, with_transcript[41][0])
    enrich_snip(lib, settings, snip.id)
    failed = SnipStore(lib).get(snip.id)
    assert failed.state == "failed" and "unknown llm_engine 'nonesuch'" in failed.error and failed.excerpt


def _downloaded(lib, episode_id, tmp_path):
    audio = tmp_path / "audio.mp3"
    audio.write_bytes(b"\0" * 16)
    lib.record_download(episode_id, str(audio), 16)


def test_window_is_transcribed_when_there_is_no_transcript(lib, snip_settings, episode, tmp_path, fake_llm, fake_asr):
    _downloaded(lib, episode, tmp_path)
    fake_llm.reset(default=card_answer(quote="says hello"))
    snip = create_snip(lib, snip_settings, episode, 401.0)
    assert fake_asr.history == []
    run_once(lib, snip_settings)
    call, = fake_asr.history
    assert (call.offset, call.duration) == (251.0, 180.0)  # [tap − 150, tap + 30], not the whole episode
    done = SnipStore(lib).get(snip.id)
    assert done.state == "ready"
    assert done.end == pytest.approx(402.0, abs=0.01)  # fake ASR: "SegmentN says hello." every 2 s
    assert done.excerpt.endswith("Segment200 says hello.") and done.excerpt.startswith("Segment")


def test_full_transcript_resnaps_window_snips(lib, snip_settings, episode, tmp_path, fake_llm, fake_asr):
    _downloaded(lib, episode, tmp_path)
    fake_llm.reset(default=card_answer(quote="says hello"))
    store = SnipStore(lib)
    a = create_snip(lib, snip_settings, episode, 401.0)
    b = create_snip(lib, snip_settings, episode, 301.0)
    run_once(lib, snip_settings)
    edit_snip(lib, b.id, start=260.0, end=300.0, title="kept")
    before_a = store.get(a.id)
    assert before_a.state == "ready" and "Segment" in before_a.excerpt
    # The pipeline lands the full transcript: other words, other sentence times.
    segments, truth = transcript(120, word_seconds=0.45)
    save_transcript(lib, episode, segments)
    assert run_once(lib, snip_settings) == 2
    after_a, after_b = store.get(a.id), store.get(b.id)
    starts, ends = {t[0] for t in truth}, {t[1] for t in truth}
    assert after_a.start in starts and after_a.end in ends
    assert abs(after_a.end - before_a.end) < 4 and "Segment" not in after_a.excerpt
    assert after_a.excerpt.startswith("Sentence") and after_a.title == before_a.title and after_a.state == "ready"
    assert (after_b.start, after_b.end, after_b.title) == (260.0, 300.0, "kept")  # the user's bounds stay
    assert "Sentence" in after_b.excerpt and "Segment" not in after_b.excerpt  # but the text follows
    assert run_once(lib, snip_settings) == 0  # consistent: nothing more to re-snap
    assert len(fake_asr.history) == 2  # no ASR for the re-snap


def test_without_audio_or_transcript_the_snip_waits_for_processing(lib, snip_settings, episode, fake_llm):
    fake_llm.reset(default=card_answer(quote="Sentence41"))
    snip = create_snip(lib, snip_settings, episode, 180.0)
    run_once(lib, snip_settings)
    waiting = SnipStore(lib).get(snip.id)
    assert waiting.state == "pending" and waiting.error == WAITING
    assert [j.episode_id for j in JobStore(lib).list(episode_id=episode)] == [episode]
    assert run_once(lib, snip_settings) == 0  # not retried in a loop
    segments, truth = transcript(100)
    save_transcript(lib, episode, segments)
    run_once(lib, snip_settings)
    done = SnipStore(lib).get(snip.id)
    assert done.state == "ready" and done.error is None and done.end in {t[1] for t in truth}


def test_restart_picks_up_pending_snips(lib, snip_settings, episode, with_transcript, fake_llm):
    fake_llm.reset(default=card_answer())
    ids = [create_snip(lib, snip_settings, episode, t).id for t in (100.0, 200.0, 300.0)]
    assert fake_llm.history == []  # no enricher ran: as if the process died here
    enricher = Enricher(snip_settings, poll=0.05)
    enricher.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(SnipStore(lib).get(i).state == "ready" for i in ids):
                break
            time.sleep(0.02)
        assert [SnipStore(lib).get(i).state for i in ids] == ["ready"] * 3
        later = create_snip(lib, snip_settings, episode, 400.0)  # wakes the running enricher
        deadline = time.monotonic() + 5
        while SnipStore(lib).get(later.id).state != "ready" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert SnipStore(lib).get(later.id).state == "ready"
    finally:
        enricher.stop(timeout=5)

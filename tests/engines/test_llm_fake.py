from __future__ import annotations

import json

import pytest

from earmark.ai.asr import get_asr
from earmark.ai.llm import Message, get_llm
from earmark.config import Settings
from tests.engines import fake_asr as fake_asr_engine, fake_llm as fake_llm_engine
from tests.engines.fake_llm import FakeLLM, minimal_instance
from earmark.errors import EarmarkError, LLMError

SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "takeaways": {"type": "array", "items": {"type": "string"}, "minItems": 3},
        "score": {"type": "integer", "minimum": 2},
        "kind": {"enum": ["a", "b"]},
    },
    "required": ["summary", "takeaways", "score", "kind"],
}


def msgs(*texts: str) -> list[Message]:
    return [Message("user", t) for t in texts]


def test_queue_answers_in_order_then_default():
    llm = FakeLLM(answers=["one", lambda m, s: f"echo {m[-1].content}"], default="dflt")
    assert llm.complete(msgs("hi")).text == "one"
    assert llm.complete(msgs("there")).text == "echo there"
    assert llm.complete(msgs("x")).text == "dflt"
    assert [c.messages[-1].content for c in llm.history] == ["hi", "there", "x"]


def test_generated_answer_satisfies_schema():
    llm = FakeLLM()
    out = json.loads(llm.complete(msgs("q"), schema=SCHEMA).text)
    assert set(out) == {"summary", "takeaways", "score", "kind"}
    assert len(out["takeaways"]) == 3 and out["score"] == 2 and out["kind"] == "a"
    assert minimal_instance({"type": ["null", "number"]}) == 0
    assert llm.complete(msgs("q")).text == "fake answer 2"


def test_history_records_schema_and_options():
    llm = FakeLLM()
    llm.complete(msgs("a", "b"), schema=SCHEMA, max_tokens=7, temperature=0.0)
    call = llm.history[0]
    assert call.schema is SCHEMA and call.max_tokens == 7 and call.temperature == 0.0
    assert call.prompt == "a\nb"


def test_scripted_failures_and_invalid_json():
    llm = FakeLLM(answers=[LLMError("boom"), TimeoutError, "{not json"])
    with pytest.raises(LLMError, match="boom"):
        llm.complete(msgs("x"))
    with pytest.raises(TimeoutError):
        llm.complete(msgs("x"))
    assert llm.complete(msgs("x"), schema=SCHEMA).text == "{not json"  # the task layer must validate


def test_fail_after():
    llm = FakeLLM(fail_after=1)
    llm.complete(msgs("ok"))
    with pytest.raises(LLMError):
        llm.complete(msgs("no"))
    assert llm.calls == 2


def test_token_counting_context_and_cache():
    llm = FakeLLM(context=10)
    assert llm.count_tokens("one two  three\nfour") == 4
    assert llm.context_size == 10
    with pytest.raises(LLMError, match="context"):
        llm.complete(msgs(" ".join(["w"] * 11)))
    first = llm.complete(msgs("the shared prefix", "question one"))
    second = llm.complete(msgs("the shared prefix", "question two"))
    assert (first.prompt_tokens, first.cached_tokens) == (5, 0)
    assert (second.prompt_tokens, second.cached_tokens) == (5, 4)
    assert second.completion_tokens == 3  # "fake answer 2"


def test_get_llm_returns_shared_configured_fake(tmp_path, fake_llm):
    engine = fake_llm.reset(answers=["scripted"], context=123)
    got = get_llm(Settings(home=tmp_path, llm_engine="fake"))
    assert got is engine and got.context_size == 123 and got.name == "fake"
    assert got.complete(msgs("x")).text == "scripted"
    assert fake_llm.history[0].messages[0].content == "x"
    fake_llm.reset()
    assert fake_llm.history == [] and get_llm(Settings(home=tmp_path, llm_engine="fake")) is not engine


def test_each_test_has_its_own_fakes_and_none_outlives_it(tmp_path, fake_llm, fake_asr):
    settings = Settings(home=tmp_path, llm_engine="fake", asr_engine="fake")
    assert get_llm(settings) is fake_llm.engine() and fake_llm.history == []
    assert get_asr(settings).history is fake_asr.history == []
    fake_llm_engine.uninstall()  # what the fixtures' teardown does
    fake_asr_engine.uninstall()
    try:
        first, second = get_llm(settings), get_llm(settings)
        assert first is not second and first.history is not second.history and first is not fake_llm.engine()
        assert first.complete(msgs("x")).text == "fake answer 1" and fake_llm.history == []
        assert get_asr(settings).history is not fake_asr.history
    finally:
        fake_llm.install()
        fake_asr.install()


def test_llm_error_is_earmark_and_runtime_error():
    assert issubclass(LLMError, EarmarkError) and issubclass(LLMError, RuntimeError)


def test_complete_all_answers_in_order_one_by_one_on_an_engine_without_slots():
    from earmark.ai.llm import Message, Request, complete_all
    from tests.engines.fake_llm import FakeLLM

    llm = FakeLLM(answers=["one", "two", "three"])
    out = complete_all(llm, [Request([Message("user", f"call {n}")], max_tokens=5) for n in range(3)])
    assert [c.text for c in out] == ["one", "two", "three"]
    assert [c.prompt.split()[-1] for c in llm.history] == ["0", "1", "2"] and llm.history[0].max_tokens == 5

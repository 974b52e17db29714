"""The bundled model through xllamacpp, for real (about a minute on 2 cores)."""

from __future__ import annotations

import json

import pytest

from earmark.ai.llm import Message, get_llm
from earmark.config import Settings
from earmark.engines import llm_weights
from earmark.engines.llama_cpp import LlamaCppEngine

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def llm(llm_home) -> LlamaCppEngine:
    engine = get_llm(Settings(home=llm_home, llm_context=4096))
    assert isinstance(engine, LlamaCppEngine)
    yield engine
    engine.close()


def test_assembled_gguf_has_the_published_hash(llm_home):
    path = llm_weights.ensure_qwen(llm_home / "models")
    assert path.stat().st_size == llm_weights.QWEN_SIZE
    # the sha256 was checked while assembling (test_llm_weights: a wrong one is refused); the stamp
    # records it, so the 1.1 GB file is not hashed a second time here
    assert llm_weights.is_complete(path, sha256=llm_weights.QWEN_SHA256)


def test_count_tokens_uses_the_tokenizer_once_loaded(llm):
    text = "Marie Curie won two Nobel prizes."
    before = llm.count_tokens(text)  # estimate (model not loaded yet in a fresh run)
    llm.load()
    exact = llm.count_tokens(text)
    assert 5 <= exact <= 12 and exact != llm.count_tokens(text + " and more words") and before > 0


def test_json_schema_answer_validates(llm):
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population_millions": {"type": "number"},
            "rivers": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        },
        "required": ["city", "population_millions", "rivers"],
        "additionalProperties": False,
    }
    out = llm.complete(
        [Message("user", "Paris has about 2.1 million inhabitants and lies on the Seine. Describe it as JSON.")],
        schema=schema, max_tokens=80, temperature=0.0,
    )
    data = json.loads(out.text)
    assert set(data) == {"city", "population_millions", "rivers"}
    assert isinstance(data["population_millions"], (int, float)) and isinstance(data["rivers"], list)
    assert "paris" in data["city"].lower()
    assert out.prompt_tokens > 10 and out.completion_tokens > 5
    # one line, spaced as json.dumps spaces it: no newlines or indents to generate
    assert "\n" not in out.text and '"city": "' in out.text, out.text


def test_summary_mentions_a_fact_from_its_input(llm):
    transcript = (
        "Host: Welcome back to Garden Hour. Today our guest, botanist Ingrid Halvorsen, explains why "
        "she planted four hundred apple trees in Tromsø, far above the Arctic Circle. "
        "Ingrid: The midnight sun gives the trees twenty-four hours of light in June, so the fruit "
        "ripens in just ninety days. Host: Amazing."
    )
    out = llm.complete(
        [Message("system", "You summarise podcast transcripts in one sentence."),
         Message("user", transcript), Message("user", "Summarise the episode in one sentence.")],
        max_tokens=60, temperature=0.0,
    )
    text = out.text.lower()
    assert "ingrid" in text or "halvorsen" in text or "tromsø" in text or "apple" in text, out.text


def test_shared_prefix_is_served_from_the_cache(llm):
    prefix = " ".join(
        f"Segment {i}: the speaker discusses topic number {i} with some detail about item {i * 7}."
        for i in range(40)
    )  # ~700 tokens
    head = [Message("system", "Answer briefly from the transcript."), Message("user", prefix)]
    first = llm.complete([*head, Message("user", "Which topic comes first?")], max_tokens=8, temperature=0.0)
    second = llm.complete([*head, Message("user", "What is item of segment 3?")], max_tokens=8, temperature=0.0)
    assert first.prompt_tokens > 500
    assert second.cached_tokens > 500, second
    assert second.cached_tokens < second.prompt_tokens
    assert second.seconds < first.seconds


def test_calls_decoded_together_come_back_in_order_each_with_its_own_answer(llm_home):
    """complete_many on two slots: the calls are decoded at once; every answer belongs to its own prompt."""
    from earmark.ai.llm import Request, complete_all

    engine = get_llm(Settings(home=llm_home, llm_context=1024, llm_slots=2))
    assert engine.slots == 2
    schema = {"type": "object", "properties": {"capital": {"type": "string"}}, "required": ["capital"],
              "additionalProperties": False}
    countries = {"France": "paris", "Japan": "tokyo", "Italy": "rome", "Egypt": "cairo", "Spain": "madrid"}
    requests = [Request([Message("user", f"What is the capital of {c}? Answer as JSON.")], schema, 20, 0.0)
                for c in countries]
    try:
        answers = complete_all(engine, requests)
    finally:
        engine.close()
    assert [json.loads(a.text)["capital"].lower() for a in answers] == list(countries.values())
    assert all(a.completion_tokens > 0 and a.seconds > 0 for a in answers)


LOOKUP_TEXT = ("The keeper lit the lamp at dusk every evening for thirty one years, and in all that time the light "
               "at Gull Rock never once went dark, not even in the great storm of the winter of 1881.")


def _repeat(engine: LlamaCppEngine) -> str:
    out = engine.complete([Message("user", f"Repeat this sentence exactly, word for word:\n\n{LOOKUP_TEXT}")],
                          max_tokens=80, temperature=0.0)
    return out.text


def test_prompt_lookup_drafts_what_the_prompt_says(llm, llm_home):
    """A restatement is drafted from the prompt (llm_lookup, on by default) and the drafts are kept;
    with llm_lookup = 0 nothing is drafted."""
    assert "Gull Rock never once went dark" in _repeat(llm)
    assert llm.last_timings.get("draft_n", 0) > 0 and llm.last_timings.get("draft_n_accepted", 0) > 10, llm.last_timings
    plain = get_llm(Settings(home=llm_home, llm_context=1024, llm_lookup=0))
    try:
        assert "Gull Rock never once went dark" in _repeat(plain)
        assert not plain.last_timings.get("draft_n"), plain.last_timings
    finally:
        plain.close()

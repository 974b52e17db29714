from __future__ import annotations

import json
import socket

import pytest

from earmark.ai.llm import Message, get_llm
from earmark.config import Settings
from earmark.engines.openai_http import OpenAIHTTPEngine
from earmark.errors import ConfigError, LLMError
from tests.engines.openai_fake import FakeOpenAI, Reply

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
MSGS = [Message("system", "Be brief."), Message("user", "one two three"), Message("user", "What?")]


@pytest.fixture
def api():
    srv = FakeOpenAI()
    yield srv
    srv.close()


def engine(tmp_path, api: FakeOpenAI, *, key="sk-test", sleeps=None, **kw) -> OpenAIHTTPEngine:
    settings = Settings(home=tmp_path, llm_engine="openai", llm_base_url=api.base_url + "/",
                        llm_model="test-model", llm_api_key=key, llm_timeout=kw.pop("timeout", 5.0))
    return OpenAIHTTPEngine(settings, sleep=(sleeps.append if sleeps is not None else (lambda s: None)), **kw)


def test_request_shape_and_usage(tmp_path, api):
    api.replies.append(Reply(content='{"answer": "forty-two"}'))
    out = engine(tmp_path, api).complete(MSGS, schema=SCHEMA, max_tokens=64, temperature=0.0)
    assert json.loads(out.text) == {"answer": "forty-two"}
    assert (out.prompt_tokens, out.completion_tokens, out.cached_tokens) == (6, 2, 3)
    req = api.requests[-1]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    body = req["json"]
    assert body["model"] == "test-model" and body["max_tokens"] == 64 and body["temperature"] == 0.0
    assert body["messages"] == [{"role": m.role, "content": m.content} for m in MSGS]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA


def test_plain_text_has_no_response_format(tmp_path, api):
    api.replies.append(Reply(content="just text"))
    assert engine(tmp_path, api).complete(MSGS).text == "just text"
    assert "response_format" not in api.requests[-1]["json"]


def test_get_llm_builds_it_from_settings(tmp_path, api):
    settings = Settings(home=tmp_path, llm_engine="openai", llm_base_url=api.base_url,
                        llm_model="test-model", llm_api_key="sk-test")
    llm = get_llm(settings)
    assert llm.name == "openai" and llm.model == "test-model"
    assert llm.complete(MSGS).text == "ok"
    assert llm.count_tokens("x" * 35) == 10 and llm.context_size == settings.llm_context


def test_missing_base_url_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="llm_base_url"):
        get_llm(Settings(home=tmp_path, llm_engine="openai"))


def test_wrong_key_is_401_error(tmp_path, api):
    with pytest.raises(LLMError, match="API key.*HTTP 401.*Incorrect API key"):
        engine(tmp_path, api, key="wrong").complete(MSGS)
    assert len(api.requests) == 1  # not retried


def test_no_key_sends_no_authorization(tmp_path):
    api = FakeOpenAI(key=None)
    try:
        engine(tmp_path, api, key=None).complete(MSGS)
        assert "Authorization" not in api.requests[-1]["headers"]
    finally:
        api.close()


def test_429_retry_after_is_honoured_then_succeeds(tmp_path, api):
    api.replies += [Reply(429, headers={"Retry-After": "2"}), Reply(503), Reply(content="done")]
    sleeps: list[float] = []
    out = engine(tmp_path, api, sleeps=sleeps, backoff=0.5).complete(MSGS)
    assert out.text == "done" and len(api.requests) == 3
    assert sleeps == [2.0, 1.0]  # Retry-After, then exponential backoff (0.5 * 2)


def test_429_gives_up_after_bounded_retries(tmp_path, api):
    api.replies += [Reply(429, headers={"Retry-After": "999"})] * 5
    sleeps: list[float] = []
    with pytest.raises(LLMError, match="rate-limiting.*429"):
        engine(tmp_path, api, sleeps=sleeps, max_retries=2, max_wait=7).complete(MSGS)
    assert len(api.requests) == 3 and sleeps == [7, 7]


def test_500_is_not_retried_and_reported(tmp_path, api):
    api.replies.append(Reply(500, body={"error": {"message": "model crashed"}}))
    with pytest.raises(LLMError, match="server error: HTTP 500: model crashed"):
        engine(tmp_path, api).complete(MSGS)
    assert len(api.requests) == 1


def test_unknown_model_is_reported(tmp_path, api):
    settings = Settings(home=tmp_path, llm_base_url=api.base_url, llm_model="nope", llm_api_key="sk-test")
    with pytest.raises(LLMError, match="HTTP 400.*'nope' does not exist"):
        OpenAIHTTPEngine(settings).complete(MSGS)


def test_timeout(tmp_path, api):
    api.replies.append(Reply(delay=1.5))
    with pytest.raises(LLMError, match="timed out"):
        engine(tmp_path, api, timeout=0.3).complete(MSGS)


def test_connection_refused(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(home=tmp_path, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_model="m")
    with pytest.raises(LLMError, match="could not be reached"):
        OpenAIHTTPEngine(settings).complete(MSGS)


def test_invalid_json_with_schema_and_non_completion_body(tmp_path, api, caplog):
    api.replies += [Reply(content='{"answer": "cut', finish_reason="length"), Reply(body={"weird": 1})]
    llm = engine(tmp_path, api)
    # Returned as is (the task layer validates and retries, as with the fake), with a warning.
    assert llm.complete(MSGS, schema=SCHEMA).text == '{"answer": "cut'
    assert "not valid JSON (cut off by max_tokens)" in caplog.text
    with pytest.raises(LLMError, match="not a chat completion"):
        llm.complete(MSGS)

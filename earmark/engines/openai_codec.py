"""The OpenAI-style chat format both LLM engines speak: llama.cpp's server in-process
(engines/llama_cpp.py) and any OpenAI-compatible endpoint (engines/openai_http.py).

:func:`request_body` writes a ``/chat/completions`` request (a JSON schema becomes
``response_format: {"type": "json_schema", ...}``); :func:`read_completion` reads the answer into a
:class:`~earmark.ai.llm.Completion`, counting prompt tokens served from the engine's cache
(OpenAI's ``prompt_tokens_details.cached_tokens``, else llama.cpp's ``timings.cache_n``).
"""

from __future__ import annotations

import json
import logging

from earmark.ai.llm import Completion, Message

log = logging.getLogger(__name__)


def request_body(messages: list[Message], *, schema: dict | None, max_tokens: int, temperature: float,
                 frequency_penalty: float, **extra) -> dict:
    """The request; ``extra`` fields (``model``, llama.cpp's ``cache_prompt``) come first."""
    body: dict = {
        **extra,
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
    }
    if frequency_penalty:
        body["frequency_penalty"] = frequency_penalty
    if schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": True},
        }
    return body


def answer_text(data: object) -> tuple[str, str | None]:
    """The first choice's text and finish reason; ValueError when ``data`` is not a chat completion."""
    try:
        choice = data["choices"][0]
        return choice["message"].get("content") or "", choice.get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ValueError("not a chat completion") from None


def check_json(engine: str, text: str, finish_reason: str | None) -> None:
    """Warn when a schema'd answer is not JSON. The text is still returned as is: the task layer
    validates it against the schema and retries with the problem fed back (as with the fake)."""
    try:
        json.loads(text)
    except ValueError:
        hint = " (cut off by max_tokens)" if finish_reason == "length" else ""
        log.warning("%s: the answer is not valid JSON%s: %.200r", engine, hint, text)


def read_completion(engine: str, data: dict, *, schema: dict | None, seconds: float) -> Completion:
    """``data`` (a chat completion) as a Completion; ValueError when it is not one. ``engine`` names
    the engine in the warning about a schema'd answer that is not JSON."""
    text, finish_reason = answer_text(data)
    if schema is not None:  # warn only: the task layer validates and retries
        check_json(engine, text, finish_reason)
    usage = data.get("usage") or {}
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is None:
        cached = (data.get("timings") or {}).get("cache_n", 0)  # llama.cpp
    return Completion(
        text=text,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=int(cached or 0),
        seconds=seconds,
    )

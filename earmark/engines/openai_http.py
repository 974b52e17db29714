"""Any OpenAI-compatible chat endpoint (``llm_engine = "openai"``): Ollama, vLLM, a llama.cpp
server, OpenAI itself. ``llm_base_url`` is the API root including ``/v1`` (e.g.
``http://127.0.0.1:11434/v1``), ``llm_model`` the endpoint's model id, ``llm_api_key`` sent as a
Bearer token when set.

Structured output uses ``response_format: {"type": "json_schema", "json_schema": {...}}``.
Rate limits (429) and transient server errors (502/503/504) are retried a bounded number of times,
honouring ``Retry-After``; everything else that goes wrong becomes an :class:`LLMError` whose message
names the endpoint and the cause.
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime

import httpx

from earmark.ai.llm import Completion, Message, register_llm
from earmark.config import Settings
from earmark.engines.openai_codec import read_completion, request_body
from earmark.errors import ConfigError, LLMError
from earmark.net import service_client

RETRY_STATUSES = {429, 502, 503, 504}


class OpenAIHTTPEngine:
    name = "openai"

    def __init__(
        self,
        settings: Settings,
        *,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 30.0,
        sleep=time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not settings.llm_base_url:
            raise ConfigError("llm_engine 'openai' needs llm_base_url (e.g. http://127.0.0.1:11434/v1)")
        self.base_url = settings.llm_base_url.rstrip("/")
        self.model = settings.llm_model
        self.api_key = settings.llm_api_key
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self._context = int(settings.llm_context)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = service_client(settings, headers=headers, timeout=httpx.Timeout(settings.llm_timeout, connect=10.0),
                                      transport=transport)

    @property
    def context_size(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / 3.5)  # no portable tokenize endpoint; slightly generous

    def close(self) -> None:
        self._client.close()

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.2,
        frequency_penalty: float = 0.0,
    ) -> Completion:
        body = request_body(messages, schema=schema, max_tokens=max_tokens, temperature=temperature,
                            frequency_penalty=frequency_penalty, model=self.model)
        url = f"{self.base_url}/chat/completions"
        started = time.perf_counter()
        attempt = 0
        while True:
            try:
                response = self._client.post(url, json=body)
            except httpx.TimeoutException as exc:
                raise LLMError(f"LLM endpoint {url} timed out ({type(exc).__name__})") from exc
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:  # the server went away while answering
                raise LLMError(f"LLM endpoint {url} closed the connection mid-answer ({exc}); is the server"
                               " still running?") from exc
            except httpx.HTTPError as exc:
                raise LLMError(f"LLM endpoint {url} could not be reached: {exc}") from exc
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                attempt += 1
                self._sleep(self._wait(response, attempt))
                continue
            break
        if response.status_code != 200:
            raise LLMError(self._describe_error(url, response, attempt))
        try:
            return read_completion(f"LLM endpoint {url}", response.json(), schema=schema,
                                   seconds=time.perf_counter() - started)
        except ValueError:
            raise LLMError(f"LLM endpoint {url} answered something that is not a chat completion: {response.text[:200]!r}") from None

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After")
        wait = None
        if header:
            try:
                wait = float(header)
            except ValueError:
                try:
                    wait = parsedate_to_datetime(header).timestamp() - time.time()
                except (TypeError, ValueError):
                    wait = None
        if wait is None:
            wait = self.backoff * 2 ** (attempt - 1)
        return min(max(wait, 0.0), self.max_wait)

    def _describe_error(self, url: str, response: httpx.Response, retries: int) -> str:
        detail = response.text[:300]
        try:
            error = response.json().get("error")
            if isinstance(error, dict):
                detail = error.get("message") or detail
            elif error:
                detail = str(error)
        except (ValueError, AttributeError):
            pass
        status = response.status_code
        if status in (401, 403):
            what = "rejected the API key (check llm_api_key)"
        elif status == 404:
            what = f"does not know this path or model {self.model!r} (check llm_base_url and llm_model)"
        elif status == 429:
            what = f"is rate-limiting us (still 429 after {retries} retries)"
        elif status >= 500:
            what = f"failed with a server error{f' after {retries} retries' if retries else ''}"
        else:
            what = "refused the request"
        return f"LLM endpoint {url} {what}: HTTP {status}: {detail}"


@register_llm("openai")
def _factory(settings: Settings) -> OpenAIHTTPEngine:
    return OpenAIHTTPEngine(settings)

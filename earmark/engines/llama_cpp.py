"""The local language model: llama.cpp's server, in-process, through the prebuilt ``xllamacpp`` wheel.

The model (a GGUF: the bundled Qwen2.5-Coder-1.5B-Instruct Q4_K_M, or any path the user sets) loads
lazily on the first :meth:`complete`. With ``cache_prompt`` on, a slot keeps its last prompt's KV
cache, so consecutive calls that share a prefix (the instruction first, what differs last) only
process their own tokens; the reuse is reported as ``Completion.cached_tokens``.

``llm_slots`` slots (1 by default) each hold a context of ``llm_context`` tokens.
:meth:`complete` uses one at a time; :meth:`complete_many` hands independent calls to all of them
at once, and llama.cpp decodes their next tokens in one batch. On a CPU that pays only where calls
generate much and read little, and each slot's context costs its KV cache (about 240 MB at 8192
tokens with the bundled model). Measured on 2 cores: 8 short calls (2,587 prompt tokens, 630
generated) took 83.9 s on 1 slot and 61.2 s on 4; a 30-minute episode's section readings (8,389
prompt tokens, 396 generated) 133.6 s on 1 slot and 128.0 s on 4. One context shared by the slots
(``kv_unified``) would cost no memory, but every token then attends over all the slots' cached
prompts: the same readings took 204.3 s.

Prompt-lookup decoding (``llm_lookup``, on by default): where the last ``LOOKUP_NGRAM`` tokens
generated also occur in the prompt, the tokens that followed them there (up to ``llm_lookup``) are
checked in one batch, and as many as the model agrees with are kept. The summary restates the
sentences it is shown, so much of it is drafted that way: on 2 cores its generation ran at 17.4
tokens/s against 14.2 without (30-minute episode, /tmp harness; 19.1 against 14.0 on a 6-minute
one). The answers are the model's own greedy choices, but a batch's arithmetic differs in the last
bits from one token's, so now and then a near-tie goes the other way.

Structured output: a JSON schema becomes a grammar, so the answer is JSON unless it was cut off by
``max_tokens``. Where the build has llguidance (the prebuilt wheels do), the grammar is written here
and asks for one-line JSON (``{"key": [1, 2], "best": 2}``): left free, the model pretty-prints, and
the newlines and indents cost a quarter of a short answer's generated tokens. Elsewhere the schema
goes as ``response_format`` and llama.cpp builds the grammar.

xllamacpp also opens its HTTP server on a random loopback port; it is locked with a random API key
and used only for ``/tokenize`` (which leaves the slot's cache alone).
"""

from __future__ import annotations

import functools
import json
import math
import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from earmark.ai.gate import COMPUTE
from earmark.ai.llm import Completion, Message, Request, register_llm
from earmark.config import Settings
from earmark.engines.openai_codec import read_completion, request_body
from earmark.errors import ConfigError, LLMError


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# llguidance's JSON options: the spacing of Python's json.dumps, no newlines or indents.
LOOKUP_NGRAM = 4  # tokens that must match the prompt before what followed them there is drafted
ONE_LINE_JSON = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


@functools.cache
def _has_llguidance() -> bool:
    import xllamacpp

    return xllamacpp.json_schema_to_grammar("{}").startswith("%llguidance")


def one_line_grammar(schema: dict) -> str | None:
    """An llguidance grammar for ``schema`` answered on one line; None when xllamacpp was built
    without llguidance."""
    if not _has_llguidance():
        return None
    return "%llguidance {}\nstart: %json " + json.dumps({**schema, "x-guidance": ONE_LINE_JSON})


def estimate_tokens(text: str) -> int:
    """Cheap, slightly generous estimate used before the model (and its tokenizer) is loaded."""
    return math.ceil(len(text) / 3.5)


class LlamaCppEngine:
    name = "llama-cpp"

    def __init__(self, settings: Settings, *, threads: int | None = None) -> None:
        self.settings = settings
        self.model = settings.llm_model
        self.threads = threads or _cores()
        self._context = int(settings.llm_context)
        self.slots = int(settings.llm_slots)
        self._server = None
        self._address: str | None = None
        self._key = secrets.token_urlsafe(24)
        self._lock = threading.RLock()
        self.load_seconds: float | None = None
        self.last_timings: dict = {}  # llama.cpp's timings of the last call (prompt_n, cache_n, prompt_ms …)

    # -- loading ---------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._server is not None

    def load(self) -> None:
        with self._lock:
            if self._server is not None:
                return
            from earmark.engines.llm_weights import resolve_gguf

            path = resolve_gguf(self.settings, self.model)
            try:
                import xllamacpp
            except ImportError:
                raise ConfigError("llm_engine 'llama-cpp' needs the package xllamacpp (pip install xllamacpp)") from None
            started = time.perf_counter()
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.n_ctx = self._context * self.slots  # llama.cpp splits it: each slot gets llm_context
            params.n_parallel = self.slots
            params.kv_unified = False
            params.cache_prompt = True
            params.cache_ram_mib = 0  # no extra host-RAM prompt cache: the slot's own cache suffices
            if self.settings.llm_lookup:  # prompt-lookup decoding (see the module's docstring)
                params.speculative.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
                params.speculative.ngram_simple.size_n = LOOKUP_NGRAM
                params.speculative.ngram_simple.size_m = self.settings.llm_lookup
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.threads
            params.verbosity = 0
            params.api_keys = [self._key]
            try:
                server = xllamacpp.Server(params)
            except Exception as exc:  # a bad GGUF, out of memory …
                raise LLMError(f"llama-cpp: could not load {path}: {exc}") from exc
            self._address = str(server.listening_address or "") or None
            self._server = server
            self.load_seconds = time.perf_counter() - started

    def close(self) -> None:
        with self._lock:
            self._server = None  # the Server's destructor stops its loop

    # -- the LLMEngine protocol ------------------------------------------------------------
    @property
    def context_size(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        if self._server is None or not self._address:
            return estimate_tokens(text)
        import httpx

        from earmark.net import service_client

        try:
            with service_client(self.settings, timeout=60.0, headers={"Authorization": f"Bearer {self._key}"}) as http:
                r = http.post(f"{self._address}/tokenize", json={"content": text})
            r.raise_for_status()
            return len(r.json()["tokens"])
        except (httpx.HTTPError, ValueError, KeyError):
            return estimate_tokens(text)

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.2,
        frequency_penalty: float = 0.0,
    ) -> Completion:
        return self.complete_many([Request(messages, schema, max_tokens, temperature, frequency_penalty)])[0]

    def complete_many(self, requests: list[Request]) -> list[Completion]:
        """Answers to independent calls, in order, decoded together on the slots: a wave of as many
        as there are slots at a time, each wave one turn at the gate (so a listener's request still
        goes ahead at the next wave)."""
        self.load()
        return [c for k in range(0, len(requests), self.slots) for c in self._wave(requests[k:k + self.slots])]

    def _wave(self, requests: list[Request]) -> list[Completion]:
        with COMPUTE.held(), self._lock:  # the machine's cores, by priority (ai/gate.py)
            if len(requests) == 1:
                return [self._call(requests[0])]
            with ThreadPoolExecutor(len(requests), thread_name_prefix="llm-slot") as pool:
                return list(pool.map(self._call, requests))

    def _call(self, request: Request) -> Completion:
        schema = request.schema
        grammar = one_line_grammar(schema) if schema is not None else None
        body = request_body(request.messages, schema=None if grammar else schema, max_tokens=request.max_tokens,
                            temperature=request.temperature, frequency_penalty=request.frequency_penalty,
                            cache_prompt=True)
        if grammar:
            body["grammar"] = grammar
        started = time.perf_counter()
        try:
            response = self._server.handle_chat_completions(body)
        except Exception as exc:
            raise LLMError(f"llama-cpp: {exc}") from exc
        seconds = time.perf_counter() - started
        if not isinstance(response, dict):
            raise LLMError(f"llama-cpp: unexpected answer {response!r:.200}")
        if response.get("error"):
            error = response["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise LLMError(f"llama-cpp: {message}")
        self.last_timings = dict(response.get("timings") or {})
        try:
            return read_completion("llama-cpp", response, schema=schema, seconds=seconds)
        except ValueError:
            raise LLMError(f"llama-cpp: answer without choices: {json.dumps(response)[:300]}") from None


# One engine per (model, context, home): loading costs seconds and ~2 GB, so get_llm shares it.
_ENGINES: dict[tuple, LlamaCppEngine] = {}
_ENGINES_LOCK = threading.Lock()


@register_llm("llama-cpp")
def _factory(settings: Settings) -> LlamaCppEngine:
    key = (settings.llm_model, int(settings.llm_context), settings.llm_slots, settings.llm_lookup, str(settings.home))
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = LlamaCppEngine(settings)
        return engine

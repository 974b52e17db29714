"""The language-model seam, used by every understanding task (summary, chapters, highlights, ask,
snip cards). Engines register a factory by name; the default one uses it too.

Tasks send chat messages and, for structured output, a JSON schema the engine enforces (llama.cpp
grammar, OpenAI ``response_format``). ``frequency_penalty`` (OpenAI's meaning, 0–2) breaks a
decoding loop when a task asks again after one. Put what calls share first (system prompt and
instruction) and what differs last, so an engine with a prompt/KV cache reuses the prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from earmark.config import Settings
from earmark.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # system / user / assistant
    content: str


@dataclass(frozen=True, slots=True)
class Completion:
    text: str  # JSON text when a schema was given
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens served from the engine's cache
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Request:
    """One call, for :func:`complete_all`."""

    messages: list[Message]
    schema: dict | None = None
    max_tokens: int = 512
    temperature: float = 0.2
    frequency_penalty: float = 0.0


class LLMEngine(Protocol):
    name: str  # engine, e.g. "llama-cpp", "openai"
    model: str  # model it runs: a GGUF path/name, or the endpoint's model id

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.2,
        frequency_penalty: float = 0.0,
    ) -> Completion: ...

    def count_tokens(self, text: str) -> int: ...

    @property
    def context_size(self) -> int: ...


def complete_all(engine: LLMEngine, requests: list[Request]) -> list[Completion]:
    """Independent calls, answered in order: together where the engine decodes several at once
    (``complete_many``: llama.cpp's slots share each step's pass over the weights), else one by one."""
    many = getattr(engine, "complete_many", None)
    if many is not None and len(requests) > 1:
        return many(requests)
    return [engine.complete(r.messages, schema=r.schema, max_tokens=r.max_tokens, temperature=r.temperature,
                            frequency_penalty=r.frequency_penalty) for r in requests]


_FACTORIES: dict[str, Callable[[Settings], LLMEngine]] = {}


def register_llm(name: str) -> Callable[[Callable[[Settings], LLMEngine]], Callable[[Settings], LLMEngine]]:
    def decorator(factory: Callable[[Settings], LLMEngine]) -> Callable[[Settings], LLMEngine]:
        _FACTORIES[name] = factory
        return factory

    return decorator


def get_llm(settings: Settings) -> LLMEngine:
    """The engine named by ``settings.llm_engine``."""
    _load_builtin_engines()
    try:
        factory = _FACTORIES[settings.llm_engine]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise ConfigError(f"unknown llm_engine {settings.llm_engine!r} (known: {known})") from None
    return factory(settings)


def _load_builtin_engines() -> None:
    """Import the bundled engine modules so their @register_llm runs (heavy imports stay lazy)."""
    import importlib

    for module in ("earmark.engines.llama_cpp", "earmark.engines.openai_http"):
        importlib.import_module(module)

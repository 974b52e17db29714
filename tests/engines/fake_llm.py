"""A deterministic language-model engine for tests (``llm_engine = "fake"``, registered when this
module is imported: tests/conftest.py does, and ``python -m tests.engines.cli`` for a child
process; the shipped package knows no "fake" engine).

It never runs a model. Each :meth:`FakeLLM.complete` call takes the next scripted answer from
``answers`` (a string, a callable of ``(messages, schema)`` returning a string, or an exception
instance/class to raise); when the queue is empty it answers ``default`` (a string or callable) or,
failing that, a generated answer: a minimal JSON document that satisfies the schema when one was
given, otherwise ``"fake answer N"``. Every call is appended to ``history`` (:class:`Call`).

Tokens are counted as whitespace-separated words, so a test can reason about context sizes.
Prompt caching is simulated: the longest common token prefix with any earlier call's prompt is
reported as ``cached_tokens`` (the same shape a real engine with a KV cache reports).

What ``get_llm`` hands out for ``llm_engine = "fake"`` is a :class:`FakeLLMProvider`'s engine. A
test gets its own provider from the ``fake_llm`` fixture (tests/conftest.py: installed for every
test, gone after it), so no fake state outlives a test::

    def test_something(fake_llm):
        fake_llm.reset(answers=['{"summary": "..."}'], context=2048)
        engine = get_llm(Settings.load(llm_engine="fake"))  # fake_llm.engine()
        ...
        assert fake_llm.history[0].prompt ...

A child process installs one of its own (``FakeLLMProvider().install()``; tests/engines/cli.py,
tests/faults/child.py). Where none is installed, each ``get_llm`` call gets a new ``FakeLLM()``.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from earmark.ai.gate import COMPUTE
from earmark.ai.llm import Completion, Message, register_llm
from earmark.config import Settings
from earmark.errors import LLMError

Answer = str | Callable[[list[Message], dict | None], str] | BaseException | type


@dataclass(frozen=True, slots=True)
class Call:
    messages: tuple[Message, ...]
    schema: dict | None
    max_tokens: int
    temperature: float
    frequency_penalty: float = 0.0

    @property
    def prompt(self) -> str:
        return "\n".join(m.content for m in self.messages)


def count_words(text: str) -> int:
    return len(text.split())


@dataclass
class FakeLLM:
    name: str = "fake"
    model: str = "fake-llm-1"
    answers: deque = field(default_factory=deque)
    default: str | Callable[[list[Message], dict | None], str] | None = None
    context: int = 4096
    delay: float = 0.0  # seconds slept per call (for timing/cancel tests)
    fail_after: int | None = None  # calls allowed before every further call raises LLMError
    history: list[Call] = field(default_factory=list)
    _prompts: list[list[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.answers, deque):
            self.answers = deque(self.answers)

    # -- scripting helpers -------------------------------------------------------------------
    def queue(self, *answers: Answer) -> FakeLLM:
        self.answers.extend(answers)
        return self

    @property
    def calls(self) -> int:
        return len(self.history)

    # -- the LLMEngine protocol --------------------------------------------------------------
    @property
    def context_size(self) -> int:
        return self.context

    def count_tokens(self, text: str) -> int:
        return count_words(text)

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.2,
        frequency_penalty: float = 0.0,
    ) -> Completion:
        started = time.perf_counter()
        messages = list(messages)
        self.history.append(Call(tuple(messages), schema, max_tokens, temperature, frequency_penalty))
        if self.fail_after is not None and len(self.history) > self.fail_after:
            raise LLMError(f"fake llm: failing on call {len(self.history)} (fail_after={self.fail_after})")
        prompt_words = "\n".join(m.content for m in messages).split()
        if len(prompt_words) > self.context:
            raise LLMError(
                f"fake llm: prompt is {len(prompt_words)} tokens, context is {self.context}"
            )
        if self.delay:
            with COMPUTE.held():  # one call at the gate, as the real engine
                time.sleep(self.delay)
        answer: Answer | None = self.answers.popleft() if self.answers else self.default
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, type) and issubclass(answer, BaseException):
            raise answer("fake llm: scripted failure")
        if answer is None:
            text = json.dumps(minimal_instance(schema)) if schema else f"fake answer {len(self.history)}"
        elif callable(answer):
            text = answer(messages, schema)
        else:
            text = answer
        cached = max((_common_prefix(prompt_words, p) for p in self._prompts), default=0)
        self._prompts.append(prompt_words)
        return Completion(
            text=text,
            prompt_tokens=len(prompt_words),
            completion_tokens=count_words(text),
            cached_tokens=cached,
            seconds=time.perf_counter() - started,
        )


def _common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def minimal_instance(schema: dict | None) -> Any:
    """A small value that satisfies common JSON schemas (object/array/string/number/boolean/enum)."""
    if not schema:
        return {}
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties", {})
        return {k: minimal_instance(props.get(k, {})) for k in schema.get("required", list(props))}
    if kind == "array":
        return [minimal_instance(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * schema.get("minLength", 1)
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}


class FakeLLMProvider:
    """The fake engine ``get_llm`` hands out once :meth:`install`-ed: one engine, built from
    ``defaults`` when first asked for, until :meth:`reset`. Every engine it builds appends its calls
    to the same ``history``."""

    def __init__(self, **defaults) -> None:
        self.history: list[Call] = []
        self.defaults: dict = dict(defaults)
        self._engine: FakeLLM | None = None

    def reset(self, **defaults) -> FakeLLM:
        """Forget history and scripted answers; set what the next engines get (``answers``,
        ``default``, ``context``, ``delay``, ``fail_after``). Returns the engine get_llm will hand
        out (a new one: an engine built before keeps its own settings)."""
        self.history.clear()
        self.defaults = dict(defaults)
        self._engine = None
        return self.engine()

    def engine(self) -> FakeLLM:
        """The engine get_llm hands out (built on first use)."""
        if self._engine is None:
            self._engine = FakeLLM(history=self.history, **self.defaults)
        return self._engine

    def __call__(self, settings: Settings) -> FakeLLM:  # the factory registered for "fake"
        return self.engine()

    def install(self) -> FakeLLMProvider:
        """Make get_llm(llm_engine="fake") hand out this provider's engine (until :func:`uninstall`)."""
        register_llm("fake")(self)
        return self


@register_llm("fake")
def _unconfigured(settings: Settings) -> FakeLLM:
    """No provider installed: a new engine with no script, each time."""
    return FakeLLM()


def uninstall() -> None:
    """Back to :func:`_unconfigured` (the ``fake_llm`` fixture's teardown)."""
    register_llm("fake")(_unconfigured)

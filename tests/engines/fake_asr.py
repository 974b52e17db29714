"""A deterministic ASR engine for tests (``asr_engine = "fake"``, registered when this module is
imported: tests/conftest.py does, and ``python -m tests.engines.cli`` for a child process; the
shipped package knows no "fake" engine). It never decodes audio: it
yields scripted segments, or one made-up segment every ``step`` seconds, over the window asked
for, sleeping ``delay`` seconds per segment so a test can kill or cancel it mid-run. Every call
is appended to its ``history``.

What ``get_asr`` hands out for ``asr_engine = "fake"`` comes from a :class:`FakeASRProvider`: a new
engine each call, with the provider's ``defaults``, appending to the provider's ``history``. A test
gets its own provider from the ``fake_asr`` fixture (tests/conftest.py: installed for every test,
gone after it), so no fake state outlives a test. Where none is installed (a child process), each
engine keeps its own history.

Tuning that must reach a child process (a kill -9 test) comes from the environment:
``EARMARK_FAKE_ASR_DELAY``, ``EARMARK_FAKE_ASR_STEP``, ``EARMARK_FAKE_ASR_LENGTH`` (audio length in
seconds when the caller gives no ``duration``), ``EARMARK_FAKE_ASR_LANGUAGE`` (the language it
"detects" when given none; ``last_language`` reports it, like the real engine).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from earmark.ai.gate import COMPUTE
from earmark.ai.asr import register_asr
from earmark.config import Settings
from earmark.models import Segment, Word


@dataclass(frozen=True, slots=True)
class Call:
    audio: Path
    language: str | None
    offset: float
    duration: float | None


@dataclass
class FakeASR:
    name: str = "fake"
    model: str = "fake-1"
    segments: list[Segment] | None = None  # scripted answers; None: generate them
    step: float = 2.0
    delay: float = 0.0
    length: float = 60.0  # audio length assumed when no duration is given
    detected_language: str | None = None  # what "detection" finds when no language is given
    last_language: str | None = None  # like the real engine: the language of the last call
    history: list[Call] = field(default_factory=list)

    def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        offset: float = 0.0,
        duration: float | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Iterator[Segment]:
        self.history.append(Call(Path(audio), language, offset, duration))
        self.last_language = language or self.detected_language
        end = offset + duration if duration is not None else self.length
        for segment in self.segments if self.segments is not None else self._generated(end):
            # Whole segments belong to the window their start falls in, as with a real chunked run.
            if offset <= segment.start < end:
                if self.delay:
                    with COMPUTE.held():  # a step of work at the gate, as the real engine's windows
                        time.sleep(self.delay)
                if progress:
                    progress(segment.end)
                yield segment

    def _generated(self, end: float) -> Iterator[Segment]:
        n = 0
        while n * self.step < end:
            start = n * self.step
            stop = start + self.step
            words = [f"Segment{n}", "says", "hello."]
            width = (stop - start) / len(words)
            yield Segment(
                start, stop, " ".join(words), speaker=None,
                words=[Word(round(start + i * width, 3), round(start + (i + 1) * width, 3), w) for i, w in enumerate(words)],
            )
            n += 1


def _options(defaults: dict) -> dict:
    """``defaults``, with what the environment sets over them (it reaches subprocesses)."""
    options = dict(defaults)
    for key in ("delay", "step", "length"):
        value = os.environ.get(f"EARMARK_FAKE_ASR_{key.upper()}")
        if value:
            options[key] = float(value)
    if os.environ.get("EARMARK_FAKE_ASR_LANGUAGE"):
        options["detected_language"] = os.environ["EARMARK_FAKE_ASR_LANGUAGE"]
    return options


@dataclass
class FakeASRProvider:
    """What ``get_asr`` hands out once :meth:`install`-ed: a new :class:`FakeASR` per call, built
    from ``defaults`` (a test may set them in-process; the environment wins), all appending to
    ``history``."""

    history: list[Call] = field(default_factory=list)
    defaults: dict = field(default_factory=dict)

    def __call__(self, settings: Settings) -> FakeASR:  # the factory registered for "fake"
        return FakeASR(history=self.history, **_options(self.defaults))

    def install(self) -> FakeASRProvider:
        """Make get_asr(asr_engine="fake") use this provider (until :func:`uninstall`)."""
        register_asr("fake")(self)
        return self


@register_asr("fake")
def make_fake(settings: Settings) -> FakeASR:
    """No provider installed: an engine with the environment's settings and a history of its own."""
    return FakeASR(**_options({}))


def uninstall() -> None:
    """Back to :func:`make_fake` (the ``fake_asr`` fixture's teardown)."""
    register_asr("fake")(make_fake)

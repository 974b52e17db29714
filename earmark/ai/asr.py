"""The speech-to-text seam. Engines register a factory by name; the default one uses it too.

An engine turns audio into segments with word timestamps, lazily, so long episodes stream and a
pipeline can stop after any segment. ``offset``/``duration`` select a window of the audio (chunked
processing, resuming, or transcribing just the moments around a snip); the times it yields are
always absolute seconds from the start of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from earmark.config import Settings
from earmark.errors import ConfigError
from earmark.models import Segment


class ASREngine(Protocol):
    name: str  # engine, e.g. "faster-whisper"
    model: str  # model it runs, e.g. "base" or a directory

    def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        offset: float = 0.0,
        duration: float | None = None,
        progress: Callable[[float], None] | None = None,  # seconds of audio done
    ) -> Iterator[Segment]: ...


_FACTORIES: dict[str, Callable[[Settings], ASREngine]] = {}


def register_asr(name: str) -> Callable[[Callable[[Settings], ASREngine]], Callable[[Settings], ASREngine]]:
    def decorator(factory: Callable[[Settings], ASREngine]) -> Callable[[Settings], ASREngine]:
        _FACTORIES[name] = factory
        return factory

    return decorator


def get_asr(settings: Settings) -> ASREngine:
    """The engine named by ``settings.asr_engine``."""
    _load_builtin_engines()
    try:
        factory = _FACTORIES[settings.asr_engine]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise ConfigError(f"unknown asr_engine {settings.asr_engine!r} (known: {known})") from None
    return factory(settings)


def _load_builtin_engines() -> None:
    """Import the bundled engine modules so their @register_asr runs (cheap: heavy imports are lazy)."""
    import earmark.engines.faster_whisper  # noqa: F401  (registers "faster-whisper")

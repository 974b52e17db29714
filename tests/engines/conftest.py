from __future__ import annotations


import pytest

from earmark.config import Settings
from tests.engines import speech


@pytest.fixture(scope="session")
def spoken(tmp_path_factory) -> speech.Speech:
    """~43 s of espeak-ng speech (8 sentences, 1.5 s pauses) with known words and sentence times."""
    return speech.synthesize(tmp_path_factory.mktemp("speech") / "episode.wav")


@pytest.fixture(scope="session")
def asr_home(tmp_path_factory):
    return tmp_path_factory.mktemp("asr-home")


@pytest.fixture(scope="session")
def engines(asr_home):
    """One engine per model for the whole session (models load once)."""
    from earmark.engines.faster_whisper import FasterWhisperEngine

    cache: dict = {}

    def get(model: str) -> FasterWhisperEngine:
        if model not in cache:
            cache[model] = FasterWhisperEngine(model, Settings(home=asr_home))
        return cache[model]

    return get

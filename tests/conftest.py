from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from earmark.config import Settings
from earmark.store.library import Library
from tests.chromium import ARGS, CHROMIUM
from tests.engines import fake_asr as fake_asr_engine, fake_llm as fake_llm_engine  # registers "fake"
from tests.loopback import LoopbackServer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    return Settings.load(http_timeout=5.0)


@pytest.fixture(scope="session")
def llm_home() -> Path:
    """The one home of every real-model LLM test (and bench/bench_llm.py): the 1.1 GB GGUF is
    assembled and hash-checked once per machine, not once per test module."""
    return Path(tempfile.gettempdir()) / "earmark-real-model-home"


def _fake_engine(engine, provider):
    """``provider`` installed as ``engine``'s "fake" for one test: every test gets a new one; none
    outlives its test."""
    yield provider.install()
    engine.uninstall()


@pytest.fixture(autouse=True)
def fake_llm() -> fake_llm_engine.FakeLLMProvider:
    """This test's fake LLM: what get_llm hands out for ``llm_engine = "fake"`` (``reset`` scripts
    it, ``history`` has its calls)."""
    yield from _fake_engine(fake_llm_engine, fake_llm_engine.FakeLLMProvider())


@pytest.fixture(autouse=True)
def fake_asr() -> fake_asr_engine.FakeASRProvider:
    """This test's fake ASR: what get_asr hands out for ``asr_engine = "fake"`` (``defaults`` tune
    it, ``history`` has its calls)."""
    yield from _fake_engine(fake_asr_engine, fake_asr_engine.FakeASRProvider())


@pytest.fixture
def library(settings) -> Library:
    lib = Library(settings.db_path)
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, one per test module. A missing browser fails the test (never a skip)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is needed for the browser tests (apt-get install chromium; .ci/run does)")

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def server() -> LoopbackServer:
    srv = LoopbackServer()
    yield srv
    srv.close()

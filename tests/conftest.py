from __future__ import annotations

from pathlib import Path

import pytest

from earmark.config import Settings
from earmark.store.library import Library
from tests.chromium import ARGS, CHROMIUM
from tests.loopback import LoopbackServer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    return Settings.load(http_timeout=5.0)


@pytest.fixture
def library(settings) -> Library:
    lib = Library(settings.db_path)
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def server() -> LoopbackServer:
    srv = LoopbackServer()
    yield srv
    srv.close()

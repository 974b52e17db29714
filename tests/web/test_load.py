"""Many API clients at once against the app under a real uvicorn on loopback (the short form of
bench/bench_load.py): no errors, no "database is locked", and every acknowledged write stored."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from earmark.web.app import create_app
from tests.web.conftest import serving

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_load.py"
CLIENTS, SECONDS = 50, 5.0


class RandomEmbedder:
    """Unit vectors of the bundled model's size: searches run over an index (queries are embedded by
    the real model in the server) without embedding the transcripts first, the slow part."""

    name, dim = "random-for-tests", 384

    def passages(self, texts):
        vectors = np.random.default_rng(len(texts)).normal(size=(len(texts), self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_load", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_fifty_clients_at_once_lose_nothing(settings, caplog):
    bench = _bench()
    # Two shows (~380 episodes), four with transcripts: searches and snips have text to find.
    plan = bench.prepare(settings.home, transcribed=4, minutes=5, embedder=RandomEmbedder(),
                         feeds=["nodepodcastparser__coding-blocks.xml", "nodepodcastparser__podnews.xml"], log=lambda *_: None)
    # run_jobs: the snip enricher writes each new snip's card meanwhile, through its own connection.
    app = create_app(settings, run_jobs=True)
    with caplog.at_level(logging.WARNING), serving(app) as base:
        results = asyncio.run(bench.run_clients(base, plan, CLIENTS, SECONDS))
        in_db = bench.verify_db(settings.db_path, results)
        via_api = asyncio.run(bench.verify_api(base, results))

    errors = dict(results.errors)
    assert not errors, results.examples
    assert results.total > 200  # the clients did run (hundreds of requests even on a slow machine)
    assert results.positions and results.snips
    assert not in_db.missing and in_db.ok == len(results.positions) + len(results.snips)
    assert not via_api.missing and via_api.ok == in_db.ok
    assert "database is locked" not in caplog.text

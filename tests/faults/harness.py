"""The fault campaign's tools: an Earmark home for child processes, starting and killing the real
CLI (``tests/faults/child.py``), waiting on real state (library rows, gate files, server logs) with
deadlines, the checks every fault ends with, and the campaign's tally.

Nothing here sleeps to guess at timing: every wait polls something that proves the state it waits
for, and fails with what it saw when the deadline passes or the child exits early.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
POLL = 0.02

SETTINGS = """\
asr_engine = "fake"
asr_chunk_seconds = 10.0
llm_engine = "fake"
semantic_index = true
http_timeout = 5.0
job_max_attempts = 3
"""


# -- the campaign's tally -------------------------------------------------------------------------


@dataclass
class Fault:
    """One fault: where it was injected, what it was, whether the library came through."""

    stage: str
    fault: str
    injected: int = 0
    survived: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def inject(self, note: str = "") -> None:
        self.injected += 1
        if note:
            self.notes.append(note)

    def survive(self, note: str = "") -> None:
        self.survived += 1
        if note:
            self.notes.append(note)


RESULTS: list[Fault] = []


def record(fault: Fault) -> None:
    RESULTS.append(fault)
    if path := os.environ.get("EARMARK_FAULT_REPORT"):
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(fault.__dict__) + "\n")


def table(results: list[Fault]) -> list[str]:
    lines = [f"{'stage':<20} {'fault':<66} {'injected':>8} {'survived':>8} {'seconds':>7}"]
    for r in results:
        lines.append(f"{r.stage[:20]:<20} {r.fault[:66]:<66} {r.injected:>8} {r.survived:>8} {r.seconds:>7.1f}")
    lines.append(f"{'total':<20} {str(len(results)) + ' faults':<66} {sum(r.injected for r in results):>8} "
                 f"{sum(r.survived for r in results):>8} {sum(r.seconds for r in results):>7.1f}")
    return lines


# -- waiting --------------------------------------------------------------------------------------


def wait_for(check: Callable[[], Any], what: str, *, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline, or
    at once when ``proc`` exits first (with its output)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the child exited ({proc.returncode}) before {what}:\n{output(proc)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                                 + (f"\n{output(proc)}" if proc is not None else ""))
        time.sleep(POLL)


def output(proc: subprocess.Popen) -> str:
    log = getattr(proc, "log_path", None)
    try:
        return Path(log).read_text(errors="replace")[-4000:] if log else ""
    except OSError:
        return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- an Earmark home and its processes ------------------------------------------------------------


class Earmark:
    """One EARMARK_HOME; starts the real CLI in child processes that share it."""

    def __init__(self, home: Path, settings: str = SETTINGS):
        self.home = home
        self.gates = home.parent / "gates"
        self.logs = home.parent / "logs"
        for folder in (home, self.gates, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        (home / "settings.toml").write_text(settings)
        self.children: list[subprocess.Popen] = []
        self._n = 0

    @property
    def trace_path(self) -> Path:
        return self.home.parent / "trace.jsonl"

    def trace(self) -> list[dict]:
        """What the children's fake engines were asked, in order (see child.py)."""
        if not self.trace_path.exists():
            return []
        return [json.loads(line) for line in self.trace_path.read_text().splitlines()]

    @property
    def db_path(self) -> Path:
        return self.home / "library.sqlite3"

    def settings(self, extra: str) -> None:
        """Set settings.toml keys (``key = value`` lines), replacing those already there."""
        path = self.home / "settings.toml"
        lines = path.read_text().splitlines()
        for line in extra.strip().splitlines():
            key = line.split("=", 1)[0].strip()
            lines = [old for old in lines if old.split("=", 1)[0].strip() != key] + [line]
        path.write_text("\n".join(lines) + "\n")

    def env(self, gate: str | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EARMARK_")}
        env.update(EARMARK_HOME=str(self.home), PYTHONPATH=str(REPO), EARMARK_FAULT_TRACE=str(self.trace_path), **extra)
        if gate:
            for old in self.gates.iterdir():
                old.unlink()
            env.update(EARMARK_FAULT_GATE=gate, EARMARK_FAULT_GATE_DIR=str(self.gates))
        return env

    def start(self, *args: str, gate: str | None = None, env: dict[str, str] | None = None) -> subprocess.Popen:
        """``earmark ARGS`` in a child (with the campaign's engines), output to a log file."""
        self._n += 1
        log_path = self.logs / f"{self._n:02d}-{args[0]}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.child", *args], cwd=REPO,
                env={**self.env(gate), **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self.children.append(proc)
        return proc

    def run(self, *args: str, code: int | None = 0, timeout: float = 120.0, env: dict[str, str] | None = None) -> str:
        """Run ``earmark ARGS`` to the end; its output. ``code``: the exit status expected."""
        proc = self.start(*args, env=env)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill(proc)
            raise AssertionError(f"earmark {' '.join(args)} ran past {timeout:.0f} s:\n{output(proc)}") from None
        text = output(proc)
        if code is not None:
            assert proc.returncode == code, f"earmark {' '.join(args)} exited {proc.returncode}:\n{text}"
        return text

    def json(self, *args: str) -> Any:
        text = self.run(*args, "--json")
        return json.loads(text[text.index("[") if text.lstrip().startswith("[") else text.index("{"):])

    def wait_gate(self, proc: subprocess.Popen, timeout: float = 60.0) -> dict:
        """Wait until the child stopped at its gate; what the gate wrote (point, stage, pid)."""
        reached = self.gates / "reached"
        wait_for(reached.exists, f"the child to reach its gate ({proc.args[4:]})", timeout=timeout, proc=proc)
        return json.loads(reached.read_text())

    def serve(self, gate: str | None = None) -> tuple[subprocess.Popen, str]:
        """``earmark serve`` on a free port; returns once the API answers."""
        import httpx

        port = free_port()
        proc = self.start("serve", "--port", str(port), gate=gate)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/api/v1/jobs", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, "earmark serve to answer", proc=proc)
        return proc, base

    def stop_all(self) -> None:
        for proc in self.children:
            if proc.poll() is None:
                kill(proc)

    # -- the library, read from this (test) process -----------------------------------------

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    def query(self, sql: str, *params) -> list[sqlite3.Row]:
        conn = self.db()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def one(self, sql: str, *params):
        rows = self.query(sql, *params)
        return rows[0][0] if rows else None

    def job(self, episode_id: int) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM jobs WHERE episode_id = ? ORDER BY id DESC LIMIT 1", episode_id)
        return rows[0] if rows else None

    def stages(self, job_id: int) -> dict[str, sqlite3.Row]:
        return {r["name"]: r for r in self.query("SELECT * FROM job_stages WHERE job_id = ? ORDER BY position", job_id)}

    def check_integrity(self) -> None:
        """SQLite's own check, foreign keys, and the full-text index against its content."""
        conn = self.db()
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            conn.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
        finally:
            conn.close()


def kill(proc: subprocess.Popen) -> None:
    """kill -9, and reap it."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)


# -- what an episode holds, comparable between two episodes ---------------------------------------

SKIP_TABLES = {"jobs", "snips", "playback", "queue", "export_state", "search_windows_changes"}  # the last: a change log
SKIP_COLUMNS = {"id", "episode_id", "path", "podcast_id"}


def episode_rows(em: Earmark, episode_id: int) -> dict[str, list[tuple]]:
    """Every row about the episode in every table that has an ``episode_id``, without ids, paths
    and times, sorted: two episodes processed alike hold equal dicts."""
    conn = em.db()
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = {}
        for name in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
            if name in SKIP_TABLES or "episode_id" not in columns:
                continue
            keep = [c for c in columns if c not in SKIP_COLUMNS and not c.endswith("_at")]
            listed = ", ".join('"' + c + '"' for c in keep)
            rows = conn.execute(f"SELECT {listed} FROM {name} WHERE episode_id = ?", (episode_id,)).fetchall()
            found[name] = sorted((tuple(r) for r in rows), key=repr)
        return found
    finally:
        conn.close()

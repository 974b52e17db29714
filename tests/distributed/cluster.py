"""A real ``redis-server`` on 127.0.0.1 (a free port, no persistence: a restart loses its queue,
as a crashed broker would) and an Earmark "cluster": `earmark serve` with that broker and
`earmark worker` processes, each worker with a home of its own and no library. Every process runs
the CLI with the fault campaign's engines (tests/faults/child.py: fake ASR, embedder, diarizer, a
validly answering fake LLM). Used by tests/distributed and bench/bench_workers.py. Debian's
redis-server must be installed (.ci/run installs it)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

from earmark.cli.worker import live_workers
from earmark.config import Settings
from tests.faults.harness import SETTINGS, Earmark, free_port, kill, wait_for
from tests.jobs.conftest import feed_xml, wav_bytes
from tests.loopback import LoopbackServer


class RedisServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server; .ci/run does)"
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "redis.log", "ab")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)], stdout=log, stderr=log)
        wait_for(self.ping, "redis-server to answer", timeout=20, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        deadline = time.monotonic() + 10
        while self.ping() and time.monotonic() < deadline:
            time.sleep(0.1)


TOKEN = "worker-test-token"
STAGES = ("transcript", "speakers", "names", "index", "chapters", "summary", "highlights")
SEGMENTS = 20  # 40 s of audio (add_feed's default), one fake segment every 2 s


class Cluster:
    """The server's home and process, and its workers (each with a home of its own, no library)."""

    def __init__(self, tmp: Path, redis: RedisServer, feed: LoopbackServer, *, asr_delay: float = 0.15,
                 server_settings: str = ""):
        self.tmp, self.redis, self.feed = tmp, redis, feed
        self.em = Earmark(tmp / "server" / "home", SETTINGS + (
            f'broker_url = "{redis.url}"\naccess_token = "{TOKEN}"\nworker_silence = 2.0\nbroker_jobs = 4\n'))
        if server_settings:
            self.em.settings(server_settings)
        self.asr_delay = asr_delay  # the fake ASR's seconds per segment (one segment per 2 s of audio)
        self.base = ""
        self.server: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {TOKEN}"}

    def serve(self) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.server = self.em.start("serve", "--port", str(port))
        wait_for(lambda: self._answers("/api/v1/jobs"), "earmark serve to answer", proc=self.server)

    def _answers(self, path: str) -> bool:
        try:
            return httpx.get(self.base + path, headers=self.headers(), timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def settings(self, name: str = "probe") -> Settings:
        return Settings.load(self.tmp / name / "home", broker_url=self.redis.url)

    def start_worker(self, name: str, *, wait: bool = True) -> subprocess.Popen:
        home = Earmark(self.tmp / name / "home", SETTINGS + (
            f'broker_url = "{self.redis.url}"\nserver_url = "{self.base}"\naccess_token = "{TOKEN}"\n'))
        proc = home.start("worker", "--name", f"{name}@test", "--loglevel", "WARNING",
                          env={"EARMARK_FAKE_ASR_DELAY": str(self.asr_delay)})
        self.workers[name] = proc
        if wait:
            self.wait_worker(name)
        return proc

    def wait_worker(self, name: str) -> None:
        wait_for(lambda: any(w.name == f"{name}@test" for w in live_workers(self.settings(), 1.0)),
                 f"worker {name} to answer", timeout=90, proc=self.workers[name])

    def process(self, episode_id: int) -> None:
        response = httpx.post(f"{self.base}/api/v1/episodes/{episode_id}/process", headers=self.headers(), timeout=10)
        assert response.status_code == 202, response.text

    def wait_done(self, episode_id: int, timeout: float = 90.0):
        def ended():
            job = self.em.job(episode_id)
            return job is not None and job["state"] in ("done", "failed", "cancelled") and job

        job = wait_for(ended, f"episode {episode_id}'s job to end", timeout=timeout, proc=self.server)
        assert job["state"] == "done", (dict(job), {k: dict(v) for k, v in self.em.stages(job["id"]).items()})
        return job

    def add_feed(self, guids: str, seconds: float = 40.0, *, broken: str = "") -> dict[str, int]:
        """A feed of one episode per letter of ``guids`` (silent WAV; those in ``broken``: bytes
        that are no audio), added to the server's library."""
        for guid in guids:
            body = b"this is no audio file" * 50 if guid in broken else wav_bytes(seconds)
            self.feed.add(f"/{guid}.wav", body, content_type="audio/wav")
        items = [{"guid": g, "title": f"Episode {g}", "audio": f"/{g}.wav"} for g in guids]
        self.feed.add("/feed.rss", feed_xml(self.feed, items))
        self.em.run("add", self.feed.url("/feed.rss"))
        self.ids = {r["guid"]: r["id"] for r in self.em.query("SELECT id, guid FROM episodes")}
        return self.ids

    def stop(self) -> None:
        self.em.stop_all()
        for proc in self.workers.values():
            if proc.poll() is None:
                kill(proc)



"""Faults that are not a kill: a corrupt or truncated audio file, a language model that dies
mid-answer, a disk that fills up during a download. Each ends the job with an error that says
what happened, leaves the library usable (integrity, other episodes, listings), and the job can be
done once the cause is gone."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from earmark.ai.llm import Message
from tests.ai.fakes import valid_answer
from tests.faults.harness import Earmark
from tests.faults.test_pipeline_kill import AUDIO, setup_feed
from tests.jobs.audio_files import encoded
from tests.jobs.conftest import feed_xml


def usable(em: Earmark, server, ids: dict[str, int]) -> None:
    """The library after a fault: intact, listable, and another episode processes start to end."""
    em.check_integrity()
    assert {j["episode_id"] for j in em.json("jobs")} >= {ids["k"]}
    assert len(em.json("episodes", str(em.one("SELECT id FROM podcasts")))) == 3
    em.run("process", str(ids["u"]), "--wait")
    assert em.job(ids["u"])["state"] == "done"


def feed_with(em: Earmark, server, path: str, body: bytes, mime: str) -> dict[str, int]:
    server.add("/u.wav", AUDIO, content_type="audio/wav")
    server.add("/o.wav", AUDIO, content_type="audio/wav")
    server.add(path, body, content_type=mime)
    items = [{"guid": "k", "title": "Bad", "audio": path}, {"guid": "u", "title": "Good", "audio": "/u.wav"},
             {"guid": "o", "title": "Other", "audio": "/o.wav"}]
    server.add("/feed.rss", feed_xml(server, items))
    em.run("add", server.url("/feed.rss"))
    return {r["guid"]: r["id"] for r in em.query("SELECT id, guid FROM episodes")}


BAD_AUDIO = {
    "corrupt": ("/k.mp3", "audio/mpeg", lambda: bytes(range(256)) * 400, "not a readable audio file"),
    "truncated-mp3": ("/k.mp3", "audio/mpeg", lambda: (b := encoded("mp3", "libmp3lame"))[: len(b) // 2],
                      "the audio file is truncated: it stops at about 0:20 of the 0:40"),
    "truncated-m4a": ("/k.m4a", "audio/mp4", lambda: (b := encoded("mp4", "aac", movflags="faststart"))[: len(b) // 2],
                      "the audio file is truncated: it stops before 0:36 of the 0:40"),
}


@pytest.mark.parametrize("kind", sorted(BAD_AUDIO))
def test_bad_audio_fails_the_job_clearly(kind, em, server, campaign):
    path, mime, make, reason = BAD_AUDIO[kind]
    fault = campaign("transcript", f"{kind} audio file")
    ids = feed_with(em, server, path, make(), mime)
    out = em.run("process", str(ids["k"]), "--wait", code=1)
    fault.inject(out.strip().splitlines()[-1][:120])
    job = em.job(ids["k"])
    assert job["state"] == "failed" and job["attempts"] == 1  # a bad file is not retried
    assert job["error"].startswith("transcript: ") and reason in job["error"], job["error"]
    assert reason in out  # the CLI says it too
    stages = em.stages(job["id"])
    assert stages["download"]["state"] == "done" and stages["transcript"]["state"] == "failed"
    assert em.one("SELECT count(*) FROM segments WHERE episode_id = ?", ids["k"]) == 0
    usable(em, server, ids)
    fault.survive(job["error"][:100])


class FakeOpenAI:
    """An OpenAI-compatible chat endpoint on 127.0.0.1 answering every task validly; the first
    ``cut`` answers are cut off: headers and half the body, then the connection closes."""

    def __init__(self, cut: int):
        self.cut, self.calls = cut, 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                messages = [Message(m["role"], m["content"]) for m in body["messages"]]
                schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": valid_answer(messages, schema)},
                                                "finish_reason": "stop"}],
                                   "usage": {"prompt_tokens": 10, "completion_tokens": 10}}).encode()
                fake.calls += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if fake.calls <= fake.cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_llm_dies_mid_answer(em, server, campaign):
    fault = campaign("llm stages", "LLM endpoint closes the connection mid-answer")
    llm = FakeOpenAI(cut=10**6)
    try:
        em.settings(f'llm_engine = "openai"\nllm_base_url = "{llm.url}"\nllm_model = "m"\n')
        ids = setup_feed(em, server)
        out = em.run("process", str(ids["k"]), "--wait", code=1)
        fault.inject(f"{llm.calls} answers cut off")
        job = em.job(ids["k"])
        assert job["state"] == "failed"
        stages = em.stages(job["id"])
        assert [n for n, s in stages.items() if s["state"] == "failed"] == ["chapters", "summary", "highlights"]
        for name in ("chapters", "summary", "highlights"):
            assert "closed the connection mid-answer" in stages[name]["error"], stages[name]["error"]
        assert "closed the connection mid-answer" in out
        # What came before stays: the transcript, the speakers, the search index.
        assert em.one("SELECT count(*) FROM segments WHERE episode_id = ?", ids["k"]) == 20
        assert em.one("SELECT count(*) FROM search_windows WHERE episode_id = ?", ids["k"]) > 0
        em.check_integrity()

        llm.cut = 0  # the endpoint works again: redoing the understanding finishes the episode
        em.run("process", str(ids["k"]), "--redo", "understanding", "--wait")
        assert em.job(ids["k"])["state"] == "done"
        assert em.one("SELECT count(*) FROM summaries WHERE episode_id = ?", ids["k"]) == 1
        assert em.one("SELECT count(*) FROM highlights WHERE episode_id = ?", ids["k"]) >= 1
        assert em.one("SELECT count(*) FROM segments WHERE episode_id = ?", ids["k"]) == 20
        em.check_integrity()
        fault.survive("stages failed with the reason; redo understanding completed")
    finally:
        llm.close()


def _mount_small_tmpfs(where, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.parametrize("how", ["tmpfs", "wrapper"])
def test_disk_full_during_download(how, em, server, tmp_path, campaign):
    fault = campaign("download", f"ENOSPC during a download ({'a 128 kB tmpfs' if how == 'tmpfs' else 'write wrapper'})")
    downloads = tmp_path / "small"
    env = None
    if how == "tmpfs":
        if not _mount_small_tmpfs(downloads, "128k"):
            pytest.fail("could not mount a 128 kB tmpfs (the suite runs as root, as CI does): no real full disk to test")
    else:
        downloads.mkdir()
        env = {"EARMARK_FAULT_ENOSPC_AFTER": str(100_000)}
    try:
        em.settings(f'downloads_dir = "{downloads}"\n')
        ids = setup_feed(em, server)
        out = em.run("process", str(ids["k"]), "--wait", code=1, env=env)
        fault.inject(out.strip().splitlines()[-1][:120])
        job = em.job(ids["k"])
        assert job["state"] == "failed" and job["attempts"] == 1, job["error"]  # a full disk is not retried at once
        assert job["error"].startswith("download: ") and "no space left" in job["error"].lower(), job["error"]
        assert "no space left" in out.lower()
        assert list(downloads.rglob("*.part*")) == []  # the partial file is gone: its space is free again
        assert em.one("SELECT count(*) FROM downloads") == 0
        em.check_integrity()
        assert em.json("jobs")[0]["state"] == "failed"
        em.run("snip", str(ids["o"]), "--at", "3")  # the library takes writes

        if how == "tmpfs":  # room made: the same command now finishes the episode
            subprocess.run(["mount", "-o", "remount,size=4m", str(downloads)], check=True)
        em.run("process", str(ids["k"]), "--wait")
        assert em.job(ids["k"])["state"] == "done"
        [path] = [r[0] for r in em.query("SELECT path FROM downloads WHERE episode_id = ?", ids["k"])]
        assert Path(path).read_bytes() == AUDIO
        em.check_integrity()
        fault.survive(job["error"][:100])
    finally:
        if how == "tmpfs":
            subprocess.run(["umount", "-l", str(downloads)], capture_output=True, check=False)

"""kill -9 inside every stage of the processing pipeline, then a restart: the job resumes (or
re-runs the stage it was in), and the episode ends up holding exactly what an uninterrupted run
makes — row for row, in every table — with nothing else in the library touched.

Each fault: the feed has three episodes, ``k`` (killed), ``u`` (the uninterrupted twin: same title,
same audio) and ``o`` (with a snip made before the kill). ``earmark process k --wait`` runs in a
child until it is provably inside the stage: the job row says so and the child stands at a gate
in that stage (child.py) — or, for the download, the loopback server has sent half the file and
the ``.part`` holds it. Then SIGKILL, ``earmark process k --wait`` again, and the checks.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.faults.harness import Earmark, episode_rows, kill, wait_for
from tests.jobs.conftest import feed_xml, wav_bytes

AUDIO = wav_bytes(40.0)  # 320 kB of silence: 4 windows of 10 s, 20 fake segments

GATES = {
    "download": None,  # the server holds the body half-way
    "transcript": "asr@transcript",
    "speakers": "diarize@speakers",
    "index": "embed@index",
    "chapters": "llm@chapters",
    "summary": "llm@summary",
    "highlights": "llm@highlights",
}
ORDER = list(GATES)


class HoldHalf:
    """The first GET of ``path`` gets the headers and half the body, then the connection stays
    open, silent, until ``release``; later requests are served whole (with ranges) by the server."""

    def __init__(self, server, path: str, body: bytes):
        self.server, self.path, self.body = server, path, body
        self.resource = server.add(path, body, content_type="audio/wav")
        self.sent = threading.Event()
        self.release = threading.Event()
        server.handlers[path] = self

    def __call__(self, req) -> None:
        del self.server.handlers[self.path]
        req.send_response(200)
        for name, value in {"Content-Type": "audio/wav", "Content-Length": str(len(self.body)),
                            "Accept-Ranges": "bytes", "ETag": self.resource.etag_value,
                            "Last-Modified": self.resource.last_modified_value}.items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(self.body[: len(self.body) // 2])
        req.wfile.flush()
        self.sent.set()
        self.release.wait(60)
        req.close_connection = True


def setup_feed(em: Earmark, server) -> dict[str, int]:
    server.add("/k.wav", AUDIO, content_type="audio/wav")
    server.add("/u.wav", AUDIO, content_type="audio/wav")
    server.add("/o.wav", AUDIO, content_type="audio/wav")
    items = [{"guid": g, "title": "Episode" if g != "o" else "Other", "audio": f"/{g}.wav"} for g in "kuo"]
    server.add("/feed.rss", feed_xml(server, items))
    em.run("add", server.url("/feed.rss"))
    return {r["guid"]: r["id"] for r in em.query("SELECT id, guid FROM episodes")}


def part_size(em: Earmark, episode_id: int) -> int:
    parts = list((em.home / "downloads").glob(f"*/{episode_id}-*.part"))
    return parts[0].stat().st_size if parts else 0


def snapshot(em: Earmark) -> dict:
    """What must come through any fault untouched: subscriptions, episodes, snips."""
    return {
        "podcasts": [tuple(r) for r in em.query("SELECT id, url, title FROM podcasts ORDER BY id")],
        "episodes": [tuple(r) for r in em.query("SELECT id, guid, title FROM episodes ORDER BY id")],
        "snips": [tuple(r) for r in em.query("SELECT * FROM snips ORDER BY id")],
    }


@pytest.mark.parametrize("stage", ORDER)
def test_kill_9_inside_stage_then_restart(stage, em, server, campaign):
    fault = campaign(stage, f"kill -9 of `earmark process --wait` inside {stage}")
    ids = setup_feed(em, server)
    em.run("snip", str(ids["o"]), "--at", "5")
    before = snapshot(em)
    assert len(before["snips"]) == 1

    hold = HoldHalf(server, "/k.wav", AUDIO) if stage == "download" else None
    proc = em.start("process", str(ids["k"]), "--wait", gate=GATES[stage])
    try:
        if hold is not None:
            wait_for(hold.sent.is_set, "half the audio sent", proc=proc)
            wait_for(lambda: part_size(em, ids["k"]) >= len(AUDIO) // 2 - 8192, "half the audio in the .part", proc=proc)
        else:
            assert em.wait_gate(proc)["stage"] == stage
        # Provably inside the stage: the library says so, from this process's point of view.
        job = em.job(ids["k"])
        assert (job["state"], job["stage"]) == ("running", stage)
        assert em.stages(job["id"])[stage]["state"] == "running"
        kill(proc)
        fault.inject(f"job {job['id']} killed in {stage}")
    finally:
        if hold is not None:
            hold.release.set()

    # After the kill: the job is left running by a dead process; everything else is as it was.
    assert em.job(ids["k"])["state"] == "running"
    assert snapshot(em) == before
    em.check_integrity()
    if stage == "transcript":  # the queue no longer calls it running: its process is gone
        assert [(j["id"], j["state"]) for j in em.json("jobs")] == [(job["id"], "queued")]

    em.run("process", str(ids["k"]), "--wait")
    job = em.job(ids["k"])
    assert (job["state"], job["attempts"], job["error"]) == ("done", 2, None)
    stages = em.stages(job["id"])
    assert all(s["state"] == "done" for s in stages.values()), {n: s["state"] for n, s in stages.items()}
    # Only the stage that was killed ran twice; those before it were not redone.
    assert {n: s["attempts"] for n, s in stages.items() if n in ORDER} == {
        n: (2 if n == stage else 1) for n in ORDER
    }

    em.run("process", str(ids["u"]), "--wait")
    killed, twin = episode_rows(em, ids["k"]), episode_rows(em, ids["u"])
    assert killed == twin  # nothing duplicated, nothing missing, in any table
    assert len(killed["segments"]) == 20 and [r[0] for r in sorted(killed["segments"])] == list(range(20))
    assert len(killed["downloads"]) == 1 and len(killed["summaries"]) == 1 and killed["highlights"]
    assert killed["search_windows"] and killed["chapters"]
    assert snapshot(em) == before  # the subscription, episodes and the snip made before the kill
    em.check_integrity()

    [record] = em.query("SELECT path, size FROM downloads WHERE episode_id = ?", ids["k"])
    assert Path(record["path"]).read_bytes() == AUDIO and record["size"] == len(AUDIO)
    assert not list((em.home / "downloads").glob("*/*.part*"))
    asr = [t for t in em.trace() if "asr_offset" in t]
    pids = list(dict.fromkeys(t["pid"] for t in asr))
    by_pid = {pid: [t["asr_offset"] for t in asr if t["pid"] == pid] for pid in pids}
    if stage == "download":
        ranges = [e.headers.get("range") for e in server.requests_to("/k.wav")]
        assert ranges[0] is None and ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) > 0, ranges
        fault.survive(f"download resumed at {ranges[1]}")
    elif stage == "transcript":
        # The killed run did window 0 and started window 1; the restart went on from window 1.
        assert by_pid[pids[0]] == [0.0, 10.0] and by_pid[pids[1]] == [10.0, 20.0, 30.0], by_pid
        fault.survive("transcription resumed at window 2 of 4")
    else:
        assert all(len(offsets) == 4 for offsets in by_pid.values()) and len(pids) == 2  # k once, u once
        fault.survive(f"{stage} re-run; earlier stages kept")

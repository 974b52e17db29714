"""The job pipeline end to end: loopback feed and files → download → publisher transcript or
fake ASR → SQLite, through the CLI and the Pipeline API."""

from __future__ import annotations

import json
import os
import struct
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from earmark.cli.app import app
from earmark.jobs import Pipeline, Workers
from earmark.models import PRIORITY_BACKGROUND, PRIORITY_USER
from earmark.store.jobs import JobStore
from earmark.store.transcripts import TranscriptStore
from earmark.transcripts import parse_transcript, write_transcript
from tests.conftest import CORPUS
from tests.jobs.conftest import SECONDS, subscribe_feed, wav_bytes

TRANSCRIPTS = CORPUS / "transcripts"
VOICE_VTT = "podcastnamespace__podcasting-qa_voice-tags_crlf.vtt"
BUZZ_SRT = "podcastnamespace__buzzsprout_bonus-episode.srt"
BUZZ_WORDS = "podcastnamespace__buzzsprout_wordlevel_no-body_2020.json"
runner = CliRunner()


def cli(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_publisher_vtt_with_speakers_then_cli_srt(fake_settings, fake_library, server, fake_asr):
    vtt = (TRANSCRIPTS / VOICE_VTT).read_bytes()
    server.add("/ep1.wav", wav_bytes(), content_type="audio/wav")
    server.add("/ep1.vtt", vtt, content_type="text/vtt")
    server.add("/ep1.srt", (TRANSCRIPTS / BUZZ_SRT).read_bytes(), content_type="application/x-subrip")
    # SRT listed first in the feed: the ranking must still pick the VTT with voice tags.
    ids = subscribe_feed(fake_library, fake_settings, server, [
        {"guid": "e1", "title": "One", "audio": "/ep1.wav",
         "transcripts": [("/ep1.srt", "application/x-subrip"), ("/ep1.vtt", "text/vtt")]},
    ])
    episode_id = ids["e1"]

    cli("process", str(episode_id), "--wait")

    info = TranscriptStore(fake_library).info(episode_id)
    assert (info.source, info.format, info.url, info.complete) == ("publisher", "vtt", server.url("/ep1.vtt"), True)
    stored = TranscriptStore(fake_library).get(episode_id)
    assert {"Sarah", "Gillian"} <= {s.speaker for s in stored.segments}
    assert server.requests_to("/ep1.srt") == []  # the better one worked: no need for the fallback
    assert fake_asr.history == []  # no ASR when the publisher has a transcript
    assert fake_library.download(episode_id) is not None

    expected = write_transcript(parse_transcript(vtt, "text/vtt", server.url("/ep1.vtt")), "srt")
    assert cli("transcript", str(episode_id), "--format", "srt").stdout == expected
    assert "Sarah" in cli("transcript", str(episode_id)).stdout

    [job] = json.loads(cli("jobs", "--json").stdout)
    assert (job["state"], job["progress"], job["episode_id"]) == ("done", 100, episode_id)
    assert [(s["name"], s["state"], s["engine"]) for s in job["stages"]][:2] == [
        ("download", "done", None), ("transcript", "done", "publisher"),
    ]


TRANSCRIBING = ("download", "transcript", "speakers")


def test_failing_transcript_url_falls_back_to_next(fake_settings, fake_library, server, fake_asr):
    server.add("/a.wav", wav_bytes(), content_type="audio/wav")
    server.add("/a.srt", (TRANSCRIPTS / BUZZ_SRT).read_bytes(), content_type="application/x-subrip")
    server.add("/broken.vtt", b"WEBVTT\n\nnot a cue at all\n", content_type="text/vtt")
    ids = subscribe_feed(fake_library, fake_settings, server, [
        {"guid": "a", "title": "A", "audio": "/a.wav",
         "transcripts": [("/missing.json", "application/json"), ("/broken.vtt", "text/vtt"),
                         ("/a.srt", "application/x-subrip")]},
    ])
    # Only the transcript's stages: the understanding of a long publisher transcript is tested elsewhere.
    job = Pipeline(fake_library, fake_settings).enqueue(ids["a"], only=TRANSCRIBING)
    assert Pipeline(fake_library, fake_settings).run_job(job.id).state == "done"
    assert [e.status for e in server.requests_to("/missing.json")] == [404]
    assert len(server.requests_to("/broken.vtt")) == 1
    info = TranscriptStore(fake_library).info(ids["a"])
    assert (info.format, info.url) == ("srt", server.url("/a.srt"))
    assert fake_asr.history == []


def test_word_timings_without_text_get_the_srt_words(fake_settings, fake_library, server):
    server.add("/b.wav", wav_bytes(), content_type="audio/wav")
    server.add("/b.json", (TRANSCRIPTS / BUZZ_WORDS).read_bytes(), content_type="application/json")
    server.add("/b.srt", (TRANSCRIPTS / BUZZ_SRT).read_bytes(), content_type="application/x-subrip")
    ids = subscribe_feed(fake_library, fake_settings, server, [
        {"guid": "b", "title": "B", "audio": "/b.wav",
         "transcripts": [("/b.json", "application/json"), ("/b.srt", "application/x-subrip")]},
    ])
    pipeline = Pipeline(fake_library, fake_settings)
    assert pipeline.run_job(pipeline.enqueue(ids["b"], only=TRANSCRIBING).id).state == "done"
    stored = TranscriptStore(fake_library).get(ids["b"])
    assert stored.format == "json"
    assert sum(len(s.words) for s in stored.segments) == 2492  # every timing got its word
    assert all(s.words[0].start == s.start for s in stored.segments)


def test_no_publisher_transcript_runs_asr_in_chunks(fake_settings, fake_library, server, fake_asr):
    server.add("/c.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [{"guid": "c", "title": "C", "audio": "/c.wav"}])
    seen = []
    pipeline = Pipeline(fake_library, fake_settings, progress=seen.append)
    job = pipeline.run_job(pipeline.enqueue(ids["c"]).id)
    assert job.state == "done", job.error
    assert [(c.offset, c.duration) for c in fake_asr.history] == [(0, 10), (10, 10), (20, 10), (30, 10)]
    stored = TranscriptStore(fake_library).get(ids["c"])
    assert [s.start for s in stored.segments] == [2.0 * n for n in range(20)]
    assert stored.segments[3].text == "Segment3 says hello." and len(stored.segments[3].words) == 3
    info = TranscriptStore(fake_library).info(ids["c"])
    assert (info.source, info.engine, info.model) == ("asr", "fake", "fake-1")
    stage = job.stages[1]
    assert (stage.engine, stage.model, stage.checkpoint["next_chunk"]) == ("fake", "fake-1", 4)
    assert seen[-1].job_progress == 100 and seen[0].stage == "download"
    assert all(a.job_progress <= b.job_progress for a, b in zip(seen, seen[1:]))


def test_kill_9_during_asr_resumes_from_last_chunk(fake_settings, fake_library, server, fake_asr):
    import signal
    import subprocess
    import sys

    server.add("/k.wav", wav_bytes(), content_type="audio/wav")
    server.add("/u.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [
        {"guid": "k", "title": "Killed", "audio": "/k.wav"},
        {"guid": "u", "title": "Uninterrupted", "audio": "/u.wav"},
    ])
    env = {**os.environ, "EARMARK_HOME": str(fake_settings.home), "EARMARK_FAKE_ASR_DELAY": "0.1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.engines.cli", "process", str(ids["k"]), "--wait"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2],
    )
    store = JobStore(fake_library)
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:  # kill once the first chunk is saved, mid-second chunk
            jobs = store.list(episode_id=ids["k"])
            checkpoint = jobs[0].stages[1].checkpoint if jobs else None
            if checkpoint and checkpoint["next_chunk"] >= 1:
                break
            assert child.poll() is None, child.stderr.read().decode()
            time.sleep(0.02)
        else:
            raise AssertionError("the child never saved a chunk")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    killed = store.get(jobs[0].id)
    assert killed.state == "running" and killed.stages[1].state == "running"
    partial = TranscriptStore(fake_library).get(ids["k"], partial=True)
    assert 0 < len(partial.segments) < 20 and TranscriptStore(fake_library).get(ids["k"]) is None
    saved = store.get(killed.id).stages[1].checkpoint
    resume_at = saved["next_start"]  # windows end at the nominal 10 s marks: the fake's WAV is silent
    assert resume_at == saved["next_chunk"] * 10.0

    pipeline = Pipeline(fake_library, fake_settings)
    assert pipeline.recover() == [killed.id]  # its process is gone: back to the queue
    done = pipeline.run_job(killed.id)
    assert (done.state, done.attempts) == ("done", 2), done.error
    assert fake_asr.history[0].offset == resume_at > 0  # resumed, not started over
    assert [c.offset for c in fake_asr.history] == [o for o in (0, 10, 20, 30) if o >= resume_at]

    fake_asr.history.clear()
    assert pipeline.run_job(pipeline.enqueue(ids["u"]).id).state == "done"
    assert len(fake_asr.history) == 4

    def shape(episode_id):
        return [(s.start, s.end, s.text, s.speaker, [(w.start, w.end, w.text) for w in s.words])
                for s in TranscriptStore(fake_library).get(episode_id).segments]

    assert shape(ids["k"]) == shape(ids["u"])  # no duplicates, no gaps
    rows = fake_library.conn.execute("SELECT idx FROM segments WHERE episode_id = ? ORDER BY idx", (ids["k"],))
    assert [r[0] for r in rows] == list(range(20))


def test_bad_audio_fails_clearly_and_the_queue_goes_on(fake_settings, fake_library, server, fake_asr):
    server.add("/empty.mp3", b"", content_type="audio/mpeg")
    server.add("/text.mp3", b"Sorry, this episode has moved.\n" * 40, content_type="audio/mpeg")
    wav = wav_bytes()
    server.add("/corrupt.wav", wav[:30] + bytes(range(256)) * 40, content_type="audio/wav")  # header cut short
    server.add("/codec.wav", wav[:20] + struct.pack("<H", 0x9999) + wav[22:], content_type="audio/wav")  # no decoder
    server.add("/good.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [
        {"guid": g, "title": g, "audio": f"/{name}"}
        for g, name in [("empty", "empty.mp3"), ("text", "text.mp3"), ("corrupt", "corrupt.wav"),
                        ("codec", "codec.wav"), ("good", "good.wav")]
    ])
    pipeline = Pipeline(fake_library, fake_settings)
    jobs = {g: pipeline.enqueue(ids[g], priority=PRIORITY_BACKGROUND).id for g in ("empty", "text", "corrupt", "codec", "good")}
    pipeline.run_until_empty()
    store = JobStore(fake_library)
    results = {g: store.get(job_id) for g, job_id in jobs.items()}

    assert results["good"].state == "done"
    empty = results["empty"]
    assert empty.state == "failed" and "empty file" in empty.error and empty.attempts == 3  # retried, then gave up
    assert empty.stages[0].error and empty.stages[1].state == "queued"
    reasons = {"text": "not a readable audio file", "corrupt": "not a readable audio file",
               "codec": "unsupported audio codec"}
    for name, reason in reasons.items():
        job = results[name]
        assert job.state == "failed"
        assert job.error.startswith("transcript: ") and reason in job.error
        assert job.attempts == 1  # a bad file is not retried
        # The failed stage says why; the earlier stage's result stays.
        assert [(s.name, s.state) for s in job.stages][:2] == [("download", "done"), ("transcript", "failed")]
        assert reason in job.stages[1].error
        assert fake_library.download(ids[name]) is not None
    assert [c.audio.name for c in fake_asr.history] == [fake_library.download(ids["good"]).path.rsplit("/", 1)[1]] * 4

    # Retrying keeps the download: only the failed stage runs again (and fails the same way).
    before = fake_library.download(ids["text"]).finished_at
    downloads = len(server.requests_to("/text.mp3"))
    store.retry(jobs["text"])
    assert pipeline.run_job(jobs["text"]).state == "failed"
    assert len(server.requests_to("/text.mp3")) == downloads
    assert fake_library.download(ids["text"]).finished_at == before


def test_user_request_jumps_ahead_of_background_work(fake_settings, fake_library, server):
    items = []
    for g in ("bg1", "bg2", "user"):
        server.add(f"/{g}.wav", wav_bytes(4), content_type="audio/wav")
        items.append({"guid": g, "title": g, "audio": f"/{g}.wav"})
    ids = subscribe_feed(fake_library, fake_settings, server, items)
    pipeline = Pipeline(fake_library, fake_settings)
    background = [pipeline.enqueue(ids[g], priority=PRIORITY_BACKGROUND).id for g in ("bg1", "bg2")]
    user = pipeline.enqueue(ids["user"], priority=PRIORITY_USER).id
    assert [j.id for j in JobStore(fake_library).list()] == [user, *background]
    assert [j.id for j in pipeline.run_until_empty()] == [user, *background]
    # Asking again for an episode already queued returns that job, raised to the user's priority.
    again = pipeline.enqueue(ids["bg1"], priority=PRIORITY_BACKGROUND)
    assert pipeline.enqueue(ids["bg1"]).id == again.id and JobStore(fake_library).get(again.id).priority == PRIORITY_USER


def test_cancel_queued_and_running_jobs(fake_settings, fake_library, server, fake_asr):
    for g in ("slow", "later", "never"):
        server.add(f"/{g}.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server,
                         [{"guid": g, "title": g, "audio": f"/{g}.wav"} for g in ("slow", "later", "never")])
    fake_asr.defaults["delay"] = 0.05
    pipeline = Pipeline(fake_library, fake_settings)
    slow = pipeline.enqueue(ids["slow"]).id
    never = pipeline.enqueue(ids["never"], priority=PRIORITY_BACKGROUND).id
    store = JobStore(fake_library)
    assert store.cancel(never).state == "cancelled"

    workers = Workers(fake_settings, poll=0.05)
    workers.start()
    try:
        deadline = time.monotonic() + 10
        while store.get(slow).stage != "transcript" or not fake_asr.history:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        store.cancel(slow)
        while store.get(slow).state == "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        fake_asr.defaults["delay"] = 0.0
        later = pipeline.enqueue(ids["later"], priority=PRIORITY_BACKGROUND).id
        workers.wake()
        while store.get(later).state != "done":
            assert time.monotonic() < deadline, store.get(later)
            time.sleep(0.02)
    finally:
        workers.stop(timeout=5)
    cancelled = store.get(slow)
    assert cancelled.state == "cancelled" and cancelled.stages[1].state == "cancelled"
    assert len(TranscriptStore(fake_library).get(ids["slow"], partial=True).segments) < 20
    assert TranscriptStore(fake_library).get(ids["slow"]) is None
    assert store.get(never).state == "cancelled" and store.get(never).attempts == 0


def test_workers_run_jobs_concurrently(fake_settings, fake_library, server, fake_asr):
    for g in ("p", "q"):
        server.add(f"/{g}.wav", wav_bytes(4), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [{"guid": g, "title": g, "audio": f"/{g}.wav"} for g in "pq"])
    fake_asr.defaults["delay"] = 0.3  # 2 segments each: 0.6 s a job, alone or together
    pipeline = Pipeline(fake_library, fake_settings)
    jobs = [pipeline.enqueue(ids[g]).id for g in "pq"]
    workers = Workers(fake_settings, concurrency=2, poll=0.05)
    started = time.monotonic()
    workers.start()
    try:
        while any(JobStore(fake_library).get(j).state != "done" for j in jobs):
            assert time.monotonic() - started < 10
            time.sleep(0.02)
    finally:
        workers.stop(timeout=5)
    # Two workers: the jobs' running times overlap (one worker would run them back to back).
    p, q = (JobStore(fake_library).get(j) for j in jobs)
    assert p.started_at < q.finished_at and q.started_at < p.finished_at
    assert threading.active_count() < 20


def test_the_duration_comes_from_the_decoded_audio(fake_settings, fake_library, server):
    """The feed says nothing of the length (or something wrong): after the download the episode
    lasts as long as its audio, so a snip far past the end is refused rather than stored."""
    from earmark.snips import create_snip

    server.add("/ep1.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [{"guid": "e1", "title": "One", "audio": "/ep1.wav"}])
    assert fake_library.episode(ids["e1"]).duration is None
    pipeline = Pipeline(fake_library, fake_settings)
    assert pipeline.run_job(pipeline.enqueue(ids["e1"], only=["download"]).id).state == "done"
    assert fake_library.episode(ids["e1"]).duration == pytest.approx(SECONDS, abs=0.01)
    with pytest.raises(ValueError, match="past the end of the episode"):
        create_snip(fake_library, fake_settings, ids["e1"], 10_000_000)


def test_a_users_episode_does_not_wait_behind_a_background_episode(fake_settings, fake_library, server, fake_asr):
    """Two workers and one compute gate: the user's episode (a publisher transcript, so only the
    model's work) is done while the background episode is still being transcribed."""
    server.add("/bg.wav", wav_bytes(), content_type="audio/wav")
    server.add("/mine.wav", wav_bytes(), content_type="audio/wav")
    server.add("/mine.vtt", (TRANSCRIPTS / VOICE_VTT).read_bytes(), content_type="text/vtt")
    ids = subscribe_feed(fake_library, fake_settings, server, [
        {"guid": "bg", "title": "Background", "audio": "/bg.wav"},
        {"guid": "mine", "title": "Mine", "audio": "/mine.wav", "transcripts": [("/mine.vtt", "text/vtt")]},
    ])
    fake_asr.defaults["delay"] = 0.25  # 20 segments: 5 s of transcription, a quarter second at a time
    pipeline = Pipeline(fake_library, fake_settings)
    store = JobStore(fake_library)
    background = pipeline.enqueue(ids["bg"], priority=PRIORITY_BACKGROUND).id
    workers = Workers(fake_settings, poll=0.05)  # the default: two jobs at once
    workers.start()
    try:
        deadline = time.monotonic() + 20
        while store.get(background).stage != "transcript" or not fake_asr.history:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        mine = pipeline.enqueue(ids["mine"]).id
        workers.wake()
        while store.get(mine).state != "done":
            assert time.monotonic() < deadline, store.get(mine)
            time.sleep(0.02)
        assert store.get(background).state == "running" and store.get(background).stage == "transcript"
        while store.get(background).state != "done":
            assert time.monotonic() < deadline, store.get(background)
            time.sleep(0.05)
    finally:
        workers.stop(timeout=10)
    assert TranscriptStore(fake_library).info(ids["mine"]).source == "publisher"
    assert len(TranscriptStore(fake_library).get(ids["bg"]).segments) == 20

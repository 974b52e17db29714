"""The logic around Celery, without a broker: how the server waits for a task (jobs/remote.py)
against a scripted stand-in for Celery's app, how results are written once, the records that
cross the broker (codec.py), and a worker's audio fetch (audio.py) from a loopback server.
tests/distributed/test_workers.py runs the same against real Redis and worker processes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pytest

from earmark.config import Settings
from earmark.distributed import codec
from earmark.distributed.audio import AudioRef, TransientError, fetch_audio
from earmark.errors import AudioError
from earmark.jobs import remote
from earmark.jobs.runner import Pipeline
from earmark.models import ChapterMark, EpisodeChapters, Segment, Transcript, Word
from earmark.uploads import import_file
from tests.uploads_media import wav

# -- a scripted Celery ----------------------------------------------------------------------------


@dataclass
class Look:
    state: str
    info: object = None
    result: object = None
    worker: str | None = None


@dataclass
class FakeApp:
    """``looks``: what each look at the task's state finds, in order (the last one repeats); a
    ``Look`` may be an exception, raised as the broker would."""

    looks: list
    sent: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)

    def send_task(self, name, args, task_id, queue, priority):
        self.sent.append(task_id)

    def AsyncResult(self, task_id):  # noqa: N802 (Celery's name)
        look = self.looks.pop(0) if len(self.looks) > 1 else self.looks[0]
        if isinstance(look, BaseException):
            raise look
        return look

    @property
    def control(self):
        return self

    def revoke(self, task_id):
        self.revoked.append(task_id)


@pytest.fixture
def stage_ctx(library, settings, tmp_path, monkeypatch):
    """A queued job's context, with a Remote whose app is scripted (``ctx.remote.app.looks``)."""
    monkeypatch.setattr(remote, "POLL_SECONDS", 0.005)
    monkeypatch.setattr(remote, "POLL_MAX_SECONDS", 0.005)
    monkeypatch.setattr(remote, "BROKER_RETRY_SECONDS", 0.01)
    audio = tmp_path / "a.wav"
    audio.write_bytes(wav(2.0))
    episode_id = import_file(library, settings, audio).episode.id
    settings = Settings.load(settings.home, worker_silence=0.05)
    pipeline = Pipeline(library, settings)
    job = pipeline.enqueue(episode_id)
    ctx = pipeline.context(job)
    ctx.remote = remote.Remote.__new__(remote.Remote)
    ctx.remote.settings, ctx.remote.app = settings, FakeApp([Look("PENDING")])
    ctx.audio = audio
    return ctx


def stage(ctx, name="transcript"):
    return next(s for s in ctx.jobs.get(ctx.job.id).stages if s.name == name)


def run(ctx, looks, name="transcript"):
    ctx.remote.app.looks = looks
    return ctx.remote.run(ctx, stage(ctx, name), "transcribe", {"x": 1}, lambda percent, force=False: None)


def progress(run_id: str, n: int, worker: str = "w1@a") -> Look:
    return Look("PROGRESS", {"worker": worker, "percent": 10.0 * n, "beat": f"{run_id}:{n}"})


def test_the_result_comes_back_and_the_task_id_is_the_checkpoint(stage_ctx):
    data = run(stage_ctx, [Look("PENDING"), progress("a", 1), progress("a", 2), Look("SUCCESS", result={"ok": 1},
                                                                                      worker="w1@a")])
    assert data == {"ok": 1}
    assert len(stage_ctx.remote.app.sent) == 1
    assert stage(stage_ctx).checkpoint == {"task_id": stage_ctx.remote.app.sent[0]}
    assert stage(stage_ctx).worker == "w1@a"


def test_a_silent_worker_s_task_is_sent_again_once_under_the_same_id(stage_ctx):
    # w1 beats once and falls silent (its record stays): one resend, however long nobody takes it;
    # w2 takes it (new beats) and finishes.
    looks = [Look("PENDING"), progress("a", 1), *[progress("a", 1)] * 40, progress("b", 1, "w2@b"),
             Look("SUCCESS", result={"ok": 2}, worker="w2@b")]
    assert run(stage_ctx, looks) == {"ok": 2}
    sent = stage_ctx.remote.app.sent
    assert len(sent) == 2 and sent[0] == sent[1]
    assert stage(stage_ctx).worker == "w2@b"


def test_a_task_the_broker_lost_while_away_is_sent_again(stage_ctx):
    import redis.exceptions

    down = redis.exceptions.ConnectionError("Connection refused")
    looks = [Look("PENDING"), down, down, Look("PENDING"), Look("PENDING"), Look("SUCCESS", result={"ok": 3})]
    assert run(stage_ctx, looks) == {"ok": 3}
    assert len(stage_ctx.remote.app.sent) == 2  # once, and once more after the outage


def test_a_restarted_server_waits_for_the_task_it_sent(stage_ctx):
    with stage_ctx.library.transaction() as conn:
        stage_ctx.jobs.save_checkpoint(conn, stage_ctx.job.id, "transcript", {"task_id": "t-1"}, 0)
    assert run(stage_ctx, [progress("a", 1), Look("SUCCESS", result={"ok": 4})]) == {"ok": 4}
    assert stage_ctx.remote.app.sent == []  # it was running: nothing sent
    assert run(stage_ctx, [Look("PENDING"), Look("SUCCESS", result={"ok": 5})]) == {"ok": 5}
    assert stage_ctx.remote.app.sent == ["t-1"]  # unknown to the backend: sent again, same id


def test_a_failure_names_the_worker_and_clears_the_checkpoint(stage_ctx):
    with pytest.raises(remote.RemoteError, match=r"on w1@a: a.wav: not a readable audio file"):
        run(stage_ctx, [Look("PENDING"), Look("FAILURE", info=AudioError("a.wav: not a readable audio file"),
                                              worker="w1@a")])
    assert stage(stage_ctx).checkpoint is None  # a retry of the job sends a new task


def test_a_cancel_revokes_the_task(stage_ctx):
    from earmark.jobs.runner import Cancelled

    def cancelled(percent, force=False):
        raise Cancelled

    stage_ctx.remote.app.looks = [Look("PENDING")]
    with pytest.raises(Cancelled):
        stage_ctx.remote.run(stage_ctx, stage(stage_ctx), "transcribe", {}, cancelled)
    assert stage_ctx.remote.app.revoked == stage_ctx.remote.app.sent


def test_a_result_is_written_once(stage_ctx):
    segments = [{"start": float(n), "end": n + 1.0, "text": f"Part {n}.", "words": []} for n in range(3)]
    result = Look("SUCCESS", result={"segments": segments, "language": "en", "engine": "fake", "model": "m"})
    stage_ctx.remote.app.looks = [result]
    remote.transcript(stage_ctx, stage(stage_ctx), lambda percent, force=False: None)
    # The same result again (a second copy of the task): the stage is done, nothing is rewritten.
    stage_ctx.remote.app.looks = [Look("SUCCESS", result={**result.result, "segments": segments * 2})]
    remote.transcript(stage_ctx, stage(stage_ctx), lambda percent, force=False: None)
    stored = stage_ctx.transcripts.get(stage_ctx.job.episode_id)
    assert [s.text for s in stored.segments] == ["Part 0.", "Part 1.", "Part 2."]
    assert (stage(stage_ctx).state, stage(stage_ctx).checkpoint) == ("done", None)


# -- records across the broker --------------------------------------------------------------------


def test_records_cross_the_broker_unchanged():
    transcript = Transcript([Segment(0.0, 1.5, "Hello there.", "Ana", [Word(0.0, 0.5, "Hello"), Word(0.6, 1.5, "there.")],
                                     "Speaker 1")], "asr", "asr", "en")
    assert codec.load(Transcript, codec.dump(transcript)) == transcript
    chapters = EpisodeChapters([ChapterMark(0.0, "Intro", 60.0, generated=True, origin="llm")], "generated", "llm",
                               engine="fake")
    assert codec.load(EpisodeChapters, codec.dump(chapters)) == chapters
    vectors = np.random.default_rng(1).random((3, 4), dtype=np.float32)
    assert np.array_equal(codec.load_vectors(codec.dump_vectors(vectors)), vectors)


# -- a worker's audio -----------------------------------------------------------------------------


def test_audio_is_fetched_with_the_token_and_resumed_with_a_range(server, tmp_path):
    body = os.urandom(300_000)
    path = "/api/v1/episodes/7/audio"
    server.add(path, body, content_type="audio/mpeg", drop_after=100_000)
    settings = Settings.load(tmp_path / "worker", server_url=server.url(""), access_token="tok")
    ref = AudioRef(7, path, len(body), ".mp3")
    with pytest.raises(TransientError):  # the connection is cut after 100 kB
        fetch_audio(settings, ref)
    assert fetch_audio(settings, ref).read_bytes() == body
    asked = server.requests_to(path)
    assert [r.headers.get("range") for r in asked] == [None, "bytes=100000-"]
    assert all(r.headers.get("authorization") == "Bearer tok" for r in asked)
    assert fetch_audio(settings, ref).read_bytes() == body  # kept: no third request
    assert len(server.requests_to(path)) == 2


def test_a_refused_token_is_said_plainly(server, tmp_path):
    server.add("/api/v1/episodes/8/audio", b"{}", status=401)
    settings = Settings.load(tmp_path / "worker", server_url=server.url(""), access_token="wrong")
    with pytest.raises(AudioError, match="refused this worker's access_token"):
        fetch_audio(settings, AudioRef(8, "/api/v1/episodes/8/audio", 10))

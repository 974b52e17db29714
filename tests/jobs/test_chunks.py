"""ASR windows end in pauses, resume from the saved start time, never duplicate a segment, and carry
the detected language (fake engine; the real engine on real speech is in tests/engines)."""

from __future__ import annotations

import json
import threading
import time
import wave
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from earmark.cli.app import app
from tests.engines.fake_asr import FakeASR
from earmark.jobs import Pipeline, stages
from earmark.jobs.asr import find_cut, transcribe_chunks
from earmark.models import Segment
from earmark.store.jobs import JobStore
from earmark.store.transcripts import TranscriptStore
from tests.jobs.conftest import subscribe_feed, wav_bytes

RATE = 16_000


def tone_wav(path: Path, spans: list[tuple[float, float]], seconds: float) -> Path:
    """Loud 300 Hz tone over ``spans`` (start, end), silence elsewhere."""
    t = np.arange(int(seconds * RATE)) / RATE
    x = np.zeros_like(t)
    for a, b in spans:
        on = (t >= a) & (t < b)
        x[on] = 0.5 * np.sin(2 * np.pi * 300 * t[on])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((x * 32767).astype("<i2").tobytes())
    return path


# "Sound" everywhere except pauses at 6.2–6.4 s (short), 7.0–8.0 s (the longest) and 13.0–13.3 s.
SPANS = [(0.0, 6.2), (6.4, 7.0), (8.0, 13.0), (13.3, 20.0)]


def test_find_cut_picks_the_longest_pause_before_the_nominal_end(tmp_path):
    audio = tone_wav(tmp_path / "t.wav", SPANS, 20.0)
    # 10 s is mid-"speech": cut in the middle of the longest pause within the last 5 s
    assert abs(find_cut(audio, 0.0, 10.0, search=5.0, vad=False) - 7.5) < 0.05
    # 7.5 s already falls well inside a pause: cut right there
    assert find_cut(audio, 0.0, 7.5, search=5.0, vad=False) == 7.5
    # 13.15 s is in a pause too short to keep a margin from the next sound: its middle, before 13.15
    assert abs(find_cut(audio, 0.0, 13.15, search=5.0, vad=False) - 13.075) < 0.03
    # nothing but sound in the search range: the nominal end
    assert find_cut(audio, 0.0, 18.0, search=3.0, vad=False) == 18.0


def test_windows_follow_the_cuts_and_resume_where_the_last_ended(tmp_path):
    audio = tone_wav(tmp_path / "t.wav", SPANS, 20.0)
    cuts = {10.0: 7.5, 17.5: 16.0}
    engine = FakeASR(step=1.0, history=[])
    chunks = list(transcribe_chunks(engine, audio, 20.0, chunk_seconds=10.0, cut=lambda p, lo, n: cuts[n]))
    assert [(c.index, c.start, c.end) for c in chunks] == [(0, 0.0, 7.5), (1, 7.5, 16.0), (2, 16.0, 20.0)]
    assert [(c.offset, c.duration) for c in engine.history] == [(0.0, 7.5), (7.5, 8.5), (16.0, 4.0)]
    starts = [s.start for c in chunks for s in c.segments]
    assert starts == [float(n) for n in range(20)]  # each segment once, in order

    engine = FakeASR(step=1.0, history=[])  # resumed after the first window was saved
    resumed = list(transcribe_chunks(engine, audio, 20.0, chunk_seconds=10.0, start=7.5, start_chunk=1,
                                     cut=lambda p, lo, n: cuts[n]))
    assert [(c.index, c.start, c.end) for c in resumed] == [(1, 7.5, 16.0), (2, 16.0, 20.0)]
    assert engine.history[0].offset == 7.5


class Straddling:
    """An engine that also reports the segment it was in the middle of when the window began, and
    one past the window's end (as a real engine may around a cut)."""

    name, model, last_language = "straddle", "s", None

    def transcribe(self, audio, *, language=None, offset=0.0, duration=None, progress=None):
        end = offset + duration
        yield Segment(offset - 1.0, offset + 0.5, f"before {offset}")
        yield Segment(offset, offset + 1.0, f"at {offset}")
        yield Segment(end - 0.2, end + 0.8, f"across {end}")
        yield Segment(end + 0.1, end + 0.5, f"after {end}")


def test_a_segment_belongs_to_the_window_its_start_falls_in(tmp_path):
    audio = tone_wav(tmp_path / "t.wav", [], 20.0)
    chunks = list(transcribe_chunks(Straddling(), audio, 20.0, chunk_seconds=10.0))
    assert [(c.start, c.end) for c in chunks] == [(0.0, 10.0), (10.0, 20.0)]  # silent: nominal cuts
    texts = [s.text for c in chunks for s in c.segments]
    assert texts == ["at 0.0", "across 10.0", "at 10.0", "across 20.0", "after 20.0"]
    assert len(set(texts)) == len(texts)


def test_detected_language_goes_to_later_windows_and_the_store(fake_settings, fake_library, server, fake_asr):
    server.add("/l.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [{"guid": "l", "title": "L", "audio": "/l.wav"}])
    fake_asr.defaults["detected_language"] = "de"
    pipeline = Pipeline(fake_library, fake_settings)
    job = pipeline.run_job(pipeline.enqueue(ids["l"]).id)
    assert job.state == "done", job.error
    assert [c.language for c in fake_asr.history] == [None, "de", "de", "de"]  # detected once, then told
    assert TranscriptStore(fake_library).info(ids["l"]).language == "de"
    assert job.stages[1].checkpoint["language"] == "de"
    result = CliRunner().invoke(app, ["transcript", str(ids["l"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["language"] == "de"


def test_a_resumed_job_reuses_the_saved_language_and_start(fake_settings, fake_library, server, fake_asr):
    server.add("/r.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, fake_settings, server, [{"guid": "r", "title": "R", "audio": "/r.wav"}])
    fake_asr.defaults["detected_language"] = "de"
    pipeline = Pipeline(fake_library, fake_settings)
    job = pipeline.run_job(pipeline.enqueue(ids["r"]).id)
    full = TranscriptStore(fake_library).get(ids["r"]).segments
    # Rewind to "killed after the second window" with a start time that is no multiple of the
    # window (as a cut in a pause gives), and an engine that would detect something else now.
    checkpoint = {**job.stages[1].checkpoint, "next_chunk": 2, "next_start": 19.0, "next_idx": 10}
    store = JobStore(fake_library)
    with fake_library.transaction() as conn:
        conn.execute("DELETE FROM segments WHERE episode_id = ? AND idx >= 10", (ids["r"],))
        conn.execute("UPDATE transcripts SET complete = 0 WHERE episode_id = ?", (ids["r"],))
        store.save_checkpoint(conn, job.id, "transcript", checkpoint, 47.5)
    fake_asr.history.clear()
    fake_asr.defaults["detected_language"] = "fr"
    stages.asr(pipeline.context(store.get(job.id)), Path(fake_library.download(ids["r"]).path), checkpoint,
               lambda *a, **k: None)
    assert [(c.offset, c.language) for c in fake_asr.history] == [(19.0, "de"), (29.0, "de"), (39.0, "de")]
    after = TranscriptStore(fake_library).get(ids["r"]).segments
    assert [s.start for s in after] == [s.start for s in full]  # 18.0 came from the first run, 20.0 on
    assert TranscriptStore(fake_library).info(ids["r"]).language == "de"


class SideBySide:
    """An engine that runs two windows at once: each of the first two windows waits at a barrier
    for the other, so the run only gets through when they really are transcribed together."""

    name, model, parallel = "sides", "s", 2

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # seconds per segment
        self.last_language = None
        self.calls: list[tuple[float, str | None]] = []
        self.barrier = threading.Barrier(2, timeout=5)

    def transcribe(self, audio, *, language=None, offset=0.0, duration=None, progress=None):
        self.calls.append((offset, language))
        self.last_language = language or "de"  # "detected" on a window told nothing
        t = offset
        while t < offset + duration:
            yield Segment(t, t + 1.0, f"at {t:g}")
            if len(self.calls) <= 2 and t == offset + 1.0:
                self.barrier.wait()  # both windows are under way
            if progress:
                progress(t + 1.0)
            time.sleep(self.delay)
            t += 1.0


def test_windows_run_side_by_side_in_equal_lengths_and_come_back_in_order(tmp_path):
    audio = tone_wav(tmp_path / "t.wav", [], 200.0)
    engine, seen = SideBySide(), []
    chunks = list(transcribe_chunks(engine, audio, 200.0, chunk_seconds=150.0, progress=seen.append,
                                    cut=lambda p, lo, n: n))
    # 200 s in windows of at most 150 s: two, of equal length, so both finish together
    assert [(c.index, c.start, c.end) for c in chunks] == [(0, 0.0, 100.0), (1, 100.0, 200.0)]
    starts = [s.start for c in chunks for s in c.segments]
    assert starts == [float(n) for n in range(200)]  # each segment once, in order
    # the first window detects the language; the second starts once it is known, and is told it
    assert sorted(engine.calls) == [(0.0, None), (100.0, "de")]
    assert [c.language for c in chunks] == ["de", "de"]
    assert seen == sorted(seen) and seen[-1] == 200.0


def test_windows_side_by_side_stop_when_the_caller_stops(tmp_path):
    audio = tone_wav(tmp_path / "t.wav", [], 400.0)

    class Cancelled(Exception):
        pass

    def cancel(seconds):
        if seconds > 0:
            raise Cancelled

    engine = SideBySide(delay=0.05)  # 5 s a window: 10 s in all if nothing stopped them
    started = time.monotonic()
    try:
        list(transcribe_chunks(engine, audio, 400.0, chunk_seconds=100.0, progress=cancel, language="en",
                               cut=lambda p, lo, n: n))
    except Cancelled:
        pass
    else:
        raise AssertionError("the cancellation did not reach the caller")
    assert time.monotonic() - started < 4  # the caller heard at its first report (~1 s); the windows stopped
    assert len(engine.calls) == 2  # the windows still queued never started

"""The time a running job has left (earmark/jobs/eta.py), against a real SQLite library: the
measured speed of each stage when there is history, the built-in figures when there is none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from earmark.jobs.eta import DEFAULTS, Estimator, describe, estimate, measured_speeds
from earmark.models import Episode, ParsedFeed, Podcast
from earmark.store.jobs import STAGES, JobStore


@pytest.fixture
def episodes(library):
    """Ten 30-minute episodes and one of unknown length; their ids in order."""
    podcast, _ = library.add_podcast("http://127.0.0.1:1/eta.rss")
    items = [Episode(guid=f"e{n}", title=f"E{n}", published=datetime(2024, 1, n + 1, tzinfo=UTC),
                     duration=None if n == 10 else 1800) for n in range(11)]
    library.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title="ETA"), items),
                      url=podcast.url, etag=None, last_modified=None, content_hash=None)
    return sorted(e.id for e in library.episodes(podcast.id))


def finished_job(library, episode_id: int, seconds: dict[str, float], *, at: float, engine=None, model=None) -> None:
    """A job whose stages ran for ``seconds`` (by stage), the last finishing at ``at``."""
    store = JobStore(library)
    job = store.enqueue(episode_id, priority=0)
    store.claim(job.id)
    clock = at - sum(seconds.values())
    with library.transaction() as conn:
        for name, took in seconds.items():
            conn.execute(
                "UPDATE job_stages SET state = 'done', progress = 100, started_at = ?, finished_at = ?, engine = ?,"
                " model = ? WHERE job_id = ? AND name = ?",
                (clock, clock + took, engine, model, job.id, name),
            )
            clock += took
    store.end(job.id, "done")


def running_job(library, episode_id: int, done: tuple[str, ...], running: str, percent: float):
    store = JobStore(library)
    job = store.enqueue(episode_id, priority=0)
    store.claim(job.id)
    for name in done:
        store.start_stage(job.id, name)
        store.finish_stage(job.id, name)
    store.start_stage(job.id, running)
    store.report(job.id, running, percent, 50.0)
    return store.get(job.id)


def test_without_history_the_built_in_figures(library, episodes):
    job = running_job(library, episodes[0], ("download",), "transcript", 25.0)
    eta = Estimator(library).job(job)
    assert eta.stages["download"] is None  # done
    assert eta.stages["transcript"] == pytest.approx(30 * DEFAULTS["transcript"].per_minute * 0.75)
    assert eta.stages["summary"] == pytest.approx(max(DEFAULTS["summary"].floor, 30 * DEFAULTS["summary"].per_minute))
    assert eta.seconds == pytest.approx(sum(v for v in eta.stages.values() if v is not None), abs=0.5)
    # A short episode: the language model's fixed work is the floor.
    assert estimate(job, 60.0, {}).stages["chapters"] == DEFAULTS["chapters"].floor


def test_with_history_the_measured_speed(library, episodes):
    # Transcripts took 300 s on 30 minutes (10 s a minute) with the engine in use now; older runs
    # with another model were much slower and count for nothing.
    for n in range(3):
        finished_job(library, episodes[n], {"transcript": 9000.0}, at=1000.0 + n, engine="faster-whisper", model="large")
    for n, took in enumerate([290.0, 300.0, 310.0, 5000.0, 305.0]):  # an outlier: the median ignores it
        finished_job(library, episodes[3 + n], {"download": 60.0, "transcript": took}, at=2000.0 + n * 10,
                     engine="faster-whisper", model="base")
    speeds = measured_speeds(JobStore(library))
    assert speeds["transcript"] == pytest.approx(305.0 / 30)
    assert speeds["download"] == pytest.approx(2.0)
    assert "summary" not in speeds  # never run here: the built-in figure

    job = running_job(library, episodes[8], ("download",), "transcript", 40.0)
    eta = Estimator(library).job(job)
    assert eta.stages["transcript"] == pytest.approx(305.0 * 0.6, abs=0.1)
    assert eta.stages["speakers"] == pytest.approx(30 * DEFAULTS["speakers"].per_minute)

    # Half an hour of audio at 10 s a minute: a 15-minute episode's transcript takes half as long.
    assert estimate(job, 900.0, speeds).stages["transcript"] == pytest.approx(305.0 / 2 * 0.6, abs=0.1)


def test_only_the_newest_runs_count(library, episodes):
    """The median is over the ~20 newest runs: a machine that got faster is believed."""
    store = JobStore(library)
    for n in range(25):
        slow = n < 10
        finished_job(library, episodes[n % 10], {"index": 600.0 if slow else 60.0}, at=100.0 + n)
    assert measured_speeds(store, ("index",)) == {"index": pytest.approx(2.0)}
    plan = library.conn.execute(
        "EXPLAIN QUERY PLAN SELECT 1 FROM job_stages s WHERE s.name = ? AND s.state = 'done'"
        " ORDER BY s.finished_at DESC LIMIT 100", ("index",)).fetchall()
    assert any("job_stages_finished" in row[-1] for row in plan)


def test_publisher_transcripts_measure_nothing(library, episodes):
    for n in range(3):
        finished_job(library, episodes[n], {"transcript": 1.0, "speakers": 0.1}, at=100.0 + n, engine="publisher")
    assert measured_speeds(JobStore(library)) == {}
    # This job's transcript came from the publisher: its speakers stage only passes it through.
    store = JobStore(library)
    job = running_job(library, episodes[3], ("download",), "transcript", 0.0)
    store.finish_stage(job.id, "transcript", engine="publisher")
    store.start_stage(job.id, "speakers")
    eta = Estimator(library).job(store.get(job.id))
    assert eta.stages["speakers"] == 0.0 and eta.stages["transcript"] is None


def test_unknown_when_not_running_or_length_unknown(library, episodes):
    store = JobStore(library)
    queued = store.enqueue(episodes[0], priority=0)
    assert Estimator(library).job(queued).seconds is None
    job = running_job(library, episodes[10], (), "download", 10.0)  # the download measures its length
    eta = Estimator(library).job(job)
    assert eta.seconds is None and set(eta.stages) == set(STAGES) and set(eta.stages.values()) == {None}


def test_describe():
    assert describe(None) == ""
    assert describe(20) == "less than a minute left"
    assert describe(7 * 60 + 10) == "about 7 min left"
    assert describe(3600) == "about 1 h left"
    assert describe(3600 + 25 * 60) == "about 1 h 25 min left"


def test_process_wait_shows_the_stage_and_the_time_left(library, episodes, settings):
    """`earmark process --wait`'s progress line: the stage, its own percent, the job's, the time left."""
    from earmark.cli.process import _showing
    from earmark.jobs import Pipeline, ProgressEvent

    class Bar:
        def __init__(self):
            self.shown = {}

        def update(self, task, **fields):
            self.shown.update(fields)

    job = running_job(library, episodes[0], ("download",), "transcript", 10.0)
    bar = Bar()
    show = _showing(bar, 0, Pipeline(library, settings))
    show(ProgressEvent(job.id, job.episode_id, "transcript", 50.0, 40.0))
    assert bar.shown["description"] == f"transcript 2/{len(STAGES)}" and bar.shown["completed"] == 50.0
    stored = JobStore(library).get(job.id)  # the store still says 10%: the event's 50% counts
    next(s for s in stored.stages if s.name == "transcript").progress = 50.0
    assert bar.shown["left"] == f"job 40% · {describe(Estimator(library).job(stored).seconds)}"
    assert bar.shown["left"].endswith(" min left")

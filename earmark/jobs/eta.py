"""How long a running job has left, from the speed its stages were measured at on this machine.

Each finished stage in the job history (job_stages.started_at/finished_at) gives seconds per minute
of the episode's audio (episodes.duration). A stage's speed is the median of its ~20 newest runs made
with the engine and model of its newest run (the configuration in use; a publisher's transcript
passed through measures nothing and is left out). A stage never run here takes a conservative
built-in figure (DEFAULTS). The running stage has its estimate × (1 − its percent / 100) left.

Read where the job is read (the jobs API, the pages, the CLI's --wait), never written: the runner
knows nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from earmark.models import DONE, RUNNING, Job
from earmark.store.jobs import STAGES, JobStore
from earmark.store.library import Library

RECENT = 20  # runs of a stage the median is taken over
SCAN = 100  # newest runs of a stage read to find them (the query stays bounded)


@dataclass(frozen=True, slots=True)
class Default:
    per_minute: float  # seconds per minute of audio
    floor: float = 0.0  # at least this many seconds (model loads, fixed prompt work)


# Built-in figures for a stage with no history here, on the slow side (2 cores, other work running):
# - download: not measured — 128 kbit/s audio is ~1 MB per minute; 1 s per minute assumes ≥ 1 MB/s.
# - transcript: faster-whisper base on 2 cores ran at a real-time factor of ≈ 0.19 under load
#   (issue 11's 30-minute run; 0.08 on a quiet machine in bench/bench_asr.py) → 0.2 × 60 = 12 s.
# - speakers: resemblyzer diarization took 100.9 s for 211.5 s of audio, model load included
#   (bench/bench_asr.py, issue 3) → 0.48 × 60 ≈ 30 s.
# - names: the rules, then at most one LLM call for speakers they leave unnamed: not measured alone;
#   a guess of a short LLM call (15 s) plus 0.5 s per minute.
# - index: 30 s windows every 15 s (search/embed.py) = 4 windows a minute at the 0.4 windows/s
#   measured under load (bench/bench_search.py, issue 7) → 10 s.
# - chapters, summary, highlights: the 24.8-minute held-out episode of bench/bench_quality.py on
#   Qwen2.5-Coder-1.5B, 2 cores, under load: 168 s, 194 s, 68 s (issue 10) → 6.8, 7.8, 2.7 s per
#   minute; its 4-minute episodes took 150–200 s for the three, hence the floors (60 + 65 + 25 s).
DEFAULTS: dict[str, Default] = {
    "download": Default(1.0),
    "transcript": Default(12.0),
    "speakers": Default(30.0),
    "names": Default(0.5, floor=15.0),
    "index": Default(10.0),
    "chapters": Default(6.8, floor=60.0),
    "summary": Default(7.8, floor=65.0),
    "highlights": Default(2.7, floor=25.0),
}
# A stage with no figure at all (one added later): as slow as the transcript.
FALLBACK = DEFAULTS["transcript"]


def measured_speeds(store: JobStore, stages: tuple[str, ...] = STAGES) -> dict[str, float]:
    """Seconds per minute of audio of each stage with history here (median of the newest runs
    with the engine and model of the newest run)."""
    speeds = {}
    for name in stages:
        runs = store.stage_speeds(name, limit=SCAN)
        if not runs:
            continue
        engine, model, _ = runs[0]
        same = [rate for e, m, rate in runs if (e, m) == (engine, model)][:RECENT]
        speeds[name] = median(same)
    return speeds


@dataclass(frozen=True, slots=True)
class JobEta:
    seconds: float | None  # the whole job's time left; None when unknown or not running
    stages: dict[str, float | None] = field(default_factory=dict)  # each stage's time left


def stage_seconds(name: str, minutes: float, speeds: dict[str, float]) -> float:
    """A whole run of stage ``name`` on ``minutes`` of audio."""
    if name in speeds:
        return speeds[name] * minutes
    default = DEFAULTS.get(name, FALLBACK)
    return max(default.floor, default.per_minute * minutes)


def estimate(job: Job, duration: float | None, speeds: dict[str, float]) -> JobEta:
    """Time left for a running ``job`` on an episode of ``duration`` seconds. Nothing is known for
    a job that is not running, or an episode of unknown length (its download measures it)."""
    if job.state != RUNNING or not duration or duration <= 0:
        return JobEta(None, {s.name: None for s in job.stages})
    minutes = duration / 60
    # A publisher's transcript has no speakers to find: that stage only passes it through.
    publisher = any(s.name == "transcript" and s.state == DONE and s.engine == "publisher" for s in job.stages)
    left: dict[str, float | None] = {}
    for s in job.stages:
        if s.state == DONE:
            left[s.name] = None
            continue
        whole = 0.0 if publisher and s.name == "speakers" else stage_seconds(s.name, minutes, speeds)
        done = (s.progress or 0.0) / 100 if s.state == RUNNING else 0.0
        left[s.name] = round(whole * (1 - min(1.0, max(0.0, done))), 1)
    return JobEta(round(sum(v for v in left.values() if v is not None), 1), left)


class Estimator:
    """ETAs for the jobs of one request: the measured speeds are read once, when first needed."""

    def __init__(self, library: Library):
        self.library = library
        self._speeds: dict[str, float] | None = None

    def speeds(self) -> dict[str, float]:
        if self._speeds is None:
            self._speeds = measured_speeds(JobStore(self.library))
        return self._speeds

    def job(self, job: Job) -> JobEta:
        if job.state != RUNNING:
            return estimate(job, None, {})
        return estimate(job, self.library.episode(job.episode_id).duration, self.speeds())


def describe(seconds: float | None) -> str:
    """"about 7 min left" (as the pages' JavaScript writes it); "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


__all__ = ["DEFAULTS", "Estimator", "JobEta", "describe", "estimate", "measured_speeds", "stage_seconds"]

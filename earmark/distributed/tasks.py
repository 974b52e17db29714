"""What ``earmark worker`` runs: the pipeline's compute steps as Celery tasks. Each takes a JSON
payload (what the server read from its library) and returns a JSON result (what the server
writes); none touches a library. The steps are the same store-free functions the in-process
pipeline calls (jobs/asr.py, speakers.py, names.py, index.py, understanding.py), run with this
worker's own settings (its models, its device).

Each task sends a sign of life every few seconds while it runs (Celery's result backend, state
PROGRESS: the worker's name, the percent done and a beat counter); the server shows the progress
and gives the task to another worker when the beats stop (jobs/remote.py). A copy of a task that
already succeeded (a redelivery after a worker died late) returns the stored result at once."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from earmark.config import Settings
from earmark.distributed import codec
from earmark.distributed.app import QUEUES, celery_app, task_name
from earmark.distributed.audio import AudioRef, TransientError, fetch_audio
from earmark.errors import EarmarkError
from earmark.models import Segment, Transcript

log = logging.getLogger(__name__)

Progress = Callable[[float], None]
PROGRESS = "PROGRESS"  # the state a running task reports (Celery's custom states)


class Beat:
    """A running task's sign of life: a thread that stores (worker, percent, beat) every ``every``
    seconds, whatever the compute thread is doing (the models release the GIL)."""

    def __init__(self, task, task_id: str, every: float):
        self.task, self.task_id, self.every = task, task_id, max(0.2, float(every))
        self.worker = task.request.hostname or socket.gethostname()
        self.percent = 0.0
        self.run = uuid.uuid4().hex[:8]  # this copy's beats differ from any other copy's
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"beat-{task_id[:8]}", daemon=True)

    def progress(self, percent: float) -> None:
        self.percent = max(0.0, min(100.0, float(percent)))

    def send(self) -> None:
        self.beats += 1
        try:
            self.task.update_state(task_id=self.task_id, state=PROGRESS,
                                   meta={"worker": self.worker, "percent": self.percent,
                                         "beat": f"{self.run}:{self.beats}"})
        except Exception:  # the backend is away for a moment: the next beat tells
            log.debug("task %s: no beat stored", self.task_id, exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.send()

    def __enter__(self) -> Beat:
        self.send()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def _segments(data: list[dict]) -> list[Segment]:
    return codec.load_list(Segment, data)


def transcribe(settings: Settings, payload: dict, progress: Progress) -> dict:
    from earmark.ai.asr import get_asr
    from earmark.jobs.asr import probe_audio, transcribe_chunks

    audio = fetch_audio(settings, AudioRef(**payload["audio"]))
    info = probe_audio(audio)
    engine = get_asr(settings)
    segments: list[Segment] = []
    language = payload.get("language")
    for chunk in transcribe_chunks(engine, audio, info.duration, chunk_seconds=float(settings.asr_chunk_seconds),
                                   language=language, progress=lambda seconds: progress(100 * seconds / info.duration)):
        segments += chunk.segments
        language = chunk.language or language
    return {"segments": codec.dump(segments), "language": language, "engine": engine.name, "model": engine.model}


def speakers(settings: Settings, payload: dict, progress: Progress) -> dict:
    from earmark.jobs.speakers import default_diarizer, label_speakers

    audio = fetch_audio(settings, AudioRef(**payload["audio"]))
    segments = _segments(payload["segments"])
    duration = max((s.end for s in segments), default=0.0) or 1.0
    result = label_speakers(audio, segments, diarizer=default_diarizer(settings.diarizer),
                            progress=lambda seconds: progress(100 * min(seconds, duration) / duration))
    return {"segments": codec.dump(result.segments), "engine": result.engine, "model": result.model}


def names(settings: Settings, payload: dict, progress: Progress) -> dict:
    from earmark.ai.llm import get_llm
    from earmark.jobs.names import Cast, name_episode_speakers
    from earmark.models import Person

    cast = payload["cast"]
    cast = Cast(cast["episode_title"], codec.load_list(Person, cast["persons"]), cast["show_notes"], cast["titles"])
    result = name_episode_speakers(_segments(payload["segments"]), cast, lambda: get_llm(settings))
    return {"names": codec.dump(result.names), "engine": result.engine, "model": result.model}


def index(settings: Settings, payload: dict, progress: Progress) -> dict:
    from earmark.jobs.index import index_transcript

    result = index_transcript(_segments(payload["segments"]), progress=progress)
    return {"windows": codec.dump(result.windows), "vectors": codec.dump_vectors(result.vectors), "model": result.model}


def understand(settings: Settings, payload: dict, progress: Progress) -> dict:
    from earmark.ai.llm import get_llm
    from earmark.jobs import understanding

    inputs = dict(payload["inputs"])
    inputs["transcript"] = codec.load(Transcript, inputs["transcript"])
    result, dropped = understanding.run(understanding.TaskInput(**inputs), get_llm(settings),
                                        embed=understanding.text_embedder())
    return {"result": codec.dump(result), "dropped": codec.dump(dropped)}


BODIES: dict[str, Callable[[Settings, dict, Progress], dict]] = {
    "transcribe": transcribe, "speakers": speakers, "names": names, "index": index, "understand": understand,
}
if set(BODIES) != set(QUEUES):
    raise ImportError("every task needs a queue (app.QUEUES) and a body (tasks.BODIES)")


def worker_app(settings: Settings):
    """The Celery app with Earmark's tasks registered, run with ``settings`` (the worker's own)."""
    from celery.exceptions import SoftTimeLimitExceeded
    from celery.signals import worker_process_init

    app = celery_app(settings)

    def register(name: str, body: Callable[[Settings, dict, Progress], dict]) -> None:
        @app.task(name=task_name(name), bind=True, autoretry_for=(TransientError,), retry_backoff=2,
                  retry_backoff_max=60, max_retries=8, retry_jitter=True)
        def task(self, payload: dict) -> Any:
            task_id = self.request.id
            before = self.AsyncResult(task_id)
            if before.state == "SUCCESS":  # a redelivered copy of a task that finished: nothing to do
                return before.result
            try:
                with Beat(self, task_id, payload.get("beat_every", 10.0)) as beat:
                    return body(settings, payload, beat.progress)
            except SoftTimeLimitExceeded:
                raise EarmarkError(f"stopped after worker_time_limit ({settings.worker_time_limit} s)") from None

    for name, body in BODIES.items():
        register(name, body)
    worker_process_init.connect(_preload, weak=False)
    return app


def _preload(**_) -> None:
    """In each worker process as it starts: the modules the tasks use (not their models), so the
    first task does not spend seconds importing them."""
    import earmark.ai.llm  # noqa: F401
    import earmark.jobs.asr  # noqa: F401
    import earmark.jobs.index  # noqa: F401
    import earmark.jobs.names  # noqa: F401
    import earmark.jobs.speakers  # noqa: F401
    import earmark.jobs.understanding  # noqa: F401

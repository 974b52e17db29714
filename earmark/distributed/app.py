"""The Celery app both sides share: the server sends tasks with it (jobs/remote.py), ``earmark
worker`` runs them (tasks.py). Redis is the broker and the result backend. The reliability settings
are chosen on purpose, each commented where it is set."""

from __future__ import annotations

from earmark.config import Settings
from earmark.errors import ConfigError

# Each task's queue: a GPU box can take only "asr" and "llm" (`earmark worker --queues asr,llm`).
QUEUES: dict[str, str] = {
    "transcribe": "asr",
    "speakers": "asr",
    "names": "llm",
    "understand": "llm",
    "index": "index",
}
ALL_QUEUES = tuple(dict.fromkeys(QUEUES.values()))


def task_name(name: str) -> str:
    return f"earmark.{name}"


def visibility_timeout(settings: Settings) -> int:
    """How long Redis keeps a task a worker took before handing it to another. It must outlast the
    longest task, or a task still running would run twice: the time limit plus five minutes."""
    return settings.broker_visibility_timeout or settings.worker_time_limit + 300


def celery_app(settings: Settings):
    """A Celery app for ``settings.broker_url`` (Redis as broker and result backend)."""
    if not settings.broker_url:
        raise ConfigError('no broker: set broker_url = "redis://HOST:6379/0" in settings.toml')
    from celery import Celery

    app = Celery("earmark", broker=settings.broker_url, backend=settings.broker_url, set_as_current=False)
    app.conf.update(
        # JSON only: a message is data, never code (pickle would run whatever Redis holds).
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # A task leaves the queue when it ends, not when a worker takes it: a killed worker's task
        # is delivered again (after visibility_timeout; jobs/remote.py resends sooner when the
        # worker falls silent), and a worker process that dies mid-task rejects it back.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds only the task it runs; the rest wait for any worker
        task_time_limit=settings.worker_time_limit,
        task_soft_time_limit=max(1, settings.worker_time_limit - 30),
        task_routes={task_name(name): {"queue": queue} for name, queue in QUEUES.items()},
        task_default_queue="llm",
        result_extended=True,  # a failure's record names the worker it failed on
        # A day: longer than any redelivery comes late (visibility_timeout), so a late copy of a
        # finished task finds the result and returns it at once (tasks.py).
        result_expires=24 * 3600,
        broker_transport_options={
            "visibility_timeout": visibility_timeout(settings),
            # Look for tasks of dead workers every 10 s (kombu's default scans far less often).
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        redis_socket_connect_timeout=5,
        redis_socket_timeout=30,
        worker_hijack_root_logger=False,
        worker_send_task_events=True,  # `earmark workers` and Flower see what runs where
        task_send_sent_event=True,
    )
    return app

"""`earmark worker` (compute a server's stages, through Celery and Redis) and `earmark workers`
(the live ones and what they run)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import typer
from rich.markup import escape
from rich.table import Table

from earmark.cli.app import JSON_OPTION, app, console, err_console, print_json
from earmark.config import Settings
from earmark.errors import ConfigError, EarmarkError


@app.command()
def worker(
    queues: str = typer.Option("asr,llm,index", "--queues", "-Q",
                               help="queues to take tasks from: asr (transcripts, speakers), llm (names, chapters, summary,"
                                    " highlights), index (search embeddings)"),
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1,
                                    help="tasks run at once (processes, each loading its own models)"),
    name: str | None = typer.Option(None, "--name", "-n", help="this worker's name (default: earmark-PID@HOST)"),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Compute an Earmark server's stages on this machine: the server sends them through the broker
    (broker_url), this worker fetches the audio from the server (server_url, access_token) and runs
    its own models (asr_model, llm_*, …, from its settings.toml). It never opens the library."""
    from earmark.distributed.app import ALL_QUEUES
    from earmark.distributed.tasks import worker_app

    settings = Settings.load()
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(ALL_QUEUES))
    if unknown or not wanted:
        raise ConfigError(f"unknown queue(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(ALL_QUEUES)}")
    celery = worker_app(settings)
    err_console.print(f"Earmark worker: queues {','.join(wanted)}, broker {_safe(settings.broker_url)},"
                      f" audio from {settings.server_url or settings.public_base_url}", highlight=False)
    celery.worker_main(["worker", "--queues", ",".join(wanted), "--concurrency", str(concurrency),
                        "--hostname", name or f"earmark-{os.getpid()}@%h", "--loglevel", loglevel,
                        "--without-mingle", "--without-gossip"])


def _safe(url: str | None) -> str:
    """The broker URL without its password."""
    if not url or "@" not in url:
        return url or "(none)"
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"


@dataclass(slots=True)
class Running:
    stage: str
    episode_id: int | None
    job_id: int | None
    task_id: str


@dataclass(slots=True)
class LiveWorker:
    name: str
    queues: list[str]
    concurrency: int | None
    running: list[Running] = field(default_factory=list)


def live_workers(settings: Settings, timeout: float = 2.0) -> list[LiveWorker]:
    """The workers that answer within ``timeout`` seconds (Celery's inspect), with what they run."""
    from earmark.distributed.app import celery_app
    from earmark.jobs.remote import _broker_errors

    _reachable(settings)
    celery = celery_app(settings)
    inspect = celery.control.inspect(timeout=timeout)
    try:
        stats = inspect.stats() or {}
        queues = inspect.active_queues() or {}
        active = inspect.active() or {}
    except _broker_errors() as exc:
        raise EarmarkError(f"the broker at {_safe(settings.broker_url)} cannot be reached: {exc}") from None
    found = []
    for name in sorted(set(stats) | set(active)):
        running = []
        for task in active.get(name, []):
            payload = (task.get("args") or [{}])[0] if isinstance(task.get("args"), list) else {}
            running.append(Running(payload.get("stage") or task.get("name", "?"), payload.get("episode_id"),
                                   payload.get("job_id"), task.get("id", "")))
        pool = (stats.get(name) or {}).get("pool") or {}
        found.append(LiveWorker(name, [q["name"] for q in queues.get(name, [])], pool.get("max-concurrency"), running))
    return found


def _reachable(settings: Settings) -> None:
    """One ping first: Celery would retry an unreachable broker for a long while before saying so."""
    import redis

    try:
        redis.Redis.from_url(settings.broker_url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.exceptions.RedisError as exc:
        raise EarmarkError(f"the broker at {_safe(settings.broker_url)} cannot be reached: {exc}") from None


@app.command()
def workers(json: bool = JSON_OPTION,
            timeout: float = typer.Option(2.0, "--timeout", help="seconds to wait for the workers' answers")) -> None:
    """List the live `earmark worker`s, their queues and what each runs now."""
    settings = Settings.load()
    if not settings.broker_url:
        raise ConfigError("no broker_url in settings.toml: stages run inside `earmark serve`, there are no workers")
    found = live_workers(settings, timeout)
    if json:
        print_json(found)
        return
    if not found:
        console.print(f"No worker answered within {timeout:g} s (start one with `earmark worker`).")
        return
    table = Table("Worker", "Queues", "Processes", "Running")
    for w in found:
        doing = ", ".join(f"{r.stage} of episode {r.episode_id} (job {r.job_id})" for r in w.running) or "idle"
        table.add_row(escape(w.name), ",".join(w.queues), str(w.concurrency or "–"), escape(doing))
    console.print(table)

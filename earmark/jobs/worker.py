"""Background workers for ``earmark serve``: ``job_concurrency`` threads, each with its own
library connection, taking jobs from the store until stopped. An idle worker also takes back jobs
whose process died meanwhile (a ``process --wait`` killed while the server runs), so no job stays
"running" for as long as the server lives."""

from __future__ import annotations

import threading

from earmark.config import Settings
from earmark.jobs.runner import Pipeline, ProgressCallback
from earmark.store.library import Library


class Workers:
    def __init__(self, settings: Settings, *, concurrency: int | None = None, poll: float = 1.0,
                 progress: ProgressCallback | None = None):
        self.settings = settings
        # With a broker the threads mostly wait for `earmark worker`s: more episodes are in flight.
        self.concurrency = max(1, concurrency or (settings.broker_jobs if settings.broker_url else settings.job_concurrency))
        self.poll = poll
        self.progress = progress
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        library = Library(self.settings.db_path)
        try:
            Pipeline(library, self.settings).recover()  # jobs a killed process left running
        finally:
            library.close()
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"earmark-job-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Call after enqueuing, so an idle worker does not wait out its poll interval."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking jobs; a job running now finishes its current stage call first."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        # One connection per thread: SQLite serializes the writers, WAL lets readers go on.
        library = Library(self.settings.db_path)
        pipeline = Pipeline(library, self.settings, progress=self.progress)
        try:
            while not self._stop.is_set():
                if pipeline.run_next() is None:
                    if pipeline.recover():  # a dead process's job is queued again: run it now
                        continue
                    self._wake.wait(self.poll)
                    self._wake.clear()
        finally:
            library.close()

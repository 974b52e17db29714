"""One gate for the heavy native work (a language-model call, a speech-to-text window, voice or
text embeddings), taken in order of priority, with a budget of cores.

On a 2-core machine two such computations at once do not finish sooner when each spreads its own
threads over both cores: running them together slows both (llama.cpp worst of all, its threads
spin) and a listener's request waits behind background work. So work passes through this gate
the highest priority first (the oldest first among equals), and holds as many of the machine's
cores as it runs threads on: all of them unless it says fewer. Work on one thread (a Whisper
window, engines/faster_whisper.py) leaves the other cores to the next in line that fits, e.g. a
second window of the same episode; nobody overtakes the head of the line, so a call that
needs every core gets them as soon as the holders step out. Work holds the gate for one short step
(one model call, one decoded segment), so a user's request (``earmark ask``, a snip on an
unprocessed episode, ``process`` from the player) gets the machine at the next step boundary, not
after a whole background episode.

A job's stages run with the job's priority (``running_at``); anything else — the API, the CLI —
is a user's request."""

from __future__ import annotations

import heapq
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from earmark.models import PRIORITY_USER

_priority: ContextVar[int] = ContextVar("earmark_priority", default=PRIORITY_USER)


@contextmanager
def running_at(priority: int) -> Iterator[None]:
    """Work done in this block (this thread) takes the gate at ``priority``."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


class PriorityGate:
    """A counting lock over ``capacity`` cores that hands over to the highest-priority waiter;
    re-entrant for a holder thread (which keeps the cores it first took)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = max(1, capacity or cpu_count())
        self._cond = threading.Condition(threading.Lock())
        self._waiting: list[tuple[int, int]] = []  # heap of (-priority, ticket)
        self._tickets = itertools.count()
        self._holders: dict[int, list[int]] = {}  # thread id -> [cores held, depth]
        self._used = 0

    @contextmanager
    def held(self, priority: int | None = None, *, cores: int | None = None) -> Iterator[None]:
        """Hold ``cores`` of the machine's cores (None: all of them) for the block."""
        me = threading.get_ident()
        with self._cond:
            if me in self._holders:
                self._holders[me][1] += 1
            else:
                need = min(self.capacity, cores or self.capacity)
                entry = (-(_priority.get() if priority is None else priority), next(self._tickets))
                heapq.heappush(self._waiting, entry)
                while self._waiting[0] != entry or self._used + need > self.capacity:
                    self._cond.wait()
                heapq.heappop(self._waiting)
                self._holders[me] = [need, 1]
                self._used += need
                self._cond.notify_all()  # the next in line may fit beside it
        try:
            yield
        finally:
            with self._cond:
                held = self._holders[me]
                held[1] -= 1
                if held[1] == 0:
                    del self._holders[me]
                    self._used -= held[0]
                    self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @property
    def holders(self) -> int:
        with self._cond:
            return len(self._holders)


def cpu_count() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


COMPUTE = PriorityGate()  # the process's one gate for native model work

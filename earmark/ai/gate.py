"""One gate for the heavy native work (a language-model call, a speech-to-text window, voice or
text embeddings), taken in order of priority.

On a 2-core machine two such computations at once do not finish sooner: each engine spreads its
own threads over both cores, so running them together slows both (llama.cpp worst of all, its
threads spin) and a listener's request waits behind background work. So the engines pass through
this gate one at a time, the highest priority first (the oldest first among equals). Work holds it
for one short step (one model call, one window), so a user's request (``earmark ask``, a snip on
an unprocessed episode, ``process`` from the player) gets the machine at the next step boundary,
not after a whole background episode.

A job's stages run with the job's priority (``running_at``); anything else — the API, the CLI —
is a user's request."""

from __future__ import annotations

import heapq
import itertools
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
    """A lock that hands over to the highest-priority waiter; re-entrant for its holder thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._waiting: list[tuple[int, int]] = []  # heap of (-priority, ticket)
        self._tickets = itertools.count()
        self._owner: int | None = None
        self._depth = 0

    @contextmanager
    def held(self, priority: int | None = None) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
            else:
                entry = (-(_priority.get() if priority is None else priority), next(self._tickets))
                heapq.heappush(self._waiting, entry)
                while self._owner is not None or self._waiting[0] != entry:
                    self._cond.wait()
                heapq.heappop(self._waiting)
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)


COMPUTE = PriorityGate()  # the process's one gate for native model work

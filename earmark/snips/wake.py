"""Waking the snip enrichers of this process. Its own module so that ``service`` (create_snip
notifies) and ``enrich`` (the enricher registers here, and calls the service) import it, and not
each other: service → wake ← enrich → service, no cycle."""

from __future__ import annotations

import weakref
from typing import Protocol


class Wakeable(Protocol):
    def wake(self) -> None: ...


_RUNNING: weakref.WeakSet = weakref.WeakSet()


def register(enricher: Wakeable) -> None:
    """``enricher`` is running: ``notify`` wakes it until ``unregister``."""
    _RUNNING.add(enricher)


def unregister(enricher: Wakeable) -> None:
    _RUNNING.discard(enricher)


def notify() -> None:
    """Wake every enricher of this process (a snip was created)."""
    for enricher in list(_RUNNING):
        enricher.wake()

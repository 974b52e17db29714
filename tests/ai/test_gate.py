"""The compute gate: heavy native work one step at a time, the highest priority first."""

from __future__ import annotations

import threading
import time

from earmark.ai.gate import PriorityGate, running_at
from earmark.models import PRIORITY_BACKGROUND, PRIORITY_USER


def _queue_behind_holder(gate: PriorityGate, arrivals: list[tuple[str, int]]) -> list[str]:
    """``arrivals`` (name, priority) queue up, in this order, while the gate is held; the order they get it."""
    order: list[str] = []
    release = threading.Event()

    def hold() -> None:
        with gate.held(PRIORITY_USER):
            release.wait(5)

    def wait_for_it(name: str, priority: int) -> None:
        with running_at(priority), gate.held():
            order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    while gate._owner is None:
        time.sleep(0.001)
    threads = []
    for name, priority in arrivals:
        t = threading.Thread(target=wait_for_it, args=(name, priority))
        t.start()
        threads.append(t)
        while gate.waiting < len(threads):  # arrived, in this order
            time.sleep(0.001)
    release.set()
    for t in [holder, *threads]:
        t.join(5)
    return order


def test_the_highest_priority_goes_first_then_the_oldest():
    order = _queue_behind_holder(PriorityGate(), [
        ("background 1", PRIORITY_BACKGROUND), ("background 2", PRIORITY_BACKGROUND),
        ("user 1", PRIORITY_USER), ("user 2", PRIORITY_USER),
    ])
    assert order == ["user 1", "user 2", "background 1", "background 2"]


def test_work_outside_a_job_is_a_users_request():
    order = _queue_behind_holder(PriorityGate(), [("job", PRIORITY_BACKGROUND), ("api", PRIORITY_USER)])
    assert order == ["api", "job"]


def test_the_holder_may_take_it_again_and_others_wait_until_it_is_out():
    gate = PriorityGate()
    inside = []
    with gate.held():
        with gate.held():  # re-entrant: no deadlock
            t = threading.Thread(target=lambda: (gate.held().__enter__(), inside.append(True)))
            t.start()
            time.sleep(0.05)
            assert inside == []
        time.sleep(0.05)
        assert inside == []  # still held by the outer block
    t.join(5)
    assert inside == [True]

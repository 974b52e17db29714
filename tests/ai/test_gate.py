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
    while not gate.holders:
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


def test_one_core_work_runs_side_by_side_and_work_on_every_core_waits_for_both():
    gate = PriorityGate(capacity=2)
    inside, release = [], threading.Event()

    def one_core(name: str) -> None:
        with gate.held(cores=1):
            inside.append(name)
            release.wait(5)

    first, second = (threading.Thread(target=one_core, args=(n,)) for n in ("window 1", "window 2"))
    first.start()
    second.start()
    deadline = time.monotonic() + 5
    while len(inside) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert sorted(inside) == ["window 1", "window 2"]  # both hold the gate at once
    assert gate.holders == 2

    order, done = [], threading.Event()

    def every_core() -> None:
        with gate.held():
            order.append("llm")
            done.wait(5)

    def third_window() -> None:
        with gate.held(cores=1):
            order.append("window 3")

    llm = threading.Thread(target=every_core)
    llm.start()
    while gate.waiting < 1:
        time.sleep(0.001)
    third = threading.Thread(target=third_window)
    third.start()  # a core would be free once one window is out, but it must not overtake the llm
    while gate.waiting < 2:
        time.sleep(0.001)
    release.set()
    first.join(5)
    second.join(5)
    deadline = time.monotonic() + 5
    while not order and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)
    assert order == ["llm"]  # the llm holds both cores; the third window waits for it
    done.set()
    llm.join(5)
    third.join(5)
    assert order == ["llm", "window 3"]

"""Fixtures of the fault campaign (see harness.py), and its tally printed after the run."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import RESULTS, Earmark, Fault, record, table


@pytest.fixture
def em(tmp_path):
    """An Earmark home for child processes; every child still running at the end is killed."""
    earmark = Earmark(tmp_path / "home")
    yield earmark
    earmark.stop_all()


@pytest.fixture
def campaign():
    """``campaign(stage, fault)`` → a Fault to mark injected/survived; recorded with its time."""
    made: list[tuple[Fault, float]] = []

    def make(stage: str, fault: str) -> Fault:
        made.append((Fault(stage, fault), time.monotonic()))
        return made[-1][0]

    yield make
    for fault, started in made:
        fault.seconds = time.monotonic() - started
        record(fault)


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        terminalreporter.section("fault campaign")
        for line in table(RESULTS):
            terminalreporter.write_line(line)

"""The fault campaign (tests/faults) as a report: kill -9 inside every stage, bad audio, a model cut
off mid-answer, a full disk, exports and an OPML import killed mid-batch — how many faults were
injected and survived, per stage, with timing.

    python bench/bench_faults.py              # the whole campaign (about 1.5 minutes on 2 cores)
    python bench/bench_faults.py -k export    # some of it (a pytest -k expression)

It runs the campaign's pytest tests (each fault is a test: the real Earmark CLI or server in a child
process, real HTTP servers on 127.0.0.1) with ``EARMARK_FAULT_REPORT`` set, so every fault appends
its record; exit status: pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.faults.harness import Fault, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="select", help="only the faults whose test matches this pytest -k expression")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "faults.jsonl"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults"]
        if args.select:
            command += ["-k", args.select]
        started = time.monotonic()
        done = subprocess.run(command, cwd=REPO, env={**os.environ, "EARMARK_FAULT_REPORT": str(report)},
                              capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        results = [Fault(**json.loads(line)) for line in report.read_text().splitlines()] if report.exists() else []

    print("Faults, one by one")
    for line in table(results):
        print("  " + line)
    print("\nWhat was injected, and what came through")
    for r in results:
        print(f"  {r.stage}: {r.fault}")
        for note in r.notes:
            print(f"      {note}")
    by_stage: dict[str, list[Fault]] = defaultdict(list)
    for r in results:
        by_stage[r.stage].append(r)
    print("\nPer stage")
    print(f"  {'stage':<28} {'faults':>6} {'injected':>8} {'survived':>8} {'seconds':>8}")
    for stage, faults in by_stage.items():
        print(f"  {stage:<28} {len(faults):>6} {sum(f.injected for f in faults):>8} "
              f"{sum(f.survived for f in faults):>8} {sum(f.seconds for f in faults):>8.1f}")
    injected, survived = sum(r.injected for r in results), sum(r.survived for r in results)
    print(f"\n{injected} faults injected, {survived} survived, in {len(results)} tests; "
          f"wall time {wall:.0f} s on {os.cpu_count()} CPUs")
    lines = done.stdout.strip().splitlines()
    print("pytest:", lines[-1] if lines else done.stderr.strip()[-300:])
    if done.returncode:
        print(done.stdout[-6000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

"""Time the understanding stage (summary, chapters, highlights) on a 30-minute transcript with the
default local model, with the shared prompt cache (tasks back to back on one engine: the
transcript prefix is computed once) and without it (the cache is flushed before each task by a
call with an unrelated prompt). Prints figures; not a test.

    python bench/bench_understanding.py [--minutes 30] [--threads 2] [--context 8192] [--no-cold]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from earmark.ai.llm import Message  # noqa: E402
from earmark.ai.tasks.chapters import generate_chapters  # noqa: E402
from earmark.ai.tasks.common import Context  # noqa: E402
from earmark.ai.tasks.highlights import find_highlights  # noqa: E402
from earmark.ai.tasks.summary import summarize  # noqa: E402
from earmark.config import Settings  # noqa: E402
from earmark.engines.llama_cpp import LlamaCppEngine  # noqa: E402
from tests.ai.fakes import long_transcript  # noqa: E402

TASKS = [("summary", summarize), ("chapters", generate_chapters), ("highlights", find_highlights)]


def run(engine, transcript, *, flush: bool) -> dict:
    figures = {}
    total = 0.0
    for name, fn in TASKS:
        if flush:
            engine.complete([Message("user", "Say OK.")], max_tokens=2)
        ctx = Context(engine, "Bench episode")
        started = time.perf_counter()
        fn(transcript, engine, ctx=ctx)
        seconds = time.perf_counter() - started
        total += seconds
        u = ctx.usage
        figures[name] = (seconds, u.calls, u.prompt_tokens, u.cached_tokens, u.completion_tokens, u.retries)
    figures["total"] = total
    return figures


def show(title: str, figures: dict) -> None:
    print(f"\n{title}")
    print(f"  {'task':<11}{'seconds':>9}{'calls':>7}{'prompt':>8}{'cached':>8}{'gen':>6}{'retries':>9}")
    for name, _ in TASKS:
        s, calls, p, c, g, r = figures[name]
        print(f"  {name:<11}{s:>9.1f}{calls:>7}{p:>8}{c:>8}{g:>6}{r:>9}")
    print(f"  {'whole stage':<11}{figures['total']:>9.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--context", type=int, default=8192)
    ap.add_argument("--no-cold", action="store_true", help="skip the run without the shared cache")
    args = ap.parse_args()
    home = Path(tempfile.gettempdir()) / "earmark-real-model-home"
    engine = LlamaCppEngine(Settings(home=home, llm_context=args.context), threads=args.threads)
    transcript = long_transcript(args.minutes)
    started = time.perf_counter()
    engine.load()
    print(f"model load: {time.perf_counter() - started:.1f} s; {len(transcript.segments)} segments, "
          f"{args.minutes:g} min, ~{engine.count_tokens(' '.join(s.text for s in transcript.segments))} tokens; "
          f"context {engine.context_size}, {args.threads} threads")
    warm = run(engine, transcript, flush=False)
    show("with the shared prompt cache", warm)
    if not args.no_cold:
        cold = run(engine, transcript, flush=True)
        show("without it (cache flushed before each task)", cold)
        print(f"\ncache saves {cold['total'] - warm['total']:.1f} s of {cold['total']:.1f} s")
    print(f"target: whole stage <= 240 s on 2 cores -> {'met' if warm['total'] <= 240 else 'NOT met'}")


if __name__ == "__main__":
    main()

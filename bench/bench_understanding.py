"""Time the understanding stage (chapters, then summary and highlights along them) on a long
scripted episode with the default local model — the transcript is the script itself, timed by
speaking it with espeak-ng, so this measures the model's share alone (bench_quality.py runs the
whole pipeline). Run twice: as the pipeline runs it (the tasks share one reading of the episode and
the engine's prompt cache) and cold (readings forgotten, cache flushed before each task). Prints
figures; not a test.

    python bench/bench_understanding.py [--script h4-longform] [--threads 2] [--context 8192] [--no-cold]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from earmark.ai.llm import Message  # noqa: E402
from earmark.ai.tasks import reading  # noqa: E402
from earmark.ai.tasks.chapters import generate_chapters  # noqa: E402
from earmark.ai.tasks.common import Context  # noqa: E402
from earmark.ai.tasks.highlights import find_highlights  # noqa: E402
from earmark.ai.tasks.summary import summarize  # noqa: E402
from earmark.config import Settings  # noqa: E402
from earmark.engines.llama_cpp import LlamaCppEngine  # noqa: E402
from earmark.jobs.understanding import text_embedder  # noqa: E402
from earmark.models import Segment, Transcript  # noqa: E402
from tests.episodes.scripts import HERE, load, speak  # noqa: E402

TASKS = ("chapters", "summary", "highlights")


def run(engine, transcript, notes: str, *, cold: bool) -> dict:
    embed = text_embedder()
    figures, starts = {}, None
    for name in TASKS:
        if cold:
            reading._MEMO.clear()
            engine.complete([Message("user", "Say OK.")], max_tokens=2)
        ctx = Context(engine, "Bench episode")
        started = time.perf_counter()
        if name == "chapters":
            result = generate_chapters(transcript, engine, ctx=ctx, embed=embed, notes=notes)
            starts = [c.start for c in result.chapters]
        elif name == "summary":
            summarize(transcript, engine, ctx=ctx, chapter_starts=starts, embed=embed, notes=notes)
        else:
            find_highlights(transcript, engine, ctx=ctx, chapter_starts=starts, embed=embed, notes=notes)
        u = ctx.usage
        figures[name] = (time.perf_counter() - started, u.calls, u.prompt_tokens, u.cached_tokens, u.completion_tokens,
                         u.retries)
    figures["total"] = sum(f[0] for f in figures.values())
    return figures


def show(title: str, figures: dict) -> None:
    print(f"\n{title}")
    print(f"  {'task':<11}{'seconds':>9}{'calls':>7}{'prompt':>8}{'cached':>8}{'gen':>6}{'retries':>9}")
    for name in TASKS:
        s, calls, p, c, g, r = figures[name]
        print(f"  {name:<11}{s:>9.1f}{calls:>7}{p:>8}{c:>8}{g:>6}{r:>9}")
    print(f"  {'whole stage':<11}{figures['total']:>9.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", default="h4-longform", help="a tests/episodes/*.toml id")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--context", type=int, default=8192)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold run")
    args = ap.parse_args()
    script = load(HERE / f"{args.script}.toml")
    work = Path(tempfile.mkdtemp(prefix="earmark-bench-understanding-"))
    spoken = speak(script, work / "episode.wav")
    transcript = Transcript([Segment(a, b, line.text, script.speakers[line.speaker].name or None)
                             for line, a, b in zip(script.lines, spoken.starts, spoken.ends)],
                            source="publisher", format="text", language="en")
    home = Path(tempfile.gettempdir()) / "earmark-real-model-home"
    engine = LlamaCppEngine(Settings(home=home, llm_context=args.context), threads=args.threads)
    started = time.perf_counter()
    engine.load()
    words = sum(len(s.text.split()) for s in transcript.segments)
    print(f"model load: {time.perf_counter() - started:.1f} s; {args.script}: {spoken.duration / 60:.1f} min, {words} words, "
          f"~{engine.count_tokens(' '.join(s.text for s in transcript.segments))} tokens; "
          f"context {engine.context_size}, {args.threads} threads")
    warm = run(engine, transcript, script.show_notes, cold=False)
    show("as the pipeline runs it (one shared reading, prompt cache)", warm)
    if not args.no_cold:
        cold = run(engine, transcript, script.show_notes, cold=True)
        show("cold (readings forgotten, cache flushed before each task)", cold)
        print(f"\nsharing saves {cold['total'] - warm['total']:.1f} s of {cold['total']:.1f} s")
    per30 = warm["total"] * 30 / (spoken.duration / 60)
    print(f"scaled to 30 minutes: {per30:.0f} s; target whole stage <= 240 s on 2 cores -> "
          f"{'met' if per30 <= 240 else 'NOT met'}")


if __name__ == "__main__":
    main()

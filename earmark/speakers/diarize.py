"""Diarization: who spoke when, store-free.

speech regions (faster-whisper's bundled Silero VAD) → one speaker embedding per window of speech
→ agglomerative clustering (average linkage, cosine distance, stop at a threshold: the number of
speakers is estimated, not given) → speaker turns.

Voice embedders sit behind a small seam (:class:`VoiceEmbedder`: ``name``/``model``/``threshold``,
``embed(windows)``) so a better one can replace them; :func:`get_diarizer` picks one by name
(``settings.diarizer``). The one shipped is ``resemblyzer`` (Resemblyzer's GE2E d-vectors on CPU
torch, the network and its weights in :mod:`earmark.speakers.ge2e`). Audio is read in pieces of ``PIECE_SECONDS`` so memory stays bounded on long episodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from earmark.ai.gate import COMPUTE
from earmark.audio import SAMPLE_RATE

PIECE_SECONDS = 600.0
GATE_WINDOWS = 64  # voice windows embedded in one batch (one turn at the compute gate)
WINDOW = 3.0  # seconds of speech per embedding
HOP = 1.5
STEP = 0.1  # resolution of the labelled timeline
MIN_TURN = 1.0  # shorter flips between speakers are smoothed away
MAX_WINDOWS = 4000  # the hop grows on long episodes so clustering stays O(n²) in memory


@dataclass(frozen=True, slots=True)
class Turn:
    start: float
    end: float
    speaker: int  # 0-based, in order of first appearance


class VoiceEmbedder(Protocol):
    """One vector per window of speech; windows of one voice lie within ``threshold`` (cosine)."""

    name: str
    model: str
    threshold: float  # cosine distance at which clustering stops merging

    def embed(self, windows: list[np.ndarray]) -> np.ndarray: ...  # (n, d)


# -- embedders -------------------------------------------------------------------------------------


class ResemblyzerEmbedder:
    """Resemblyzer 0.1.4's GE2E d-vectors (:mod:`earmark.speakers.ge2e`, its weights shipped there;
    torch on CPU). The name and model stay Resemblyzer's: the embeddings are the same numbers."""

    name = "resemblyzer"
    model = "resemblyzer-0.1.4-ge2e"
    threshold = 0.16

    def __init__(self) -> None:
        from earmark.speakers.ge2e import VoiceEncoder  # heavy: torch

        self.encoder = VoiceEncoder()

    def embed(self, windows: list[np.ndarray]) -> np.ndarray:
        """resemblyzer's embed_utterance for many windows at once: every window's 1.6 s partials go
        through the LSTM in one batch (one call per window took most of the speakers stage), then
        each window's partials are averaged and normalized as embed_utterance does."""
        import torch

        from earmark.speakers.ge2e import partial_slices, wav_to_mel_spectrogram

        out: list[np.ndarray] = []
        for first in range(0, len(windows), GATE_WINDOWS):
            mels, owner = [], []
            for n, window in enumerate(windows[first:first + GATE_WINDOWS]):
                wav = window.astype(np.float32)
                wav_slices, mel_slices = partial_slices(len(wav))
                if wav_slices[-1].stop >= len(wav):
                    wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)))
                mel = wav_to_mel_spectrogram(wav)
                mels += [mel[s] for s in mel_slices]
                owner += [n] * len(mel_slices)
            with COMPUTE.held(), torch.no_grad():  # a batch at a time at the gate (ai/gate.py)
                partials = self.encoder(torch.from_numpy(np.array(mels))).numpy()
            owner = np.array(owner)
            for n in range(owner[-1] + 1):
                raw = partials[owner == n].mean(axis=0)
                out.append(raw / np.linalg.norm(raw))
        return np.array(out, dtype=np.float32).reshape(len(out), -1)  # (0, 0) for no windows


EMBEDDERS: dict[str, Callable[[], VoiceEmbedder]] = {"resemblyzer": ResemblyzerEmbedder}


# -- audio and speech ------------------------------------------------------------------------------


def speech_pieces(audio: Path, piece_seconds: float = PIECE_SECONDS):
    """(piece start, samples, speech regions in absolute seconds) for each piece of the file."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from earmark.audio import chunks, decode

    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=30)
    for start, samples in chunks(decode(Path(audio), 0.0, np.inf), 0.0, piece_seconds):
        regions = [(start + r["start"] / SAMPLE_RATE, start + r["end"] / SAMPLE_RATE)
                   for r in get_speech_timestamps(samples, options)]
        yield start, samples, regions


def _windows(regions: list[tuple[float, float]], hop: float) -> list[tuple[float, float]]:
    out = []
    for a, b in regions:
        if b - a < 0.4:
            continue
        if b - a <= WINDOW:
            out.append((a, b))
            continue
        t = a
        while t + WINDOW < b:
            out.append((t, t + WINDOW))
            t += hop
        out.append((b - WINDOW, b))
    return out


# -- clustering ------------------------------------------------------------------------------------


def cluster(emb: np.ndarray, threshold: float) -> np.ndarray:
    """Average-linkage agglomerative clustering on cosine distance, merging while the closest
    pair is nearer than ``threshold``. Labels are 0.. in order of first window."""
    n = len(emb)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    unit = emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9)
    dist = (1.0 - unit @ unit.T).astype(np.float32)
    np.fill_diagonal(dist, np.inf)
    size = np.ones(n)
    alive = np.ones(n, dtype=bool)
    parent = np.arange(n)
    rowmin = dist.min(axis=1)
    rowarg = dist.argmin(axis=1)
    while True:
        i = int(np.argmin(rowmin))
        if rowmin[i] >= threshold:
            break
        j = int(rowarg[i])
        # merge j into i (Lance-Williams for average linkage)
        new = (size[i] * dist[i] + size[j] * dist[j]) / (size[i] + size[j])
        new[i] = np.inf
        new[~alive] = np.inf
        new[j] = np.inf
        dist[i], dist[:, i] = new, new
        dist[j], dist[:, j] = np.inf, np.inf
        size[i] += size[j]
        alive[j] = False
        parent[parent == j] = i
        rowmin[j] = np.inf
        stale = alive & ((rowarg == i) | (rowarg == j))
        stale[i] = True
        for r in np.flatnonzero(stale):
            rowarg[r] = int(np.argmin(dist[r]))
            rowmin[r] = dist[r, rowarg[r]]
        closer = alive & (new < rowmin)
        rowmin[closer] = new[closer]
        rowarg[closer] = i
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(p), len(order)) for p in parent])


def _absorb_small(labels: np.ndarray, emb: np.ndarray, min_share: float = 0.05, min_count: int = 3) -> np.ndarray:
    """Clusters with too little speech (stray windows: breaths, laughs, overlaps) join the nearest big one."""
    counts = np.bincount(labels)
    big = [c for c in range(len(counts)) if counts[c] >= max(min_count, min_share * len(labels))]
    if not big or len(big) == len(counts):
        return labels
    unit = emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9)
    centroids = np.array([unit[labels == c].mean(0) for c in big])
    out = labels.copy()
    for k in np.flatnonzero(~np.isin(labels, big)):
        out[k] = big[int(np.argmax(centroids @ unit[k]))]
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(x), len(order)) for x in out])


# -- turns ------------------------------------------------------------------------------------------


def _turns(regions, windows, labels) -> list[Turn]:
    """Label each STEP of speech by the windows covering it (nearest window centre when none),
    smooth flips shorter than MIN_TURN, and merge into turns."""
    if not len(windows):
        return []
    centres = np.array([(a + b) / 2 for a, b in windows])
    spans = []  # (start, end, label) per step
    for a, b in regions:
        t = a
        while t < b:
            e = min(b, t + STEP)
            spans.append([t, e, int(labels[int(np.argmin(np.abs(centres - (t + e) / 2)))])])
            t = e
    # smoothing: a run shorter than MIN_TURN between two runs takes its neighbours' label
    changed = True
    while changed:
        changed = False
        runs = _runs(spans)
        for k, (i, j) in enumerate(runs):
            length = spans[j - 1][1] - spans[i][0]
            if length >= MIN_TURN or len(runs) == 1:
                continue
            before = spans[i - 1][2] if i > 0 else None
            after = spans[j][2] if j < len(spans) else None
            choice = before if before is not None else after
            if before is not None and after is not None and before != after:
                lb = spans[i - 1][1] - spans[runs[k - 1][0]][0]
                la = spans[runs[k + 1][1] - 1][1] - spans[j][0]
                choice = before if lb >= la else after
            if choice is not None and choice != spans[i][2]:
                for s in spans[i:j]:
                    s[2] = choice
                changed = True
                break
    turns: list[Turn] = []
    for s, e, lab in spans:
        if turns and turns[-1].speaker == lab and s - turns[-1].end < 2.0:
            turns[-1] = Turn(turns[-1].start, e, lab)
        else:
            turns.append(Turn(s, e, lab))
    order: dict[int, int] = {}
    return [Turn(round(t.start, 2), round(t.end, 2), order.setdefault(t.speaker, len(order))) for t in turns]


def _runs(spans) -> list[tuple[int, int]]:
    runs, i = [], 0
    while i < len(spans):
        j = i
        while j < len(spans) and spans[j][2] == spans[i][2]:
            j += 1
        runs.append((i, j))
        i = j
    return runs


# -- the diarizer ------------------------------------------------------------------------------------


class Diarizer:
    def __init__(self, embedder: VoiceEmbedder, threshold: float | None = None):
        self.embedder = embedder
        self.threshold = embedder.threshold if threshold is None else threshold

    @property
    def name(self) -> str:
        return f"earmark-diarizer/{self.embedder.name}"

    @property
    def model(self) -> str:
        return self.embedder.model

    def __call__(self, audio: Path, progress: Callable[[float], None] | None = None) -> list[Turn]:
        return self.diarize(audio, progress=progress)

    def diarize(self, audio: Path, *, progress: Callable[[float], None] | None = None) -> list[Turn]:
        """Speaker turns of the file (seconds from its start)."""
        all_regions: list[tuple[float, float]] = []
        windows: list[tuple[float, float]] = []
        emb = []
        for start, samples, regions in speech_pieces(audio):  # one piece of audio in memory at a time
            all_regions += regions
            ws = _windows(regions, HOP)
            if ws:
                emb.append(self.embedder.embed(
                    [samples[int((a - start) * SAMPLE_RATE): int((b - start) * SAMPLE_RATE)] for a, b in ws]
                ))
                windows += ws
            if progress:
                progress(start + len(samples) / SAMPLE_RATE)
        if not windows:
            return []
        if len(windows) > MAX_WINDOWS:  # long episodes: cluster an even subset of the windows
            keep = np.linspace(0, len(windows) - 1, MAX_WINDOWS).astype(int)
            windows = [windows[k] for k in keep]
            emb = [np.concatenate(emb)[keep]]
        vectors = np.concatenate(emb)
        labels = _absorb_small(cluster(vectors, self.threshold), vectors)
        return _turns(all_regions, windows, labels)


def get_diarizer(name: str = "resemblyzer", threshold: float | None = None) -> Diarizer:
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        from earmark.errors import ConfigError

        raise ConfigError(f"unknown diarizer {name!r} (known: {', '.join(EMBEDDERS)})") from None
    return Diarizer(factory(), threshold)

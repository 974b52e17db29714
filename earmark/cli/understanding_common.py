"""What the understanding commands share: load a stored result, or compute and store it now
(with a spinner), using the configured language model."""

from __future__ import annotations

from earmark.ai.llm import get_llm
from earmark.cli.app import err_console
from earmark.jobs import understanding
from earmark.store.understanding import UnderstandingStore


def stored_or_compute(name: str, settings, library, episode_id: int, *, refresh: bool = False):
    library.episode(episode_id)
    store = UnderstandingStore(library)
    getter = {"summary": store.summary, "chapters": store.chapters, "highlights": store.highlights}[name]
    result = None if refresh else getter(episode_id)
    if result is not None:
        return result
    with err_console.status(f"Computing {name} for episode {episode_id} on the local model…"):
        result, dropped = understanding.compute(name, library, settings, episode_id, lambda: get_llm(settings),
                                                embed=understanding.text_embedder())
    understanding.save(library, name, episode_id, result, dropped)
    return getter(episode_id)

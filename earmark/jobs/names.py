"""Names stage: who each diarized speaker is (earmark/speakers/naming.py), the language model
asked only about speakers the rules leave unnamed. Store-free: labelled segments and the feed's
episode/podcast in; names with their evidence out (the pipeline writes them)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from earmark.ai.llm import LLMEngine
from earmark.ai.tasks.common import Context
from earmark.ai.tasks.speaker_names import asker
from earmark.errors import EarmarkError
from earmark.models import Episode, Person, Podcast, Provenanced, Segment, SpeakerName
from earmark.speakers.naming import name_speakers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cast:
    """What the feed says about who may speak: the store-free input next to the segments (a worker
    on another machine gets this, not the library)."""

    episode_title: str
    persons: list[Person]  # podcast:person of the episode, then the podcast's
    show_notes: str
    titles: list[str]  # the episode's and the podcast's, whose words name no one


def cast_of(episode: Episode, podcast: Podcast | None) -> Cast:
    persons = list({p.name: p for p in [*episode.persons, *(podcast.persons if podcast else [])]}.values())
    return Cast(episode.title, persons, episode.description or "", [episode.title, podcast.title if podcast else ""])


@dataclass(slots=True)
class NamesResult(Provenanced):
    names: list[SpeakerName]
    engine: str
    model: str | None = None


def name_episode_speakers(segments: list[Segment], cast: Cast, llm: Callable[[], LLMEngine] | None) -> NamesResult:
    used: list[Context] = []

    def ask(labels, lines, candidates):  # the model loads only when there is something to ask
        try:
            ctx = Context(llm(), cast.episode_title)
            used.append(ctx)
            return asker(ctx)(labels, lines, candidates)
        except EarmarkError as exc:  # no model, or no valid answer: the rules' names stand
            log.warning("names: the language model could not help: %s", exc)
            return {}

    names = name_speakers(segments, persons=cast.persons, show_notes=cast.show_notes, ask=ask if llm else None,
                          titles=cast.titles)
    if used and any(n.source == "llm" for n in names):
        return NamesResult(names, f"rules+{used[0].engine.name}", used[0].engine.model)
    return NamesResult(names, "rules")

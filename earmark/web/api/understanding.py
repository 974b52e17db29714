"""Understanding: the stored summary, chapters (stored, else the feed's own) and highlights of an
episode, the highlights across the library, and ask-the-episode (the LLM runs in a worker thread,
so the server keeps answering while it thinks)."""

from __future__ import annotations

import re

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from earmark.errors import ConfigError, LLMError, NotFound
from earmark.models import Highlight
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore
from earmark.store.understanding import UnderstandingStore
from earmark.web.api.schemas import (
    AnswerOut,
    ChapterMarkOut,
    ChaptersOut,
    CitationOut,
    HighlightOut,
    HighlightPageOut,
    HighlightsOut,
    LibraryHighlightOut,
    ProvenanceOut,
    StoredProvenanceOut,
    SummaryOut,
)
from earmark.web.deps import APIError, EpisodeIdPath, LibraryDep, SettingsDep, UserIdDep
from earmark.web.schemas import MAX_ID, NOT_BLANK, TEXT_CHAR, ErrorResponse, _In

router = APIRouter(tags=["understanding"])

_404 = {404: {"model": ErrorResponse, "description": "No such episode, or not processed yet"}}


def not_processed(episode_id: int, what: str) -> NotFound:
    return NotFound(
        f"episode {episode_id} is not processed yet: no {what}; POST /api/v1/episodes/{episode_id}/process makes it"
    )


class AskIn(_In):
    question: str = Field(min_length=1, max_length=500, pattern=f"^{TEXT_CHAR}*{NOT_BLANK}{TEXT_CHAR}*$")


def summary_of(library: Library, episode_id: int):
    return UnderstandingStore(library).summary(episode_id)


def made(result, out: type[ProvenanceOut] = StoredProvenanceOut) -> dict:
    """What made a result (its ``Provenance``) as the response's flat fields."""
    provenance = result.provenance
    return {name: getattr(provenance, name) for name in out.model_fields}


def chapters_of(library: Library, episode_id: int) -> ChaptersOut | None:
    """Stored chapters; else the feed's Podlove chapters as the publisher's; else None."""
    found = UnderstandingStore(library).shown_chapters(episode_id)
    if found is None:
        return None
    chapters, stored = found
    return ChaptersOut.model_validate(
        {"source": chapters.source, "origin": chapters.origin, **made(chapters),
         "episode_id": episode_id, "stored": stored,
         "chapters": [ChapterMarkOut.model_validate(m) for m in chapters.chapters]}
    )


def highlight_out(h: Highlight) -> HighlightOut:
    return HighlightOut.model_validate(h)


def epoch(moment: datetime) -> float:
    """Seconds since 1970 for a ``since`` query (no zone = UTC); far-off years are clamped, not errors."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return float("-inf") if moment.year < 1970 else float("inf")


# RFC 3339 date-time only (a bare number would be read as a Unix time by a datetime parameter).
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"


def parse_time(text: str, name: str) -> datetime:
    """An RFC 3339 time from a query (a leap second counts as :59); 422 when it names no real time."""
    value = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    value = value[:10] + "T" + value[11:]
    if value[17:19] == "60":
        value = value[:17] + "59" + value[19:]
    head, dot, rest = value.partition(".")
    if dot:  # fromisoformat takes at most 6 fractional digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise APIError(422, "validation_error", f"{name}: {text[:40]!r} is not a valid RFC 3339 time") from None


def library_highlights(library: Library, limit: int, offset: int, user_id: int | None = None, *,
                       podcast_id: int | None = None, since: datetime | None = None) -> tuple[list[LibraryHighlightOut], bool]:
    found, more = UnderstandingStore(library).library_highlights(
        limit=limit, offset=offset, user_id=user_id, podcast_id=podcast_id,
        since=epoch(since) if since is not None else None,
    )
    return [LibraryHighlightOut.model_validate(h) for h in found], more


@router.get("/episodes/{episode_id}/summary", response_model=SummaryOut, responses=_404)
def get_summary(episode_id: EpisodeIdPath, library: LibraryDep) -> SummaryOut:
    """The AI summary: two to four paragraphs and the key takeaways, with the engine, model and
    prompt version that made it. 404 until the episode is processed."""
    library.episode(episode_id)
    summary = summary_of(library, episode_id)
    if summary is None:
        raise not_processed(episode_id, "summary")
    return SummaryOut.model_validate(
        {"episode_id": episode_id, "paragraphs": summary.paragraphs, "takeaways": summary.takeaways, **made(summary)}
    )


@router.get("/episodes/{episode_id}/chapters", response_model=ChaptersOut, responses=_404)
def get_chapters(episode_id: EpisodeIdPath, library: LibraryDep) -> ChaptersOut:
    """The chapters: the publisher's or generated ones once processed; before that the feed's own
    (Podlove) chapters when it has any (``stored`` false); else 404."""
    library.episode(episode_id)
    found = chapters_of(library, episode_id)
    if found is None:
        raise not_processed(episode_id, "chapters")
    return found


@router.get("/episodes/{episode_id}/highlights", response_model=HighlightsOut, responses=_404)
def get_highlights(episode_id: EpisodeIdPath, library: LibraryDep) -> HighlightsOut:
    """The episode's best moments in time order, each with a title and why it matters."""
    library.episode(episode_id)
    found = UnderstandingStore(library).highlights(episode_id)
    if found is None:
        raise not_processed(episode_id, "highlights")
    return HighlightsOut(episode_id=episode_id, highlights=[highlight_out(h) for h in found])


@router.get(
    "/highlights", response_model=HighlightPageOut,
    responses={404: {"model": ErrorResponse, "description": "No such podcast (podcast_id)"}},
)
def list_highlights(
    library: LibraryDep,
    user: UserIdDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    podcast_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this podcast's highlights")] = None,
    since: Annotated[str | None, Query(
        pattern=RFC3339, json_schema_extra={"format": "date-time"},
        description="only episodes published or added to the library at or after this time (RFC 3339, e.g. a week ago)")] = None,
) -> HighlightPageOut:
    """Highlights of the podcasts you follow, newest first (the highlights reel plays them in this order)."""
    if podcast_id is not None:
        library.podcast(podcast_id)  # 404 for a podcast that does not exist; one you don't follow has none
    moment = parse_time(since, "since") if since is not None else None
    items, more = library_highlights(library, limit, offset, user, podcast_id=podcast_id, since=moment)
    return HighlightPageOut(items=items, limit=limit, offset=offset, has_more=more)


@router.post(
    "/episodes/{episode_id}/ask", response_model=AnswerOut,
    responses={**_404, 422: {"model": ErrorResponse}, 503: {"model": ErrorResponse, "description": "The language model failed"}},
)
async def ask_episode(episode_id: EpisodeIdPath, body: AskIn, library: LibraryDep, settings: SettingsDep) -> AnswerOut:
    """Ask the episode: an answer grounded in its transcript, citing the moments it comes from
    (``answerable`` false when the episode doesn't say)."""
    from earmark.ai.llm import get_llm
    from earmark.ai.tasks.ask import TOP_K, ask
    from earmark.ai.tasks.common import LLMOutputError
    from earmark.jobs.understanding import show_notes
    from earmark.search.episode import Found, episode_retriever

    # Store reads, retrieval (embedding the question) and the model all run in the threadpool (each
    # thread has its own connection), in the order they always did: the event loop keeps answering.
    episode = await run_in_threadpool(library.episode, episode_id)
    question = body.question.strip()
    if not re.search(NOT_BLANK, question):  # (the schema's pattern already says so)
        raise APIError(422, "validation_error", "question: the question is empty")

    def context():
        transcript = TranscriptStore(library).get(episode_id)
        if transcript is None or not transcript.segments:
            raise not_processed(episode_id, "transcript to ask")
        retriever = episode_retriever(library, episode_id)
        return transcript, (Found(retriever.find(question, TOP_K)) if retriever else None), show_notes(library, episode)

    transcript, found, notes = await run_in_threadpool(context)

    def run():
        return ask(transcript, question, get_llm(settings), title=episode.title, retriever=found, notes=notes)

    try:
        answer = await run_in_threadpool(run)
    except LLMOutputError as exc:  # answers that never fit the schema, after the task's retries
        raise APIError(502, "llm_bad_output", f"the language model gave no usable answer: {exc}") from None
    except (LLMError, ConfigError) as exc:  # engine missing, failed to load, endpoint down
        raise APIError(503, "llm_unavailable", f"the language model could not answer: {exc}") from None
    return AnswerOut.model_validate(
        {"question": answer.question, "answer": answer.answer, "answerable": answer.answerable,
         "citations": [CitationOut.model_validate(c) for c in answer.citations],
         **made(answer, ProvenanceOut)}
    )

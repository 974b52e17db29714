"""GET /api/v1/search: keyword, semantic or combined search over transcripts, feed metadata,
summaries and snips; GET /api/v1/search/similar: windows elsewhere like one moment. Snippets come
as structured spans ({text, hit}) so the page escapes them like any text; a query with nothing searchable is a 422."""

from __future__ import annotations

import re

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from earmark.search import NotIndexed, Searcher, SearchFilters, SearchQueryError
from earmark.web.api.schemas import SearchResponse, SearchResult, SimilarResponse, SpanOut
from earmark.web.deps import APIError, LibraryDep, UserIdDep
from earmark.web.schemas import MAX_ID, WORDY, ErrorResponse

router = APIRouter(tags=["search"])


def _iso_day(value: object) -> object:
    # Pydantic would read a number ("1.5") as a Unix time; the contract says a calendar date.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is YYYY-MM-DD")
    return value


Day = Annotated[date | None, BeforeValidator(_iso_day), Query(description="a day, YYYY-MM-DD")]


def _utc(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None


@router.get("/search", response_model=SearchResponse, responses={422: {"model": ErrorResponse}})
def search(
    library: LibraryDep,
    user: UserIdDep,
    q: Annotated[str, Query(
        max_length=500, description='Words, a "phrase", or a prefix like vort*',
        json_schema_extra={"pattern": WORDY},  # documents the 422 bad_query for a query without a word
    )],
    mode: Literal["keyword", "semantic", "combined"] = "combined",
    podcast: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Day = None,
    until: Day = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResponse:
    if not re.search(WORDY, q):  # as documented: every mode needs a word to look for
        raise APIError(422, "bad_query", f"nothing to search for in {q!r}: type some words")
    filters = SearchFilters(podcast, _utc(since), _utc(until), user)
    try:
        hits = Searcher(library).search(q, mode=mode, filters=filters, limit=limit)
    except SearchQueryError as exc:
        raise APIError(422, "bad_query", str(exc)) from None
    return SearchResponse(
        query=q, mode=mode,
        results=[_result(h) for h in hits],
    )


@router.get(
    "/search/similar", response_model=SimilarResponse,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def similar(
    library: LibraryDep,
    user: UserIdDep,
    episode_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    t: Annotated[float, Query(ge=0, le=1e7, allow_inf_nan=False, description="Seconds into the episode")] = 0.0,
    podcast: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Day = None,
    until: Day = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SimilarResponse:
    """More like this moment: embedded windows of other moments nearest to the one heard at ``t``.
    404 for an unknown episode; 409 ``not_indexed`` when the episode has no semantic index yet."""
    library.episode(episode_id)  # NotFound → 404
    filters = SearchFilters(podcast, _utc(since), _utc(until), user)
    try:
        hits = Searcher(library).more_like(episode_id, t, filters, limit)
    except NotIndexed as exc:
        raise APIError(409, "not_indexed", str(exc)) from None
    return SimilarResponse(episode_id=episode_id, t=t, results=[_result(h) for h in hits])


def _result(hit) -> SearchResult:
    return SearchResult(
        kind=hit.kind, podcast_id=hit.podcast_id, podcast_title=hit.podcast_title, episode_id=hit.episode_id,
        episode_title=hit.episode_title, published=hit.published, start=hit.start, end=hit.end,
        snippet=[SpanOut(text=s.text, hit=s.hit) for s in hit.snippet], score=hit.score, found_by=hit.found_by,
    )

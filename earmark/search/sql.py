"""SQL shared by keyword and semantic search: filters and turning rows into hits."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from earmark.search.records import SearchFilters, SearchHit, Span


def date_clauses(filters: SearchFilters, published: str) -> tuple[list[str], list]:
    """The clauses (and their parameters) that keep episodes ``published`` in the filters' dates."""
    where, params = [], []
    if filters.since is not None:
        where.append(f"{published} >= ?")
        params.append(filters.since.timestamp())
    if filters.until is not None:
        where.append(f"{published} < ?")
        params.append(filters.until.timestamp())
    return where, params


def filter_sql(filters: SearchFilters, *, docs: str) -> tuple[str, list]:
    """``AND …`` clauses over ``docs`` (search_docs or search_windows) and ``e`` (episodes)."""
    where, params = [], []
    if filters.podcast_id is not None:
        where.append(f"{docs}.podcast_id = ?")
        params.append(filters.podcast_id)
    dates, values = date_clauses(filters, "e.published")
    where += dates
    params += values
    if filters.user_id is not None:
        where.append(f"{docs}.podcast_id IN (SELECT podcast_id FROM user_podcasts WHERE user_id = ?)")
        params.append(filters.user_id)
        if docs == "d":  # search_docs: another user's snips are not yours to find
            where.append("(d.kind != 'snip' OR d.ref IN (SELECT id FROM snips WHERE user_id = ?))")
            params.append(filters.user_id)
    return "".join(f" AND {w}" for w in where), params


def hit_from_row(row: sqlite3.Row, snippet: list[Span], score: float, found_by: str) -> SearchHit:
    keys = row.keys()
    published = row["published"]
    return SearchHit(
        kind=row["kind"],
        podcast_id=row["podcast_id"],
        podcast_title=row["podcast_title"],
        episode_id=row["episode_id"],
        episode_title=row["episode_title"],
        published=datetime.fromtimestamp(published, UTC) if published is not None else None,
        start=row["start"],
        end=row["end"] if "end" in keys else None,
        snippet=snippet,
        score=score,
        found_by=[found_by],
    )

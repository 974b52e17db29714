"""Keyword search over the FTS5 index (porter stemming over unicode61 with diacritics folded).

The user's text is tried as an FTS5 query first, so phrases ("…"), prefixes (vort*), AND/OR/NOT
and NEAR work; if FTS5 rejects it, each word is quoted instead, so malformed input still searches."""

from __future__ import annotations

import re
import sqlite3

from earmark.errors import EarmarkError
from earmark.search.records import SearchFilters, SearchHit, Span
from earmark.search.sql import filter_sql, hit_from_row

# Control characters cannot appear in stored text (stripped on indexing), so they mark hits
# unambiguously; the snippet is then split into structured spans.
OPEN, CLOSE = "\x02", "\x03"
_TERM = re.compile(r"\w+\*?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


class SearchQueryError(EarmarkError):
    """The query holds nothing searchable (e.g. only punctuation)."""


def clean_text(text: str) -> str:
    return _CONTROL.sub(" ", text)


def fallback_query(raw: str) -> str:
    """Each word quoted (a trailing * kept as a prefix search); raises when there is no word."""
    terms = []
    for term in _TERM.findall(raw):
        word, star = (term[:-1], "*") if term.endswith("*") else (term, "")
        terms.append(f'"{word}"{star}')
    if not terms:
        raise SearchQueryError(f"nothing to search for in {raw!r}: type some words")
    return " ".join(terms)


# bm25 is computed for every match before the top ones are picked: a word heard 500,000 times
# would take seconds. Only the newest (highest rowid) this many matches are ranked: FTS5 walks the
# match in descending rowid order and stops there, in the same pass that scores them (a separate
# "where is the cut-off" query read long match lists twice). At 1,000 h on 2 busy cores: p95
# 55.6 ms with 5,000 and two passes; 5.0 ms with 2,000 and one pass (bench/bench_search.py).
MAX_RANKED = 2000


def _ranked(conn: sqlite3.Connection, match: str, filters: SearchFilters, limit: int) -> list[sqlite3.Row]:
    where, params = filter_sql(filters, docs="d")
    newest = (
        "SELECT rowid AS id, bm25(search_fts) AS score FROM search_fts WHERE search_fts MATCH ?"
        " ORDER BY rowid DESC LIMIT ?"
    )
    if where:
        sql = (
            f"SELECT m.id, m.score FROM ({newest}) m JOIN search_docs d ON d.id = m.id"
            f" LEFT JOIN episodes e ON e.id = d.episode_id WHERE 1 {where} ORDER BY m.score LIMIT ?"
        )
    else:
        sql = f"SELECT id, score FROM ({newest}) ORDER BY score LIMIT ?"
    return conn.execute(sql, (match, MAX_RANKED, *params, limit)).fetchall()


def search_keyword(
    conn: sqlite3.Connection, query: str, filters: SearchFilters | None = None, limit: int = 20
) -> list[SearchHit]:
    filters = filters or SearchFilters()
    query = clean_text(query).strip()
    if not query:
        raise SearchQueryError("empty query: type some words")
    try:
        match = query
        ranked = _ranked(conn, match, filters, limit)
    except sqlite3.OperationalError:  # fts5 syntax error, unknown column "x:", lone "*" …
        match = fallback_query(query)
        try:
            ranked = _ranked(conn, match, filters, limit)
        except sqlite3.OperationalError as exc:
            raise SearchQueryError(f"cannot search for {query!r}: {exc}") from None
    if not ranked:
        return []
    scores = {row["id"]: -row["score"] for row in ranked}  # bm25 is lower-is-better
    marks = ",".join("?" * len(scores))
    rows = conn.execute(
        "SELECT d.*, p.title AS podcast_title, e.title AS episode_title, e.published,"
        f" snippet(search_fts, 0, '{OPEN}', '{CLOSE}', '…', 24) AS snip"
        " FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid JOIN podcasts p ON p.id = d.podcast_id"
        f" LEFT JOIN episodes e ON e.id = d.episode_id WHERE search_fts MATCH ? AND search_fts.rowid IN ({marks})",
        (match, *scores),
    ).fetchall()
    hits = [hit_from_row(row, spans(row["snip"]), scores[row["id"]], "keyword") for row in rows]
    hits.sort(key=lambda h: -h.score)
    return hits


def spans(marked: str) -> list[Span]:
    out: list[Span] = []
    for n, part in enumerate(re.split(f"[{OPEN}{CLOSE}]", marked)):
        if part:
            out.append(Span(part, hit=n % 2 == 1))
    return out

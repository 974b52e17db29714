"""Typed search results, shared by the CLI, the JSON API and the web page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KEYWORD, SEMANTIC, COMBINED = "keyword", "semantic", "combined"
MODES = (KEYWORD, SEMANTIC, COMBINED)


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a snippet; ``hit`` pieces matched the query. Structured rather than HTML so
    every caller escapes the text its own way."""

    text: str
    hit: bool = False


@dataclass(slots=True)
class SearchFilters:
    podcast_id: int | None = None
    since: datetime | None = None  # episode published at or after (UTC)
    until: datetime | None = None  # episode published before
    user_id: int | None = None  # only podcasts this user follows, and only their snips


@dataclass(slots=True)
class SearchHit:
    kind: str  # segment / title / notes / chapter / podcast / podcast_notes / summary / snip / window (semantic)
    podcast_id: int
    podcast_title: str
    episode_id: int | None  # None for a podcast's own title or description
    episode_title: str | None
    published: datetime | None
    start: float | None  # seconds into the episode; None when the text is not heard at a moment
    end: float | None
    snippet: list[Span]
    score: float  # higher is better (within one result list)
    found_by: list[str] = field(default_factory=list)  # keyword / semantic

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.snippet)

    def marked(self, open: str = "[", close: str = "]") -> str:
        """The snippet with hits wrapped in ``open``/``close`` (CLI output)."""
        return "".join(f"{open}{s.text}{close}" if s.hit else s.text for s in self.snippet)


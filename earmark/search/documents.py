"""What keyword search finds besides transcripts, each kind of document defined once.

A :class:`Source` says which rows of which table make documents of a kind, and how each row's
columns become a ``search_docs`` row (kind, podcast_id, episode_id, ref, start, text): expressions
over the row ``r``, its episode ``e`` (tables keyed by episode) and, for a JSON array column, each
element ``j``. ``search/index.py`` rebuilds the index from these (:func:`insert`); a migration that
adds a kind writes its triggers from its Source, with ``{r}`` as ``new``. The triggers of the
released migrations (4: feed metadata, 7: summaries and snips) are frozen text;
tests/search/test_documents.py checks that they and these definitions make the same documents.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    kind: str
    table: str
    podcast: str
    text: str
    where: str
    episode: str = "NULL"
    ref: str = "NULL"
    start: str = "NULL"
    each: str | None = None  # a JSON array column: one document per element (j.value)

    @property
    def by_episode(self) -> bool:
        """The row's podcast comes from its episode (``e``): summaries, snips."""
        return self.podcast.startswith("e.")


def _feed(kind: str, table: str, column: str, podcast: str, episode: str = "NULL") -> Source:
    return Source(kind, table, podcast, f"{{r}}.{column}", f"{{r}}.{column} != ''", episode)


def _texts(kind: str, table: str, ref: str, start: str, column: str, *, array: bool = False) -> Source:
    """Text a listener or the AI wrote (blank is skipped); ``array``: each string of a JSON list."""
    if array:
        return Source(kind, table, "e.podcast_id", "j.value", "j.type = 'text' AND trim(j.value) != ''", "e.id", ref,
                      start, f"{{r}}.{column}")
    return Source(kind, table, "e.podcast_id", f"{{r}}.{column}", f"trim({{r}}.{column}) != ''", "e.id", ref, start)


DOCUMENTS: tuple[Source, ...] = (
    _feed("podcast", "podcasts", "title", "{r}.id"),
    _feed("podcast_notes", "podcasts", "description", "{r}.id"),
    _feed("title", "episodes", "title", "{r}.podcast_id", "{r}.id"),
    _feed("notes", "episodes", "description", "{r}.podcast_id", "{r}.id"),
    Source("chapter", "episodes", "{r}.podcast_id", "json_extract(j.value, '$.title')",
           "coalesce(json_extract(j.value, '$.title'), '') != ''", "{r}.id",
           start="json_extract(j.value, '$.start')", each="{r}.chapters"),
    _texts("summary", "summaries", "NULL", "0", "paragraphs", array=True),
    _texts("summary", "summaries", "NULL", "0", "takeaways", array=True),
    _texts("snip", "snips", "{r}.id", "{r}.start", "title"),
    _texts("snip", "snips", "{r}.id", "{r}.start", "takeaways", array=True),
    _texts("snip", "snips", "{r}.id", "{r}.start", "note"),
)


def insert(source: Source) -> str:
    """The INSERT that makes ``source``'s documents from every row of its table (a rebuild)."""
    sources, where = [f"{source.table} r"], [source.where]
    if source.by_episode:
        sources.append("episodes e")
        where.insert(0, "e.id = {r}.episode_id")
    if source.each:
        sources.append(f"json_each(CASE WHEN json_valid({source.each}) THEN {source.each} ELSE '[]' END) AS j")
    values = ", ".join((source.podcast, source.episode, source.ref, source.start, source.text))
    sql = (f"INSERT INTO search_docs (kind, podcast_id, episode_id, ref, start, text) SELECT '{source.kind}', {values}"
           f" FROM {', '.join(sources)} WHERE {' AND '.join(where)}")
    return sql.replace("{r}", "r")

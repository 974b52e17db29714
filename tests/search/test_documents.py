"""The searchable documents are defined once (earmark/search/documents.py): rebuilding the index
from those definitions gives exactly the documents the released migrations' triggers keep."""

from __future__ import annotations

from earmark.models import Chapter, Episode, ParsedFeed, Podcast, Snip, Summary
from earmark.search.documents import DOCUMENTS
from earmark.search.index import reindex_all
from earmark.store.snips import SnipStore
from earmark.store.understanding import UnderstandingStore


def _docs(library) -> list[tuple]:
    rows = library.conn.execute("SELECT kind, podcast_id, episode_id, ref, start, text FROM search_docs")
    return sorted((tuple(row) for row in rows), key=repr)


def test_a_rebuild_makes_the_documents_the_triggers_keep(library):
    shows = []
    for n, (title, notes) in enumerate([("Deep Sea Radio", "Whales and <b>vents</b>"), ("Untitled notes", "")]):
        url = f"http://feeds.test/{n}"
        podcast, _ = library.add_podcast(url)
        episodes = [
            Episode(guid=f"{n}-a", title="Anglerfish lights", description="Bioluminescence explained",
                    chapters=[Chapter(0.0, "Intro"), Chapter(61.5, "The lure"), Chapter(90.0, "")]),
            Episode(guid=f"{n}-b", title="", description=""),
        ]
        library.save_feed(podcast.id, ParsedFeed(Podcast(url, title=title, description=notes), episodes), url=url,
                          etag=None, last_modified=None, content_hash=None)
        shows.append([e.id for e in library.episodes(podcast.id)])
    first, second = shows[0]
    summary = Summary(["Vents feed whole ecosystems.", "  "], ["Light lures prey.", ""])
    UnderstandingStore(library).save_summary(first, summary)
    snips = SnipStore(library)
    snips.create(Snip(episode_id=first, tapped_at=62.0, start=61.5, end=80.0, title="The lure", takeaways=["Glow", " "],
                      note="ask about squid"))
    made = snips.create(Snip(episode_id=second, tapped_at=5.0, start=4.0, end=9.0, note="   "))
    snips.set_card(made.id, state="ready", title="Quiet", takeaways=["Silence is rare"])

    kept = _docs(library)
    assert {doc[0] for doc in kept} == {source.kind for source in DOCUMENTS}  # every kind is exercised
    reindex_all(library, None)
    assert _docs(library) == kept

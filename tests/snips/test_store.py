import pytest

from earmark.errors import NotFound
from earmark.models import Episode, ParsedFeed, Podcast, Snip
from earmark.store.snips import SnipFilter, SnipStore


@pytest.fixture
def episodes(library):
    ids = []
    for n in range(2):
        podcast, _ = library.add_podcast(f"http://127.0.0.1:1/{n}.rss")
        feed = ParsedFeed(Podcast(url=podcast.url, title=f"Show {n}"), [Episode(guid="g", title=f"Ep {n}")])
        library.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
        ids.append(library.episodes(podcast.id)[0])
    return ids


def test_create_edit_and_card_never_overwrites_edits(library, episodes):
    store = SnipStore(library)
    snip = store.create(Snip(episode_id=episodes[0].id, tapped_at=75.0, start=50.0, end=78.5))
    assert snip.id and snip.state == "pending" and snip.end == 78.5
    store.update(snip.id, title="My title", tags=["ideas"])
    card = store.set_card(snip.id, state="ready", title="AI title", takeaways=["one", "two"], quote="q")
    assert card.title == "My title" and card.takeaways == ["one", "two"] and card.state == "ready"
    assert card.edited == ["tags", "title"]
    with pytest.raises(ValueError):
        store.update(snip.id, state="ready")


def test_list_filters_newest_first(library, episodes):
    store = SnipStore(library)
    a = store.create(Snip(episode_id=episodes[0].id, tapped_at=1, start=0, end=1, tags=["x"]))
    b = store.create(Snip(episode_id=episodes[1].id, tapped_at=2, start=1, end=2, favorite=True))
    assert [s.id for s in store.list()] == [b.id, a.id]
    assert [s.id for s in store.list(SnipFilter(podcast_id=episodes[0].podcast_id))] == [a.id]
    assert [s.id for s in store.list(SnipFilter(tag="x"))] == [a.id]
    assert [s.id for s in store.list(SnipFilter(favorite=True))] == [b.id]


def test_delete_and_unknown(library, episodes):
    store = SnipStore(library)
    snip = store.create(Snip(episode_id=episodes[0].id, tapped_at=1, start=0, end=1))
    store.delete(snip.id)
    with pytest.raises(NotFound):
        store.get(snip.id)
    with pytest.raises(NotFound):
        store.create(Snip(episode_id=999, tapped_at=1, start=0, end=1))
    library.remove_podcast(episodes[1].podcast_id)  # cascades
    assert store.list() == []

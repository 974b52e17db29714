import asyncio

import pytest

from earmark.config import Settings
from earmark.errors import ConfigError
from earmark.feeds.refresh import refresh_many
from earmark.jobs.auto import queue_new_episodes
from earmark.models import PRIORITY_BACKGROUND
from earmark.store.jobs import JobStore
from tests.feedmaker import rss


def subscribed(library, settings, server, path, items):
    server.add(path, rss(path, items))
    podcast, _ = library.add_podcast(server.url(path))
    asyncio.run(refresh_many(library, settings, [podcast.id]))
    return podcast.id


def test_new_episodes_of_chosen_podcasts_are_queued_in_background(library, settings, server):
    a = subscribed(library, settings, server, "/a.rss", [("a1", "A1")])
    b = subscribed(library, settings, server, "/b.rss", [("b1", "B1")])
    server.add("/a.rss", rss("/a.rss", [("a3", "A3"), ("a2", "A2"), ("a1", "A1")]))
    server.add("/b.rss", rss("/b.rss", [("b2", "B2"), ("b1", "B1")]))
    results = asyncio.run(refresh_many(library, settings))

    assert queue_new_episodes(library, settings, results) == []  # default: nothing automatic
    chosen = Settings.load(settings.home, auto_process="new", auto_process_podcasts=str(a))
    jobs = queue_new_episodes(library, chosen, results)
    titles = sorted(library.episode(job.episode_id).title for job in jobs)
    assert titles == ["A2", "A3"] and all(job.priority == PRIORITY_BACKGROUND for job in jobs)
    assert {j.episode_id for j in JobStore(library).list()} == {j.episode_id for j in jobs}
    assert b not in {library.episode(j.episode_id).podcast_id for j in jobs}


def test_first_load_is_not_new(library, settings, server):
    server.add("/c.rss", rss("/c.rss", [("c2", "C2"), ("c1", "C1")]))
    podcast, _ = library.add_podcast(server.url("/c.rss"))
    results = asyncio.run(refresh_many(library, settings, [podcast.id]))
    assert results[0].new_episodes == 2
    assert queue_new_episodes(library, Settings.load(settings.home, auto_process="new"), results) == []


@pytest.mark.parametrize("values", [{"auto_process": "always"}, {"auto_process": "new", "auto_process_podcasts": "x,1"}])
def test_bad_settings_are_clear_errors(library, settings, values):
    with pytest.raises(ConfigError):
        queue_new_episodes(library, Settings.load(settings.home, **values), [])

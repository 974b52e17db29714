"""A podcast page shows one page of episodes, newest first, with links to older and newer ones:
a show with thousands of episodes never renders them all at once."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from earmark.models import Episode, ParsedFeed, Podcast
from earmark.web.pages import EPISODE_PAGE_LIMIT

TOTAL = 2 * EPISODE_PAGE_LIMIT + 7


@pytest.fixture
def big_show(lib):
    podcast, _ = lib.add_podcast("http://127.0.0.1:1/big.rss")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    episodes = [
        Episode(guid=f"g{n}", title=f"Episode {n}", published=start + timedelta(days=n),
                enclosure_url=f"https://cdn.example.org/{n}.mp3")
        for n in range(TOTAL)
    ]
    lib.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title="Big"), episodes),
                  url=podcast.url, etag=None, last_modified=None, content_hash=None)
    return podcast.id


def titles(html: str) -> list[str]:
    return re.findall(r'class="episode-link" href="/episodes/\d+">([^<]+)</a>', html)


def pager(html: str) -> dict[str, str]:
    return {rel: href for href, rel in re.findall(r'<a href="([^"]+)" rel="(prev|next)">', html)}


def test_first_page_is_the_newest_with_a_link_to_older(client, big_show):
    html = client.get(f"/podcasts/{big_show}").text
    assert titles(html) == [f"Episode {n}" for n in range(TOTAL - 1, TOTAL - 1 - EPISODE_PAGE_LIMIT, -1)]
    assert f"Episodes 1–{EPISODE_PAGE_LIMIT} of {TOTAL}, newest first." in html
    assert pager(html) == {"next": f"/podcasts/{big_show}?page=2"}


def test_following_the_links_shows_every_episode_once(client, big_show):
    seen, path, pages = [], f"/podcasts/{big_show}", 0
    while path:
        html = client.get(path).text
        seen += titles(html)
        pages += 1
        path = pager(html).get("next")
    assert pages == 3 and seen == [f"Episode {n}" for n in range(TOTAL - 1, -1, -1)]

    last = client.get(f"/podcasts/{big_show}?page=3").text
    assert len(titles(last)) == 7 and f"Episodes {2 * EPISODE_PAGE_LIMIT + 1}–{TOTAL} of {TOTAL}" in last
    assert pager(last) == {"prev": f"/podcasts/{big_show}?page=2"}


@pytest.mark.parametrize("page", ["0", "-1", "x", "999999999"])
def test_a_page_that_is_not_a_number_is_the_first(client, big_show, page):
    html = client.get(f"/podcasts/{big_show}?page={page}").text
    assert titles(html)[0] == f"Episode {TOTAL - 1}"


def test_a_page_past_the_end_is_empty_and_links_back_to_the_last(client, big_show):
    response = client.get(f"/podcasts/{big_show}?page=40")
    assert response.status_code == 200 and titles(response.text) == []
    assert "No episodes on this page." in response.text
    assert pager(response.text) == {"prev": f"/podcasts/{big_show}?page=3"}


def test_a_small_show_has_no_pager(client, show):
    html = client.get(f"/podcasts/{show['podcast']}").text
    assert len(titles(html)) == 3 and pager(html) == {} and 'class="pager"' not in html


def test_library_page_counts_every_episode_not_one_page(client, big_show, lib):
    [newest] = lib.episodes(big_show, limit=1)
    client.post(f"/api/v1/episodes/{newest.id}/played")
    html = client.get("/").text
    assert f'<span class="unplayed">{TOTAL - 1}</span> unplayed · {TOTAL} episodes' in html

"""Discover in real headless Chromium: search as you type → preview → subscribe → the show is in
the library. The directories are the stub on 127.0.0.1 (tests/directory/stub.py); the show's feed
and artwork come from tests/loopback.py."""

from __future__ import annotations

import httpx
import pytest

from earmark.config import Settings
from earmark.web.app import create_app
from tests.ai.fakes import valid_answer
from tests.directory.conftest import KEY, SECRET
from tests.directory.stub import DirectoryStub, Show
from tests.directory.test_api import _png
from tests.feedmaker import rss
from tests.web.conftest import serving

pytestmark = pytest.mark.browser

EVIL = '<img src=x onerror="window.__xss=1">Evil Loop'


@pytest.fixture
def directory(server):
    server.add("/show.rss", rss("Loopback Bridges", [(f"g{n}", f"Bridge episode {n}") for n in range(12, 0, -1)]))
    server.add("/art.png", _png(), content_type="image/png")
    stub = DirectoryStub([
        Show("Loopback Bridges", server.url("/show.rss"), author="Ann Engineer", itunes_id=501, pi_id=601,
             artwork=server.url("/art.png"), artwork_small=None, episodes=12),
        Show(EVIL, server.url("/evil.rss"), itunes_id=502, in_pi=False, artwork="javascript:alert(1)", artwork_small=None),
    ])
    yield stub
    stub.close()


@pytest.fixture
def live(tmp_path, monkeypatch, directory, fake_llm):
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    fake_llm.reset(default=valid_answer)
    settings = Settings.load(
        http_timeout=5.0, llm_engine="fake", semantic_index=False, directory_timeout=3.0,
        itunes_base_url=directory.base, podcastindex_base_url=directory.pi_base,
        podcastindex_key=KEY, podcastindex_secret=SECRET,
    )
    with serving(create_app(settings)) as url:
        yield url


def test_discover_search_preview_subscribe(live, directory, server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live) else None)

    page.goto(live + "/")
    page.click("nav a[href='/discover']")
    page.wait_for_selector("#discover-results .discover-show")  # popular shows on arrival
    assert page.locator("#discover-categories [aria-pressed=true]").inner_text() == "Popular"

    # Search as you type: one request for the words typed, not one per key.
    before = len(directory.requests_to("/search"))
    page.locator("#discover-q").press_sequentially("loop", delay=40)
    page.wait_for_selector("#discover-status:has-text('2 shows')")
    page.wait_for_function("document.querySelectorAll('#discover-results .discover-show').length === 2")
    terms = [q["term"][0] for q, _ in directory.requests_to("/search")[before:]]
    assert terms[-1] == "loop" and len(terms) < 4, terms  # debounced: not one search per key (one, unless the machine stalls)
    assert page.url == live + "/discover?q=loop"

    cards = page.locator("#discover-results .discover-show")
    assert cards.count() == 2
    first = cards.nth(0)
    assert first.locator(".show-title").inner_text() == "Loopback Bridges"
    assert first.locator(".show-author").inner_text() == "Ann Engineer"
    assert "12 episodes" in first.locator(".show-facts").inner_text()
    # Directory text is text: the hostile title is shown as typed and never runs.
    assert cards.nth(1).locator(".show-title").inner_text() == EVIL
    assert cards.nth(1).locator("img").count() == 0  # its javascript: artwork is no image at all
    assert page.evaluate("window.__xss") is None
    # Artwork comes from this server, loaded.
    img = first.locator("img.art")
    assert img.get_attribute("src").startswith("/artwork/directory?src=")
    page.wait_for_function("document.querySelector('.discover-show img.art').naturalWidth > 0")
    assert server.requests_to("/art.png")  # fetched by Earmark, not by the page
    assert outside == []

    # Preview: the feed's latest episodes, before subscribing.
    first.locator("[data-preview]").click()
    page.wait_for_selector("#discover-preview .preview-episode")
    preview = page.locator("#discover-preview")
    assert preview.locator(".preview-title").inner_text() == "Loopback Bridges"
    assert preview.locator(".preview-episode").count() == 10
    assert preview.locator(".preview-episode strong").first.inner_text() == "Bridge episode 12"
    assert httpx.get(f"{live}/api/v1/podcasts").json() == []  # a preview subscribes to nothing

    # Subscribe in one click (from the preview): both buttons become a link to the show.
    preview.locator("[data-subscribe]").click()
    page.wait_for_selector("#discover-preview a.subscribed")
    page.wait_for_selector(".discover-show a.subscribed")
    [podcast] = httpx.get(f"{live}/api/v1/podcasts").json()
    assert podcast["title"] == "Loopback Bridges" and podcast["url"] == server.url("/show.rss")
    assert podcast["episode_count"] == 12

    # The show is in the library.
    page.click("#discover-preview a.subscribed")
    page.wait_for_selector("#main[data-page=podcast]")
    page.click("nav a[href='/']")
    page.wait_for_selector(".show-title:has-text('Loopback Bridges')")

    # Searching again marks it subscribed.
    page.click("nav a[href='/discover']")
    page.fill("#discover-q", "loopback")
    page.wait_for_selector(".discover-show a.subscribed")
    assert errors == []
    context.close()


def test_discover_says_when_the_directories_are_down(live, directory, browser):
    directory.fail("/search", 503)
    directory.fail("/api/1.0/search/byterm", 429)
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.goto(live + "/discover?q=bridges")
    page.wait_for_selector("#discover-status.error")
    text = page.locator("#discover-status").inner_text()
    assert text.startswith("Directories unavailable: no directory could answer")
    assert "HTTP 503" in text and "HTTP 429" in text
    # One directory back: its results, and a note about the other.
    del directory.failures["/search"]
    page.fill("#discover-q", "loop")
    page.wait_for_selector(".discover-show")
    assert "Podcast Index is limiting requests" in page.locator("#discover-sources li.error").inner_text()
    page.context.close()


def test_discover_previews_a_feed_address_no_directory_lists(live, directory, server, browser):
    server.add("/unlisted.rss", rss("Unlisted Show", [("u1", "Only episode")]))
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.goto(live + "/discover")
    page.fill("#discover-q", server.url("/unlisted.rss"))
    page.wait_for_selector("#discover-status:has-text('No directory lists this address')")
    page.click(".discover-show [data-preview]")
    page.wait_for_selector("#discover-preview .preview-title:has-text('Unlisted Show')")
    page.click("#discover-preview [data-subscribe]")
    page.wait_for_selector("#discover-preview a.subscribed")
    assert [p["title"] for p in httpx.get(f"{live}/api/v1/podcasts").json()] == ["Unlisted Show"]
    page.context.close()

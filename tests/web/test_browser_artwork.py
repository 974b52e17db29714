"""Artwork in real headless Chromium: every image on the pages and in the player comes from this
server's /artwork route and loads; the page never asks the publisher's artwork host for anything."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.loopback import LoopbackServer
from tests.web.media import feed, tone_wav
from tests.web.test_browser import live  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def png(colour, size=(700, 700)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def with_image(body: bytes, image: str | None) -> bytes:
    if image is None:
        return body
    return body.replace(b"<itunes:author>", f'<itunes:image href="{image}"/><itunes:author>'.encode(), 1)


@pytest.fixture
def publisher():
    """The publisher's artwork host: its own server, so the page's requests to it can be told apart."""
    srv = LoopbackServer()
    yield srv
    srv.close()


IMAGES_LOADED = """() => [...document.querySelectorAll('img')].filter((i) => !i.hidden)
    .map((i) => ({src: i.currentSrc, ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth}))"""

CENTRE_COLOUR = """(i) => { const c = document.createElement('canvas');
    c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0);
    return [...g.getImageData(c.width / 2, c.height / 2, 1, 1).data].slice(0, 3); }"""


def test_pages_and_player_show_local_artwork_only(live, server, publisher, browser):  # noqa: F811
    publisher.add("/red.png", png((220, 20, 30)), content_type="image/png")
    server.add("/ep1.wav", tone_wav(), content_type="audio/wav")
    shows = {"/red.rss": ("Red Show", publisher.url("/red.png")),
             "/none.rss": ("Plain Show", None),
             "/gone.rss": ("Gone Show", publisher.url("/gone.png"))}  # a 404: the placeholder
    for path, (title, image) in shows.items():
        server.add(path, with_image(feed(server.base, title=title, transcript=False), image))
        assert httpx.post(f"{live}/api/v1/podcasts", json={"url": server.url(path)}).status_code == 201

    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # wait_for_function evaluates strings
    page = context.new_page()
    page.set_default_timeout(10_000)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(live + "/")
    page.wait_for_selector(".show-title:has-text('Gone Show')")
    page.wait_for_function("[...document.querySelectorAll('img.art')].every((i) => i.complete)")
    images = page.evaluate(IMAGES_LOADED)
    assert len(images) == 3
    for image in images:
        assert image["ok"], image
        assert image["src"].startswith(live + "/artwork/podcast/"), image
        assert image["w"] == 96  # one device pixel per CSS pixel: the 96 px size, not the 300 px one
    red = page.locator(".show:has-text('Red Show') img.art").evaluate(CENTRE_COLOUR)  # same origin: readable
    assert all(abs(a - b) < 16 for a, b in zip(red, (220, 20, 30))), red

    # the show page and its episode: the big artwork; playing puts it in the player and the Media Session
    page.click(".show-link:has-text('Red Show')")
    page.wait_for_selector(".hero img.art-big")
    page.click(".episode-link:has-text('Sine waves and you')")
    page.wait_for_selector("#episode")
    page.click("button.primary[data-play]")
    page.wait_for_function("document.getElementById('player-art').complete && !document.getElementById('player-art').hidden"
                           " && document.getElementById('player-art').naturalWidth > 0")
    images = page.evaluate(IMAGES_LOADED)
    assert all(image["ok"] and "/artwork/" in image["src"] for image in images), images
    assert page.evaluate("document.getElementById('player-art').naturalWidth") == 96
    session = page.evaluate("navigator.mediaSession.metadata ? navigator.mediaSession.metadata.artwork.map((a) => a.src) : []")
    assert session and all(src.startswith(live + "/artwork/episode/") for src in session), session

    assert not [url for url in requests if url.startswith(publisher.base)]
    assert all(url.startswith((live, server.base, "data:")) for url in requests), requests
    assert len(publisher.requests_to("/red.png")) == 1  # Earmark fetched it once, for every size
    assert len(publisher.requests_to("/gone.png")) == 1
    assert not errors
    context.close()

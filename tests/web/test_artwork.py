"""Artwork: fetched once from a real server on 127.0.0.1, cached, served resized with an ETag, a
drawn placeholder for anything that cannot be had (never a 500), and only the local route in pages."""

from __future__ import annotations

import io
import socket
import struct
import threading
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageStat

from earmark import artwork
from earmark.models import Episode, ParsedFeed, Podcast
from earmark.web.app import create_app

RED = (220, 20, 30)
BLUE = (20, 40, 230)
WEBP = {"Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"}  # what Chromium sends for <img>
JPEG = {"Accept": "image/jpeg,image/*;q=0.8"}


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def solid(colour, size=(400, 400), fmt="PNG") -> bytes:
    return encode(Image.new("RGB", size, colour), fmt)


def near(pixel, colour, tolerance=14) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def opened(response) -> Image.Image:
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/art.png"


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels (10 gigapixels): it must never be
    decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


def subscribe(lib, title="Science Everyday", image=None, episode_image=None, url="http://127.0.0.1:1/show.rss"):
    podcast = lib.podcast_by_url(url) or lib.add_podcast(url)[0]
    episodes = [Episode(guid="g1", title="One", enclosure_url="https://cdn.example.org/1.mp3", image=episode_image)]
    lib.save_feed(podcast.id, ParsedFeed(Podcast(url=url, title=title, image=image), episodes),
                  url=url, etag=None, last_modified=None, content_hash=None)
    return podcast.id, lib.episodes(podcast.id)[0].id


def is_placeholder(response, title) -> bool:
    return response.content == artwork.placeholder(title, artwork.nearest_size(
        int(response.request.url.params.get("size", 300))), webp=response.headers["content-type"] == "image/webp").data


# -- fetching and serving ------------------------------------------------------------------------


def test_fetched_once_and_served_at_each_size(client, lib, server):
    server.add("/art.jpg", solid(RED, (1400, 1400), "JPEG"), content_type="image/jpeg")
    podcast_id, _ = subscribe(lib, image=server.url("/art.jpg"))
    for size in (96, 300, 600):
        for headers, fmt in ((WEBP, "WEBP"), (JPEG, "JPEG")):
            response = client.get(f"/artwork/podcast/{podcast_id}?size={size}", headers=headers)
            assert response.status_code == 200
            assert response.headers["content-type"] == f"image/{fmt.lower()}"
            assert response.headers["vary"] == "Accept"
            image = opened(response)
            assert (image.format, image.size) == (fmt, (size, size))
            assert near(image.convert("RGB").getpixel((size // 2, size // 2)), RED)
    assert len(server.requests_to("/art.jpg")) == 1  # fetched once, whatever the sizes and formats
    # other sizes snap to the nearest served one; no size means 300
    assert opened(client.get(f"/artwork/podcast/{podcast_id}?size=200")).size == (300, 300)
    assert opened(client.get(f"/artwork/podcast/{podcast_id}?size=5000")).size == (600, 600)
    assert opened(client.get(f"/artwork/podcast/{podcast_id}?size=abc")).size == (300, 300)
    assert opened(client.get(f"/artwork/podcast/{podcast_id}")).size == (300, 300)
    assert len(server.requests_to("/art.jpg")) == 1


def test_etag_and_304_and_cache_control(client, lib, server):
    server.add("/art.png", solid(RED), content_type="image/png")
    podcast_id, _ = subscribe(lib, image=server.url("/art.png"))
    versioned = f"/artwork/podcast/{podcast_id}?size=96&v={artwork.source_hash(server.url('/art.png'))[:12]}"
    first = client.get(versioned, headers=WEBP)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "private, max-age=31536000, immutable"
    again = client.get(versioned, headers={**WEBP, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(versioned, headers={**WEBP, "If-None-Match": f'"other", W/{etag}'}).status_code == 304
    # JPEG and another size are other representations: other tags
    assert client.get(versioned, headers={**JPEG, "If-None-Match": etag}).status_code == 200
    assert client.get(versioned.replace("96", "300"), headers={**WEBP, "If-None-Match": etag}).status_code == 200
    # without the version (the player's own links) the image may change under the URL: cached briefly
    assert client.get(f"/artwork/podcast/{podcast_id}?size=96").headers["cache-control"] == "private, max-age=3600"


def test_concurrent_first_requests_fetch_once(client, lib, server):
    server.add("/slow.png", solid(RED), content_type="image/png", delay=0.5)
    podcast_id, _ = subscribe(lib, image=server.url("/slow.png"))
    results: list[int] = []

    def ask(size):
        results.append(client.get(f"/artwork/podcast/{podcast_id}?size={size}").status_code)

    threads = [threading.Thread(target=ask, args=(size,)) for size in (96, 300, 600, 96, 300, 600)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == [200] * 6
    assert len(server.requests_to("/slow.png")) == 1


def test_a_changed_artwork_address_is_fetched_anew(client, lib, server):
    server.add("/red.png", solid(RED), content_type="image/png")
    server.add("/blue.png", solid(BLUE), content_type="image/png")
    podcast_id, _ = subscribe(lib, image=server.url("/red.png"))
    assert near(opened(client.get(f"/artwork/podcast/{podcast_id}?size=96")).convert("RGB").getpixel((48, 48)), RED)
    subscribe(lib, image=server.url("/blue.png"))  # the next refresh names another image
    library_page = client.get("/").text
    assert f"v={artwork.source_hash(server.url('/blue.png'))[:12]}" in library_page  # a new URL for the browser too
    assert near(opened(client.get(f"/artwork/podcast/{podcast_id}?size=96")).convert("RGB").getpixel((48, 48)), BLUE)
    assert len(server.requests_to("/red.png")) == 1 and len(server.requests_to("/blue.png")) == 1


def test_an_episode_has_its_own_artwork_else_its_shows(client, lib, server):
    server.add("/show.png", solid(RED), content_type="image/png")
    server.add("/ep.png", solid(BLUE), content_type="image/png")
    _, episode_id = subscribe(lib, image=server.url("/show.png"), episode_image=server.url("/ep.png"))
    assert near(opened(client.get(f"/artwork/episode/{episode_id}?size=96")).convert("RGB").getpixel((48, 48)), BLUE)
    _, episode_id = subscribe(lib, image=server.url("/show.png"), episode_image=None)
    assert near(opened(client.get(f"/artwork/episode/{episode_id}?size=96")).convert("RGB").getpixel((48, 48)), RED)
    # an episode image that cannot be had falls back to the show's, not to the placeholder
    _, episode_id = subscribe(lib, image=server.url("/show.png"), episode_image=server.url("/gone.png"))
    assert near(opened(client.get(f"/artwork/episode/{episode_id}?size=96")).convert("RGB").getpixel((48, 48)), RED)


# -- what cannot be had: the placeholder, never a 500, not asked again ------------------------------


@pytest.mark.parametrize("kind", ["404", "500", "dead", "not-an-image", "bomb", "truncated", "too-large"])
def test_artwork_that_cannot_be_had_gives_the_placeholder_and_is_not_asked_again(client, lib, server, kind):
    server.add("/500.png", b"oops", content_type="text/plain", status=500)
    server.add("/page.png", b"<!doctype html><title>Not found</title>", content_type="text/html")
    server.add("/bomb.png", bomb_png(), content_type="image/png")
    server.add("/cut.jpg", solid(RED, fmt="JPEG")[:300], content_type="image/jpeg")
    server.add("/huge.png", b"\x89PNG" + b"\0" * (artwork.MAX_BYTES + 10), content_type="image/png")
    url = {"404": server.url("/missing.png"), "500": server.url("/500.png"), "dead": dead_url(),
           "not-an-image": server.url("/page.png"), "bomb": server.url("/bomb.png"),
           "truncated": server.url("/cut.jpg"), "too-large": server.url("/huge.png")}[kind]
    podcast_id, episode_id = subscribe(lib, title="Deep Sea Radio", image=url)
    path = url.split(str(server.httpd.server_address[1]), 1)[-1]
    for route in (f"/artwork/podcast/{podcast_id}?size=300", f"/artwork/episode/{episode_id}?size=96"):
        for _ in range(3):
            response = client.get(route, headers=WEBP)
            assert response.status_code == 200
            assert is_placeholder(response, "Deep Sea Radio")
            assert response.headers["cache-control"] == "private, max-age=3600"  # may be replaced later
    if kind != "dead":
        assert len(server.requests_to(path)) == 1  # the failure is remembered
    assert artwork.recent_failure(client.app.state.settings, url)


def test_a_failure_is_tried_again_after_a_while(client, lib, server, monkeypatch):
    podcast_id, _ = subscribe(lib, image=server.url("/later.png"))
    assert is_placeholder(client.get(f"/artwork/podcast/{podcast_id}?size=96", headers=WEBP), "Science Everyday")
    server.add("/later.png", solid(RED), content_type="image/png")
    monkeypatch.setattr(artwork, "FAILURE_TTL", 0)
    image = opened(client.get(f"/artwork/podcast/{podcast_id}?size=96"))
    assert near(image.convert("RGB").getpixel((48, 48)), RED)
    assert len(server.requests_to("/later.png")) == 2


def test_the_outbound_policy_applies(tmp_path, server, monkeypatch):
    """Serving beyond loopback (block_private_hosts) the artwork of a feed on a private address is
    never fetched: the placeholder instead."""
    from earmark.config import Settings

    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    app = create_app(Settings.load(block_private_hosts=True))
    server.add("/art.png", solid(RED), content_type="image/png")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        podcast_id, _ = subscribe(app.state.library, title="Private", image=server.url("/art.png"))
        assert is_placeholder(c.get(f"/artwork/podcast/{podcast_id}?size=96", headers=WEBP), "Private")
    assert not server.requests_to("/art.png")


def test_no_artwork_and_unknown_ids(client, lib):
    podcast_id, episode_id = subscribe(lib, title="Deep Sea Radio", image=None)
    for route in (f"/artwork/podcast/{podcast_id}", f"/artwork/episode/{episode_id}"):
        response = client.get(route, headers=WEBP)
        assert response.status_code == 200 and is_placeholder(response, "Deep Sea Radio")
    for route in ("/artwork/podcast/999", "/artwork/episode/999"):
        response = client.get(route)
        assert response.status_code == 404 and response.headers["content-type"] == "image/jpeg"  # still an image
    assert client.get("/artwork/podcast/0").status_code == 422
    # a feed naming a file on this machine is not artwork
    podcast_id, _ = subscribe(lib, title="Deep Sea Radio", image=str(artwork.artwork_dir(client.app.state.settings)))
    assert is_placeholder(client.get(f"/artwork/podcast/{podcast_id}", headers=WEBP), "Deep Sea Radio")


# -- decoding ------------------------------------------------------------------------------------


def test_cmyk_alpha_and_palette_images_are_converted(client, lib, server):
    cmyk = Image.new("RGB", (300, 300), RED).convert("CMYK")
    server.add("/cmyk.jpg", encode(cmyk, "JPEG", quality=95), content_type="image/jpeg")
    rgba = Image.new("RGBA", (300, 300), (0, 0, 0, 0))  # transparent, with an opaque blue square in the middle
    rgba.paste((*BLUE, 255), (100, 100, 200, 200))
    server.add("/alpha.png", encode(rgba, "PNG"), content_type="image/png")
    server.add("/la.png", encode(Image.new("LA", (300, 300), (0, 0)), "PNG"), content_type="image/png")
    palette = Image.new("P", (300, 300), 0)
    palette.putpalette([*RED, *BLUE] + [0] * 762)
    server.add("/p.gif", encode(palette, "GIF", transparency=0), content_type="image/gif")
    server.add("/grey16.png", encode(Image.new("I;16", (300, 300), 40000), "PNG"), content_type="image/png")
    expected = {"/cmyk.jpg": [((150, 150), RED)],
                "/alpha.png": [((150, 150), BLUE), ((10, 10), artwork.FLATTEN_ON)],
                "/la.png": [((150, 150), artwork.FLATTEN_ON)],
                "/p.gif": [((150, 150), artwork.FLATTEN_ON)],  # colour 0 is the transparent one
                "/grey16.png": [((150, 150), (156, 156, 156))]}
    for path, checks in expected.items():
        podcast_id, _ = subscribe(lib, image=server.url(path), url=f"http://127.0.0.1:1{path}.rss")
        for headers in (WEBP, JPEG):
            image = opened(client.get(f"/artwork/podcast/{podcast_id}?size=300", headers=headers))
            assert image.mode == "RGB", path
            for xy, colour in checks:
                assert near(image.getpixel(xy), colour, 20), (path, headers, xy, image.getpixel(xy))


def test_decode_refuses_what_is_not_an_image_and_bombs_without_decoding():
    with pytest.raises(artwork.ArtworkError, match="not an image"):
        artwork.decode(b"<html></html>")
    with pytest.raises(artwork.ArtworkError, match="pixels"):
        artwork.decode(bomb_png())  # beyond even Pillow's own cap
    with pytest.raises(artwork.ArtworkError, match="at most 40,000,000"):
        artwork.decode(bomb_png(8000, 8000))  # under Pillow's cap, over ours: refused from the header
    with pytest.raises(artwork.ArtworkError, match="pixels"):
        artwork.decode(solid(RED, (200, 200)), max_pixels=100 * 100)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    with pytest.raises(artwork.ArtworkError):
        artwork.decode(svg)
    wide = artwork.square(Image.new("RGB", (900, 300), RED), 96)  # a banner is fitted whole, not cropped
    assert wide.size == (96, 96) and near(wide.getpixel((48, 48)), RED)


# -- the placeholder -----------------------------------------------------------------------------


def test_placeholder_is_deterministic_with_initials_on_the_titles_colour():
    one = artwork.placeholder("Science Everyday", 300, webp=False)
    assert one == artwork.placeholder("Science Everyday", 300, webp=False)
    artwork._placeholders.clear()  # drawn again, not memoised: the same bytes
    assert artwork.placeholder("Science Everyday", 300, webp=False).data == one.data
    other = artwork.placeholder("Deep Sea Radio", 300, webp=False)
    assert other.data != one.data and other.etag != one.etag
    a = Image.open(io.BytesIO(one.data)).convert("RGB")
    b = Image.open(io.BytesIO(other.data)).convert("RGB")
    assert a.size == (300, 300)
    assert a.getpixel((20, 20)) != b.getpixel((20, 20))  # each title its own colour
    # the initials: white letters across the middle, not a flat box nor a missing-glyph square
    letters = a.crop((60, 70, 240, 190)).convert("L")
    white = sum(letters.histogram()[236:])
    assert 800 < white < letters.width * letters.height * 0.6
    assert ImageStat.Stat(letters).stddev[0] > 30
    from earmark.share import quote_card as card

    if card._font_path("bold") is not None:  # DejaVu has no CJK: a note, never a missing-glyph box
        assert card._initials("日本語 ポッドキャスト") == "♪" and card._initials("Жизнь мира") == "ЖМ"
    # initials differ: "SE" vs "SF" on the same colour would still differ in the letters
    assert artwork.placeholder("Science Friday", 96, webp=True).data != artwork.placeholder("Science Everyday", 96, webp=True).data


# -- artwork handed to Earmark (an upload's cover) --------------------------------------------------


def test_stored_original_is_served_for_a_podcast_and_an_episode(client, lib, settings):
    source = artwork.store_original(settings, "upload-7", solid(BLUE, (500, 500), "JPEG"), "image/jpeg")
    assert source == "earmark-artwork:upload-7"
    podcast_id, episode_id = subscribe(lib, image=None, episode_image=source)
    image = opened(client.get(f"/artwork/episode/{episode_id}?size=96"))
    assert near(image.convert("RGB").getpixel((48, 48)), BLUE)
    with pytest.raises(artwork.ArtworkError):
        artwork.store_original(settings, "upload-8", b"ID3 not a picture")
    with pytest.raises(artwork.ArtworkError):
        artwork.store_original(settings, "../escape", solid(BLUE))
    # stored again under the same key: the new image, not the old resized copy
    artwork.store_original(settings, "upload-7", solid(RED, (500, 500), "JPEG"))
    assert near(opened(client.get(f"/artwork/episode/{episode_id}?size=96")).convert("RGB").getpixel((48, 48)), RED)


# -- pages and security ----------------------------------------------------------------------------


def test_pages_link_artwork_only_through_the_local_route(client, lib, server):
    server.add("/art.png", solid(RED), content_type="image/png")
    podcast_id, episode_id = subscribe(lib, image=server.url("/art.png"))
    for page, route in (("/", f"/artwork/podcast/{podcast_id}?size=96&amp;v="),
                        (f"/podcasts/{podcast_id}", f"/artwork/podcast/{podcast_id}?size=300&amp;v="),
                        (f"/episodes/{episode_id}", f"/artwork/episode/{episode_id}?size=300&amp;v=")):
        response = client.get(page)
        assert route in response.text, page
        assert server.base not in response.text, page
        assert "img-src 'self' data:;" in response.headers["content-security-policy"]
    assert not server.requests_to("/art.png")  # rendering a page fetches nothing; the image request does


def test_artwork_needs_the_same_access_as_the_pages(settings, server):
    server.add("/art.png", solid(RED), content_type="image/png")
    app = create_app(settings, require_token=True)
    token = app.state.access_token
    with TestClient(app, base_url="http://127.0.0.1") as c:
        podcast_id, _ = subscribe(app.state.library, image=server.url("/art.png"))
        assert c.get(f"/artwork/podcast/{podcast_id}").status_code == 401
        assert c.get(f"/artwork/podcast/{podcast_id}", headers={"Host": "evil.example"}).status_code == 421
        c.cookies.set("earmark_token", token)
        assert c.get(f"/artwork/podcast/{podcast_id}").status_code == 200  # the cookie the pages use
    assert len(server.requests_to("/art.png")) == 1

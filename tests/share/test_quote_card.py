import socket

import pytest
from PIL import Image, ImageStat

from earmark.config import Settings
from earmark.models import Podcast
from earmark.artwork import load_artwork
from earmark.share import quote_card as card_module
from earmark.share.quote_card import (
    SQUARE,
    artwork_box,
    render_card,
    save_card,
    snip_card,
)
from tests.share.conftest import png

QUOTE = "The length of the dance tells them how far they need to fly, and young bees learn the map early."
RED = (220, 20, 30)


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/art.png"


def centre(box):
    return ((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)


def near(pixel, colour, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def not_blank(image: Image.Image) -> None:
    stddev = ImageStat.Stat(image.convert("L")).stddev[0]
    assert stddev > 15, f"the card looks blank (luminance stddev {stddev:.1f})"


@pytest.mark.parametrize("size", [(1200, 675), SQUARE])
def test_card_is_a_png_of_the_right_size_and_not_blank(tmp_path, size):
    path = save_card(render_card(QUOTE, speaker="Ada", podcast="Show", episode="Ep 1", when="1:02", size=size),
                     tmp_path / "out" / "card.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == size
        not_blank(image)
        # text is drawn in the text column: light pixels there
        x0, y0, x1, y1 = card_module.layout(size).text
        column = image.convert("L").crop((x0, y0, x1, y1))
        assert column.getextrema()[1] > 200


def test_served_artwork_is_drawn_where_the_layout_puts_it(tmp_path, server, make_episode, make_snip):
    server.add("/art.png", png(RED), content_type="image/png")
    episode = make_episode(podcast_image=server.url("/art.png"))
    snip = make_snip(episode, quote=QUOTE, quote_speaker="Ada")
    for size in [(1200, 675), SQUARE]:
        image = snip_card(snip, episode, None, size=size)  # no podcast given: the episode has no image
        assert not near(image.getpixel(centre(artwork_box(size))), RED)  # …so the placeholder
    podcast_image = server.url("/art.png")
    for size in [(1200, 675), SQUARE]:
        image = snip_card(snip, episode, Podcast(url="x", title="Show", image=podcast_image), size=size)
        assert image.size == size
        assert near(image.getpixel(centre(artwork_box(size))), RED)
        assert not near(image.getpixel((size[0] - 5, size[1] // 2)), RED, 40)  # not everywhere
    assert server.requests_to("/art.png")


def test_episode_artwork_wins_over_the_show_artwork(server, make_episode, make_snip):
    server.add("/blue.png", png((20, 40, 230)), content_type="image/png")
    episode = make_episode(image=server.url("/blue.png"))
    image = snip_card(make_snip(episode, quote="Hi"), episode, Podcast(url="x", title="S", image=dead_url()))
    assert near(image.getpixel(centre(artwork_box())), (20, 40, 230))


def test_artwork_named_by_a_feed_is_never_a_local_file_nor_a_blocked_host(tmp_path, server, make_episode, make_snip):
    private = tmp_path / "private.png"
    private.write_bytes(png(RED))
    episode = make_episode(image=str(private))  # a feed's itunes:image naming a file on this machine
    image = snip_card(make_snip(episode, quote="Hi"), episode, None)
    assert not near(image.getpixel(centre(artwork_box())), RED)
    server.add("/art.png", png(RED), content_type="image/png")
    guarded = Settings(home=tmp_path, block_private_hosts=True)  # as when serving beyond loopback
    assert load_artwork(server.url("/art.png"), settings=guarded) is None
    assert not server.requests_to("/art.png")
    assert load_artwork(server.url("/art.png")) is not None  # loopback single-user: allowed


@pytest.mark.parametrize("kind", ["dead", "404", "not-an-image", "too-big", "missing-file"])
def test_missing_artwork_still_gives_a_card_with_a_placeholder(tmp_path, server, kind):
    server.add("/text", b"<html>not an image</html>", content_type="text/html")
    server.add("/big.png", png(RED, (2000, 2000)) + b"\0" * 200_000, content_type="image/png")
    source = {
        "dead": dead_url(),
        "404": server.url("/nothing.png"),
        "not-an-image": server.url("/text"),
        "too-big": server.url("/big.png"),
        "missing-file": str(tmp_path / "nope.png"),
    }[kind]
    assert load_artwork(source, max_bytes=100_000) is None
    image = render_card(QUOTE, podcast="Science Everyday", episode="Ep", artwork=None)
    assert image.size == (1200, 675)
    not_blank(image)
    art = image.crop(artwork_box())
    assert not near(art.getpixel((art.width // 2, art.height // 2)), RED)
    assert ImageStat.Stat(art.convert("L")).stddev[0] > 10  # the placeholder has a drawing, not a flat box


def test_long_quotes_shrink_to_fit_and_short_ones_are_large():
    draw = card_module.ImageDraw.Draw(Image.new("RGB", (10, 10)))
    short_face, short_lines, _ = card_module._fit_quote(draw, "Short.", 500, 400, largest=60, smallest=20)
    long_face, long_lines, height = card_module._fit_quote(draw, QUOTE * 3, 500, 400, largest=60, smallest=20)
    assert short_face.size == 60 and len(short_lines) == 1
    assert long_face.size < 60 and len(long_lines) * height <= 400
    assert all(draw.textlength(line, font=long_face) <= 500 for line in long_lines)
    # an endless quote is cut with an ellipsis at the smallest size instead of overflowing
    face, lines, height = card_module._fit_quote(draw, QUOTE * 40, 500, 400, largest=60, smallest=20)
    assert face.size == 20 and len(lines) * height <= 400 and lines[-1].endswith("…")
    render_card(QUOTE * 40, speaker="S" * 200, podcast="P" * 300, episode="E" * 300)  # no exception


def test_without_dejavu_pillows_own_font_is_used(monkeypatch):
    card_module._font_path.cache_clear()
    card_module.font.cache_clear()
    monkeypatch.setattr(card_module, "FONT_DIRS", ())
    try:
        assert card_module._font_path("serif") is None
        not_blank(render_card(QUOTE, speaker="Ada", podcast="Show", episode="Ep"))
    finally:
        card_module._font_path.cache_clear()
        card_module.font.cache_clear()


def test_dejavu_is_used_when_installed():
    assert card_module._font_path("serif") is not None, "fonts-dejavu-core is not installed (.ci/run installs it)"
    assert card_module.font("serif", 40).getname()[0] == "DejaVu Serif"

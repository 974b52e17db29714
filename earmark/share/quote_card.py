"""A quote card PNG for a snip (Pillow): the quote, wrapped and sized to fit, who said it, the
podcast and episode, and the artwork. This module fetches nothing itself: a snip's artwork (the
episode's, else the show's) comes from earmark/artwork.py's cache (``image``: fetched once through
earmark/net.py, the same copy the pages serve); when it cannot be had the card gets a drawn
placeholder instead, so a card never fails for want of artwork.

Fonts: DejaVu (Debian ``fonts-dejavu-core``) when installed, else Pillow's built-in font."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from earmark import artwork as artwork_cache
from earmark.config import Settings
from earmark.errors import EarmarkError
from earmark.transcripts.timecode import format_clock

SOCIAL = (1200, 675)
SQUARE = (1080, 1080)
SIZES = {"social": SOCIAL, "square": SQUARE}
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts",
)
FONT_FILES = {"serif": "DejaVuSerif.ttf", "sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}

INK = (245, 243, 238)
MUTED = (196, 192, 184)
ACCENT = (255, 196, 92)


# -- fonts ---------------------------------------------------------------------------------------


@cache
def _font_path(kind: str) -> Path | None:
    for folder in FONT_DIRS:
        path = folder / FONT_FILES[kind]
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=256)
def font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu ``kind`` (serif / sans / bold) at ``size`` px, else Pillow's default font."""
    path = _font_path(kind)
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _seed_colour(seed: str) -> tuple[int, int, int]:
    """A calm, saturated colour picked from the podcast's name, so each show keeps its own."""
    import colorsys

    digest = hashlib.sha1(seed.encode("utf-8")).digest()
    hue = digest[0] / 255
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.55)
    return int(r * 255), int(g * 255), int(b * 255)


def _initials(title: str) -> str:
    words = [w for w in title.replace("-", " ").split() if w[:1].isalnum() and _drawable(w[0])]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "♪"  # no letter the font has (CJK without a CJK font): a note, never a missing-glyph box


@lru_cache(maxsize=4096)
def _drawable(letter: str) -> bool:
    """Whether the placeholder's font has a glyph for ``letter`` (a missing one draws as a box)."""
    face = font("bold", 40)
    if not isinstance(face, ImageFont.FreeTypeFont):
        return letter.isascii()
    mask = face.getmask(letter.upper())
    missing = face.getmask("\U0010FFFD")  # a private-use character: no font has it
    return (mask.size, bytes(mask)) != (missing.size, bytes(missing))


def placeholder_artwork(size: int, title: str) -> Image.Image:
    """Drawn artwork for a show without any: a diagonal gradient in the show's colour with its
    initials and a few sound-wave bars."""
    base = _seed_colour(title or "Earmark")
    dark = tuple(int(c * 0.45) for c in base)
    vertical = Image.linear_gradient("L")
    gradient = Image.blend(vertical, vertical.rotate(90), 0.5).resize((size, size))  # diagonal
    image = Image.composite(Image.new("RGB", (size, size), base), Image.new("RGB", (size, size), dark), gradient)
    draw = ImageDraw.Draw(image)
    letters = _initials(title)
    face = font("bold", max(12, int(size * (0.36 if len(letters) > 1 else 0.45))))
    box = draw.textbbox((0, 0), letters, font=face)
    x = (size - (box[2] - box[0])) / 2 - box[0]
    y = size * 0.42 - (box[3] - box[1]) / 2 - box[1]
    draw.text((x, y), letters, font=face, fill=(255, 255, 255))
    bars = [0.35, 0.7, 1.0, 0.55, 0.85, 0.4, 0.65]
    bar_w = size * 0.035
    gap = bar_w * 0.9
    total = len(bars) * bar_w + (len(bars) - 1) * gap
    left = (size - total) / 2
    middle = size * 0.78
    for i, h in enumerate(bars):
        x0 = left + i * (bar_w + gap)
        half = max(bar_w / 2, size * 0.07 * h)
        draw.rounded_rectangle((x0, middle - half, x0 + bar_w, middle + half), radius=bar_w / 2, fill=(235, 235, 235))
    return image


# -- layout --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    margin: int
    artwork: tuple[int, int, int, int]  # x0, y0, x1, y1
    text: tuple[int, int, int, int]  # where the quote and attribution go
    caption: tuple[int, int, int, int] | None  # beside the artwork (square cards): podcast + episode


def layout(size: tuple[int, int] = SOCIAL) -> Layout:
    width, height = size
    margin = round(min(width, height) * 0.075)
    if width >= height * 1.2:  # landscape: artwork left, full height; text right
        side = height - 2 * margin
        art = (margin, margin, margin + side, margin + side)
        text = (art[2] + margin, margin, width - margin, height - margin)
        return Layout(width, height, margin, art, text, None)
    # square / portrait: artwork top-left with the show beside it; quote below
    side = round(min(width, height) * 0.24)
    art = (margin, margin, margin + side, margin + side)
    caption = (art[2] + round(margin * 0.6), margin, width - margin, margin + side)
    text = (margin, art[3] + margin, width - margin, height - margin)
    return Layout(width, height, margin, art, text, caption)


def artwork_box(size: tuple[int, int] = SOCIAL) -> tuple[int, int, int, int]:
    return layout(size).artwork


def _wrap(draw: ImageDraw.ImageDraw, text: str, face, width: int, max_lines: int | None = None) -> list[str]:
    """Lines of ``text`` no wider than ``width``; stops early once there are more than ``max_lines``."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            if max_lines is not None and len(lines) > max_lines:
                return lines
            trial = f"{current} {word}" if current else word
            if draw.textlength(trial, font=face) <= width:
                current = trial
                continue
            if current:
                lines.append(current)
            # a single word wider than the line is broken by characters
            while draw.textlength(word, font=face) > width and len(word) > 1:
                cut = len(word)
                while cut > 1 and draw.textlength(word[:cut] + "-", font=face) > width:
                    cut -= 1
                lines.append(word[:cut] + "-")
                word = word[cut:]
            current = word
        if current:
            lines.append(current)
    return lines


def _ellipsize(draw: ImageDraw.ImageDraw, text: str, face, width: int) -> str:
    if draw.textlength(text, font=face) <= width:
        return text
    while text and draw.textlength(text + "…", font=face) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _fit_quote(draw, quote: str, width: int, height: int, *, largest: int, smallest: int):
    """The largest font size whose wrapped quote fits the box (binary search); at the smallest,
    extra lines are cut with an ellipsis. Returns (font, lines, line height)."""

    def attempt(size: int):
        line_height = round(size * 1.32)
        keep = max(1, height // line_height)
        return font("serif", size), _wrap(draw, quote, font("serif", size), width, keep), line_height, keep

    lo, hi, best = smallest, largest, None
    while lo <= hi:
        size = (lo + hi) // 2
        face, lines, line_height, keep = attempt(size)
        if len(lines) <= keep:
            best, lo = (face, lines, line_height), size + 1
        else:
            hi = size - 1
    if best is not None:
        return best
    face, lines, line_height, keep = attempt(smallest)
    if len(lines) > keep:
        lines = lines[:keep]
        lines[-1] = _ellipsize(draw, lines[-1] + " …", face, width)
    return face, lines, line_height


def _background(size: tuple[int, int], art: Image.Image) -> Image.Image:
    """A dark, blurred wash of the artwork's own colours, so every card matches its show."""
    width, height = size
    mean = ImageStat.Stat(art.resize((32, 32))).mean
    tint = tuple(int(c * 0.28 + 14) for c in mean[:3])
    wash = art.resize((max(1, width // 8), max(1, height // 8))).filter(ImageFilter.GaussianBlur(6)).resize(size)
    wash = Image.blend(Image.new("RGB", size, tint), wash, 0.22)
    shade = Image.linear_gradient("L").resize(size)  # darker towards the bottom
    return Image.composite(Image.new("RGB", size, (10, 10, 14)), wash, shade.point(lambda v: int(v * 0.55)))


def _rounded(image: Image.Image, radius: int) -> Image.Image:
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, image.width - 1, image.height - 1), radius=radius, fill=255)
    out = image.convert("RGBA")
    out.putalpha(mask)
    return out


def render_card(
    quote: str,
    *,
    speaker: str | None = None,
    podcast: str = "",
    episode: str = "",
    when: str | None = None,
    artwork: Image.Image | None = None,
    size: tuple[int, int] = SOCIAL,
) -> Image.Image:
    """The card as an RGB image. ``artwork`` None draws the placeholder."""
    geometry = layout(size)
    width, height = size
    x0, y0, x1, y1 = geometry.artwork
    side = x1 - x0
    art = artwork if artwork is not None else placeholder_artwork(side, podcast or episode)
    art = ImageOps.fit(art.convert("RGB"), (side, side), Image.Resampling.LANCZOS)
    card = _background(size, art)
    draw = ImageDraw.Draw(card)

    # artwork with a soft shadow and rounded corners
    radius = max(6, side // 22)
    shadow = Image.new("L", size, 0)
    ImageDraw.Draw(shadow).rounded_rectangle((x0 + 6, y0 + 10, x1 + 6, y1 + 10), radius=radius, fill=150)
    shadow = shadow.filter(ImageFilter.GaussianBlur(14))
    card.paste(Image.new("RGB", size, (0, 0, 0)), (0, 0), shadow)
    card.paste(_rounded(art, radius), (x0, y0), _rounded(art, radius))

    unit = min(width, height)
    tx0, ty0, tx1, ty1 = geometry.text
    text_width = tx1 - tx0

    # the show and episode: beside the artwork (square) or at the foot of the text column (landscape)
    show_face = font("bold", round(unit * 0.034))
    episode_face = font("sans", round(unit * 0.03))
    show_line = _ellipsize(draw, podcast, show_face, (geometry.caption or geometry.text)[2] - (geometry.caption or geometry.text)[0]) if podcast else ""
    if geometry.caption:
        cx0, cy0, cx1, cy1 = geometry.caption
        episode_lines = _wrap(draw, episode, episode_face, cx1 - cx0)[:3] if episode else []
        step = round(unit * 0.046)
        block = (step if show_line else 0) + step * len(episode_lines)
        y = cy0 + (cy1 - cy0 - block) / 2
        if show_line:
            draw.text((cx0, y), show_line, font=show_face, fill=INK)
            y += step
        for line in episode_lines:
            draw.text((cx0, y), line, font=episode_face, fill=MUTED)
            y += step
        footer_top = ty1
    else:
        episode_line = _ellipsize(draw, episode, episode_face, text_width) if episode else ""
        step = round(unit * 0.055)
        footer_top = ty1 - step * ((1 if show_line else 0) + (1 if episode_line else 0)) + round(unit * 0.01)
        y = footer_top
        if show_line:
            draw.text((tx0, y), show_line, font=show_face, fill=INK)
            y += step
        if episode_line:
            draw.text((tx0, y), episode_line, font=episode_face, fill=MUTED)
        footer_top -= round(unit * 0.035)
        draw.line((tx0, footer_top, tx0 + round(unit * 0.09), footer_top), fill=ACCENT, width=max(2, unit // 200))
        footer_top -= round(unit * 0.035)

    # the speaker line above the footer
    speaker_face = font("bold", round(unit * 0.036))
    speaker_text = f"— {speaker}" if speaker else ""
    if when:
        speaker_text = f"{speaker_text}  ·  {when}" if speaker_text else when
    speaker_height = round(unit * 0.06) if speaker_text else 0

    # the big quotation mark, then the quote in the space left
    mark_face = font("serif", round(unit * 0.16))
    quote_top = ty0 + round(unit * 0.085)
    quote_bottom = footer_top - speaker_height - round(unit * 0.02)
    face, lines, line_height = _fit_quote(
        draw, quote or "…", text_width, max(1, quote_bottom - quote_top),
        largest=round(unit * 0.085), smallest=round(unit * 0.032),
    )
    # centre the quote block vertically in its space when it is short
    block = len(lines) * line_height
    y = quote_top + max(0, (quote_bottom - quote_top - block) // 3)
    draw.text((tx0 - round(unit * 0.005), y - round(unit * 0.12)), "“", font=mark_face, fill=ACCENT)  # just above
    for line in lines:
        draw.text((tx0, y), line, font=face, fill=INK)
        y += line_height
    if speaker_text:
        draw.text((tx0, y + round(unit * 0.02)), _ellipsize(draw, speaker_text, speaker_face, text_width),
                  font=speaker_face, fill=ACCENT)

    # a quiet wordmark
    mark = font("sans", round(unit * 0.022))
    label = "Earmark"
    draw.text((width - geometry.margin * 0.5 - draw.textlength(label, font=mark), height - geometry.margin * 0.5 - unit * 0.022),
              label, font=mark, fill=(150, 148, 142))
    return card


def save_card(image: Image.Image, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    image.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def snip_card(
    snip,
    episode,
    podcast=None,
    *,
    size: tuple[int, int] = SOCIAL,
    artwork: Image.Image | None = None,
    settings: Settings | None = None,
) -> Image.Image:
    """The card for a snip: its quote (or excerpt), speaker, the show and episode, and the episode's
    artwork (else the show's; else the placeholder)."""
    from earmark.share.text import snip_quote

    if artwork is None:
        for source in (episode.image, podcast.image if podcast else None):
            # a feed names web addresses (never a file on this machine), or artwork stored here;
            # both through the artwork cache, so the player's copy is reused and a dead host not asked again
            artwork = artwork_cache.image(settings, source)
            if artwork is not None:
                break
    return render_card(
        snip_quote(snip),
        speaker=snip.quote_speaker,
        podcast=(podcast.title if podcast else "") or "",
        episode=episode.title or "",
        when=format_clock(snip.start),
        artwork=artwork,
        size=size,
    )

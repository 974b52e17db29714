"""Podcast and episode artwork, kept on this machine: fetched once (through earmark/net.py), cached
on disk, served resized, and drawn as a placeholder when there is none.

Pages never load a publisher's image themselves (that would tell the publisher who listens, and
break offline); they ask ``/artwork/podcast/{id}`` or ``/artwork/episode/{id}`` (earmark/web/artwork.py).

A *source* is what ``Podcast.image`` / ``Episode.image`` hold: an http(s) address from a feed, or
``earmark-artwork:<key>`` for an image Earmark was handed directly (an upload's embedded cover,
:func:`store_original`). Everything is keyed by the SHA-256 of the source, so a show whose artwork
address changes gets the new image. Under ``<home>/artwork/``:

    <hash>.img      the original bytes (already checked to decode as an image)
    <hash>.json     what they are: source, content type, pixel size, digest
    <hash>.failed   a fetch that failed, and when: not tried again for FAILURE_TTL seconds
    sized/          resized copies: <hash>-<px>.webp|.jpg, placeholders ph-<hash>-<px>.webp|.jpg

Images are decoded with Pillow under caps: only the usual formats, at most MAX_PIXELS pixels
(checked from the header before decoding, so a decompression bomb is never expanded), modes
converted to RGB (CMYK through its ICC profile when it has one, palette and alpha flattened).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from earmark import net
from earmark.config import Settings
from earmark.errors import EarmarkError

LOCAL_SCHEME = "earmark-artwork:"
SIZES = (96, 300, 600)
MAX_BYTES = 10 * 1024 * 1024  # a 3000×3000 JPEG is ~1–3 MB
MAX_PIXELS = 40_000_000  # about 6300×6300; bigger is refused before decoding
FETCH_TIMEOUT = 10.0
FAILURE_TTL = 6 * 3600  # a failed fetch is tried again after this long, not on every page view
FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"}
FLATTEN_ON = (255, 255, 255)  # transparent artwork is shown on white, as podcast apps do
VERSION = "1"  # part of every ETag: bump when resizing or the placeholder changes
_KEY = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class ArtworkError(EarmarkError, ValueError):
    """Bytes that are not an image Earmark accepts (not an image, an unknown format, too many pixels)."""


@dataclass(frozen=True, slots=True)
class Original:
    """An original image in the cache."""

    source: str
    digest: str  # SHA-256 of the bytes (ETags are made from it)
    content_type: str
    width: int
    height: int
    path: Path


@dataclass(frozen=True, slots=True)
class Rendition:
    """A resized image ready to send."""

    data: bytes
    media_type: str  # image/webp or image/jpeg
    etag: str  # quoted
    placeholder: bool
    source: str | None = None  # which source it was made from (None: the placeholder)


def artwork_dir(settings: Settings) -> Path:
    return settings.home / "artwork"


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def local_source(key: str) -> str:
    return LOCAL_SCHEME + key


def fetchable(source: str | None) -> bool:
    return bool(source) and source.lower().startswith(("http://", "https://"))


def usable(source: str | None) -> bool:
    """Whether ``source`` can name artwork (a web address or an image stored here)."""
    return fetchable(source) or bool(source and source.startswith(LOCAL_SCHEME))


# -- decoding ------------------------------------------------------------------------------------


def decode(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """``data`` as an RGB image, upright (EXIF orientation applied). Raises ArtworkError for
    anything that is not an accepted image; never decodes more than ``max_pixels`` pixels."""
    try:
        image = Image.open(io.BytesIO(data), formats=sorted(FORMATS))
    except Image.DecompressionBombError as exc:  # Pillow's own cap, far above ours
        raise ArtworkError(f"the image has too many pixels ({exc})") from None
    except (OSError, ValueError, SyntaxError):
        raise ArtworkError("not an image Earmark reads (JPEG, PNG, WebP, GIF, BMP or TIFF)") from None
    try:
        if image.width < 1 or image.height < 1 or image.width * image.height > max_pixels:
            raise ArtworkError(f"the image is {image.width}×{image.height} pixels; at most {max_pixels:,} are decoded")
        if image.format == "JPEG":
            image.draft("RGB", (SIZES[-1] * 2, SIZES[-1] * 2))  # decode a large JPEG at a reduced scale
        image.load()
        return to_rgb(ImageOps.exif_transpose(image))
    except ArtworkError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError, EOFError) as exc:
        raise ArtworkError(f"the image cannot be decoded ({exc})") from None
    finally:
        image.close()


def to_rgb(image: Image.Image) -> Image.Image:
    """Any mode as RGB: CMYK through its embedded ICC profile when there is one; transparency
    (RGBA, LA, a palette's transparent colour) flattened onto FLATTEN_ON."""
    if image.mode == "CMYK" and image.info.get("icc_profile"):
        try:
            from PIL import ImageCms

            profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
            return ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):  # a broken profile: the plain conversion is close enough
            image = image.convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit / float greyscale
        image = image.convert("I").point(lambda v: v / 256).convert("L") if image.mode != "F" else image.convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "La", "PA"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "RGBa"):
        background = Image.new("RGB", image.size, FLATTEN_ON)
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


# -- the cache -----------------------------------------------------------------------------------

_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _lock(name: str) -> threading.Lock:
    """One lock per cache entry, so concurrent requests for the same artwork fetch it once."""
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _save_original(settings: Settings, source: str, data: bytes, content_type: str | None) -> Original:
    image = decode(data)  # refuse what will not decode before keeping it
    folder = artwork_dir(settings)
    name = source_hash(source)
    path = folder / f"{name}.img"
    digest = hashlib.sha256(data).hexdigest()
    record = Original(source, digest, content_type or Image.MIME.get(_format_of(data), "application/octet-stream"),
                      image.width, image.height, path)
    _write(path, data)
    meta = {k: v for k, v in dataclasses.asdict(record).items() if k != "path"}
    _write(folder / f"{name}.json", json.dumps(meta).encode())
    (folder / f"{name}.failed").unlink(missing_ok=True)
    return record


def _format_of(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format or ""
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return ""


def store_original(settings: Settings, key: str | None, data: bytes, content_type: str | None = None) -> str:
    """Keep ``data`` (an image Earmark was handed: an upload's embedded cover) as artwork, and return
    the source to put in ``Podcast.image`` / ``Episode.image`` so the artwork routes serve it.
    ``key`` names it (letters, digits, ``._-``); None names it by its content. Raises ArtworkError
    when ``data`` is not an accepted image (too large, not an image, too many pixels)."""
    if len(data) > MAX_BYTES:
        raise ArtworkError(f"the image is {len(data):,} bytes, over the limit of {MAX_BYTES:,}")
    key = key or hashlib.sha256(data).hexdigest()[:32]
    if not _KEY.match(key):
        raise ArtworkError(f"artwork key {key!r}: use letters, digits, '.', '_' or '-' (at most 128)")
    source = local_source(key)
    with _lock(source_hash(source)):
        _save_original(settings, source, data, content_type)
        _drop_sized(settings, source_hash(source))
    return source


def _drop_sized(settings: Settings, name: str) -> None:
    for path in (artwork_dir(settings) / "sized").glob(f"{name}-*"):
        path.unlink(missing_ok=True)


def cached(settings: Settings, source: str) -> Original | None:
    """The original for ``source`` if it is in the cache (nothing is fetched)."""
    folder = artwork_dir(settings)
    name = source_hash(source)
    try:
        meta = json.loads((folder / f"{name}.json").read_text("utf-8"))
        path = folder / f"{name}.img"
        if meta.get("source") != source or not path.is_file():
            return None
        return Original(meta["source"], meta["digest"], meta["content_type"], int(meta["width"]),
                        int(meta["height"]), path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recent_failure(settings: Settings, source: str, *, now: float | None = None) -> str | None:
    """Why fetching ``source`` failed, if it did less than FAILURE_TTL seconds ago."""
    path = artwork_dir(settings) / f"{source_hash(source)}.failed"
    try:
        mark = json.loads(path.read_text("utf-8"))
        if (now or time.time()) - float(mark["at"]) < FAILURE_TTL:
            return str(mark.get("error", "failed"))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _remember_failure(settings: Settings, source: str, error: str) -> None:
    mark = {"source": source, "error": error, "at": time.time()}
    _write(artwork_dir(settings) / f"{source_hash(source)}.failed", json.dumps(mark).encode())


def image(settings: Settings | None, source: str | None) -> Image.Image | None:
    """The artwork for ``source`` as an RGB image (fetched once and kept, as for the pages), or None
    when it cannot be had. Never raises for a bad source or a bad settings file."""
    if not usable(source):
        return None
    try:
        found = original(settings or Settings.load(), source)
        return decode(found.path.read_bytes()) if found is not None else None
    except (OSError, EarmarkError):
        return None


def fetch_bytes(settings: Settings, url: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The body at ``url`` through earmark/net.py (outbound policy, a short timeout, a size cap).
    Raises EarmarkError with one line saying why it could not be had."""
    timeout = min(settings.http_timeout, FETCH_TIMEOUT)
    with net.client(dataclasses.replace(settings, http_timeout=timeout)) as client:
        return net.fetch_bytes(client, url, limit=max_bytes, what="artwork", error=EarmarkError, timeout=timeout)


def load_artwork(
    source: str | os.PathLike | None, *, settings: Settings | None = None, max_bytes: int = MAX_BYTES,
) -> Image.Image | None:
    """The artwork (an http(s) address, fetched under the outbound policy of earmark/net.py, or a
    file) as an RGB image, or None when it cannot be had (no source, unreachable, too large, not an
    image). Never raises for a bad source."""
    if not source:
        return None
    text = str(source)
    try:
        if text.lower().startswith(("http://", "https://")):
            data = _fetch_or_none(text, settings or Settings.load(), max_bytes)
        else:
            path = Path(text.removeprefix("file://"))
            if not path.is_file() or path.stat().st_size > max_bytes:
                return None
            data = path.read_bytes()
        if data is None:
            return None
        return decode(data)  # capped pixels, modes converted, upright
    except (OSError, ValueError, Image.DecompressionBombError, EarmarkError):  # EarmarkError: a bad settings.toml
        return None


def _fetch_or_none(url: str, settings: Settings, max_bytes: int) -> bytes | None:
    try:
        return fetch_bytes(settings, url, max_bytes=max_bytes)
    except EarmarkError:
        return None


def original(settings: Settings, source: str | None) -> Original | None:
    """The original image for ``source``: from the cache, else fetched once (concurrent callers
    wait for the one fetch) and kept. None when there is none or it cannot be had — a failed fetch
    is remembered and not tried again for FAILURE_TTL. Blocking (network): call from a thread."""
    if not usable(source):
        return None
    found = cached(settings, source)
    if found is not None or not fetchable(source):
        return found
    with _lock(source_hash(source)):
        found = cached(settings, source)  # fetched while this caller waited
        if found is not None or recent_failure(settings, source):
            return found
        try:
            data = fetch_bytes(settings, source)
            return _save_original(settings, source, data, None)
        except EarmarkError as exc:  # ArtworkError included: a page, not an image, is a failure too
            _remember_failure(settings, source, str(exc))
            return None


# -- resized copies and placeholders -------------------------------------------------------------


def nearest_size(requested: int | str | None) -> int:
    """The smallest served size at least ``requested`` px (the largest for more; 300 when unreadable)."""
    try:
        want = int(str(requested))
    except (TypeError, ValueError):
        return 300
    return next((s for s in SIZES if s >= want), SIZES[-1])


def _encode(image: Image.Image, webp: bool) -> bytes:
    out = io.BytesIO()
    if webp:
        image.save(out, format="WEBP", quality=82, method=4)
    else:
        image.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def square(image: Image.Image, size: int) -> Image.Image:
    """``image`` as a ``size`` square: nearly square artwork is cropped to fill; other shapes are
    fitted whole on their own average colour (a wide banner keeps its text)."""
    ratio = image.width / image.height
    if 0.9 <= ratio <= 1.1:
        return ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
    colour = image.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    return ImageOps.pad(image, (size, size), Image.Resampling.LANCZOS, color=colour)


def placeholder(title: str, size: int, *, webp: bool) -> Rendition:
    """Drawn artwork for a show without any: its initials on a colour picked from its title (the same
    title always gets the same image)."""
    from earmark.share.quote_card import placeholder_artwork  # the quote cards draw the same one

    ext = "webp" if webp else "jpg"
    key = hashlib.sha256(f"{title}\0{size}".encode()).hexdigest()[:20]
    data = _placeholder_bytes(title, size, webp, placeholder_artwork)
    return Rendition(data, f"image/{'webp' if webp else 'jpeg'}", f'"ph-{key}-{ext}-v{VERSION}"', True)


_placeholders: dict[tuple[str, int, bool], bytes] = {}


def _placeholder_bytes(title: str, size: int, webp: bool, draw) -> bytes:
    key = (title, size, webp)
    if (data := _placeholders.get(key)) is None:
        data = _encode(draw(size, title), webp)
        if len(_placeholders) > 512:  # a small memo: they take a few ms to draw
            _placeholders.clear()
        _placeholders[key] = data
    return data


def rendition(settings: Settings, sources: str | None | Sequence[str | None], *, title: str, size: int,
              webp: bool) -> Rendition:
    """The artwork at ``size`` px (one of SIZES) as WebP or JPEG from the first of ``sources`` that
    can be had (an episode's own image, then its show's), fetched and resized on first use and kept;
    the placeholder for ``title`` when none can. Never raises for a bad image. Blocking (network,
    decoding): call from a thread."""
    size = nearest_size(size)
    if sources is None or isinstance(sources, str):
        sources = [sources]
    found = next((o for o in (original(settings, s) for s in sources) if o is not None), None)
    if found is None:
        return placeholder(title, size, webp=webp)
    ext = "webp" if webp else "jpg"
    media_type = f"image/{'webp' if webp else 'jpeg'}"
    etag = f'"{found.digest[:20]}-{size}-{ext}-v{VERSION}"'
    name = source_hash(found.source)
    path = artwork_dir(settings) / "sized" / f"{name}-{size}.{VERSION}.{found.digest[:12]}.{ext}"
    try:
        return Rendition(path.read_bytes(), media_type, etag, False, found.source)
    except OSError:
        pass
    with _lock(f"{name}-{size}-{ext}"):
        try:
            return Rendition(path.read_bytes(), media_type, etag, False, found.source)
        except OSError:
            pass
        try:
            data = _encode(square(decode(found.path.read_bytes()), size), webp)
        except (ArtworkError, OSError) as exc:  # changed or damaged on disk since it was checked
            found.path.unlink(missing_ok=True)
            if fetchable(found.source):
                _remember_failure(settings, found.source, str(exc))
            return placeholder(title, size, webp=webp)
        _write(path, data)
        return Rendition(data, media_type, etag, False, found.source)

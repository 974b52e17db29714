"""OPML: reading subscription lists exported by other players, and writing ours.

Reading is strict about safety and lenient about shape: the XML goes through defusedxml (no entity
declarations, no external references, so no entity bombs or XXE), but any ``outline`` with an
``xmlUrl`` at any depth counts as a feed, whatever its ``type`` and however the attribute is cased.
Feeds are de-duplicated by their normalized URL (``normalize_url`` lower-cases scheme and host and
drops an empty ``?``).
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from earmark.config import Settings
from earmark.errors import FeedError, OPMLError
from earmark.feeds.fetch import normalize_url
from earmark.feeds.refresh import refresh_many
from earmark.models import Podcast, RefreshResult
from earmark.store.library import OWNER_ID, Library

# Real exports are a few kB; anything this large is not a subscription list.
MAX_OPML_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class OPMLFeed:
    """One distinct feed named in an OPML file."""

    url: str  # normalized
    title: str = ""


@dataclass(slots=True)
class OPMLDocument:
    """What an OPML file lists: distinct feeds in document order, plus ``xmlUrl`` values that are
    not feed addresses (skipped rather than failing the whole import)."""

    source: str
    feeds: list[OPMLFeed] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OPMLImportSummary:
    """The outcome of ``import_opml``. Ids are podcast ids, in the file's order."""

    source: str
    feeds: int  # distinct feeds in the file
    added: list[int] = field(default_factory=list)  # new subscriptions
    # Left alone, not refreshed — except those never loaded yet (an import stopped part-way), loaded now.
    already_subscribed: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)  # added (or never loaded before) and loaded
    failed: list[RefreshResult] = field(default_factory=list)  # first fetch failed; kept with status 'error'
    invalid: list[str] = field(default_factory=list)  # xmlUrl values that are not feed addresses


# -- reading ----------------------------------------------------------------------------------


def _local(tag: object) -> str:
    # Comments and processing instructions have non-string tags.
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_opml_document(data: bytes | str, source: str = "<opml>") -> OPMLDocument:
    """Parse OPML 1.0/1.1/2.0 text. Raises OPMLError naming ``source`` and what is wrong."""
    if isinstance(data, str):
        data = data.encode("utf-8")
        # A declared encoding would now be wrong; expat honours the declaration over the bytes.
        data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data, count=1)
    if not data.strip():
        raise OPMLError(f"{source}: the file is empty")
    if len(data) > MAX_OPML_BYTES:
        raise OPMLError(f"{source}: {len(data):,} bytes is too large for an OPML file (limit {MAX_OPML_BYTES:,})")
    try:
        root = safe_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise OPMLError(
            f"{source}: refused: the file declares XML entities or external references, which OPML never needs ({exc})"
        ) from exc
    except ET.ParseError as exc:
        raise OPMLError(f"{source}: not well-formed XML: {exc}") from exc
    if _local(root.tag) != "opml":
        raise OPMLError(f"{source}: not an OPML file (the root element is <{_local(root.tag) or root.tag}>, not <opml>)")
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise OPMLError(f"{source}: the OPML file has no <body>")

    doc = OPMLDocument(source)
    seen: dict[str, OPMLFeed] = {}
    for outline in body.iter():
        if _local(outline.tag) != "outline":
            continue
        attrs = {_local(k): v for k, v in outline.attrib.items()}
        raw = attrs.get("xmlurl")
        if raw is None:
            continue  # a folder, or a link/include outline
        try:
            url = normalize_url(raw)
        except FeedError:
            doc.invalid.append(raw)
            continue
        title = (attrs.get("title") or "").strip() or (attrs.get("text") or "").strip()
        if url in seen:
            if not seen[url].title:
                seen[url].title = title
            continue
        seen[url] = OPMLFeed(url, title)
        doc.feeds.append(seen[url])
    return doc


def parse_opml(data: bytes | str, source: str = "<opml>") -> list[OPMLFeed]:
    """The distinct feeds an OPML document names."""
    return parse_opml_document(data, source).feeds


def read_opml(path: Path | str) -> OPMLDocument:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise OPMLError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    return parse_opml_document(data, str(path))


# -- importing --------------------------------------------------------------------------------

ImportProgress = Callable[[int, int], None]  # (refreshed so far, to refresh)


async def import_feeds(
    library: Library,
    settings: Settings,
    doc: OPMLDocument,
    *,
    refresh: bool = True,
    progress: ImportProgress | None = None,
    client: httpx.AsyncClient | None = None,
    user_id: int = OWNER_ID,
) -> OPMLImportSummary:
    """Subscribe ``user_id`` to every feed in ``doc``; then load the new ones, and those subscribed earlier but
    never loaded — so an import that was stopped (killed, cut off) part-way is finished by running
    it again. A feed that fails to load stays subscribed with its error recorded, as a dead feed in
    someone's export is still their choice."""
    summary = OPMLImportSummary(doc.source, len(doc.feeds), invalid=list(doc.invalid))
    to_load: list[int] = []

    def add_all() -> None:  # thousands of inserts: off the event loop
        for feed in doc.feeds:
            known = library.podcast_by_url(feed.url)
            had = known is not None and library.is_subscribed(user_id, known.id)
            podcast, created = library.add_podcast(feed.url, title=feed.title or None, user_id=user_id)
            (summary.already_subscribed if had else summary.added).append(podcast.id)
            if created or podcast.last_checked is None:
                to_load.append(podcast.id)

    await asyncio.to_thread(add_all)
    if not refresh or not to_load:
        return summary
    total, done = len(to_load), 0
    if progress:
        progress(0, total)

    def advance(_: RefreshResult) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    results = await refresh_many(library, settings, to_load, progress=advance, client=client)
    for result in results:
        if result.status == "error":
            summary.failed.append(result)
        else:
            summary.refreshed.append(result.podcast_id)
    return summary


async def import_opml(
    library: Library,
    settings: Settings,
    path: Path | str,
    *,
    refresh: bool = True,
    progress: ImportProgress | None = None,
    client: httpx.AsyncClient | None = None,
) -> OPMLImportSummary:
    """Read ``path`` and subscribe to its feeds. The whole file is parsed before anything is
    added, so a broken file leaves the library untouched."""
    doc = read_opml(path)
    return await import_feeds(library, settings, doc, refresh=refresh, progress=progress, client=client)


# -- exporting --------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all, even escaped; a feed title may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def export_opml(podcasts: Iterable[Podcast], *, title: str = "Earmark subscriptions", now: datetime | None = None) -> str:
    """An OPML 2.0 document listing ``podcasts``; ElementTree does the escaping."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _clean(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now().astimezone())
    body = ET.SubElement(root, "body")
    for podcast in podcasts:
        if podcast.kind != "feed":  # your own uploads have no feed another player could follow
            continue
        name = _clean(podcast.title or podcast.url)
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": _clean(podcast.url)}
        if podcast.link:
            attrs["htmlUrl"] = _clean(podcast.link)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

"""Feed bytes → ParsedFeed.

podcastparser's SAX handler, extended in ``targets``, runs on defusedxml's expat so entity bombs
are refused; documents broken in the usual real-world ways are repaired by ``salvage`` and parsed
again; the handler's dicts become typed records here.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from xml.sax import SAXParseException
from xml.sax.handler import feature_external_ges, feature_external_pes

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from earmark.errors import FeedError
from earmark.feeds.salvage import declares_entities, looks_like_html, repairs
from earmark.feeds.targets import FeedHandler, guess_type, to_count, to_int
from earmark.models import (
    Chapter,
    Episode,
    ParsedFeed,
    Podcast,
)



def _run_parser(content: bytes, url: str) -> dict:
    handler = FeedHandler(url, 0)
    # defusedxml refuses entity declarations; external references (an RSS 0.91 DOCTYPE naming
    # Netscape's DTD) are not refused but never fetched: expat's external entities stay off.
    parser = DefusedExpatParser(forbid_external=False)
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(handler)
    parser.parse(io.BytesIO(content))
    return handler.data


def parse_feed(content: bytes, url: str) -> ParsedFeed:
    """Parse a feed document fetched from ``url``. Raises FeedError saying what is wrong."""
    if not content.strip():
        raise FeedError(f"{url}: the response is empty, not a feed")
    if looks_like_html(content):
        raise FeedError(f"{url}: got an HTML page, not a podcast feed (is this the website's address?)")
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        raise FeedError(f"{url}: got a JSON document, not an RSS or Atom feed")
    try:
        data = _run_parser(content, url)
    except DefusedXmlException as exc:
        raise FeedError(f"{url}: refused: the feed uses XML entity declarations ({type(exc).__name__})") from exc
    except SAXParseException as first:
        data = _parse_repaired(content, url, first)
    return _to_records(data, url)


def _parse_repaired(content: bytes, url: str, first: SAXParseException) -> dict:
    """Parse the first repair of a document the strict parse refused that reads, or raise."""
    if _truncated(first):
        # The document stops mid-way: a cut-off transfer, not something to guess the rest of.
        raise FeedError(f"{url}: the feed is truncated: {_describe(first)}") from first
    if _unsupported(first):
        raise FeedError(f"{url}: {_describe(first)}") from first  # no repair changes the root element
    if declares_entities(content):
        # lxml's recovery would quietly drop what it refuses to expand; refuse it out loud instead.
        raise FeedError(f"{url}: refused: the feed uses XML entity declarations") from first
    last = first
    for repaired in repairs(content):
        try:
            return _run_parser(repaired, url)
        except DefusedXmlException as exc:
            raise FeedError(f"{url}: refused: the feed uses XML entity declarations") from exc
        except SAXParseException as exc:
            if _truncated(exc):
                raise FeedError(f"{url}: the feed is truncated: {_describe(exc)}") from exc
            last = exc
    if _unsupported(last):
        raise FeedError(f"{url}: {_describe(last)}") from first  # e.g. leading junk, then XHTML
    raise FeedError(f"{url}: not a readable feed: {_describe(first)}") from first


# What expat says when the bytes end before the document does (between elements, inside a tag
# or attribute, inside CDATA, inside a UTF-8 sequence); it says these at the end of input only.
_TRUNCATED = {"no element found", "unclosed token", "unclosed CDATA section", "partial character"}


def _truncated(exc: SAXParseException) -> bool:
    return exc.getMessage() in _TRUNCATED


def _unsupported(exc: SAXParseException) -> bool:
    return exc.getMessage().startswith("Unsupported feed type")


def _describe(exc: SAXParseException) -> str:
    message = exc.getMessage()
    if message.startswith("Unsupported feed type"):
        root = message.rpartition(":")[2].strip().lower()
        if root == "html":  # XHTML: its namespace maps the root to "None:html"
            return "got an HTML page, not a podcast feed (is this the website's address?)"
        return f"the document is XML but not RSS or Atom ({message})"
    return f"{message} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(value, UTC) if value else None
    except (OverflowError, ValueError, OSError):  # beyond year 9999
        return None


def _pick_enclosure(enclosures: list[dict]) -> dict | None:
    """The first audio enclosure, else the first of any type."""
    for enclosure in enclosures:
        mime = enclosure["mime_type"]
        if mime == "application/octet-stream":
            mime = enclosure["mime_type"] = guess_type(enclosure["url"])
        if mime.startswith("audio/"):
            return enclosure
    return enclosures[0] if enclosures else None


def _to_episode(entry: dict) -> Episode:
    enclosure = _pick_enclosure(entry["enclosures"])
    season = to_count(entry.get("season")) or to_count(to_int(entry.get("_p20_season")))
    number = to_count(entry.get("number")) or to_count(to_int(entry.get("_p20_episode")))
    return Episode(
        guid=entry["guid"],
        title=entry.get("title", ""),
        published=_timestamp(entry.get("published")),
        duration=to_count(entry.get("total_time")),
        description=entry.get("description") or "",
        description_html=entry.get("description_html") or "",
        link=entry.get("link") or None,
        enclosure_url=enclosure["url"] if enclosure else None,
        enclosure_type=enclosure["mime_type"] if enclosure else None,
        enclosure_length=to_count(enclosure["file_size"]) if enclosure else None,
        image=entry.get("episode_art_url"),
        season=season,
        number=number,
        episode_type=entry.get("type"),
        explicit=entry.get("explicit"),
        transcripts=entry.get("_transcripts", []),
        chapters_link=entry.get("_chapters_link"),
        chapters=[
            Chapter(start=float(c["start"]), title=c["title"], href=c.get("href"), image=c.get("image"))
            for c in entry.get("chapters", [])
        ],
        persons=entry.get("_persons", []),
        soundbites=entry.get("_soundbites", []),
        funding=entry.get("_funding", []),
        alternate_enclosures=entry.get("_alternates", []),
    )


def _to_records(data: dict, url: str) -> ParsedFeed:
    owner = data.get("itunes_owner") or {}
    podcast = Podcast(
        url=url,
        title=data.get("title") or "",
        author=data.get("itunes_author") or owner.get("name") or data.get("_atom_author")
        or data.get("_managing_editor") or "",
        description=data.get("description") or "",
        link=data.get("link") or None,
        image=data.get("cover_url") or None,
        language=data.get("language") or None,
        categories=data.get("_categories", []),
        persons=data.get("_persons", []),
        funding=data.get("_funding", []),
        podcast_guid=data.get("_podcast_guid"),
        explicit=data.get("explicit"),
        locked=data.get("import_prohibited"),
    )
    episodes: list[Episode] = []
    seen: set[str] = set()
    for entry in data["episodes"]:  # newest first; a repeated GUID keeps its newest entry
        if not entry.get("guid") or entry["guid"] in seen:
            continue  # no GUID: its validation was cut short by a malformed value
        seen.add(entry["guid"])
        episodes.append(_to_episode(entry))
    new_url = (data.get("new_url") or "").strip() or None
    return ParsedFeed(podcast=podcast, episodes=episodes, new_url=new_url)

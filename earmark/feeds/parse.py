"""Feed bytes → ParsedFeed.

podcastparser (gPodder's SAX parser) does the work; this module teaches its handler the tags it
lacks (every ``podcast:transcript``, person, soundbite, funding, guid, alternateEnclosure …),
runs it on defusedxml's expat so entity bombs are refused, and salvages broken-but-readable
documents (see ``salvage``). Where podcastparser's own handling is wrong for a player that keys
episodes by GUID and must not crash on one bad value, its targets are replaced here (GUIDs,
dates, empty enclosure URLs) and a malformed element is skipped rather than failing the feed.
"""

from __future__ import annotations

import calendar
import io
import logging
import math
import mimetypes
import posixpath
from datetime import UTC, datetime
from email.utils import parsedate_tz
from urllib.parse import urlparse
from xml.sax import SAXParseException
from xml.sax.handler import feature_external_ges, feature_external_pes

import podcastparser as pp
from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from earmark.errors import FeedError
from earmark.feeds.salvage import declares_entities, looks_like_html, repairs
from earmark.models import (
    AlternateEnclosure,
    Chapter,
    ChaptersLink,
    Episode,
    Funding,
    ParsedFeed,
    Person,
    Podcast,
    Soundbite,
    TranscriptLink,
)

# podcastparser logs a warning per undeclared prefix; thousands per corpus refresh are noise.
logging.getLogger("podcastparser").setLevel(logging.ERROR)
log = logging.getLogger(__name__)


class _Namespace(pp.Namespace):
    NAMESPACES = {
        **pp.Namespace.NAMESPACES,
        "https://podcastindex.org/namespace/1.0": "podcast",
        "http://podcastindex.org/namespace/1.0": "podcast",
        "https://podlove.org/simple-chapters": "psc",
        "https://podlove.org/simple-chapters/": "psc",
    }


# Feed numbers beyond this are garbage, and SQLite's INTEGER overflows at 2**63.
_MAX_INT = 2**53
# Unix times a datetime can hold (years 1-9999); others would sort first, then fail to convert.
_TIME_RANGE = range(-62135596800, 253402300800)


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    # "nan" / "inf" / "1e999" parse as floats but are no time or size.
    return number if number is not None and math.isfinite(number) else None


def _int(value: str | None) -> int | None:
    number = _float(value)
    return int(number) if number is not None and abs(number) < _MAX_INT else None


def _count(value) -> int | None:
    """A positive int in range (durations, sizes, season/episode numbers), else None."""
    return value if isinstance(value, int) and 0 < value < _MAX_INT else None


def _pubdate(text: str) -> int:
    """Unix time of an RFC 822 or ISO 8601 date, 0 when unreadable.

    podcastparser reads a zone-less or fractional-second ISO date ("…T05:00:00.000Z", common in
    Atom) as the machine's local time; here a date without a zone is UTC, wherever we run.
    """
    text = text.strip()
    if not text:
        return 0
    try:
        if (parsed := parsedate_tz(text)) is not None:
            seconds = calendar.timegm(parsed[:9]) - (parsed[9] or 0)
        else:
            value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            seconds = int(value.timestamp())
    except (OverflowError, ValueError, OSError):
        return 0
    return seconds if seconds in _TIME_RANGE else 0


# Targets below keep their state on the handler's current episode, never on self: the target
# objects are shared by every parse.


class _Transcript(pp.Target):
    def start(self, handler, attrs):
        if url := (attrs.get("url") or "").strip():
            handler.episodes[-1].setdefault("_transcripts", []).append(
                TranscriptLink(
                    url=pp.urlparse.urljoin(handler.base, url),
                    type=(attrs.get("type") or "").strip().lower() or _guess_type(url),
                    language=attrs.get("language") or None,
                    rel=attrs.get("rel") or None,
                )
            )


class _ChaptersLink(pp.Target):
    def start(self, handler, attrs):
        if url := (attrs.get("url") or "").strip():
            handler.episodes[-1]["_chapters_link"] = ChaptersLink(
                url=pp.urlparse.urljoin(handler.base, url),
                type=(attrs.get("type") or "application/json+chapters").strip(),
            )


class _Soundbite(pp.Target):
    WANT_TEXT = True

    # podcastparser gives attrs to start() and text to end(); the times wait on the episode.
    def start(self, handler, attrs):
        handler.episodes[-1]["_soundbite_times"] = (_float(attrs.get("startTime")), _float(attrs.get("duration")))

    def end(self, handler, text):
        start, duration = handler.episodes[-1].pop("_soundbite_times", (None, None))
        if start is not None and duration is not None:
            handler.episodes[-1].setdefault("_soundbites", []).append(
                Soundbite(start=start, duration=duration, title=pp.squash_whitespace(text) or None)
            )


class _Funding(pp.Target):
    """podcast:funding on the channel (``episode=False``) or an item."""

    WANT_TEXT = True

    def __init__(self, episode: bool):
        super().__init__()
        self.episode = episode

    def _owner(self, handler) -> dict:
        return handler.episodes[-1] if self.episode else handler.data

    def start(self, handler, attrs):
        self._owner(handler)["_funding_url"] = (attrs.get("url") or "").strip()

    def end(self, handler, text):
        owner = self._owner(handler)
        if url := owner.pop("_funding_url", ""):
            owner.setdefault("_funding", []).append(Funding(url=url, text=pp.squash_whitespace(text)))


class _ChannelPerson(pp.Target):
    WANT_TEXT = True

    def start(self, handler, attrs):
        handler.data.setdefault("_persons", []).append(_person(attrs))

    def end(self, handler, text):
        handler.data["_persons"][-1].name = pp.squash_whitespace(text)


class _EpisodePerson(pp.Target):
    WANT_TEXT = True

    def start(self, handler, attrs):
        handler.episodes[-1].setdefault("_persons", []).append(_person(attrs))

    def end(self, handler, text):
        handler.episodes[-1]["_persons"][-1].name = pp.squash_whitespace(text)


def _person(attrs) -> Person:
    return Person(
        name="",
        role=(attrs.get("role") or "host").strip().lower(),
        group=(attrs.get("group") or "cast").strip().lower(),
        img=attrs.get("img") or None,
        href=attrs.get("href") or None,
    )


class _AlternateEnclosure(pp.Target):
    def start(self, handler, attrs):
        handler.episodes[-1].setdefault("_alternates", []).append(
            AlternateEnclosure(
                type=(attrs.get("type") or "").strip(),
                length=_int(attrs.get("length")),
                bitrate=_float(attrs.get("bitrate")),
                height=_int(attrs.get("height")),
                lang=attrs.get("lang") or None,
                title=attrs.get("title") or None,
                rel=attrs.get("rel") or None,
                default=(attrs.get("default") or "").lower() == "true",
            )
        )


class _AlternateSource(pp.Target):
    def start(self, handler, attrs):
        alternates = handler.episodes[-1].get("_alternates")
        if alternates and (uri := (attrs.get("uri") or "").strip()):
            alternates[-1].sources.append(pp.urlparse.urljoin(handler.base, uri))


class _PodcastText(pp.Target):
    """A text element stored under ``key`` on the channel (episode=False) or the item."""

    WANT_TEXT = True

    def __init__(self, key: str, episode: bool):
        super().__init__(key)
        self.episode = episode

    def end(self, handler, text):
        owner = handler.episodes[-1] if self.episode else handler.data
        if value := pp.squash_whitespace(text):
            owner.setdefault(self.key, value)


class _Guid(pp.Target):
    """``<guid>``, kept verbatim: it is the episode's identity in the store. podcastparser resolves
    an isPermaLink GUID against the feed URL, so "4r06Zy:_ddVRA" became "https://host/4r06Zy:_ddVRA"
    and every episode would change identity when the feed moves (redirect, new-feed-url)."""

    WANT_TEXT = True

    def start(self, handler, attrs):
        handler.episodes[-1]["_guid_is_permalink"] = attrs.get("isPermaLink", "true").strip().lower() == "true"

    def end(self, handler, text):
        entry = handler.episodes[-1]
        if (guid := text.strip()) or entry.get("guid") is None:
            entry["guid"] = guid


class _Enclosure(pp.Enclosure):
    # podcastparser joins url="" with the feed URL, making the feed itself the episode's audio
    # (and, for GUID-less items, every episode the same one).
    def start(self, handler, attrs):
        if (attrs.get("url") or "").strip():
            super().start(handler, attrs)


class _AtomLink(pp.AtomLink):
    def start(self, handler, attrs):
        if (attrs.get("href") or "").strip():  # as _Enclosure: no href is no link, not the feed URL
            super().start(handler, attrs)


class _AtomContent(pp.Target):
    """podcastparser's AtomContent, with the content type kept on the entry, not on the shared target."""

    WANT_TEXT = True

    def start(self, handler, attrs):
        handler.episodes[-1]["_atom_content_type"] = attrs.get("type", "text")

    def end(self, handler, text):
        kind = handler.episodes[-1].pop("_atom_content_type", "text")
        if kind == "html":
            handler.set_episode_attr("description_html", text)
        elif kind == "text":
            handler.set_episode_attr("description", pp.squash_whitespace_not_nl(text))


class _Category(pp.Target):
    """``itunes:category`` at one depth, giving "Parent > Child" labels. podcastparser appends every
    subcategory to its parent's one list, so siblings (Technology: Software How-To, Tech News)
    read as a chain, "Technology > Software How-To > Tech News"."""

    def start(self, handler, attrs):
        path = handler.data.setdefault("_category_path", [])
        path.append(pp.squash_whitespace(attrs.get("text") or ""))
        if path[-1]:
            label = " > ".join(name for name in path if name)
            labels = handler.data.setdefault("_categories", [])
            if label not in labels:
                labels.append(label)

    def end(self, handler, text):
        handler.data["_category_path"].pop()


_CATEGORY_DEPTH = 4  # Apple defines two levels; deeper nesting is kept, up to a point


def _extra_mapping() -> dict[str, pp.Target]:
    item_targets = {
        "podcast:transcript": _Transcript(),
        "podcast:chapters": _ChaptersLink(),
        "podcast:person": _EpisodePerson(),
        "podcast:soundbite": _Soundbite(),
        "podcast:funding": _Funding(episode=True),
        "podcast:alternateEnclosure": _AlternateEnclosure(),
        "podcast:alternateEnclosure/podcast:source": _AlternateSource(),
        "podcast:season": _PodcastText("_p20_season", episode=True),
        "podcast:episode": _PodcastText("_p20_episode", episode=True),
    }
    mapping: dict[str, pp.Target] = {
        "rss/channel/item/guid": _Guid(),
        "rss/channel/item/pubDate": pp.EpisodeAttr("published", _pubdate),
        "rss/channel/item/enclosure": _Enclosure("length"),
        "rss/channel/item/media:content": _Enclosure("fileSize"),
        "rss/channel/item/media:group/media:content": _Enclosure("fileSize"),
        "rss/channel/item/atom:link": _AtomLink(),
        "atom:feed/atom:entry/atom:link": _AtomLink(),
        "atom:feed/atom:entry/atom:content": _AtomContent(),
        "atom:feed/atom:entry/atom:published": pp.EpisodeAttr("published", _pubdate),
        "atom:feed/atom:entry/atom:updated": pp.EpisodeAttr("published", _pubdate, overwrite=False),
        "rss/channel/podcast:person": _ChannelPerson(),
        "rss/channel/podcast:funding": _Funding(episode=False),
        "rss/channel/podcast:guid": _PodcastText("_podcast_guid", episode=False),
        "rss/channel/managingEditor": _PodcastText("_managing_editor", episode=False),
        "atom:feed/atom:author/atom:name": _PodcastText("_atom_author", episode=False),
        "atom:feed/atom:entry/atom:author/atom:name": _PodcastText("_atom_author", episode=True),
    }
    for depth in range(1, _CATEGORY_DEPTH + 1):
        mapping["rss/channel" + "/itunes:category" * depth] = _Category()
    for path, target in item_targets.items():
        mapping[f"rss/channel/item/{path}"] = target
        mapping[f"atom:feed/atom:entry/{path}"] = target
    return mapping


MAPPING = {**pp.MAPPING, **_extra_mapping()}


class _Handler(pp.PodcastHandler):
    """podcastparser's handler with our mapping, namespaces, GUID fallback, and a malformed
    element skipped instead of failing the whole feed."""

    def startElement(self, name, attrs):
        self.namespace = _Namespace(attrs, self.namespace)
        name = self.namespace.map(name)
        if not self.path_stack and name not in pp.VALID_ROOTS:
            raise pp.FeedParseError(msg=f"Unsupported feed type: {name}", exception=None, locator=self._locator)
        self.path_stack.append(name)
        target = MAPPING.get("/".join(self.path_stack))
        if target is not None:
            try:
                target.start(self, attrs)
            except _ELEMENT_ERRORS as exc:
                _skip(self, name, exc)
            if target.WANT_TEXT:
                self.text = []

    def endElement(self, name):
        target = MAPPING.get("/".join(self.path_stack))
        if target is not None:
            try:
                target.end(self, "".join(self.text) if self.text is not None else "")
            except _ELEMENT_ERRORS as exc:
                _skip(self, name, exc)
            self.text = None
        if self.namespace is not None:
            self.namespace = self.namespace.parent
        self.path_stack.pop()

    def validate_episode(self):
        entry = self.episodes[-1]
        guid = entry.get("guid") or ""
        if guid and entry.get("_guid_is_permalink") and not entry.get("link"):
            try:
                entry["link"] = pp.urlparse.urljoin(self.base, guid)  # the GUID stays verbatim; the link resolves
            except ValueError:
                pass
        entry["_guid_is_permalink"] = False
        if not guid:
            # GUID fallback: enclosure URL, then link (podcastparser tries link first and keeps
            # empty <guid></guid>, which would make every such episode the same one).
            entry.pop("guid", None)
            if entry["enclosures"]:
                entry["guid"] = entry["enclosures"][0]["url"]
        if not entry.get("title"):
            entry.pop("title", None)  # <title></title> is no title: podcastparser names it after its file
        super().validate_episode()


# A value urllib or int() cannot take (a URL with "[" in its host, a number out of range) costs
# its own element, not the feed.
_ELEMENT_ERRORS = (ValueError, ArithmeticError, LookupError)


def _skip(handler: _Handler, name: str, exc: Exception) -> None:
    log.debug("%s: skipping <%s>: %s", handler.url, name, exc)


def _run_parser(content: bytes, url: str) -> dict:
    handler = _Handler(url, 0)
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


def _truncated(exc: SAXParseException) -> bool:
    return exc.getMessage() == "no element found"


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


def _guess_type(url: str) -> str:
    try:
        guessed, _ = mimetypes.guess_type(posixpath.basename(urlparse(url).path))
    except ValueError:
        guessed = None
    return guessed or "application/octet-stream"


def _pick_enclosure(enclosures: list[dict]) -> dict | None:
    """The first audio enclosure, else the first of any type."""
    for enclosure in enclosures:
        mime = enclosure["mime_type"]
        if mime == "application/octet-stream":
            mime = enclosure["mime_type"] = _guess_type(enclosure["url"])
        if mime.startswith("audio/"):
            return enclosure
    return enclosures[0] if enclosures else None


def _to_episode(entry: dict) -> Episode:
    enclosure = _pick_enclosure(entry["enclosures"])
    season = _count(entry.get("season")) or _count(_int(entry.get("_p20_season")))
    number = _count(entry.get("number")) or _count(_int(entry.get("_p20_episode")))
    return Episode(
        guid=entry["guid"],
        title=entry.get("title", ""),
        published=_timestamp(entry.get("published")),
        duration=_count(entry.get("total_time")),
        description=entry.get("description") or "",
        description_html=entry.get("description_html") or "",
        link=entry.get("link") or None,
        enclosure_url=enclosure["url"] if enclosure else None,
        enclosure_type=enclosure["mime_type"] if enclosure else None,
        enclosure_length=_count(enclosure["file_size"]) if enclosure else None,
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

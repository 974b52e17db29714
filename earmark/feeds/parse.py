"""Feed bytes → ParsedFeed.

podcastparser (gPodder's SAX parser) does the work; this module teaches its handler the tags it
lacks (every ``podcast:transcript``, person, soundbite, funding, guid, alternateEnclosure …),
runs it on defusedxml's expat so entity bombs are refused, and salvages broken-but-readable
documents (see ``salvage``).
"""

from __future__ import annotations

import io
import logging
import mimetypes
import posixpath
from datetime import UTC, datetime
from urllib.parse import urlparse

import podcastparser as pp
from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from xml.sax import SAXParseException

from earmark.errors import FeedError
from earmark.feeds.salvage import looks_like_html, salvage
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


class _Namespace(pp.Namespace):
    NAMESPACES = {
        **pp.Namespace.NAMESPACES,
        "https://podcastindex.org/namespace/1.0": "podcast",
        "http://podcastindex.org/namespace/1.0": "podcast",
        "https://podlove.org/simple-chapters": "psc",
        "https://podlove.org/simple-chapters/": "psc",
    }


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


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
        "rss/channel/podcast:person": _ChannelPerson(),
        "rss/channel/podcast:funding": _Funding(episode=False),
        "rss/channel/podcast:guid": _PodcastText("_podcast_guid", episode=False),
        "rss/channel/managingEditor": _PodcastText("_managing_editor", episode=False),
        "atom:feed/atom:author/atom:name": _PodcastText("_atom_author", episode=False),
        "atom:feed/atom:entry/atom:author/atom:name": _PodcastText("_atom_author", episode=True),
    }
    for path, target in item_targets.items():
        mapping[f"rss/channel/item/{path}"] = target
        mapping[f"atom:feed/atom:entry/{path}"] = target
    return mapping


MAPPING = {**pp.MAPPING, **_extra_mapping()}


class _Handler(pp.PodcastHandler):
    """podcastparser's handler with our mapping, namespaces and GUID fallback."""

    def startElement(self, name, attrs):
        self.namespace = _Namespace(attrs, self.namespace)
        name = self.namespace.map(name)
        if not self.path_stack and name not in pp.VALID_ROOTS:
            raise pp.FeedParseError(msg=f"Unsupported feed type: {name}", exception=None, locator=self._locator)
        self.path_stack.append(name)
        target = MAPPING.get("/".join(self.path_stack))
        if target is not None:
            target.start(self, attrs)
            if target.WANT_TEXT:
                self.text = []

    def endElement(self, name):
        target = MAPPING.get("/".join(self.path_stack))
        if target is not None:
            target.end(self, "".join(self.text) if self.text is not None else "")
            self.text = None
        if self.namespace is not None:
            self.namespace = self.namespace.parent
        self.path_stack.pop()

    def validate_episode(self):
        # GUID fallback: enclosure URL, then link (podcastparser tries link first and keeps
        # empty <guid></guid>, which would make every such episode the same one).
        entry = self.episodes[-1]
        if not (entry.get("guid") or "").strip():
            entry.pop("guid", None)
            if entry["enclosures"]:
                entry["guid"] = entry["enclosures"][0]["url"]
        super().validate_episode()


def _run_parser(content: bytes, url: str) -> dict:
    handler = _Handler(url, 0)
    parser = make_parser()  # defusedxml: entity declarations and external references are refused
    parser.setContentHandler(handler)
    parser.parse(io.BytesIO(content))
    return handler.data


def parse_feed(content: bytes, url: str) -> ParsedFeed:
    """Parse a feed document fetched from ``url``. Raises FeedError saying what is wrong."""
    if not content.strip():
        raise FeedError(f"{url}: the response is empty, not a feed")
    if looks_like_html(content):
        raise FeedError(f"{url}: got an HTML page, not a podcast feed (is this the website's address?)")
    try:
        data = _run_parser(content, url)
    except DefusedXmlException as exc:
        raise FeedError(f"{url}: refused: the feed uses XML entity declarations ({type(exc).__name__})") from exc
    except SAXParseException as first:
        if first.getMessage() == "no element found":
            # The document stops mid-way: a cut-off transfer, not something to guess the rest of.
            raise FeedError(f"{url}: the feed is truncated: {_describe(first)}") from first
        repaired = salvage(content)
        if repaired is None:
            raise FeedError(f"{url}: not a readable feed: {_describe(first)}") from first
        try:
            data = _run_parser(repaired, url)
        except DefusedXmlException as exc:
            raise FeedError(f"{url}: refused: the feed uses XML entity declarations") from exc
        except SAXParseException:
            raise FeedError(f"{url}: not a readable feed: {_describe(first)}") from first
    return _to_records(data, url)


def _describe(exc: SAXParseException) -> str:
    message = exc.getMessage()
    if message.startswith("Unsupported feed type"):
        return f"the document is XML but not RSS or Atom ({message})"
    return f"{message} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def _guess_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(posixpath.basename(urlparse(url).path))
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
    season = entry.get("season") or _int(entry.get("_p20_season"))
    number = entry.get("number") or _int(entry.get("_p20_episode"))
    return Episode(
        guid=entry["guid"],
        title=entry.get("title", ""),
        published=_timestamp(entry.get("published")),
        duration=entry.get("total_time") or None,
        description=entry.get("description") or "",
        description_html=entry.get("description_html") or "",
        link=entry.get("link") or None,
        enclosure_url=enclosure["url"] if enclosure else None,
        enclosure_type=enclosure["mime_type"] if enclosure else None,
        enclosure_length=enclosure["file_size"] if enclosure and enclosure["file_size"] > 0 else None,
        image=entry.get("episode_art_url"),
        season=season or None,
        number=number or None,
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


def _categories(raw: list[list[str]]) -> list[str]:
    out: list[str] = []
    for path in raw:
        names = [name for name in path if name]
        for depth in range(1, len(names) + 1):
            label = " > ".join(names[:depth])
            if label not in out:
                out.append(label)
    return out


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
        categories=_categories(data.get("itunes_categories", [])),
        persons=data.get("_persons", []),
        funding=data.get("_funding", []),
        podcast_guid=data.get("_podcast_guid"),
        explicit=data.get("explicit"),
        locked=data.get("import_prohibited"),
    )
    episodes: list[Episode] = []
    seen: set[str] = set()
    for entry in data["episodes"]:  # newest first; a repeated GUID keeps its newest entry
        if entry["guid"] in seen:
            continue
        seen.add(entry["guid"])
        episodes.append(_to_episode(entry))
    new_url = (data.get("new_url") or "").strip() or None
    return ParsedFeed(podcast=podcast, episodes=episodes, new_url=new_url)

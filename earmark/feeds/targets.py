"""podcastparser's SAX handler, taught what a podcast player needs.

Targets for the tags podcastparser lacks (every ``podcast:transcript``, person, soundbite,
funding, guid, alternateEnclosure …) and replacements where its own handling is wrong for a
player that keys episodes by GUID and must not crash on one bad value (GUIDs, dates, categories,
empty enclosure URLs). Targets keep per-parse state on the handler, never on themselves: the
target objects are shared by every parse.
"""

from __future__ import annotations

import calendar
import logging
import math
import mimetypes
import posixpath
from datetime import UTC, datetime
from email.utils import parsedate_tz
from urllib.parse import urlparse

import podcastparser as pp

from earmark.models import (
    AlternateEnclosure,
    ChaptersLink,
    Funding,
    Person,
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


def to_int(value: str | None) -> int | None:
    number = _float(value)
    return int(number) if number is not None and abs(number) < _MAX_INT else None


def to_count(value) -> int | None:
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
                    type=(attrs.get("type") or "").strip().lower() or guess_type(url),
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
                length=to_int(attrs.get("length")),
                bitrate=_float(attrs.get("bitrate")),
                height=to_int(attrs.get("height")),
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


class FeedHandler(pp.PodcastHandler):
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


def _skip(handler: FeedHandler, name: str, exc: Exception) -> None:
    log.debug("%s: skipping <%s>: %s", handler.url, name, exc)


def guess_type(url: str) -> str:
    try:
        guessed, _ = mimetypes.guess_type(posixpath.basename(urlparse(url).path))
    except ValueError:
        guessed = None
    return guessed or "application/octet-stream"

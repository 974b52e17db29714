"""Every feed in the shared corpus through parse_feed, and our results against the expected parses
that podcastparser and feed-rs ship with their fixtures.

Facts asserted here (counts, broken bytes) are checked against the files themselves, so a test
fails if either the parser or the corpus changes under it.
"""

from __future__ import annotations

import functools
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import podcastparser
import pytest

from earmark.errors import FeedError
from earmark.feeds.parse import parse_feed
from earmark.models import ParsedFeed
from tests.conftest import CORPUS

FEEDS_DIR = CORPUS / "feeds"
FEEDS = sorted(p for p in FEEDS_DIR.iterdir() if not p.name.endswith(".expected.json"))

# Feeds that must fail, and a word the error must contain to say why.
EXPECTED_FAILURES = {
    "feedrs__rss_2.0_invalid_1.xml": "truncated",  # a Reuters feed cut off mid-document
}

# Feeds that parse to no episode at all, and why that is right.
NO_EPISODES = {
    "nodepodcastparser__complex-genre.xml": "category fixture: a channel without items",
    "podcastparser__atom_relative_cover.rss": "Atom fixture for <icon>: no entries",
    "podcastparser__empty.rss": "empty channel",
    "podcastparser__image_url_on_newline.rss": "channel image fixture: no items",
    "podcastparser__new_feed_url.rss": "itunes:new-feed-url fixture: no items",
    "podcastparser__paged_feed.rss": "RFC 5005 paging fixture: no items",
    "podcastparser__podcast_funding.rss": "channel podcast:funding fixture: no items",
    "podcastparser__podcast_locked_feed.rss": "channel podcast:locked fixture: no items",
    "podcastparser__redirect_new_location.rss": "<redirect><newLocation> fixture: no items",
    "podcastparser__no_title_multi_enclosure.rss": "its one item is dropped, see DROPPED_ITEMS",
    "podcastparser__no_url.rss": "its one item is dropped, see DROPPED_ITEMS",
}

# Items in a file that legitimately give no episode.
DROPPED_ITEMS = {
    # Neither a title nor a single enclosure to name it after (podcastparser drops it too).
    "podcastparser__no_title_multi_enclosure.rss": 1,
    # No GUID, no link and an enclosure without url: nothing identifies the episode.
    "podcastparser__no_url.rss": 1,
}

# The podcastparser fixtures are minimal hand-made items without <pubDate>; every real feed dates
# every item.
UNDATED_OK = {p.name for p in FEEDS if p.name.startswith("podcastparser__")}

# A relative enclosure only resolves against where the feed came from; feed-rs had no base URL.
FEED_URLS = {"feedrs__rss_2.0_relurl_2.xml": "https://kryogenix.org/random/relurleg.xml"}


def feed_url(name: str) -> str:
    if name.startswith("podcastparser__"):
        # What podcastparser's tests passed: relative URLs and GUIDs resolve against it.
        return "file://tests/data/" + name.split("__", 1)[1]
    return FEED_URLS.get(name, f"https://feeds.example.com/{name}")


@functools.cache
def content(name: str) -> bytes:
    return (FEEDS_DIR / name).read_bytes()


@functools.cache
def parsed(name: str) -> ParsedFeed:
    return parse_feed(content(name), feed_url(name))


def independent_count(data: bytes) -> int:
    """Items by a regex, not a parser. ``[\\s>]`` skips ``<itemref>`` and prefixed tags such as
    Acast's ``<podaccess:item>`` (premium copies of public items, which are not episodes)."""
    return len(re.findall(rb"<(?:item|entry)[\s>]", data))


def test_the_corpus_is_there():
    assert len(FEEDS) == 106
    assert len(list(FEEDS_DIR.glob("*.expected.json"))) == 37
    for name in [*EXPECTED_FAILURES, *NO_EPISODES, *DROPPED_ITEMS, *FEED_URLS]:
        assert (FEEDS_DIR / name).is_file(), name


@pytest.mark.parametrize("path", FEEDS, ids=lambda p: p.name)
def test_feed_parses_or_fails_with_a_feed_error(path):
    name = path.name
    if name in EXPECTED_FAILURES:
        with pytest.raises(FeedError) as failure:
            parse_feed(content(name), feed_url(name))
        message = str(failure.value)
        assert feed_url(name) in message
        assert EXPECTED_FAILURES[name] in message
        return

    feed = parsed(name)  # any exception, FeedError included, fails the test
    assert feed.podcast.title.strip()
    assert feed.podcast.url == feed_url(name)
    if name in NO_EPISODES:
        assert feed.episodes == []
    else:
        assert feed.episodes

    guids = [episode.guid for episode in feed.episodes]
    assert all(guid and guid == guid.strip() for guid in guids)
    assert len(set(guids)) == len(guids)
    for episode in feed.episodes:
        assert episode.title.strip(), episode.guid
        if episode.published is None:
            assert name in UNDATED_OK, episode.guid
        else:
            assert episode.published.tzinfo is not None
            assert episode.published.utcoffset().total_seconds() == 0
        assert episode.duration is None or episode.duration > 0
        assert episode.enclosure_length is None or episode.enclosure_length > 0
        assert episode.enclosure_url is None or episode.enclosure_url.strip() == episode.enclosure_url != ""


@pytest.mark.parametrize(
    "path", [p for p in FEEDS if p.name not in EXPECTED_FAILURES], ids=lambda p: p.name
)
def test_every_item_becomes_an_episode(path):
    """No item is lost or merged, whatever is wrong with it; the exceptions are in DROPPED_ITEMS."""
    expected = independent_count(content(path.name)) - DROPPED_ITEMS.get(path.name, 0)
    assert len(parsed(path.name).episodes) == expected


# Large real feeds, counted by hand from SOURCES.tsv, so the regex itself is checked too.
LARGE_FEEDS = {
    "podcatcher__How_I_Built_This_with_Guy_Raz.rss": 525,
    "podcatcher__Hipsters_Ponto_Tech.rss": 435,
    "podcatcher__Talk_Python_To_Me.rss": 417,
    "nodepodcastparser__atp.xml": 395,  # also needs salvage: newline before <?xml
    "podcatcher__Making_Sense_with_Sam_Harris.rss": 346,  # 2 items have no enclosure; their GUIDs keep them
    "nodepodcastparser__se-radio.xml": 249,  # 166 empty GUIDs
    "podcatcher__Athletico_Mince.rss": 184,  # plus 84 <podaccess:item> premium copies, not episodes
}


@pytest.mark.parametrize("name", LARGE_FEEDS)
def test_large_feed_episode_counts(name):
    assert independent_count(content(name)) == LARGE_FEEDS[name]
    assert len(parsed(name).episodes) == LARGE_FEEDS[name]


def test_making_sense_keeps_its_items_without_audio():
    episodes = parsed("podcatcher__Making_Sense_with_Sam_Harris.rss").episodes
    assert len([e for e in episodes if e.enclosure_url is None]) == 2


def test_athletico_mince_premium_copies_are_not_items():
    data = content("podcatcher__Athletico_Mince.rss")
    assert len(re.findall(rb"<podaccess:item[\s>]", data)) == 84


# --- salvage -----------------------------------------------------------------------------------

LEADING_NEWLINE = [
    "nodepodcastparser__atp.xml",
    "nodepodcastparser__podnews.xml",
    "nodepodcastparser__landofgiants.xml",
    "nodepodcastparser__how-to-start-a-podcast.xml",
]


def strict_parse_fails(name: str) -> bool:
    try:
        podcastparser.parse(feed_url(name), io.BytesIO(content(name)))
    except podcastparser.FeedParseError:
        return True
    return False


@pytest.mark.parametrize("name", LEADING_NEWLINE)
def test_leading_newline_before_the_xml_declaration(name):
    data = content(name)
    assert data.startswith(b"\n<?xml")
    assert strict_parse_fails(name)
    feed = parsed(name)
    assert len(feed.episodes) == independent_count(data) > 0
    # Nothing is lost in the repair: the same as parsing the bytes without the newline.
    assert feed == parse_feed(data[1:], feed_url(name))


def test_missing_channel_start_tag():
    name = "jbierfeldt__all-things-chemical_bad.xml"
    data = content(name)
    assert b"<channel>" not in data and b"</channel>" in data
    assert strict_parse_fails(name)
    feed = parsed(name)
    assert feed.podcast.title == "All Things Chemical"
    assert len(feed.episodes) == independent_count(data) == 4
    assert [e.episode_type for e in feed.episodes].count("trailer") == len(
        re.findall(rb"<itunes:episodeType>trailer<", data)
    ) == 1
    assert all(e.enclosure_url and e.published for e in feed.episodes)
    # Nothing is lost in the repair: the same as the strict parse with the start tag put back.
    rss_start = re.search(rb"<rss[^>]*>", data).end()
    assert feed == parse_feed(data[:rss_start] + b"<channel>" + data[rss_start:], feed_url(name))


def test_empty_guids_give_distinct_episodes():
    name = "nodepodcastparser__se-radio.xml"
    data = content(name)
    empty = len(re.findall(rb"<guid[^>]*/>|<guid[^>]*>\s*</guid>", data))
    assert empty == 166
    episodes = parsed(name).episodes
    assert len({e.guid for e in episodes}) == len(episodes) == 249
    # Those without a GUID are identified by their enclosure URL.
    assert sum(1 for e in episodes if e.guid == e.enclosure_url) == empty


def test_enclosures_without_type_get_one_from_the_file_name():
    name = "podcatcher__Cognicast.rss"
    data = content(name)
    enclosures = re.findall(rb"<enclosure[^>]*>", data)
    assert len(enclosures) == 172 and not any(b"type=" in e or b"length=" in e for e in enclosures)
    episodes = parsed(name).episodes
    assert len(episodes) == 172
    assert {e.enclosure_type for e in episodes} == {"audio/mpeg"}
    assert all(e.enclosure_url.endswith(".mp3") and e.enclosure_length is None for e in episodes)
    # 15 empty <itunes:duration/> and one "2024.0": no duration, and 2024 seconds.
    assert sum(1 for e in episodes if e.duration is None) == 15
    assert sum(1 for e in episodes if e.duration == 2024) >= 1


def test_iso_8859_1_bytes_are_decoded():
    name = "feedrs__rss_2.0_encoding_1.xml"
    data = content(name)
    assert b'encoding="ISO-8859-1"' in data and "Revolução".encode("latin-1") in data
    feed = parsed(name)
    assert feed.podcast.title == "RSS Feed do Site Inovação Tecnológica"
    assert [e.title for e in feed.episodes] == ["Revolução nas telas com pontos quânticos impressos em 3D"]


def test_truncated_feed_names_url_and_place():
    name = "feedrs__rss_2.0_invalid_1.xml"
    assert not content(name).rstrip().endswith(b"</rss>")
    with pytest.raises(FeedError, match=r"truncated.*line \d+"):
        parse_feed(content(name), "https://example.com/reuters.xml")


# --- podcastparser's expected parses -----------------------------------------------------------

PODCASTPARSER_EXPECTED = sorted(FEEDS_DIR.glob("podcastparser__*.expected.json"))

# (file, field) -> (why we differ, the value we give). Listed so a change on either side shows.
PODCASTPARSER_DIFFERENCES = {
    ("podcastparser__no_guid.rss", "episodes[0].guid"): (
        "no <guid>: our fallback is the enclosure URL, then the link; podcastparser takes the link first",
        "http://example.com/test.ogg",
    ),
    ("podcastparser__chapters.rss", "episodes[0].guid"): (
        "we keep <guid> verbatim; podcastparser resolves an isPermaLink GUID against the feed URL, "
        "so a GUID would change whenever the feed moves",
        "episode",
    ),
    ("podcastparser__itunes_duration.rss", "episodes[0].guid"): ("as chapters.rss", "a"),
    ("podcastparser__itunes_no_xmlns.rss", "episodes[0].guid"): ("as chapters.rss", "a"),
}


def _unix(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def podcastparser_fields(feed: ParsedFeed, expected: dict) -> dict[str, tuple]:
    """field -> (ours, podcastparser's), for every field of the expected parse we have."""
    podcast = feed.podcast
    fields = {
        "title": (podcast.title, expected["title"]),
        "len(episodes)": (len(feed.episodes), len(expected["episodes"])),
    }
    channel = {
        "link": podcast.link,
        "cover_url": podcast.image,
        "new_url": feed.new_url,
        "import_prohibited": podcast.locked,
        "funding_url": podcast.funding[0].url if podcast.funding else None,
    }
    for key, ours in channel.items():
        if key in expected:
            fields[key] = (ours, expected[key])
    for i, (ours, theirs) in enumerate(zip(feed.episodes, expected["episodes"])):
        pairs = {
            "title": (ours.title, theirs["title"]),
            "guid": (ours.guid, theirs["guid"]),
            "link": (ours.link or "", theirs["link"]),
            "published": (_unix(ours.published), theirs["published"]),
            "duration": (ours.duration or 0, theirs["total_time"]),
            "description": (ours.description, theirs["description"]),
            # We keep one enclosure; in these fixtures the first listed is the audio one.
            "enclosure_url": (ours.enclosure_url, theirs["enclosures"][0]["url"] if theirs["enclosures"] else None),
            "chapters": (
                [{"start": c.start, "title": c.title, "href": c.href, "image": c.image} for c in ours.chapters],
                [{"href": None, "image": None, **c} for c in theirs.get("chapters", [])],
            ),
            "transcript_urls": (
                [t.url for t in ours.transcripts],
                [theirs["transcript_url"]] if "transcript_url" in theirs else [],
            ),
            "chapters_url": (ours.chapters_link.url if ours.chapters_link else None, theirs.get("chapters_json_url")),
            "persons": (
                [{"name": p.name, "role": p.role, "group": p.group, "href": p.href, "img": p.img}
                 for p in ours.persons],
                theirs.get("persons", []),
            ),
            "episode_type": (ours.episode_type, theirs.get("type")),
            "image": (ours.image, theirs.get("episode_art_url")),
        }
        if "description_html" in theirs:
            pairs["description_html"] = (ours.description_html, theirs["description_html"])
        for key, pair in pairs.items():
            fields[f"episodes[{i}].{key}"] = pair
    return fields


@pytest.mark.parametrize("expected_path", PODCASTPARSER_EXPECTED, ids=lambda p: p.name)
def test_matches_podcastparser_expected(expected_path):
    name = expected_path.name.replace(".expected.json", ".rss")
    expected = json.loads(expected_path.read_text())
    fields = podcastparser_fields(parsed(name), expected)
    differing = {key: pair for key, pair in fields.items() if pair[0] != pair[1]}
    kept = {field: ours for (file, field), (_, ours) in PODCASTPARSER_DIFFERENCES.items() if file == name}
    assert {key: ours for key, (ours, _) in differing.items()} == kept


def test_podcastparser_differences_are_current():
    names = {p.name.replace(".expected.json", ".rss") for p in PODCASTPARSER_EXPECTED}
    assert {file for file, _ in PODCASTPARSER_DIFFERENCES} <= names


# --- feed-rs's expected parses -----------------------------------------------------------------

FEEDRS_EXPECTED = sorted(FEEDS_DIR.glob("feedrs__*.expected.json"))

# What of feed-rs's model we do not compare, and why.
FEEDRS_NOT_COMPARED = {
    "id (feed)": "feed-rs makes a feed id from an MD5 hash when the channel has none; we have no such id",
    "entry id without <guid>": "feed-rs would hash the link/title (or a UUID); every item in these 9 has a <guid>, "
    "which feed-rs and we both keep verbatim, so all entry ids are compared",
    "media beyond the enclosure": "we keep one enclosure (first audio); feed-rs lists every media:content and "
    "the enclosure, so we check ours is among them",
}

# (file, field) -> (why we differ, the value we give).
FEEDRS_DIFFERENCES = {
    ("feedrs__rss_2.0_relurl_2.xml", "entries[0].enclosure_url"): (
        "relative enclosure URL with no type: feed-rs drops it (no base URL); we resolve it against the "
        "feed's URL",
        "https://kryogenix.org/images/me/hackergotchi-simpler.png",
    ),
}


def _iso(value: str | None) -> int:
    return _unix(datetime.fromisoformat(value).astimezone(UTC)) if value else 0


def feedrs_fields(feed: ParsedFeed, expected: dict) -> dict[str, tuple]:
    fields = {
        "title": (feed.podcast.title, expected["title"]["content"]),
        "len(entries)": (len(feed.episodes), len(expected["entries"])),
    }
    for i, (ours, entry) in enumerate(zip(feed.episodes, expected["entries"])):
        urls = [content["url"] for media in entry["media"] for content in media["content"]]
        fields[f"entries[{i}].id"] = (ours.guid, entry["id"])
        fields[f"entries[{i}].title"] = (ours.title, entry["title"]["content"])
        fields[f"entries[{i}].published"] = (_unix(ours.published), _iso(entry["published"]))
        # Ours must be one of feed-rs's media URLs (the same URL when feed-rs has it, else None).
        fields[f"entries[{i}].enclosure_url"] = (
            ours.enclosure_url,
            ours.enclosure_url if ours.enclosure_url in urls else (urls[0] if urls else None),
        )
    return fields


@pytest.mark.parametrize("expected_path", FEEDRS_EXPECTED, ids=lambda p: p.name)
def test_matches_feedrs_expected(expected_path):
    name = expected_path.name.replace(".expected.json", ".xml")
    expected = json.loads(expected_path.read_text())
    fields = feedrs_fields(parsed(name), expected)
    differing = {key: pair for key, pair in fields.items() if pair[0] != pair[1]}
    kept = {field: ours for (file, field), (_, ours) in FEEDRS_DIFFERENCES.items() if file == name}
    assert {key: ours for key, (ours, _) in differing.items()} == kept


def test_feedrs_picks_are_audio_where_feedrs_lists_audio():
    """ch9 lists an mp4 first and an mp3 (type audio/mp3) later: we pick the audio."""
    episode = parsed("feedrs__rss_2.0_ch9.xml").episodes[0]
    assert episode.enclosure_url.endswith("/azfr663.mp3")
    assert episode.enclosure_type == "audio/mp3"

"""Targeted parse tests: Podcasting 2.0 and iTunes fields on real corpus files, refusals of unsafe
or non-feed documents, and regressions for parser bugs the corpus showed."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from xml.sax import saxutils
from xml.sax.xmlreader import InputSource

import pytest

from earmark.errors import FeedError
from earmark.feeds.parse import parse_feed
from earmark.models import (
    AlternateEnclosure,
    Chapter,
    ChaptersLink,
    Funding,
    ParsedFeed,
    Person,
    Soundbite,
    TranscriptLink,
)
from tests.conftest import CORPUS

FEEDS = CORPUS / "feeds"
URL = "https://feeds.example.com/show.xml"


def load(name: str, url: str = URL) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), url)


def raw(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def by_guid(feed: ParsedFeed, guid: str):
    [episode] = [e for e in feed.episodes if e.guid == guid]
    return episode


# --- the Podcasting 2.0 spec example -------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> ParsedFeed:
    return load("podcastnamespace__example.xml")


def test_example_items_but_not_the_live_item(example):
    assert [e.guid for e in example.episodes] == [
        "https://example.com/ep0003",
        "https://example.com/ep0002",
        "https://example.com/ep0001",
    ]


def test_example_transcripts_with_type_language_and_rel(example):
    assert by_guid(example, "https://example.com/ep0003").transcripts == [
        TranscriptLink("https://example.com/ep3/transcript.txt", "text/plain"),
        TranscriptLink("https://example.com/episode1/transcript.vtt", "text/vtt", language="es", rel="captions"),
    ]
    assert by_guid(example, "https://example.com/ep0001").transcripts == [
        TranscriptLink("https://example.com/ep1/transcript.txt", "text/plain")
    ]


def test_example_chapters_link_keeps_its_type(example):
    assert by_guid(example, "https://example.com/ep0002").chapters_link == ChaptersLink(
        "https://example.com/ep2_chapters.json", "application/json"
    )


def test_example_persons(example):
    assert by_guid(example, "https://example.com/ep0003").persons == [
        Person(
            "Adam Curry",  # no role / group: host in the cast, as the spec says
            img="https://example.com/images/adamcurry.jpg",
            href="https://www.podchaser.com/creators/adam-curry-107ZzmWE5f",
        ),
        Person(
            "Dave Jones",
            role="guest",
            img="https://example.com/images/davejones.jpg",
            href="https://github.com/daveajones/",
        ),
        Person("Becky Smith", role="cover art designer", group="visuals", href="https://example.com/artist/beckysmith"),
    ]


def test_example_soundbites(example):
    assert [e.soundbites for e in example.episodes] == [
        [Soundbite(start=33.833, duration=60.0)],
        [Soundbite(start=45.4, duration=56.0)],
        [Soundbite(start=29.32, duration=34.0)],
    ]


def test_example_alternate_enclosures_with_sources(example):
    alternates = by_guid(example, "https://example.com/ep0003").alternate_enclosures
    assert [a.title for a in alternates] == [
        "Standard", "High quality", "High quality AAC", "Low bandwidth", "Video version"
    ]
    assert alternates[0] == AlternateEnclosure(
        type="audio/mpeg",
        sources=["https://example.com/file-03.mp3", "ipfs://someRandomMpegFile03"],
        length=43200000,
        bitrate=128000.0,
        title="Standard",
        default=True,
    )
    assert alternates[4] == AlternateEnclosure(
        type="video/mp4",
        sources=["https://example.com/file-720.mp4", "ipfs://QmX33FYehk6ckGQ6g1D9D3FqZPix5JpKstKQKbaS8quUFb"],
        length=7924786,
        bitrate=511276.52,
        height=720,
        title="Video version",
    )
    assert [len(e.alternate_enclosures) for e in example.episodes] == [5, 4, 4]
    # The main enclosure is still the plain <enclosure>.
    assert by_guid(example, "https://example.com/ep0003").enclosure_url == "https://example.com/file-03.mp3"


def test_example_season_and_episode_from_the_podcast_namespace(example):
    assert b"itunes:season" not in raw("podcastnamespace__example.xml")
    assert [(e.season, e.number) for e in example.episodes] == [(1, 3), (1, 2), (1, 1)]


def test_example_channel(example):
    podcast = example.podcast
    assert podcast.title == "Podcasting 2.0 Namespace Example"
    assert podcast.podcast_guid == "y0ur-gu1d-g035-h3r3"
    assert podcast.funding == [Funding("https://example.com/donate", "Support the show!")]
    assert podcast.locked is True
    assert podcast.explicit is False
    assert podcast.language == "en-US"
    assert podcast.author == "john@example.com (John Doe)"
    assert podcast.link == "https://example.com/podcast"
    assert podcast.image == "https://example.com/images/pci_avatar-massive.jpg"
    assert podcast.categories == ["Technology", "News", "News > Tech News"]


# --- real feeds --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def go_time() -> ParsedFeed:
    return load("podcatcher__Go_Time_Golang_Software_Engineering.rss")


def test_go_time_persons(go_time):
    data = raw("podcatcher__Go_Time_Golang_Software_Engineering.rss")
    channel_persons = data[: data.index(b"<item>")].count(b"<podcast:person")
    assert channel_persons == len(go_time.podcast.persons) == 7
    assert sum(len(e.persons) for e in go_time.episodes) == data.count(b"<podcast:person") - 7 == 1131
    assert all(p.img and p.href and p.name for e in go_time.episodes for p in e.persons)
    latest = by_guid(go_time, "changelog.com/2/2046")
    assert [(p.name, p.role, p.group) for p in latest.persons] == [
        ("Natalie Pistunovich", "host", "cast"),
        ("Mat Ryer", "host", "cast"),
        ("Johnny Boursiquot", "host", "cast"),
        ("Bram Adams", "guest", "cast"),
    ]
    # &amp; in an attribute is decoded.
    assert latest.persons[2].img == "https://secure.gravatar.com/avatar/6d26a33d20b8e96182b8e71c30ffe927.jpg?s=600&d=mm"


def test_go_time_transcripts_and_chapters(go_time):
    transcripts = [t for e in go_time.episodes for t in e.transcripts]
    assert len(transcripts) == 279 and {t.type for t in transcripts} == {"text/html"}
    links = [e.chapters_link for e in go_time.episodes if e.chapters_link]
    assert len(links) == 46 and {c.type for c in links} == {"application/json+chapters"}
    episode = by_guid(go_time, "changelog.com/2/2072")
    assert episode.transcripts == [TranscriptLink("https://changelog.com/gotime/278/transcript", "text/html")]
    assert episode.chapters_link == ChaptersLink(
        "https://changelog.com/gotime/278/chapters", "application/json+chapters"
    )


def test_go_time_channel(go_time):
    podcast = go_time.podcast
    assert podcast.author == "Changelog Media"
    assert podcast.language == "en-us"
    assert podcast.explicit is False
    assert podcast.image == "https://cdn.changelog.com/uploads/covers/go-time-original.png?v=63725770357"
    assert podcast.funding == [Funding("https://changelog.com/++", "Support our work by joining Changelog++")]
    # Two sibling subcategories, not a chain Technology > Software How-To > Tech News.
    assert podcast.categories == ["Technology", "Technology > Software How-To", "Technology > Tech News"]


@pytest.fixture(scope="module")
def rework() -> ParsedFeed:
    return load("podcatcher__Rework.rss")


def test_rework_roles_are_lower_cased(rework):
    data = raw("podcatcher__Rework.rss")
    assert b'role="Host"' in data and b'role="Guest"' in data
    roles = [p.role for e in rework.episodes for p in e.persons] + [p.role for p in rework.podcast.persons]
    assert len(roles) == data.count(b"<podcast:person") == 77
    assert set(roles) == {"host", "guest"}
    episode = by_guid(rework, "0aa37448-d300-457a-b473-2aec804574bf")
    assert [(p.name, p.role) for p in episode.persons] == [
        ("Kimberly Rhodes", "host"),
        ("Jason Fried", "guest"),
        ("David Heinemeier Hansson", "guest"),
    ]
    assert episode.persons[1].href == "http://world.hey.com/jason"
    assert (episode.season, episode.number) == (2, 61)


def test_rework_plain_text_transcripts(rework):
    transcripts = [t for e in rework.episodes for t in e.transcripts]
    assert len(transcripts) == 62 and {t.type for t in transcripts} == {"text/plain"}
    assert by_guid(rework, "0aa37448-d300-457a-b473-2aec804574bf").transcripts == [
        TranscriptLink("https://share.transistor.fm/s/0bfb1a56/transcript.txt", "text/plain")
    ]


def test_rework_trailer(rework):
    [trailer] = [e for e in rework.episodes if e.episode_type == "trailer"]
    assert trailer.guid == "gid://art19-episode-locator/V0/FP72lI08fQa5uymp3rxmu_gTBY3uDNX2zCjMFebpzZc"
    assert trailer.title == "Rework Teaser"
    assert (trailer.season, trailer.number) == (1, 1)
    assert rework.podcast.locked is False  # <podcast:locked owner=…>no</podcast:locked>
    assert rework.podcast.podcast_guid == "128a7a6e-6caa-5d17-a8f9-d85c735cac85"


def test_sourcegraph_soundbites():
    feed = load("podcatcher__The_Sourcegraph_Podcast.rss")
    soundbites = [s for e in feed.episodes for s in e.soundbites]
    assert len(soundbites) == raw("podcatcher__The_Sourcegraph_Podcast.rss").count(b"<podcast:soundbite") == 10
    assert by_guid(feed, "Buzzsprout-12479687").soundbites == [Soundbite(start=177.859, duration=60.0)]
    assert Soundbite(start=0.0, duration=30.0) in soundbites  # a start of 0 is a start


def test_what_future_podlove_chapters():
    feed = load("podcatcher__What_Future_with_Joshua_Topolsky.rss")
    assert by_guid(feed, "aa0f88b9-7438-4090-a491-af3b00585b9e").chapters == [
        Chapter(start=18 * 60 + 4, title="Break 1"),
        Chapter(start=29 * 60 + 48, title="Break 2"),
    ]
    assert sum(len(e.chapters) for e in feed.episodes) == 2


@pytest.mark.parametrize(
    "name", ["podcastparser__itunes_no_xmlns.rss", "podcastparser__itunes_duration.rss"]
)
def test_itunes_prefix_undeclared_or_renamed(name):
    assert b"<itunes:duration>" in raw(name) or b"<it:duration>" in raw(name)
    [episode] = load(name).episodes
    assert episode.duration == 20 * 60


@pytest.mark.parametrize(
    ("name", "new_url"),
    [
        ("podcastparser__new_feed_url.rss", "http://newlocation.com/example.rss"),
        # Legacy <redirect><newLocation>, its URL on a line of its own.
        ("podcastparser__redirect_new_location.rss", "http://weblog.infoworld.com/udell/rss.xml"),
        ("podcatcher__Rework.rss", "https://feeds.transistor.fm/rework"),
        ("podcatcher__Hard_Fork.rss", "https://feeds.simplecast.com/l2i9YnTd"),
        ("podcatcher__Athletico_Mince.rss", None),  # no new-feed-url in it
    ],
)
def test_new_feed_url(name, new_url):
    assert load(name).new_url == new_url


def test_channel_person_categories_author_image():
    feed = load("podcatcher__Tech_Won_t_Save_Us.rss")
    podcast = feed.podcast
    assert podcast.title == "Tech Won't Save Us"
    assert podcast.persons == [
        Person(
            "Paris Marx",
            href="https://parismarx.com/",
            img="https://storage.buzzsprout.com/variants/2qc5avibvfylqkqta6alqhg7ec5o/"
            "f39677667998d4983b671c898b89f635827f90bc24d585ec289a8d3e04495b83.png",
        )
    ]
    assert podcast.author == "Paris Marx"
    assert podcast.categories == ["Technology", "News", "News > Tech News", "Arts", "Arts > Books"]
    assert podcast.image.startswith("https://storage.buzzsprout.com/variants/uhqlaihuamqfzs01bzrg8loa4uzc/")
    assert podcast.funding == [Funding("https://patreon.com/techwontsaveus", "Support this Podcast")]
    assert (podcast.language, podcast.explicit, podcast.locked) == ("en-us", False, True)


def test_nested_categories_four_deep():
    assert load("nodepodcastparser__complex-genre.xml").podcast.categories == [
        "A", "A > A1", "A > A1 > A11", "A > A1 > A11 > A111", "A > A2",
        "B", "B > B1", "B > B2", "B > B2 > B21",
    ]


def test_guids_are_kept_verbatim_whatever_the_feed_url():
    """<guid> without isPermaLink="false" must not be resolved against the feed URL, or every
    episode changes identity when the feed moves."""
    name = "podcatcher__Trash_Taste_After_Dark.rss"
    in_file = [g.decode() for g in re.findall(rb"<guid>([^<]+)</guid>", raw(name))]
    assert len(in_file) == 48 and in_file[0] == "4r06ZysvAJsy:_ddVRA8sV4S"
    here = load(name, "https://feeds.example.com/trash-taste")
    moved = load(name, "https://elsewhere.example.org/feeds/tt.rss")
    assert sorted(e.guid for e in here.episodes) == sorted(e.guid for e in moved.episodes) == sorted(in_file)


# --- documents that are not (safe) feeds ---------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><guid>1</guid></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&x;</title>
<item><title>&x;</title><guid>1</guid></item></channel></rss>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
@pytest.mark.parametrize(
    "prefix", [b"", b"\n", b"\xef\xbb\xbf\n"], ids=["strict", "leading-newline", "bom-and-newline"]
)
def test_entity_declarations_are_refused_quickly(document, prefix):
    # With a prefix the strict parse fails first and the salvage path runs, which once let lxml
    # drop the entities silently and return an empty feed.
    started = time.perf_counter()
    with pytest.raises(FeedError, match="entity declarations") as failure:
        parse_feed(prefix + document, URL)
    assert time.perf_counter() - started < 1.0
    assert URL in str(failure.value)
    assert "root:" not in str(failure.value)  # nothing of /etc/passwd


@pytest.mark.parametrize(
    "document",
    [
        b"<!DOCTYPE html>\n<html><head><title>Show</title></head><body><p>Listen!</body></html>",
        b"\n<!-- cms -->\n<HTML lang=en><body>hi</body></HTML>",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head/><body/></html>',
    ],
    ids=["html5", "html-after-comment", "xhtml"],
)
def test_html_page(document):
    with pytest.raises(FeedError, match="HTML page") as failure:
        parse_feed(document, URL)
    assert URL in str(failure.value)


@pytest.mark.parametrize("document", [b"", b"  \r\n\t "], ids=["empty", "whitespace"])
def test_empty_response(document):
    with pytest.raises(FeedError, match="empty") as failure:
        parse_feed(document, URL)
    assert URL in str(failure.value)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (b'{"version": "https://jsonfeed.org/version/1", "items": [{"content_html": "<p>x</p>"}]}', "JSON"),
        (b'<?xml version="1.0"?><opml version="2.0"><body/></opml>', "not RSS or Atom"),
        (b"just some text", "not a readable feed"),
    ],
    ids=["json-feed", "opml", "text"],
)
def test_other_documents(document, says):
    with pytest.raises(FeedError, match=says) as failure:
        parse_feed(document, URL)
    assert URL in str(failure.value)


def test_old_rss_091_doctype_is_accepted_and_its_dtd_never_read(tmp_path, monkeypatch):
    # expat hands external DTDs to saxutils.prepare_input_source to open; record any attempt.
    attempts = []
    original = saxutils.prepare_input_source

    def spy(source, base=""):
        if isinstance(source, InputSource) and source.getSystemId():
            attempts.append(source.getSystemId())
            raise OSError("no fetching")
        return original(source, base)

    monkeypatch.setattr(saxutils, "prepare_input_source", spy)
    dtd = tmp_path / "rss-0.91.dtd"
    dtd.write_text('<!ENTITY leak "read">')
    for system_id in ("http://my.netscape.com/publish/formats/rss-0.91.dtd", dtd.as_uri()):
        document = f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "{system_id}">
<rss version="0.91"><channel><title>Old Show</title>
<item><title>One</title><link>http://old.example.com/1</link>
<enclosure url="http://old.example.com/1.mp3" type="audio/mpeg" length="1000"/></item>
</channel></rss>""".encode("latin-1")
        feed = parse_feed(document, URL)
        assert feed.podcast.title == "Old Show"
        assert [(e.guid, e.title) for e in feed.episodes] == [("http://old.example.com/1.mp3", "One")]
    assert attempts == []


# --- Atom ----------------------------------------------------------------------------------------

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <title>Atom Show</title>
  <link href="https://atom.example.com/"/>
  <author><name>Ada</name></author>
  <entry>
    <title>Second</title>
    <id>tag:atom.example.com,2024:2</id>
    <published>2024-03-10T08:30:00.000Z</published>
    <link rel="alternate" type="text/html" href="https://atom.example.com/2"/>
    <link rel="enclosure" type="audio/mpeg" length="1234" href="https://atom.example.com/2.mp3"/>
    <content type="html">&lt;p&gt;Hello &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;</content>
    <podcast:transcript url="https://atom.example.com/2.vtt" type="text/vtt"/>
  </entry>
  <entry>
    <title>First</title>
    <id>tag:atom.example.com,2024:1</id>
    <updated>2024-03-01T12:00:00+0100</updated>
    <link rel="enclosure" type="audio/mpeg" href="https://atom.example.com/1.mp3"/>
  </entry>
</feed>"""


def test_atom_feed(monkeypatch):
    # Dates must not depend on the machine's zone: podcastparser read "…00.000Z" as local time.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        feed = parse_feed(ATOM, URL)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert feed.podcast.title == "Atom Show"
    assert feed.podcast.author == "Ada"
    second, first = feed.episodes
    assert (second.guid, second.title) == ("tag:atom.example.com,2024:2", "Second")
    assert second.published == datetime(2024, 3, 10, 8, 30, tzinfo=UTC)
    assert first.published == datetime(2024, 3, 1, 11, 0, tzinfo=UTC)
    assert second.enclosure_url == "https://atom.example.com/2.mp3"
    assert (second.enclosure_type, second.enclosure_length) == ("audio/mpeg", 1234)
    assert second.link == "https://atom.example.com/2"
    assert second.description_html == "<p>Hello <b>there</b></p>"
    assert second.transcripts == [TranscriptLink("https://atom.example.com/2.vtt", "text/vtt")]


def test_atom_published_is_preferred_to_updated():
    [entry] = load("podcastparser__atom_published_updated.rss").episodes
    assert entry.published == datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)


# --- one bad value costs its element, not the feed ------------------------------------------------


def rss(item: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>T</title>
<item><title>Good</title><guid>good</guid><pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate>
  <enclosure url="https://cdn.example.com/good.mp3" type="audio/mpeg" length="10"/></item>
<item>{item}</item>
</channel></rss>""".encode()


@pytest.mark.parametrize(
    ("item", "check"),
    [
        # urllib refuses a "[" host: the element goes, the episode stays.
        ('<title>E</title><guid>e</guid><enclosure url="http://[::1/x.mp3" type="audio/mpeg"/>',
         lambda e: e.enclosure_url is None),
        ('<title>E</title><guid isPermaLink="false">e</guid><link>http://[oops</link>', lambda e: e.link is None),
        ('<title>E</title><guid>e</guid><itunes:image href="http://[::1"/>', lambda e: e.image is None),
        ('<title>E</title><guid>e</guid><podcast:episode>1e999</podcast:episode><podcast:season>nan</podcast:season>',
         lambda e: (e.number, e.season) == (None, None)),
        ('<title>E</title><guid>e</guid><itunes:duration>99999999999999999999999</itunes:duration>',
         lambda e: e.duration is None),
        ('<title>E</title><guid>e</guid><pubDate>9999-12-31T23:59:59-05:00</pubDate>', lambda e: e.published is None),
        ('<title>E</title><guid>e</guid><podcast:soundbite startTime="nan" duration="inf"/>',
         lambda e: e.soundbites == []),
        ('<title>E</title><guid>e</guid><podcast:alternateEnclosure type="audio/opus" length="1e999">'
         '<podcast:source uri="https://cdn.example.com/e.opus"/></podcast:alternateEnclosure>',
         lambda e: e.alternate_enclosures == [AlternateEnclosure("audio/opus", ["https://cdn.example.com/e.opus"])]),
    ],
    ids=["enclosure-url", "link", "image", "numbers", "duration", "date-past-9999", "soundbite", "alternate"],
)
def test_malformed_value_is_skipped(item, check):
    feed = parse_feed(rss(item), URL)
    assert [e.guid for e in feed.episodes] == ["good", "e"]
    assert check(feed.episodes[1])


def test_empty_enclosure_url_is_no_enclosure():
    # It used to resolve to the feed's own URL: the "audio" was the feed, and GUID-less items
    # all got that one URL as their GUID.
    item = '<title>E</title><link>https://example.com/e</link><enclosure url="" type="audio/mpeg"/>'
    feed = parse_feed(rss(item), URL)
    episode = feed.episodes[1]
    assert episode.enclosure_url is None
    assert episode.guid == "https://example.com/e"


def test_empty_title_is_named_after_the_file():
    feed = parse_feed(rss('<title> </title><guid>e</guid><enclosure url="https://cdn.example.com/ep-7.mp3"/>'), URL)
    assert feed.episodes[1].title == "ep-7"


# --- salvage of broken documents -----------------------------------------------------------------


def broken(first_item: str, encoding: str = "utf-8") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title>
<item>{first_item}</item>
<item><title>Q&amp;A &lt;3</title><guid>2</guid>
  <description>&lt;p&gt;Hi &amp;amp; bye&lt;/p&gt;</description>
  <enclosure url="https://cdn.example.com/2.mp3?a=1&amp;b=2" type="audio/mpeg"/></item>
<item><title><![CDATA[Tom & Jerry &amp; co]]></title><guid>3</guid><!-- a & b -->
  <enclosure url="https://cdn.example.com/3.mp3" type="audio/mpeg"/></item>
</channel></rss>""".encode(encoding)


def assert_later_items_intact(feed: ParsedFeed) -> None:
    two, three = by_guid(feed, "2"), by_guid(feed, "3")
    assert two.title == "Q&A <3"
    assert two.description_html == "<p>Hi &amp; bye</p>"
    assert two.enclosure_url == "https://cdn.example.com/2.mp3?a=1&b=2"
    assert three.title == "Tom & Jerry &amp; co"  # CDATA is literal: nothing in it is "repaired"


def test_bare_ampersands_and_html_entities():
    feed = parse_feed(
        broken('<title>Caf&eacute; &amp; Q&A&nbsp;time &bogus;</title><guid>1</guid>'
               '<enclosure url="https://cdn.example.com/1.mp3?a=1&b=2" type="audio/mpeg"/>'),
        URL,
    )
    one = by_guid(feed, "1")
    assert one.title == "Café & Q&A time &bogus;"  # &nbsp; squashed like any whitespace in a title
    assert one.enclosure_url == "https://cdn.example.com/1.mp3?a=1&b=2"
    assert_later_items_intact(feed)


@pytest.mark.parametrize(
    "first_item",
    [
        '<title>One</title></b><guid>1</guid>',  # stray end tag: libxml2 closes the channel
        '<title>One</title><guid>1</guid><p>',  # unclosed tag: libxml2 nests later items in it
    ],
    ids=["stray-end-tag", "unclosed-tag"],
)
def test_structural_errors_keep_later_items_and_their_escapes(first_item):
    # libxml2's recovery drops &amp; / &lt; after its first error; the repair must not.
    feed = parse_feed(broken(first_item), URL)
    assert {"2", "3"} <= {e.guid for e in feed.episodes}
    assert_later_items_intact(feed)


def test_cp1252_bytes_in_a_utf8_feed():
    document = broken("<title>Caf\u00e9 \u2013 ol\u00e9</title><guid>1</guid>", encoding="cp1252")
    feed = parse_feed(document, URL)
    assert by_guid(feed, "1").title == "Café – olé"
    assert_later_items_intact(feed)


@pytest.mark.parametrize(
    "cut_before",
    [b"<item><title>Q", b"b=2", b"Jerry", "é".encode()[1:]],
    ids=["between-items", "in-an-attribute", "in-cdata", "in-a-utf8-character"],
)
@pytest.mark.parametrize("prefix", [b"", b"\n"], ids=["strict", "leading-newline"])
def test_truncated_feed_is_refused(cut_before, prefix):
    # A cut-off transfer: refused, not salvaged into a feed missing its later episodes.
    whole = broken("<title>Café</title><guid>1</guid>")
    document = prefix + whole[: whole.index(cut_before)]
    with pytest.raises(FeedError, match="truncated") as failure:
        parse_feed(document, URL)
    assert URL in str(failure.value)

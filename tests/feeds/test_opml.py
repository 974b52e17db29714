import asyncio
import html
import json
import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
from typer.testing import CliRunner

from earmark.cli.app import app
from earmark.errors import OPMLError
from earmark.feeds.opml import export_opml, import_opml, parse_opml, parse_opml_document
from earmark.feeds.refresh import refresh_many
from earmark.models import Podcast
from earmark.store.library import Library
from tests.conftest import CORPUS

OPML_DIR = CORPUS / "opml"
DJANGO = CORPUS / "feeds" / "podcatcher__Django_Chat.rss"
CORTEX = CORPUS / "feeds" / "podcatcher__Cortex.rss"

# (file, xmlUrl outlines in it, distinct feeds) — counted by reading the files.
CORPUS_COUNTS = [
    ("antennapod__atecon.opml", 33, 31),  # Dittsche and Eine Stunde History are listed twice
    ("overcast__geekdada.opml", 45, 45),
    ("overcast__mrh-is.opml", 59, 59),
    ("pocketcasts__romainpiel.opml", 21, 21),
    ("pocketcasts__toorop.opml", 84, 84),  # HTTP:// scheme and two trailing '?'
]


def expected_feeds(path) -> dict[str, str]:
    """Independent of the module: regex over the raw text, first title wins, scheme/host
    lower-cased and an empty query dropped (what normalize_url promises)."""
    found: dict[str, str] = {}
    for tag in re.findall(r"<outline\b[^>]*>", path.read_text("utf-8"), re.I):
        attrs = {k.lower(): html.unescape(v) for k, v in re.findall(r'([\w:]+)\s*=\s*"([^"]*)"', tag)}
        if "xmlurl" not in attrs:
            continue
        s = urlsplit(attrs["xmlurl"].strip())
        url = urlunsplit((s.scheme.lower(), s.netloc.lower(), s.path or "/", s.query, s.fragment))
        found.setdefault(url, (attrs.get("title") or attrs.get("text") or "").strip())
    return found


def run(coro):
    return asyncio.run(coro)


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def opml(*outlines: str, version: str = "2.0") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="{version}"><head><title>t</title></head><body>{"".join(outlines)}</body></opml>'


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served(path) -> bytes:
    # itunes:new-feed-url would move the subscription to the feed's real (internet) host.
    return re.sub(rb"<itunes:new-feed-url>.*?</itunes:new-feed-url>", b"", path.read_bytes(), flags=re.S)


# -- corpus -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "outlines", "distinct"), CORPUS_COUNTS)
def test_corpus_opml_subscribes_every_distinct_feed(library, settings, name, outlines, distinct):
    path = OPML_DIR / name
    assert len(re.findall(r"xmlurl\s*=", path.read_text("utf-8"), re.I)) == outlines
    expected = expected_feeds(path)
    assert len(expected) == distinct

    summary = run(import_opml(library, settings, path, refresh=False))

    podcasts = library.podcasts()
    assert {p.url: p.title for p in podcasts} == expected
    assert summary.feeds == distinct
    assert len(summary.added) == distinct
    assert summary.already_subscribed == summary.refreshed == summary.failed == summary.invalid == []
    assert {p.status for p in podcasts} == {"new"}  # refresh=False: nothing fetched


def test_corpus_normalization_and_titles(library, settings):
    run(import_opml(library, settings, OPML_DIR / "pocketcasts__toorop.opml", refresh=False))
    urls = {p.url for p in library.podcasts()}
    assert "http://feeds.feedburner.com/podcastscience" in urls  # was HTTP://
    assert "http://feeds.feedburner.com/DeveloperTea" in urls  # was ...DeveloperTea?
    assert not any(u.startswith("HTTP") or u.endswith("?") for u in urls)

    fresh = Library(settings.home / "second.sqlite3")
    try:
        run(import_opml(fresh, settings, OPML_DIR / "overcast__geekdada.opml", refresh=False))
        gadio = fresh.podcast_by_url("http://feed.tangsuanradio.com/gadio.xml")
        assert gadio.title == "机核网 GADIO 游戏广播"  # &#x..; character references on one line
    finally:
        fresh.close()


def test_reimport_skips_existing_and_overlap_counts(library, settings):
    first = run(import_opml(library, settings, OPML_DIR / "overcast__mrh-is.opml", refresh=False))
    second = run(import_opml(library, settings, OPML_DIR / "pocketcasts__toorop.opml", refresh=False))
    # Serial, Criminal, Invisibilia and 99% Invisible (the last only equal once the '?' is dropped).
    overlap = set(expected_feeds(OPML_DIR / "overcast__mrh-is.opml")) & set(expected_feeds(OPML_DIR / "pocketcasts__toorop.opml"))
    assert len(overlap) == 4
    assert (len(second.added), len(second.already_subscribed)) == (80, 4)
    assert {library.podcast(i).url for i in second.already_subscribed} == overlap
    assert set(second.already_subscribed) <= set(first.added)
    assert len(library.podcasts()) == 59 + 80

    again = run(import_opml(library, settings, OPML_DIR / "pocketcasts__toorop.opml", refresh=False))
    assert (len(again.added), len(again.already_subscribed)) == (0, 84)
    assert len(library.podcasts()) == 139


# -- parsing shapes ---------------------------------------------------------------------------


def test_nested_untyped_case_variant_and_duplicate_outlines():
    text = opml(
        '<outline text="Folder A">',
        '  <outline text="Sub folder"><outline text="Deep" type="rss" xmlUrl="https://deep.example/feed"/></outline>',
        '  <outline text="No type" xmlUrl="https://untyped.example/rss"/>',
        '  <outline text="lower" xmlurl="https://lower.example/rss"/>',
        '  <outline TEXT="upper" XMLURL="https://upper.example/rss"/>',
        "</outline>",
        '<outline type="link" text="A link, not a feed" url="https://example.org/page"/>',
        '<outline text="Folder with only a website" htmlUrl="https://example.org/"/>',
        '<outline text="" xmlUrl="HTTPS://Dup.Example/Feed?"/>',  # no title; a later duplicate has one
        '<outline text="Dup" title="Dup title" xmlUrl="https://dup.example/Feed"/>',
        '<outline text="itpc" xmlUrl="itpc://itpc.example/feed"/>',
        '<outline text="empty" xmlUrl=""/>',
        '<outline text="gopher" xmlUrl="gopher://old.example/feed"/>',
    )
    doc = parse_opml_document(text, "inline.opml")
    assert [(f.url, f.title) for f in doc.feeds] == [
        ("https://deep.example/feed", "Deep"),
        ("https://untyped.example/rss", "No type"),
        ("https://lower.example/rss", "lower"),
        ("https://upper.example/rss", "upper"),
        ("https://dup.example/Feed", "Dup title"),  # path case kept: paths are case-sensitive
        ("http://itpc.example/feed", "itpc"),
    ]
    assert doc.invalid == ["", "gopher://old.example/feed"]


def test_opml_1_0_without_declaration_and_empty_body():
    feeds = parse_opml('<opml version="1.0"><head/><body><outline text="x" xmlUrl="http://x.example/f"/></body></opml>')
    assert [(f.url, f.title) for f in feeds] == [("http://x.example/f", "x")]
    assert parse_opml(opml()) == []  # a valid, empty export is not an error


# -- broken input -----------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE opml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<opml version="2.0"><head/><body><outline text="&g;" xmlUrl="http://bomb.example/feed"/></body></opml>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<opml version="2.0"><head/><body><outline text="&secret;" xmlUrl="http://xxe.example/feed"/></body></opml>"""

BROKEN = {
    "truncated.opml": (opml('<outline text="a" xmlUrl="http://a.example/f"/>')[:-20], "not well-formed"),
    "page.html": (
        "<!DOCTYPE html><html><head><title>Sign in</title></head><body><p>Hello<br></body></html>",
        "not well-formed",
    ),
    "page.xhtml": ('<html xmlns="http://www.w3.org/1999/xhtml"><body><p>hi</p></body></html>', r"not an OPML file.*<html>"),
    "feed.rss": (DJANGO.read_bytes(), r"not an OPML file.*<rss>"),
    "empty.opml": (b"", "empty"),
    "blank.opml": (b"  \r\n\t\n", "empty"),
    "nobody.opml": ('<opml version="2.0"><head><title>t</title></head></opml>', "no <body>"),
    "bomb.opml": (BILLION_LAUGHS, "refused.*entities"),
    "xxe.opml": (XXE, "refused.*entities"),
    "latin1.opml": (opml('<outline text="caf\xe9" xmlUrl="http://a.example/f"/>').encode("latin-1"), "not well-formed"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_raise_and_leave_library_untouched(library, settings, tmp_path, name):
    content, reason = BROKEN[name]
    path = write(tmp_path, name, content)
    with pytest.raises(OPMLError, match=re.escape(str(path)) + r": .*" + reason):
        run(import_opml(library, settings, path, refresh=False))
    assert library.podcasts() == []


def test_missing_file_is_an_opml_error(library, settings, tmp_path):
    with pytest.raises(OPMLError, match="missing.opml: cannot read"):
        run(import_opml(library, settings, tmp_path / "missing.opml"))


# -- refresh ----------------------------------------------------------------------------------


def test_import_refreshes_new_feeds_and_keeps_dead_ones(library, settings, server, tmp_path):
    server.add("/django.rss", served(DJANGO))
    server.add("/cortex.rss", served(CORTEX))
    live, known = server.url("/django.rss"), server.url("/cortex.rss")
    dead = f"http://127.0.0.1:{unused_port()}/gone.rss"
    existing, _ = library.add_podcast(known)
    run(refresh_many(library, settings, [existing.id]))  # subscribed and loaded before the import
    path = write(
        tmp_path,
        "mixed.opml",
        opml(
            f'<outline type="rss" text="Django Chat (OPML)" xmlUrl="{live}"/>',
            f'<outline type="rss" text="Dead Show" xmlUrl="{dead}"/>',
            f'<outline type="rss" text="Cortex" xmlUrl="{known}"/>',
        ),
    )
    calls = []
    summary = run(import_opml(library, settings, path, progress=lambda done, total: calls.append((done, total))))

    assert len(summary.added) == 2 and summary.already_subscribed == [existing.id]
    assert len(server.requests_to("/cortex.rss")) == 1  # already subscribed and loaded: not refreshed by the import
    assert calls[0] == (0, 2) and calls[-1] == (2, 2)

    ok = library.podcast_by_url(live)
    assert summary.refreshed == [ok.id]
    assert ok.status == "ok" and ok.title == "Django Chat"  # the feed's own title replaces the OPML's
    assert ok.episode_count == served(DJANGO).count(b"<item>") > 100

    gone = library.podcast_by_url(dead)
    assert [r.podcast_id for r in summary.failed] == [gone.id]
    assert gone.status == "error" and gone.title == "Dead Show"
    assert dead in gone.error and "cannot connect" in gone.error
    assert gone.episode_count == 0


# -- export / round trip ----------------------------------------------------------------------


def test_export_is_well_formed_opml_2(library, settings):
    podcasts = [
        Podcast(url="https://a.example/feed?x=1&y=2", title='Tom & "Jerry" <live>', link="https://a.example/"),
        Podcast(url="https://b.example/feed", title="Bad\x0bcontrol\x00chars 日本", link=None),
    ]
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    text = export_opml(podcasts, now=when)
    root = ET.fromstring(text.encode("utf-8"))  # the stdlib parser: would choke on raw & or \x0b
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title")
    assert parsedate_to_datetime(root.findtext("head/dateCreated")) == when
    outlines = root.findall("body/outline")
    assert [o.attrib for o in outlines] == [
        {
            "type": "rss",
            "text": 'Tom & "Jerry" <live>',
            "title": 'Tom & "Jerry" <live>',
            "xmlUrl": "https://a.example/feed?x=1&y=2",
            "htmlUrl": "https://a.example/",
        },
        {"type": "rss", "text": "Badcontrolchars 日本", "title": "Badcontrolchars 日本", "xmlUrl": "https://b.example/feed"},
    ]


def test_round_trip_keeps_urls_and_titles(library, settings, server, tmp_path):
    server.add("/django.rss", served(DJANGO))
    source = write(
        tmp_path,
        "source.opml",
        opml(
            f'<outline text="x" xmlUrl="{server.url("/django.rss")}"/>',
            '<outline text="Q&amp;A &lt;weekly&gt; &quot;live&quot; \'s" xmlUrl="https://qa.example/feed?a=1&amp;b=2"/>',
            '<outline text="&#x673A;&#x6838;&#x7F51; tab\tand&#10;newline" xmlUrl="https://cjk.example/rss"/>',
            f'<outline text="Dead" xmlUrl="http://127.0.0.1:{unused_port()}/x"/>',
        ),
    )
    run(import_opml(library, settings, source))
    before = {(p.url, p.title) for p in library.podcasts()}
    assert (server.url("/django.rss"), "Django Chat") in before
    assert ("https://qa.example/feed?a=1&b=2", "Q&A <weekly> \"live\" 's") in before

    exported = write(tmp_path, "export.opml", export_opml(library.podcasts()))
    fresh = Library(tmp_path / "fresh.sqlite3")
    try:
        summary = run(import_opml(fresh, settings, exported, refresh=False))
        assert len(summary.added) == 4
        assert {(p.url, p.title) for p in fresh.podcasts()} == before
    finally:
        fresh.close()


# -- CLI --------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_import_no_refresh_json(library, settings):
    result = runner.invoke(app, ["opml", "import", str(OPML_DIR / "antennapod__atecon.opml"), "--no-refresh", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["feeds"] == 31 and len(data["added"]) == 31 and data["failed"] == []
    assert len(library.podcasts()) == 31

    again = runner.invoke(app, ["opml", "import", str(OPML_DIR / "antennapod__atecon.opml"), "--no-refresh"])
    assert again.exit_code == 0, again.output
    assert ": 0 added, 31 already subscribed." in " ".join(again.stdout.split())  # Rich wraps at 80 columns


def test_cli_import_refresh_reports_failures(library, settings, server, tmp_path):
    server.add("/django.rss", served(DJANGO))
    dead = f"http://127.0.0.1:{unused_port()}/gone.rss"
    path = write(
        tmp_path,
        "two.opml",
        opml(f'<outline text="Django" xmlUrl="{server.url("/django.rss")}"/>', f'<outline text="Dead Show" xmlUrl="{dead}"/>'),
    )
    result = runner.invoke(app, ["opml", "import", str(path)])
    assert result.exit_code == 0, result.output  # a dead feed is not a failed import
    flat = " ".join(result.stdout.split())  # Rich wraps at 80 columns
    assert "2 added" in flat and "1 loaded, 1 failed" in flat and "✗ Dead Show" in flat
    assert {p.status for p in library.podcasts()} == {"ok", "error"}


def test_cli_import_where_every_feed_fails_exits_1(library, settings, tmp_path):
    dead = [f"http://127.0.0.1:{unused_port()}/gone{n}.rss" for n in range(2)]
    path = write(tmp_path, "dead.opml", opml(*(f'<outline text="Dead {n}" xmlUrl="{url}"/>' for n, url in enumerate(dead))))
    result = runner.invoke(app, ["opml", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert "Error: none of the 2 new feeds in" in " ".join(result.stderr.split())
    assert "0 loaded, 2 failed" in " ".join(result.stdout.split())  # the report still comes first
    assert {p.status for p in library.podcasts()} == {"error"}  # kept, as other players do
    as_json = runner.invoke(app, ["opml", "import", str(path), "--json"])  # already subscribed: nothing new to load
    assert as_json.exit_code == 0, as_json.output


def test_cli_import_broken_file_fails_cleanly(library, settings, tmp_path):
    path = write(tmp_path, "bomb.opml", BILLION_LAUGHS)
    result = runner.invoke(app, ["opml", "import", str(path), "--no-refresh"])
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "refused" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert library.podcasts() == []


def test_cli_export_stdout_and_file(library, settings, tmp_path):
    empty = runner.invoke(app, ["opml", "export"])
    assert empty.exit_code == 0, empty.output
    assert parse_opml(empty.stdout) == []  # an empty library still exports valid OPML

    run(import_opml(library, settings, OPML_DIR / "pocketcasts__romainpiel.opml", refresh=False))
    expected = {(p.url, p.title) for p in library.podcasts()}
    out = runner.invoke(app, ["opml", "export"])
    assert out.exit_code == 0, out.output
    assert {(f.url, f.title) for f in parse_opml(out.stdout)} == expected

    target = tmp_path / "subs.opml"
    to_file = runner.invoke(app, ["opml", "export", str(target)])
    assert to_file.exit_code == 0, to_file.output
    assert "Exported 21 subscriptions" in to_file.stdout
    assert {(f.url, f.title) for f in parse_opml(target.read_bytes(), str(target))} == expected


def test_import_again_loads_feeds_a_stopped_import_left_unloaded(library, settings, server, tmp_path):
    """An import killed while loading leaves subscriptions never loaded; importing the file again
    loads those (and only those) instead of calling them all "already subscribed"."""
    server.add("/django.rss", served(DJANGO))
    server.add("/cortex.rss", served(CORTEX))
    path = write(tmp_path, "two.opml", opml(
        f'<outline type="rss" text="Django" xmlUrl="{server.url("/django.rss")}"/>',
        f'<outline type="rss" text="Cortex" xmlUrl="{server.url("/cortex.rss")}"/>',
    ))
    run(import_opml(library, settings, path, refresh=False))  # as if stopped before loading
    loaded = library.podcast_by_url(server.url("/django.rss"))
    run(refresh_many(library, settings, [loaded.id]))  # this one got loaded before the stop
    summary = run(import_opml(library, settings, path))
    cortex = library.podcast_by_url(server.url("/cortex.rss"))
    assert summary.added == [] and len(summary.already_subscribed) == 2 and summary.refreshed == [cortex.id]
    assert cortex.status == "ok" and cortex.episode_count > 0
    assert len(server.requests_to("/django.rss")) == 1 and len(server.requests_to("/cortex.rss")) == 1

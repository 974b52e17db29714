"""Each user has their own subscriptions, playback, queue and snips; what is computed for an
episode is shared. Alice owns the library (and is who asks without a login on 127.0.0.1); Bob logs in."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from earmark.accounts import hash_password
from earmark.store.accounts import AccountStore
from earmark.store.db import connect
from earmark.store.playback import Playback
from earmark.store.schema import MIGRATIONS
from earmark.web.app import create_app
from tests.web.conftest import _episode

BOB = "bob's own password"


@pytest.fixture
def two(settings):
    app = create_app(settings)
    accounts = AccountStore(app.state.library)
    accounts.add("alice", hash_password("alice's password"))
    accounts.add("bob", hash_password(BOB))
    library = app.state.library
    from earmark.models import ParsedFeed, Podcast

    podcast, _ = library.add_podcast("http://127.0.0.1:1/shared.rss")
    library.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title="Shared"), [_episode(1), _episode(2)]),
                      url=podcast.url, etag=None, last_modified=None, content_hash=None)
    ids = {e.guid: e.id for e in library.episodes(podcast.id)}
    with TestClient(app, base_url="http://127.0.0.1") as alice, TestClient(app, base_url="http://127.0.0.1") as bob:
        page = bob.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert bob.post("/login", data={"name": "bob", "password": BOB, "csrf": csrf}, follow_redirects=False).status_code == 303
        yield app, alice, bob, podcast.id, ids


def test_subscriptions_are_each_users_own(two):
    app, alice, bob, shared, ids = two
    assert [p["id"] for p in alice.get("/api/v1/podcasts").json()] == [shared]
    assert bob.get("/api/v1/podcasts").json() == []
    # Bob follows the same show: shared, not fetched twice (the podcast row is the same).
    library = app.state.library
    library.add_podcast("http://127.0.0.1:1/shared.rss", user_id=2)
    assert [p["id"] for p in bob.get("/api/v1/podcasts").json()] == [shared]
    # Bob leaves: Alice keeps it, with its episodes.
    assert bob.delete(f"/api/v1/podcasts/{shared}").status_code == 204
    assert bob.get("/api/v1/podcasts").json() == []
    assert [p["id"] for p in alice.get("/api/v1/podcasts").json()] == [shared]
    assert len(library.episodes(shared)) == 2
    # The last one to leave removes it.
    assert alice.delete(f"/api/v1/podcasts/{shared}").status_code == 204
    assert library.podcast_by_url("http://127.0.0.1:1/shared.rss") is None


def test_play_positions_and_queues_are_each_users_own(two):
    app, alice, bob, shared, ids = two
    one, two_ = ids["g1"], ids["g2"]
    assert alice.put(f"/api/v1/episodes/{one}/position", json={"seconds": 100}).status_code == 200
    assert bob.put(f"/api/v1/episodes/{one}/position", json={"seconds": 7}).status_code == 200
    assert alice.get(f"/api/v1/episodes/{one}").json()["playback"]["position"] == 100
    assert bob.get(f"/api/v1/episodes/{one}").json()["playback"]["position"] == 7
    bob.post(f"/api/v1/episodes/{two_}/played", json={"played": True})
    assert not alice.get(f"/api/v1/episodes/{two_}").json()["playback"]["played"]
    assert bob.put("/api/v1/queue", json={"episode_ids": [two_, one]}).status_code == 200
    assert alice.get("/api/v1/queue").json()["episode_ids"] == []
    assert bob.get("/api/v1/queue").json()["episode_ids"] == [two_, one]
    assert Playback(app.state.library).state(one).position == 100  # the CLI is the owner's


def test_snips_are_each_users_own(two):
    app, alice, bob, shared, ids = two
    mine = alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30}).json()
    bobs = bob.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 60}).json()
    assert [s["id"] for s in alice.get("/api/v1/snips").json()["items"]] == [mine["id"]]
    assert [s["id"] for s in bob.get("/api/v1/snips").json()["items"]] == [bobs["id"]]
    assert bob.get(f"/api/v1/snips/{mine['id']}").status_code == 404
    assert bob.patch(f"/api/v1/snips/{mine['id']}", json={"note": "mine now"}).status_code == 404
    assert bob.delete(f"/api/v1/snips/{mine['id']}").status_code == 404
    assert alice.get(f"/api/v1/snips/{mine['id']}").json()["note"] == ""
    assert bob.get(f"/snips/{mine['id']}", headers={"accept": "text/html"}).status_code == 404


def test_search_finds_only_what_the_user_follows_and_their_own_snips(two):
    app, alice, bob, shared, ids = two
    snip = alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30}).json()
    alice.patch(f"/api/v1/snips/{snip['id']}", json={"note": "zebrafish"})
    assert [r["kind"] for r in alice.get("/api/v1/search", params={"q": "zebrafish", "mode": "keyword"}).json()["results"]] == ["snip"]
    app.state.library.add_podcast("http://127.0.0.1:1/shared.rss", user_id=2)
    assert bob.get("/api/v1/search", params={"q": "zebrafish", "mode": "keyword"}).json()["results"] == []
    assert bob.get("/api/v1/search", params={"q": "Episode", "mode": "keyword"}).json()["results"]  # the shared show


def test_a_library_from_before_accounts_becomes_the_owners(tmp_path, monkeypatch):
    """Migration 12 on a library with subscriptions, positions, a queue and snips: all user 1's."""
    from earmark.store import db

    path = tmp_path / "old.sqlite3"
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS[:11])
    old = db.connect(path)
    old.execute("INSERT INTO podcasts (id, url, added_at) VALUES (1, 'https://example.org/f.rss', 5)")
    old.execute("INSERT INTO episodes (id, podcast_id, guid, content_hash, first_seen, updated_at, enclosure_url)"
                " VALUES (1, 1, 'g', '', 0, 0, 'https://example.org/1.mp3')")
    old.execute("INSERT INTO playback (episode_id, position, played, updated_at) VALUES (1, 42, 1, 9)")
    old.execute("INSERT INTO queue (episode_id, position) VALUES (1, 0)")
    old.execute("INSERT INTO snips (episode_id, tapped_at, start, \"end\", created_at, updated_at) VALUES (1, 1, 0, 30, 1, 1)")
    old.close()
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    conn = connect(path)
    assert [tuple(r) for r in conn.execute("SELECT user_id, podcast_id FROM user_podcasts")] == [(1, 1)]
    assert [tuple(r) for r in conn.execute("SELECT user_id, episode_id, position, played FROM playback")] == [(1, 1, 42.0, 1)]
    assert [tuple(r) for r in conn.execute("SELECT user_id, episode_id FROM queue")] == [(1, 1)]
    assert [tuple(r) for r in conn.execute("SELECT user_id FROM snips")] == [(1,)]
    assert conn.execute("SELECT played_count FROM podcasts").fetchone()[0] == 1
    assert [tuple(r)[:4] for r in conn.execute("SELECT user_id, group_id, url, subscribed FROM sync_subscriptions")] == [
        (1, 0, "https://example.org/f.rss", 1)]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_earmark_remove_keeps_a_podcast_another_user_follows(two):
    from typer.testing import CliRunner

    from earmark.cli import app as cli

    app, alice, bob, shared, ids = two
    library = app.state.library
    library.add_podcast("http://127.0.0.1:1/shared.rss", user_id=2)
    r = CliRunner().invoke(cli, ["remove", str(shared)])
    assert r.exit_code == 0 and "another user still follows it" in r.output
    assert alice.get("/api/v1/podcasts").json() == []
    assert [p["id"] for p in bob.get("/api/v1/podcasts").json()] == [shared]


def test_exports_carry_only_the_owners_snips(two, tmp_path):
    from earmark.export.markdown import export_markdown

    app, alice, bob, shared, ids = two
    mine = alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30}).json()
    alice.patch(f"/api/v1/snips/{mine['id']}", json={"note": "alice was here"})
    bobs = bob.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 60}).json()
    bob.patch(f"/api/v1/snips/{bobs['id']}", json={"note": "bob was here"})
    export_markdown(app.state.library, app.state.settings, tmp_path / "vault")
    text = "".join(p.read_text() for p in (tmp_path / "vault").rglob("*.md"))
    assert "alice was here" in text and "bob was here" not in text
    exported = bob.get("/api/v1/snips/export", params={"format": "markdown"}).text
    assert "bob was here" in exported and "alice was here" not in exported


def test_each_user_exports_their_own_snips_to_their_own_readwise(two):
    import json

    from typer.testing import CliRunner

    from earmark.cli import app as cli
    from tests.export.fakes import FakeReadwise

    app, alice, bob, shared, ids = two
    fake = FakeReadwise()
    try:
        settings = app.state.settings
        (settings.home / "settings.toml").write_text(f'readwise_token = "alice-token"\nreadwise_base_url = "{fake.url}"\n')
        alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30})
        bobs = bob.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 60}).json()
        runner = CliRunner()
        r = runner.invoke(cli, ["export", "readwise", "--user", "bob"])
        assert r.exit_code == 1 and "bob has no Readwise token" in r.output  # never alice's
        assert runner.invoke(cli, ["user", "set", "bob", "--readwise-token", fake.token]).exit_code == 0
        app.state.library.conn.execute("UPDATE snips SET title = 'A title', excerpt = 'Some words' WHERE id = ?", (bobs["id"],))
        r = runner.invoke(cli, ["export", "readwise", "--user", "bob", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["created"] == [f"snip:{bobs['id']}"]
        assert [h["location"] for h in fake.highlights] == [int(bobs["start"])]
        assert all(headers["Authorization"] == f"Token {fake.token}" for _, _, headers, _ in fake.requests)
    finally:
        fake.close()


def test_uploads_are_each_users_own(two):
    from tests.uploads_media import mp3

    app, alice, bob, shared, ids = two
    hers = alice.post("/api/v1/uploads", params={"filename": "hers.mp3"}, content=mp3()).json()
    his = bob.post("/api/v1/uploads", params={"filename": "his.mp3"}, content=mp3(seconds=4.0)).json()
    assert hers["podcast"]["id"] != his["podcast"]["id"]
    assert [p["title"] for p in bob.get("/api/v1/podcasts").json()] == ["My uploads"]
    assert his["podcast"]["id"] in [p["id"] for p in bob.get("/api/v1/podcasts").json()]
    assert hers["podcast"]["id"] not in [p["id"] for p in bob.get("/api/v1/podcasts").json()]


def test_unplayed_counts_are_each_users_own(two):
    app, alice, bob, shared, ids = two
    library = app.state.library
    library.add_podcast("http://127.0.0.1:1/shared.rss", user_id=2)
    bob.post(f"/api/v1/episodes/{ids['g1']}/played", json={"played": True})
    assert library.unplayed_counts(2)[shared] == 1 and library.unplayed_counts(1)[shared] == 2


def test_removing_a_user_removes_the_podcasts_only_they_followed(two):
    from typer.testing import CliRunner

    from earmark.cli import app as cli

    app, alice, bob, shared, ids = two
    library = app.state.library
    library.add_podcast("http://127.0.0.1:1/shared.rss", user_id=2)
    only_bob, _ = library.add_podcast("http://127.0.0.1:1/bobs.rss", user_id=2)
    r = CliRunner().invoke(cli, ["user", "remove", "bob"])
    assert r.exit_code == 0 and "1 podcast(s) only they followed" in r.output
    assert library.podcast_by_url("http://127.0.0.1:1/bobs.rss") is None
    assert library.podcast_by_url("http://127.0.0.1:1/shared.rss") is not None  # alice's still


def test_someone_elses_uploads_are_not_found(two):
    from tests.uploads_media import mp3

    app, alice, bob, shared, ids = two
    hers = alice.post("/api/v1/uploads", params={"filename": "board meeting.mp3"}, content=mp3()).json()
    episode, podcast = hers["episode"]["id"], hers["podcast"]["id"]
    for path in (f"/api/v1/episodes/{episode}", f"/api/v1/episodes/{episode}/audio", f"/api/v1/podcasts/{podcast}",
                 f"/api/v1/podcasts/{podcast}/episodes", f"/api/v1/episodes/{episode}/transcript",
                 f"/episodes/{episode}", f"/podcasts/{podcast}"):
        assert bob.get(path).status_code == 404, path
        assert alice.get(path).status_code in (200, 404 if "transcript" in path else 200), path
    assert bob.post(f"/api/v1/episodes/{episode}/snips", json={"position": 1}).status_code == 404
    assert bob.get(f"/api/v1/episodes/{ids['g1']}").status_code == 200  # a feed's episodes are shared


def test_auto_delete_is_a_followers_setting(two):
    app, alice, bob, shared, ids = two
    library = app.state.library
    path = app.state.settings.downloads_dir / "1" / "e1.mp3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"audio")
    library.record_download(ids["g1"], str(path), 5)
    alice.post(f"/api/v1/episodes/{ids['g1']}/played", json={"played": True})
    # Bob follows nothing: his setting cannot delete the file the owner keeps.
    assert bob.put(f"/api/v1/podcasts/{shared}/settings", json={"auto_delete": True}).status_code == 200
    bob.post(f"/api/v1/episodes/{ids['g1']}/played", json={"played": True})
    assert path.exists() and library.download(ids["g1"]) is not None


def test_a_position_sent_late_does_not_replace_a_newer_one(two):
    import time

    app, alice, bob, shared, ids = two
    one = ids["g1"]
    alice.put(f"/api/v1/episodes/{one}/position", json={"seconds": 1500})  # the desktop, now
    late = alice.put(f"/api/v1/episodes/{one}/position", json={"seconds": 300, "at": time.time() - 3600}).json()
    assert late["position"] == 1500  # the phone's, queued offline an hour ago
    assert alice.put(f"/api/v1/episodes/{one}/position", json={"seconds": 1600, "at": time.time()}).json()["position"] == 1600

"""Snips sent from an offline queue: the client's key (client_id) makes each one exactly once per
user, whatever the retries; and migration 13 on a library that already has snips."""

from __future__ import annotations

import sqlite3

import pytest

from earmark.store.db import connect
from earmark.store.schema import MIGRATIONS
from earmark.store.snips import SnipStore
from tests.sync.test_per_user import two  # noqa: F401  (fixture: Alice the owner, Bob logged in)

KEY = "0f8e2c1a-5b7d-4e3f-9a61-2d4c8b7e6f10"


def test_the_same_key_twice_makes_one_snip(two):  # noqa: F811
    _, alice, _, _, ids = two
    first = alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30, "client_id": KEY})
    assert first.status_code == 201, first.text
    again = alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30, "client_id": KEY})
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert [s["id"] for s in alice.get("/api/v1/snips").json()["items"]] == [first.json()["id"]]
    # Without a key every POST is a new snip, as before.
    assert alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30}).status_code == 201
    assert len(alice.get("/api/v1/snips").json()["items"]) == 2


def test_another_user_with_the_same_key_gets_their_own(two):  # noqa: F811
    _, alice, bob, _, ids = two
    mine = alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30, "client_id": KEY}).json()
    bobs = bob.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 60, "client_id": KEY})
    assert bobs.status_code == 201 and bobs.json()["id"] != mine["id"]
    assert [s["id"] for s in bob.get("/api/v1/snips").json()["items"]] == [bobs.json()["id"]]
    assert [s["id"] for s in alice.get("/api/v1/snips").json()["items"]] == [mine["id"]]


def test_a_bad_key_is_refused(two):  # noqa: F811
    _, alice, _, _, ids = two
    for key in ("short", "has spaces in it", "x" * 65, "<script>"):
        response = alice.post(f"/api/v1/episodes/{ids['g1']}/snips", json={"position": 30, "client_id": key})
        assert response.status_code == 422, key
    assert alice.get("/api/v1/snips").json()["items"] == []


def test_the_store_keeps_one_row_when_two_sends_race(two):  # noqa: F811
    """The route looks the key up first; the UNIQUE index is what holds when two writes meet."""
    app, _, _, _, ids = two
    from earmark.models import Snip

    store = SnipStore(app.state.library, 1)
    one = store.create(Snip(episode_id=ids["g1"], tapped_at=1, start=0, end=30), client_id=KEY)
    two_ = store.create(Snip(episode_id=ids["g1"], tapped_at=1, start=0, end=30), client_id=KEY)
    assert one.id == two_.id
    assert app.state.library.conn.execute("SELECT count(*) FROM snips WHERE client_id = ?", (KEY,)).fetchone()[0] == 1


def test_migration_13_on_a_library_with_snips(tmp_path, monkeypatch):
    from earmark.store import db

    path = tmp_path / "old.sqlite3"
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS[:12])
    old = db.connect(path)
    old.execute("INSERT INTO podcasts (id, url, added_at) VALUES (1, 'https://example.org/f.rss', 5)")
    old.execute("INSERT INTO episodes (id, podcast_id, guid, content_hash, first_seen, updated_at, enclosure_url)"
                " VALUES (1, 1, 'g', '', 0, 0, 'https://example.org/1.mp3')")
    for _ in range(2):
        old.execute("INSERT INTO snips (episode_id, tapped_at, start, \"end\", created_at, updated_at) VALUES (1, 1, 0, 30, 1, 1)")
    old.close()
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert [tuple(r) for r in conn.execute("SELECT id, user_id, client_id FROM snips ORDER BY id")] == [(1, 1, None), (2, 1, None)]
    conn.execute("UPDATE snips SET client_id = ? WHERE id = 1", (KEY,))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute("UPDATE snips SET client_id = ? WHERE id = 2", (KEY,))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

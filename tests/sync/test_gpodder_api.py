"""The gpodder.net API v2 over real HTTP on 127.0.0.1: every endpoint, its documented shapes, and
bad input (malformed JSON, unknown device, wrong password, another user, `since` in the future)."""

from __future__ import annotations

import time

import httpx
import pytest

from earmark.store.playback import Playback
from earmark.store.sync import SyncStore
from tests.feedmaker import rss
from tests.sync.conftest import PASSWORD


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


# -- authentication ---------------------------------------------------------------------------


def test_login_sets_a_session_cookie_that_later_requests_use(base):
    with httpx.Client(base_url=base) as c:
        r = c.post("/api/2/auth/alice/login.json", auth=("alice", PASSWORD))
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert "sessionid=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert c.get("/api/2/devices/alice.json").status_code == 200  # the cookie alone
        assert c.post("/api/2/auth/alice/logout.json").status_code == 200
        assert c.get("/api/2/devices/alice.json").status_code == 401


@pytest.mark.parametrize("auth", [("alice", "wrong password"), ("nobody", "wrong password"), None])
def test_wrong_password_unknown_user_and_no_credentials_get_the_same_401(anon, auth):
    r = anon.post("/api/2/auth/alice/login.json", auth=auth)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    if auth is not None:
        assert r.json()["error"]["message"] == "wrong user name or password"  # never "no such user"


def test_another_users_path_is_refused(alice):
    assert alice.get("/api/2/devices/bob.json").status_code == 401
    assert alice.get("/api/2/subscriptions/bob/phone.json").status_code == 401


def test_failed_logins_are_limited(anon):
    for _ in range(10):
        assert anon.get("/api/2/devices/alice.json", auth=("alice", "guess")).status_code == 401
    r = anon.get("/api/2/devices/alice.json", auth=("alice", PASSWORD))
    assert r.status_code == 429  # even the right password waits: the name is under attack
    assert "try again" in r.json()["error"]["message"]


# -- devices ----------------------------------------------------------------------------------


def test_devices_are_created_on_first_use_and_configured(alice):
    assert alice.get("/api/2/devices/alice.json").json() == []
    assert alice.post("/api/2/devices/alice/phone.json", json={"caption": "My phone", "type": "mobile"}).status_code == 200
    assert alice.post("/api/2/devices/alice/laptop.json", content=b"").status_code == 200  # AntennaPod may send nothing
    devices = alice.get("/api/2/devices/alice.json").json()
    assert devices == [
        {"id": "phone", "caption": "My phone", "type": "mobile", "subscriptions": 0},
        {"id": "laptop", "caption": "", "type": "other", "subscriptions": 0},
    ]


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"type": "toaster"}', b'{"caption": 5}', b"[1, 2]"],
)
def test_device_configuration_bad_input(alice, body):
    r = alice.post("/api/2/devices/alice/phone.json", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["message"]


def test_a_bad_device_id_is_refused(alice):
    assert alice.post("/api/2/devices/alice/a%20b.json", json={}).status_code == 400


# -- subscriptions ----------------------------------------------------------------------------


def test_subscription_changes_flow_between_synced_devices(alice, sync_app, server):
    server.add("/a.rss", rss("Show A", [("a1", "A one")]))
    feed_a, feed_b = server.url("/a.rss"), server.url("/b.rss")
    r = alice.post("/api/2/subscriptions/alice/phone.json", json={"add": [feed_a, feed_b], "remove": []})
    assert r.status_code == 200
    first = r.json()
    assert first["update_urls"] == [] and isinstance(first["timestamp"], int)
    # Another device of the same user (the main group) gets them from since=0, with the library's own.
    got = alice.get("/api/2/subscriptions/alice/laptop.json", params={"since": 0}).json()
    assert set(got["add"]) == {feed_a, feed_b} and got["remove"] == []
    # Unknown podcasts are subscribed in Earmark and loaded in the background.
    library = sync_app.state.library
    podcast = wait_for(lambda: (p := library.podcast_by_url(feed_a)) and p.status == "ok" and p)
    assert podcast.title == "Show A"
    assert wait_for(lambda: library.podcast_by_url(feed_b).status == "error")  # a dead feed: marked, kept
    # A removal reaches the other device after its last timestamp.
    alice.post("/api/2/subscriptions/alice/phone.json", json={"add": [], "remove": [feed_b]})
    later = alice.get("/api/2/subscriptions/alice/laptop.json", params={"since": got["timestamp"]}).json()
    assert later["remove"] == [feed_b] and feed_b not in later["add"]
    assert later["timestamp"] >= got["timestamp"]


def test_podcasts_added_and_removed_in_earmark_reach_the_devices(alice, sync_app):
    library = sync_app.state.library
    start = alice.get("/api/2/subscriptions/alice/phone.json").json()["timestamp"]
    podcast, _ = library.add_podcast("https://example.org/earmark-only.rss")
    got = alice.get("/api/2/subscriptions/alice/phone.json", params={"since": start}).json()
    assert got["add"] == ["https://example.org/earmark-only.rss"]
    library.remove_podcast(podcast.id)
    got = alice.get("/api/2/subscriptions/alice/phone.json", params={"since": start}).json()
    assert got["remove"] == ["https://example.org/earmark-only.rss"] and got["add"] == []


def test_urls_are_sanitised_and_reported(alice):
    r = alice.post(
        "/api/2/subscriptions/alice/phone.json",
        json={"add": [" https://Example.ORG/feed.xml#top ", "feed://example.net/rss", "javascript:alert(1)"], "remove": []},
    ).json()
    assert r["update_urls"] == [
        [" https://Example.ORG/feed.xml#top ", "https://example.org/feed.xml"],
        ["feed://example.net/rss", "http://example.net/rss"],
        ["javascript:alert(1)", ""],
    ]
    got = alice.get("/api/2/subscriptions/alice/phone.json", params={"since": 0}).json()["add"]
    assert "https://example.org/feed.xml" in got and "http://example.net/rss" in got
    assert not any("javascript" in u for u in got)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["https://example.org/a.rss"]',
        b'{"add": "https://example.org/a.rss"}',
        b'{"add": ["https://example.org/a.rss"], "remove": ["https://example.org/a.rss"]}',
        b'{"add": [1]}',
    ],
)
def test_subscription_upload_bad_input_changes_nothing(alice, body):
    r = alice.post("/api/2/subscriptions/alice/phone.json", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert alice.get("/api/2/subscriptions/alice/phone.json", params={"since": 0}).json()["add"] == []


@pytest.mark.parametrize("since", ["tomorrow", "-5", str(int(time.time()) + 86400)])
def test_a_bad_or_future_since_is_a_400(alice, since):
    r = alice.get("/api/2/subscriptions/alice/phone.json", params={"since": since})
    assert r.status_code == 400 and "since" in r.json()["error"]["message"]


def test_another_users_subscriptions_stay_theirs(base, alice, sync_app):
    alice.post("/api/2/subscriptions/alice/phone.json", json={"add": ["https://example.org/alice.rss"], "remove": []})
    with httpx.Client(base_url=base, auth=("bob", "bob's own password")) as bob:
        bob.post("/api/2/subscriptions/bob/phone.json", json={"add": ["https://example.org/bob.rss"], "remove": []})
        assert bob.get("/api/2/subscriptions/bob/tablet.json", params={"since": 0}).json()["add"] == ["https://example.org/bob.rss"]
    assert "https://example.org/bob.rss" not in alice.get("/api/2/subscriptions/alice/x.json", params={"since": 0}).json()["add"]
    # Each is subscribed in Earmark to their own: the podcast is in the library once, for bob alone.
    library = sync_app.state.library
    bobs = library.podcast_by_url("https://example.org/bob.rss")
    assert [p.url for p in library.podcasts(2)] == ["https://example.org/bob.rss"]
    assert bobs.id not in [p.id for p in library.podcasts(1)]


# -- sync groups ------------------------------------------------------------------------------


def test_sync_groups_split_and_merge(alice):
    for device, url in (("phone", "https://example.org/p.rss"), ("laptop", None), ("car", None)):
        alice.post(f"/api/2/devices/alice/{device}.json", json={})
        if url:
            alice.post(f"/api/2/subscriptions/alice/{device}.json", json={"add": [url], "remove": []})
    assert alice.get("/api/2/sync-devices/alice.json").json() == {"synchronized": [["phone", "laptop", "car"]], "not-synchronize": []}
    state = alice.post("/api/2/sync-devices/alice.json", json={"stop-synchronize": ["car"]}).json()
    assert state == {"synchronized": [["phone", "laptop"]], "not-synchronize": ["car"]}
    # The car keeps what it had, and no longer sees the others' changes.
    assert alice.get("/api/2/subscriptions/alice/car.json", params={"since": 0}).json()["add"] == ["https://example.org/p.rss"]
    alice.post("/api/2/subscriptions/alice/phone.json", json={"add": ["https://example.org/q.rss"], "remove": []})
    alice.post("/api/2/subscriptions/alice/car.json", json={"add": ["https://example.org/car.rss"], "remove": []})
    assert "https://example.org/q.rss" not in alice.get("/api/2/subscriptions/alice/car.json", params={"since": 0}).json()["add"]
    # Joined again: the subscriptions are merged.
    state = alice.post("/api/2/sync-devices/alice.json", json={"synchronize": [["car", "phone"]]}).json()
    assert state == {"synchronized": [["phone", "laptop", "car"]], "not-synchronize": []}
    merged = set(alice.get("/api/2/subscriptions/alice/laptop.json", params={"since": 0}).json()["add"])
    assert {"https://example.org/p.rss", "https://example.org/q.rss", "https://example.org/car.rss"} <= merged


def test_sync_groups_bad_input(alice):
    assert alice.post("/api/2/sync-devices/alice.json", json={"synchronize": [["ghost", "phantom"]]}).status_code == 404
    assert alice.post("/api/2/sync-devices/alice.json", json={"synchronize": "phone"}).status_code == 400
    assert alice.post("/api/2/sync-devices/alice.json", content=b"{", headers={"content-type": "application/json"}).status_code == 400


# -- episode actions --------------------------------------------------------------------------


def _feed_with_episodes(sync_app, server, url_path="/show.rss"):
    server.add(url_path, rss("The Show", [("e2", "Two"), ("e1", "One")]))
    library = sync_app.state.library
    import asyncio

    from earmark.feeds.refresh import subscribe

    podcast, _ = asyncio.run(subscribe(library, sync_app.state.settings, server.url(url_path)))
    episodes = {e.guid: e for e in library.episodes(podcast.id)}
    return podcast, episodes


def test_play_actions_move_the_owners_position_newest_wins(alice, sync_app, server):
    podcast, episodes = _feed_with_episodes(sync_app, server)
    one = episodes["e1"]
    playback = Playback(sync_app.state.library)
    play = {"podcast": podcast.url, "episode": one.enclosure_url, "guid": "e1", "action": "play",
            "timestamp": "2026-01-01T10:00:00", "started": 0, "position": 120, "total": 1000, "device": "phone"}
    r = alice.post("/api/2/episodes/alice.json", json=[play])
    assert r.status_code == 200 and r.json()["update_urls"] == []
    assert playback.state(one.id).position == 120
    # An older action (another device, offline for a while) does not move it back.
    alice.post("/api/2/episodes/alice.json", json=[{**play, "timestamp": "2025-12-31T10:00:00", "position": 5}])
    assert playback.state(one.id).position == 120
    # Near the end: played.
    alice.post("/api/2/episodes/alice.json", json=[{**play, "timestamp": "2026-01-01T11:00:00", "position": 990}])
    assert playback.state(one.id).played
    # Everything is listed, oldest first, and filtered as asked.
    listed = alice.get("/api/2/episodes/alice.json", params={"since": 0}).json()
    phone_actions = [a for a in listed["actions"] if a["device"] == "phone"]
    assert [a["position"] for a in phone_actions] == [5, 120, 990]
    assert phone_actions[0]["timestamp"] == "2025-12-31T10:00:00"
    aggregated = alice.get("/api/2/episodes/alice.json", params={"since": 0, "aggregated": "true"}).json()["actions"]
    assert [a["position"] for a in aggregated if a["episode"] == one.enclosure_url] == [990]
    by_podcast = alice.get("/api/2/episodes/alice.json", params={"podcast": "https://example.org/other.rss"}).json()
    assert by_podcast["actions"] == []


def test_the_web_players_position_is_reported_to_devices(alice, sync_app, server):
    podcast, episodes = _feed_with_episodes(sync_app, server)
    start = alice.get("/api/2/episodes/alice.json").json()["timestamp"]
    Playback(sync_app.state.library).set_position(episodes["e2"].id, 300)
    actions = alice.get("/api/2/episodes/alice.json", params={"since": start}).json()["actions"]
    assert actions == [{
        "podcast": podcast.url, "episode": episodes["e2"].enclosure_url, "action": "play", "guid": "e2",
        "device": "earmark", "timestamp": actions[0]["timestamp"], "started": 0, "position": 300, "total": 300,
    }]
    # A position a device sent is not echoed back as Earmark's own.
    alice.post("/api/2/episodes/alice.json", json=[{
        "podcast": podcast.url, "episode": episodes["e1"].enclosure_url, "action": "play",
        "timestamp": "2030-01-01T00:00:00", "position": 60, "total": 900, "device": "phone"}])
    devices = [a["device"] for a in alice.get("/api/2/episodes/alice.json", params={"since": start}).json()["actions"]]
    assert devices.count("earmark") == 1 and devices.count("phone") == 1


def test_an_action_for_an_unknown_episode_is_kept_and_attached_by_the_refresh(alice, sync_app, server):
    podcast, episodes = _feed_with_episodes(sync_app, server)
    new_media = "https://example.org/e3.mp3"
    alice.post("/api/2/episodes/alice.json", json=[{
        "podcast": podcast.url, "episode": new_media, "guid": "e3", "action": "play",
        "timestamp": "2030-01-01T00:00:00", "position": 42, "total": 600}])
    assert SyncStore(sync_app.state.library).actions(1, 0)[0].position == 42
    server.add("/show.rss", rss("The Show", [("e3", "Three"), ("e2", "Two"), ("e1", "One")]))
    import asyncio

    from earmark.feeds.refresh import refresh_many

    asyncio.run(refresh_many(sync_app.state.library, sync_app.state.settings, [podcast.id]))
    three = next(e for e in sync_app.state.library.episodes(podcast.id) if e.guid == "e3")
    assert Playback(sync_app.state.library).state(three.id).position == 42


@pytest.mark.parametrize(
    "action",
    [
        {"podcast": "https://example.org/f.rss", "episode": "https://example.org/e.mp3", "action": "listen"},
        {"podcast": "not a url", "episode": "https://example.org/e.mp3", "action": "download"},
        {"podcast": "https://example.org/f.rss", "episode": "https://example.org/e.mp3", "action": "play"},
        {"podcast": "https://example.org/f.rss", "episode": "https://example.org/e.mp3", "action": "play",
         "position": 5, "timestamp": "yesterday"},
        {"podcast": "https://example.org/f.rss", "episode": "https://example.org/e.mp3", "action": "play", "position": -3},
        "play",
    ],
)
def test_a_malformed_action_refuses_the_whole_upload(alice, action):
    good = {"podcast": "https://example.org/f.rss", "episode": "https://example.org/ok.mp3", "action": "download"}
    r = alice.post("/api/2/episodes/alice.json", json=[good, action])
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("action 1:")
    assert alice.get("/api/2/episodes/alice.json").json()["actions"] == []


def test_episode_actions_of_an_unknown_device_404(alice):
    assert alice.get("/api/2/episodes/alice.json", params={"device": "ghost"}).status_code == 404


# -- simple API -------------------------------------------------------------------------------


def test_simple_api_lists_in_three_formats_and_replaces_a_device_list(alice):
    r = alice.put("/subscriptions/alice/desk.json", json=["https://example.org/1.rss", "https://example.org/2.rss"])
    assert r.status_code == 200
    assert alice.get("/subscriptions/alice/desk.json").json() == ["https://example.org/1.rss", "https://example.org/2.rss"]
    assert alice.get("/subscriptions/alice/desk.txt").text == "https://example.org/1.rss\nhttps://example.org/2.rss\n"
    opml = alice.get("/subscriptions/alice/desk.opml")
    assert opml.headers["content-type"].startswith("text/x-opml") and 'xmlUrl="https://example.org/2.rss"' in opml.text
    # Upload the list as text: 1 stays, 2 goes, 3 comes.
    alice.put("/subscriptions/alice/desk.txt", content=b"https://example.org/1.rss\nhttps://example.org/3.rss\n")
    assert alice.get("/subscriptions/alice/desk.json").json() == ["https://example.org/1.rss", "https://example.org/3.rss"]
    # and as OPML
    alice.put("/subscriptions/alice/desk.opml", content=opml.content)
    assert alice.get("/subscriptions/alice.json").json() == ["https://example.org/1.rss", "https://example.org/2.rss"]


def test_simple_api_bad_input(alice):
    assert alice.get("/subscriptions/alice/ghost.json").status_code == 404
    assert alice.get("/subscriptions/alice/desk.xml").status_code == 404
    assert alice.put("/subscriptions/alice/desk.json", content=b'{"a": 1}').status_code == 400
    assert alice.put("/subscriptions/alice/desk.opml", content=b"<opml><body><outline").status_code == 422


def test_episodes_played_on_a_phone_are_processed_when_asked(alice, sync_app, server):
    import dataclasses

    from earmark.store.jobs import JobStore

    podcast, episodes = _feed_with_episodes(sync_app, server)
    play = {"podcast": podcast.url, "episode": episodes["e1"].enclosure_url, "action": "play",
            "timestamp": "2030-01-01T00:00:00", "position": 60, "total": 900}
    jobs = JobStore(sync_app.state.library)
    alice.post("/api/2/episodes/alice.json", json=[play])
    assert jobs.list(episode_id=episodes["e1"].id) == []  # off by default
    sync_app.state.settings = dataclasses.replace(sync_app.state.settings, sync_process_played=True)
    alice.post("/api/2/episodes/alice.json", json=[play, {**play, "action": "download", "episode": episodes["e2"].enclosure_url}])
    [job] = jobs.list(episode_id=episodes["e1"].id)
    assert job.state == "queued" and jobs.list(episode_id=episodes["e2"].id) == []  # a download is no play
    alice.post("/api/2/episodes/alice.json", json=[{**play, "position": 120}])
    assert len(jobs.list(episode_id=episodes["e1"].id)) == 1  # once


def test_guesses_at_a_name_do_not_lock_out_its_phones(base, alice):
    assert alice.get("/api/2/devices/alice.json").status_code == 200  # the phone, its password proven
    with httpx.Client(base_url=base) as attacker:
        for _ in range(12):
            attacker.get("/api/2/devices/alice.json", auth=("alice", "guess"))
        assert attacker.get("/api/2/devices/alice.json", auth=("alice", "guess")).status_code == 429
    with httpx.Client(base_url=base, auth=("alice", PASSWORD)) as phone:  # no cookie: Basic again
        assert phone.get("/api/2/devices/alice.json").status_code == 200


def test_sessions_from_basic_last_an_hour_and_login_json_a_month(base, sync_app):
    with httpx.Client(base_url=base) as c:
        c.post("/api/2/auth/alice/login.json", auth=("alice", PASSWORD))
    with httpx.Client(base_url=base, auth=("alice", PASSWORD)) as c:
        c.get("/api/2/devices/alice.json")
    lifetimes = sorted(round(r[0] - r[1]) for r in sync_app.state.library.conn.execute(
        "SELECT expires_at, created_at FROM web_sessions"))
    assert lifetimes == [3600, 30 * 24 * 3600]


def test_finished_plays_and_unknown_lengths(alice, sync_app, server):
    import dataclasses

    from earmark.store.jobs import JobStore

    podcast, episodes = _feed_with_episodes(sync_app, server)  # the feed gives no durations
    playback = Playback(sync_app.state.library)
    start = alice.get("/api/2/episodes/alice.json").json()["timestamp"]
    playback.set_played(episodes["e1"].id)  # played, length unknown: nothing an app could read
    playback.set_position(episodes["e2"].id, 90)  # a position: total is at least that
    reported = alice.get("/api/2/episodes/alice.json", params={"since": start}).json()["actions"]
    assert [(a["episode"], a["position"], a["total"]) for a in reported] == [(episodes["e2"].enclosure_url, 90, 90)]
    # An app's first sync sends its history as finished plays: not "episodes I am listening to".
    sync_app.state.settings = dataclasses.replace(sync_app.state.settings, sync_process_played=True)
    finished = {"podcast": podcast.url, "episode": episodes["e1"].enclosure_url, "action": "play",
                "timestamp": "2030-01-01T00:00:00", "position": 1000, "total": 1000}
    alice.post("/api/2/episodes/alice.json", json=[finished])
    assert JobStore(sync_app.state.library).list(episode_id=episodes["e1"].id) == []

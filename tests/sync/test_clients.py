"""Real clients against the real server: gPodder's own library (mygpoclient, the calls gPodder
desktop makes), the exact request sequence of AntennaPod's gpodder.net sync service, and the
Nextcloud gpoddersync API as AntennaPod's Nextcloud option calls it."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from mygpoclient import api
from mygpoclient.http import Unauthorized

from earmark.store.playback import Playback
from tests.feedmaker import rss
from tests.sync.conftest import PASSWORD
from tests.sync.test_gpodder_api import _feed_with_episodes, wait_for


# -- gPodder desktop: mygpoclient ---------------------------------------------------------------


def test_mygpoclient_syncs_subscriptions_and_actions_between_two_devices(base, sync_app, server):
    server.add("/one.rss", rss("One", [("o1", "O one")]))
    desktop = api.MygPodderClient("alice", PASSWORD, base)
    laptop = api.MygPodderClient("alice", PASSWORD, base)
    assert desktop.update_device_settings("desktop", "gPodder on the desk", "desktop")
    result = desktop.update_subscriptions("desktop", [server.url("/one.rss"), "https://example.org/two.rss"], [])
    assert result.update_urls == [] and result.since > 0
    changes = laptop.pull_subscriptions("laptop", 0)
    assert set(changes.add) == {server.url("/one.rss"), "https://example.org/two.rss"} and changes.remove == []
    assert {d.device_id for d in laptop.get_devices()} == {"desktop", "laptop"}
    assert [d.caption for d in laptop.get_devices() if d.device_id == "desktop"] == ["gPodder on the desk"]
    # The simple API gPodder also uses: the whole list of a device.
    assert set(laptop.get_subscriptions("desktop")) == {server.url("/one.rss"), "https://example.org/two.rss"}
    # A new device's whole list leaves out what the others added: that removes nothing of theirs
    # (phones would delete those shows); a removal it means is a change it sends.
    laptop.put_subscriptions("laptop", [server.url("/one.rss")])
    assert laptop.pull_subscriptions("desktop", changes.since).remove == []
    laptop.update_subscriptions("laptop", [], ["https://example.org/two.rss"])
    assert laptop.pull_subscriptions("desktop", changes.since).remove == ["https://example.org/two.rss"]

    library = sync_app.state.library
    podcast = wait_for(lambda: (p := library.podcast_by_url(server.url("/one.rss"))) and p.status == "ok" and p)
    [episode] = library.episodes(podcast.id)
    action = api.EpisodeAction(podcast.url, episode.enclosure_url, "play", "desktop",
                               time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), started=0, position=75, total=600)
    since = desktop.upload_episode_actions([action])
    assert since > 0
    downloaded = laptop.download_episode_actions(0)
    assert [(a.action, a.position, a.device) for a in downloaded.actions if a.device == "desktop"] == [("play", 75, "desktop")]
    assert Playback(library).state(episode.id).position == 75  # the web player resumes there


def test_mygpoclient_with_a_wrong_password_gets_unauthorized(base):
    with pytest.raises(Unauthorized):
        api.MygPodderClient("alice", "not it", base).get_devices()


# -- AntennaPod: GpodnetService, request by request -----------------------------------------------


def test_antennapod_gpodder_net_sync_session(base, sync_app, server):
    """What AntennaPod's SyncService does with the gpodder.net provider: log in (Basic, empty
    "plain/text" body), then only the session cookie; pick a device; a first sync (since=0) of
    subscriptions, then of episode actions (uploaded in bulks of 30); a second sync with the
    timestamps the server returned."""
    podcast, episodes = _feed_with_episodes(sync_app, server)
    server.add("/new.rss", rss("New on the phone", [("n1", "N one")]))
    playback = Playback(sync_app.state.library)
    ua = {"User-Agent": "AntennaPod/3.5.0"}
    with httpx.Client(base_url=base, headers=ua) as phone:
        credential = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        r = phone.post("/api/2/auth/alice/login.json", content=b"",
                       headers={"Authorization": f"Basic {credential}", "Content-Type": "plain/text; charset=utf-8"})
        assert r.status_code == 200
        # The device dialog: list the devices, then create this one.
        assert phone.get("/api/2/devices/alice.json").json() == []
        r = phone.post("/api/2/devices/alice/antennapod_pixel.json", content=json.dumps({"caption": "AntennaPod on Pixel", "type": "mobile"}),
                       headers={"Content-Type": "application/json; charset=utf-8"})
        assert r.status_code == 200
        # Subscriptions: download the changes since 0 (Earmark's library is in them) …
        got = phone.get("/api/2/subscriptions/alice/antennapod_pixel.json", params={"since": 0}).json()
        assert podcast.url in got["add"] and got["remove"] == []
        # … then upload the phone's own.
        r = phone.post("/api/2/subscriptions/alice/antennapod_pixel.json",
                       content=json.dumps({"add": [server.url("/new.rss")], "remove": []}),
                       headers={"Content-Type": "application/json; charset=utf-8"}).json()
        subscriptions_stamp = r["timestamp"]
        # Episode actions: download since 0, then upload 31 actions in two bulks of at most 30.
        listed = phone.get("/api/2/episodes/alice.json", params={"since": 0}).json()
        assert listed["actions"] == [] and isinstance(listed["timestamp"], int)
        actions = [{"podcast": podcast.url, "episode": episodes["e1"].enclosure_url, "guid": "e1", "action": "play",
                    "timestamp": f"2030-01-01T00:{n:02d}:00", "started": n * 10, "position": n * 10 + 10, "total": 1800,
                    "device": "antennapod_pixel"} for n in range(31)]
        for start in range(0, 31, 30):
            r = phone.post("/api/2/episodes/alice.json", content=json.dumps(actions[start:start + 30]),
                           headers={"Content-Type": "application/json; charset=utf-8"})
            assert r.status_code == 200 and r.json()["update_urls"] == []
        episodes_stamp = r.json()["timestamp"]
        assert playback.state(episodes["e1"].id).position == 310  # the newest of the 31

        # Meanwhile, in Earmark's web player: another episode is played to 5:00.
        time.sleep(1.1)  # a later second than the phone's timestamps
        playback.set_position(episodes["e2"].id, 300)
        # The second sync: only what changed since the timestamps the server gave.
        again = phone.get("/api/2/subscriptions/alice/antennapod_pixel.json", params={"since": subscriptions_stamp}).json()
        assert again["remove"] == []
        news = phone.get("/api/2/episodes/alice.json", params={"since": episodes_stamp}).json()["actions"]
        from_earmark = [a for a in news if a.get("device") == "earmark"]
        assert [(a["episode"], a["position"]) for a in from_earmark] == [(episodes["e2"].enclosure_url, 300)]
    new = wait_for(lambda: (p := sync_app.state.library.podcast_by_url(server.url("/new.rss"))) and p.status == "ok" and p)
    assert new.title == "New on the phone"


# -- AntennaPod: Nextcloud gpoddersync ---------------------------------------------------------------


NEXTCLOUD = "/index.php/apps/gpoddersync"


def test_nextcloud_gpoddersync_as_antennapod_calls_it(base, sync_app, server):
    podcast, episodes = _feed_with_episodes(sync_app, server)
    with httpx.Client(base_url=base, auth=("alice", PASSWORD), headers={"Accept": "application/json"}) as nc:
        got = nc.get(NEXTCLOUD + "/subscriptions", params={"since": 0}).json()
        assert got["add"] == [podcast.url] and got["remove"] == [] and isinstance(got["timestamp"], int)
        r = nc.post(NEXTCLOUD + "/subscription_change/create",
                    json={"add": ["https://example.org/nc.rss"], "remove": [podcast.url]})
        assert r.status_code == 200 and isinstance(r.json()["timestamp"], int)
        # Removal on the phone deletes nothing in Earmark.
        assert sync_app.state.library.podcast_by_url(podcast.url) is not None
        again = nc.get(NEXTCLOUD + "/subscriptions", params={"since": got["timestamp"]}).json()
        assert again["add"] == ["https://example.org/nc.rss"] and again["remove"] == [podcast.url]

        action = {"podcast": podcast.url, "episode": episodes["e2"].enclosure_url, "guid": "e2", "action": "PLAY",
                  "timestamp": "2030-01-01T00:00:00", "started": 15, "position": 120, "total": 500}
        r = nc.post(NEXTCLOUD + "/episode_action/create", json=[action])
        assert r.status_code == 200 and isinstance(r.json()["timestamp"], int)
        assert Playback(sync_app.state.library).state(episodes["e2"].id).position == 120
        download = {**action, "action": "DOWNLOAD", "started": -1, "position": -1, "total": -1}
        nc.post(NEXTCLOUD + "/episode_action/create", json=[download])
        listed = nc.get(NEXTCLOUD + "/episode_action", params={"since": 0}).json()["actions"]
        assert listed == [
            {"podcast": podcast.url, "episode": episodes["e2"].enclosure_url, "action": "PLAY", "timestamp": "2030-01-01T00:00:00",
             "guid": "e2", "started": 15, "position": 120, "total": 500},
            {"podcast": podcast.url, "episode": episodes["e2"].enclosure_url, "action": "DOWNLOAD", "timestamp": "2030-01-01T00:00:00",
             "guid": "e2", "started": -1, "position": -1, "total": -1},
        ]
    # The gpodder.net devices of the same user see the Nextcloud client's subscription change.
    with httpx.Client(base_url=base, auth=("alice", PASSWORD)) as gp:
        assert "https://example.org/nc.rss" in gp.get("/api/2/subscriptions/alice/phone.json", params={"since": 0}).json()["add"]


def test_nextcloud_bad_input(base):
    with httpx.Client(base_url=base) as anon:
        r = anon.get(NEXTCLOUD + "/subscriptions")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert anon.get(NEXTCLOUD + "/subscriptions", auth=("alice", "nope")).status_code == 401
    with httpx.Client(base_url=base, auth=("alice", PASSWORD)) as nc:
        assert nc.post(NEXTCLOUD + "/episode_action/create", content=b"{oops").status_code == 400
        assert nc.post(NEXTCLOUD + "/episode_action/create", json={"action": "PLAY"}).status_code == 400
        assert nc.get(NEXTCLOUD + "/episode_action", params={"since": "9999999999"}).status_code == 400
        assert nc.post(NEXTCLOUD + "/subscription_change/create", json={"add": "x"}).status_code == 400

"""The installable, offline player in real headless Chromium, on a desktop and a phone screen: the
service worker installs, the app reloads offline with the library and a visited episode's
transcript, an episode saved for offline plays with no connection, and a snip made offline reaches
the server exactly once when the connection is back (even when the outbox is sent twice and the
page reloads while sending). Screenshots of every page on both screens go to test-artifacts/."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.web.media import serve_show
from tests.chromium import ARTIFACTS
from tests.web.test_browser import live  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}


def _wait(predicate, seconds: float = 15.0, what: str = ""):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _processed_show(live, server) -> tuple[int, int]:  # noqa: F811
    """The test show subscribed and its episode processed (downloaded, transcript): (podcast, episode)."""
    podcast = httpx.post(f"{live}/api/v1/podcasts", json={"url": serve_show(server)}).json()
    [item] = httpx.get(f"{live}/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
    httpx.post(f"{live}/api/v1/episodes/{item['id']}/process")
    job = _wait(lambda: next((j for j in httpx.get(f"{live}/api/v1/jobs?episode_id={item['id']}").json()
                              if j["state"] not in ("queued", "running")), None), 60, "processing")
    assert job["state"] == "done", job
    return podcast["id"], item["id"]


def _snips(live, episode_id) -> list[dict]:  # noqa: F811
    return httpx.get(f"{live}/api/v1/episodes/{episode_id}/snips").json()["items"]


@pytest.mark.parametrize("screen", list(SCREENS))
def test_installed_player_works_offline(live, server, browser, screen):  # noqa: F811
    podcast_id, episode_id = _processed_show(live, server)
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the pages' CSP forbids
    # (the CSP itself is checked below: the worker registers under it in test_csp_allows_the_worker).
    context = browser.new_context(**SCREENS[screen], bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    ARTIFACTS.mkdir(exist_ok=True)

    # Installable: a manifest with icons, and the worker in control of the page.
    page.goto(live + "/")
    manifest = httpx.get(live + page.locator("link[rel=manifest]").get_attribute("href")).json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert httpx.get(live + icon["src"]).headers["content-type"] == "image/png"
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)") == live + "/sw.js"
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    # Every page once (online), with a screenshot: each one is then kept for offline use.
    pages = {
        "library": "/", "podcast": f"/podcasts/{podcast_id}", "queue": "/queue", "snips": "/snips",
        "highlights": "/highlights", "search": "/search?q=sine", "discover": "/discover", "episode": f"/episodes/{episode_id}",
    }
    for name, path in pages.items():
        page.goto(live + path)
        page.wait_for_load_state("networkidle")
        if name == "episode":
            page.wait_for_selector(".line[data-i='4']")
        page.screenshot(path=str(ARTIFACTS / f"pwa-{screen}-{name}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["viewport"]["width"], name

    # Save for offline: the audio goes into the browser's cache; the storage used is shown.
    page.click("#offline-save [data-action=save]")
    page.wait_for_selector("#offline-save[data-saved=yes]", timeout=30_000)
    assert "Offline storage:" in page.locator("#offline-status").inner_text()
    assert page.locator("#offline-save [data-action=remove]").is_visible()

    if screen == "phone":
        # The player bar is one row of touch-sized buttons; the transcript fills the screen.
        page.click("button.primary[data-play]")
        page.wait_for_function("document.getElementById('audio').currentTime > 0.5")
        page.evaluate("document.getElementById('audio').pause()")
        bar = page.locator("#player").bounding_box()
        assert bar["height"] <= 90, bar
        for button in ("#btn-back", "#btn-play", "#btn-fwd", "#btn-snip", "#btn-more"):
            box = page.locator(button).bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, (button, box)
            assert box["y"] >= bar["y"] - 1, button  # all inside the bar, on its one row
        assert not page.locator("#speed").is_visible()
        page.click("#btn-more")
        assert page.locator("#speed").is_visible()
        page.screenshot(path=str(ARTIFACTS / f"pwa-{screen}-player-more.png"))
        page.click("#btn-more")
        assert page.locator("#transcript").bounding_box()["height"] >= 0.45 * 844
        page.locator("#transcript").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"pwa-{screen}-transcript.png"))

    # Offline: the app reloads, with the visited episode's transcript and summary, and the library
    # (reached by the app's own in-page navigation, as a listener would).
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".line[data-i='4']")
    assert page.locator("#summary p").count() >= 1
    page.wait_for_function("document.body.classList.contains('offline')")
    assert page.locator("#offline-badge").is_visible()
    page.click(".topbar nav a[href='/']")
    page.wait_for_selector(".show-title:has-text('Loopback Show')")
    page.screenshot(path=str(ARTIFACTS / f"pwa-{screen}-offline-library.png"))
    page.goto(live + "/")
    page.wait_for_selector(".show-title:has-text('Loopback Show')")
    # A page never opened: the worker's offline page (proof that the network really is gone).
    page.goto(f"{live}/podcasts/{podcast_id}?page=2")
    page.wait_for_selector("#offline-page")
    page.screenshot(path=str(ARTIFACTS / f"pwa-{screen}-offline-page.png"))

    # The saved episode plays offline (its Range requests answered from the cache), and seeks.
    page.goto(f"{live}/episodes/{episode_id}")
    page.click("button.primary[data-play]")
    page.wait_for_function("document.getElementById('audio').currentTime > 1.5", timeout=20_000)
    page.evaluate("document.getElementById('audio').currentTime = 30")
    page.wait_for_function("document.getElementById('audio').currentTime > 31")
    assert page.evaluate("document.getElementById('audio').error") is None
    page.screenshot(path=str(ARTIFACTS / f"pwa-{screen}-offline-playing.png"))

    # A snip made offline is queued, not lost...
    page.click("#btn-snip")
    page.wait_for_selector("#toast:has-text('Offline: snip kept')")
    page.evaluate("document.getElementById('audio').pause()")
    outbox = page.evaluate("localStorage.getItem('earmark.outbox')")
    assert [e["key"][:5] for e in page.evaluate("EarmarkOffline.outbox()") if e["key"].startswith("snip:")] == ["snip:"]
    assert _snips(live, episode_id) == []

    # ...and reaches the server once back online.
    context.set_offline(False)
    _wait(lambda: len(_snips(live, episode_id)) == 1, 25, "the offline snip on the server")
    page.wait_for_function("EarmarkOffline.outbox().filter((e) => e.key.startsWith('snip:')).length === 0")

    # Sent again (the page reloaded while sending, the outbox flushed twice at once): still one snip.
    page.evaluate("(box) => localStorage.setItem('earmark.outbox', box)", outbox)
    page.evaluate("Promise.all([EarmarkOffline.flush(), EarmarkOffline.flush()])")
    page.evaluate("(box) => localStorage.setItem('earmark.outbox', box)", outbox)
    page.reload()  # pwa.js flushes on load
    page.wait_for_function("EarmarkOffline.outbox().length === 0")
    [snip] = _snips(live, episode_id)
    assert 29 <= snip["tapped_at"] <= 40
    # The position played offline reached the server too.
    assert httpx.get(f"{live}/api/v1/episodes/{episode_id}").json()["playback"]["position"] >= 30

    # Remove the offline copy.
    page.click("#offline-save [data-action=remove]")
    page.wait_for_selector("#offline-save[data-saved=no]")
    assert page.evaluate(f"EarmarkOffline.isSaved({episode_id})") is False
    assert errors == []
    context.close()


def test_csp_allows_the_worker(live, browser):  # noqa: F811
    """Under the pages' real Content-Security-Policy (no bypass) the worker registers and the manifest loads."""
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live + "/")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))") is True
    assert violations == []
    context.close()


def test_an_episode_not_downloaded_still_streams_under_the_worker(live, server, browser):  # noqa: F811
    """Not downloaded: the audio address redirects to the publisher (another origin); the worker
    passes it through, so it plays and seeks as without one."""
    podcast = httpx.post(f"{live}/api/v1/podcasts", json={"url": serve_show(server)}).json()
    [item] = httpx.get(f"{live}/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live}/episodes/{item['id']}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.click("button.primary[data-play]")
    page.wait_for_function("document.getElementById('audio').currentTime > 1")
    page.evaluate("document.getElementById('audio').currentTime = 40")
    page.wait_for_function("document.getElementById('audio').currentTime > 41")
    assert page.evaluate("document.getElementById('audio').error") is None
    context.close()


def test_the_theme_follows_the_system_setting(live, browser):  # noqa: F811
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, **SCREENS["phone"])
        page = context.new_page()
        page.goto(live + "/")
        colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.screenshot(path=str(ARTIFACTS / f"pwa-phone-{scheme}-library.png"))
        context.close()
    assert colours["light"] == "rgb(247, 245, 242)" and colours["dark"] == "rgb(23, 21, 19)", colours


# -- two users on one browser ---------------------------------------------------------------------

ALICE, BOB = ("alice", "alice's password"), ("bob", "bob's password!")


@pytest.fixture
def two_users(tmp_path, monkeypatch):
    """Served as beyond loopback (a login needed), with alice (user 1) and bob (user 2), both
    subscribed to "Shared Show" (one episode); each has a show of their own too."""
    from datetime import UTC, datetime

    from earmark.accounts import hash_password
    from earmark.config import Settings
    from earmark.models import Episode, ParsedFeed, Podcast
    from earmark.store.accounts import AccountStore
    from earmark.web.app import create_app
    from tests.web.conftest import serving

    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    app = create_app(Settings.load(http_timeout=5.0, llm_engine="fake", semantic_index=False), require_token=True)
    lib = app.state.library
    accounts = AccountStore(lib)
    assert accounts.add(*(ALICE[0], hash_password(ALICE[1]))).id == 1
    assert accounts.add(*(BOB[0], hash_password(BOB[1]))).id == 2
    alice_show, _ = lib.add_podcast("http://127.0.0.1:1/alice.rss", title="Alice's Show")
    lib.add_podcast("http://127.0.0.1:1/bob.rss", title="Bob's Show", user_id=2)
    shared, _ = lib.add_podcast("http://127.0.0.1:1/shared.rss")
    lib.add_podcast(shared.url, user_id=2)
    episode = Episode(guid="e1", title="Shared Episode", published=datetime(2024, 1, 1, tzinfo=UTC), duration=60,
                      enclosure_url="http://127.0.0.1:1/e1.mp3", enclosure_type="audio/mpeg")
    lib.save_feed(shared.id, ParsedFeed(Podcast(url=shared.url, title="Shared Show"), [episode]),
                  url=shared.url, etag=None, last_modified=None, content_hash=None)
    [ep] = lib.episodes(shared.id)
    with serving(app) as url:
        yield url, lib, {"alice_show": alice_show.id, "episode": ep.id}, accounts.new_session(2)


def _log_in(page, live, who):  # noqa: F811
    page.goto(live + "/login")
    page.fill("input[name=name]", who[0])
    page.fill("input[name=password]", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(live + "/")
    page.wait_for_load_state("networkidle")


def _snip_users(lib) -> list[int]:
    with lib.transaction() as conn:
        return [row[0] for row in conn.execute("SELECT user_id FROM snips")]


def test_offline_data_stays_with_its_user(two_users, browser):  # noqa: F811
    """Alice queues a snip offline; her session expires (the snip is kept, not refused); bob's session
    takes the browser: nothing of alice's is sent as his, nor shown to him offline; alice logs in
    again: her snip is made once, as hers."""
    live, lib, ids, bob_session = two_users
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    _log_in(page, live, ALICE)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    for path in ("/", f"/podcasts/{ids['alice_show']}", f"/episodes/{ids['episode']}"):
        page.goto(live + path)
        page.wait_for_load_state("networkidle")
    assert page.evaluate("document.body.dataset.user") == "1"
    audio = f"/api/v1/episodes/{ids['episode']}/audio"
    page.evaluate("(u) => caches.open('earmark-audio').then((c) => c.put(u, new Response('alice\\'s audio')))", audio)
    page.evaluate(f"Earmark.player.load({ids['episode']})")

    context.set_offline(True)
    page.click("#btn-snip")
    page.wait_for_selector("#toast:has-text('Offline: snip kept')")
    snips = [e for e in page.evaluate("EarmarkOffline.outbox()") if e["key"].startswith("snip:")]
    assert [e["user"] for e in snips] == ["1"]

    # The session expired meanwhile: the server answers 401; the snip stays queued.
    context.clear_cookies()
    context.set_offline(False)
    page.evaluate("EarmarkOffline.flush()")
    page.wait_for_selector("#toast:has-text('Log in again')")
    assert [e["key"] for e in page.evaluate("EarmarkOffline.outbox()")] == [snips[0]["key"]]
    assert _snip_users(lib) == []

    # Bob's session in this browser (a login the worker never saw): alice's snip is not sent as his...
    context.add_cookies([{"name": "earmark_session", "value": bob_session, "url": live}])
    page.goto(live + "/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.body.dataset.user") == "2"
    page.evaluate("EarmarkOffline.flush()")
    assert _snip_users(lib) == []
    assert page.evaluate("document.body.dataset.outbox") == "0"
    assert [e["key"] for e in page.evaluate("EarmarkOffline.outbox()")] == [snips[0]["key"]]
    # ...and what the worker kept of alice (her pages, her saved audio) is gone.
    page.wait_for_function("caches.open('earmark-audio').then((c) => c.match(%r)).then((r) => !r)" % audio)
    context.set_offline(True)
    page.goto(f"{live}/podcasts/{ids['alice_show']}")
    page.wait_for_selector("#offline-page")
    page.goto(live + "/")
    page.wait_for_selector(".show-title:has-text(\"Bob's Show\")")
    assert "Alice's Show" not in page.content()

    # Bob logs out, alice logs in: her snip is made once, as hers.
    context.set_offline(False)
    page.goto(live + "/login")
    page.click("button:has-text('Log out')")
    page.wait_for_url(live + "/login")
    _log_in(page, live, ALICE)
    _wait(lambda: _snip_users(lib) == [1], 15, "alice's offline snip on the server")
    page.wait_for_function("EarmarkOffline.outbox().length === 0")
    page.evaluate("EarmarkOffline.flush()")
    assert _snip_users(lib) == [1]

    # A position queued offline a minute ago is sent with the time it was taken: the newer one
    # the server has since (40 s) is kept.
    episode = ids["episode"]
    page.evaluate(f"""fetch('/api/v1/episodes/{episode}/position', {{method: 'PUT',
        headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify({{seconds: 40}})}})""")
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/position") else None)
    page.evaluate(f"""(() => {{
        EarmarkOffline.enqueue('PUT', '/episodes/{episode}/position', {{seconds: 5}}, 'position:{episode}');
        const box = EarmarkOffline.outbox(); box[0].at = Date.now() - 60000;
        localStorage.setItem('earmark.outbox', JSON.stringify(box));
        return EarmarkOffline.flush(); }})()""")
    assert page.evaluate("EarmarkOffline.outbox().length") == 0
    assert [set(b) for b in sent] == [{"seconds", "at"}]
    state = page.evaluate(f"fetch('/api/v1/episodes/{episode}').then((r) => r.json())")
    assert state["playback"]["position"] == 40
    assert errors == []
    context.close()

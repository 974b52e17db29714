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
from tests.web.test_browser import ARTIFACTS, CHROMIUM, browser, live  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]

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

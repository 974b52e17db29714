"""The highlights reel in real headless Chromium (Debian's /usr/bin/chromium via Playwright): three
highlights play back to back (each stopped at its end, one from a downloaded episode's file with
Range, one streamed from the publisher's address), then "Continue the full episode"; next and
previous (buttons, keys, the bar's chapter buttons); stop, reload, resume where it was left.
Desktop and a 390 px phone; screenshots in test-artifacts/."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from earmark.config import Settings
from earmark.models import Episode, Highlight, ParsedFeed, Podcast
from earmark.store.understanding import UnderstandingStore
from earmark.web.app import create_app
from tests.ai.fakes import valid_answer
from tests.web.conftest import serving
from tests.web.media import tone_wav
from tests.chromium import ARTIFACTS

pytestmark = pytest.mark.browser

# In play order (newest episode's highlights first, in time order within it).
CLIPS = [("Downloaded", 2.0, 5.0, "First moment"), ("Downloaded", 8.0, 11.0, "Second moment"),
         ("Streamed", 3.0, 6.0, "Third moment")]


@pytest.fixture
def reel_live(tmp_path, monkeypatch, server, fake_llm):
    """The app on a free port with a podcast of two episodes: "Downloaded" (its file on disk, served
    with Range) and "Streamed" (only on the publisher's server: the player is redirected there)."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    fake_llm.reset(default=valid_answer)
    settings = Settings.load(http_timeout=5.0, llm_engine="fake", semantic_index=False)
    app = create_app(settings)
    lib = app.state.library
    server.add("/downloaded.wav", tone_wav(30.0), content_type="audio/wav")
    server.add("/streamed.wav", tone_wav(30.0, freq=330.0), content_type="audio/wav")
    podcast, _ = lib.add_podcast(server.url("/show.rss"))
    episodes = [Episode(guid=name, title=name, published=datetime(2024, 1, n, tzinfo=UTC), duration=30,
                        enclosure_url=server.url(f"/{name.lower()}.wav"), enclosure_type="audio/wav")
                for n, name in enumerate(("Streamed", "Downloaded"), 1)]
    lib.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title="Reel Show"), episodes),
                  url=podcast.url, etag=None, last_modified=None, content_hash=None)
    ids = {e.guid: e.id for e in lib.episodes(podcast.id)}
    audio = settings.downloads_dir / str(podcast.id) / "downloaded.wav"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(tone_wav(30.0))
    lib.record_download(ids["Downloaded"], str(audio), audio.stat().st_size)
    store = UnderstandingStore(lib)
    for name in ("Streamed", "Downloaded"):  # saved last = made last = played first
        store.save_highlights(ids[name], [Highlight(a, b, title, f"Why {title.lower()}")
                                          for ep, a, b, title in CLIPS if ep == name])
        time.sleep(0.01)
    with serving(app) as url:
        yield url, ids



RECORD = """(() => {
  window.__clips = []; window.__stops = [];
  document.addEventListener('earmark:reel', (e) => window.__clips.push(e.detail.highlight.id));
  const a = document.getElementById('audio');
  a.addEventListener('pause', () => window.__stops.push({t: a.currentTime, gap: !!(window.EarmarkReel && window.EarmarkReel.inGap)}));
})()"""


def _state(page) -> dict:
    return page.evaluate("""(() => { const a = document.getElementById('audio'), r = window.EarmarkReel;
        return {t: a.currentTime, paused: a.paused, active: r.active, index: r.index, episode: Earmark.player.episodeId}; })()""")


def _open(browser, url: str, viewport: dict):
    context = browser.new_context(viewport=viewport, bypass_csp=True)  # bypass: wait_for_function strings
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/highlights")
    page.evaluate(RECORD)
    return context, page, errors


def test_reel_plays_three_in_a_row_then_the_full_episode(reel_live, browser):
    url, ids = reel_live
    items = httpx.get(f"{url}/api/v1/highlights").json()["items"]
    assert [h["title"] for h in items] == [c[3] for c in CLIPS]
    context, page, errors = _open(browser, url, {"width": 1280, "height": 900})
    assert page.locator("#library-highlights .highlight").count() == 3
    assert page.locator("#reel-resume").is_hidden()

    page.click("#reel-play")
    page.wait_for_function("window.__clips.length === 1")
    page.wait_for_selector("#reel-bar:not([hidden])")
    assert page.locator("#player-title").inner_text() == "First moment"
    assert page.locator("#player-show").inner_text() == "Downloaded · Reel Show"
    assert "1 of 3" in page.locator("#reel-count").inner_text()
    page.wait_for_selector(f".highlight.playing[data-highlight-id='{items[0]['id']}']")
    page.wait_for_function("document.getElementById('audio').currentTime > 2.5")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reel-desktop.png"))

    # Second (same episode: a seek), third (another episode, streamed from the publisher's server).
    page.wait_for_function("window.__clips.length === 3", timeout=30_000)
    assert page.evaluate("window.__clips") == [h["id"] for h in items]
    assert page.locator("#player-title").inner_text() == "Third moment"
    assert page.locator("#player-show").inner_text() == "Streamed · Reel Show"
    page.wait_for_function("document.getElementById('audio').currentTime > 3.3")
    # Each clip stopped at its end (then the gap).
    stops = [s["t"] for s in page.evaluate("window.__stops") if s["gap"]]
    assert len(stops) == 2 and all(end - 0.1 <= t <= end + 0.35 for t, end in zip(stops, (5.0, 11.0))), stops
    # The reel never moved the episodes' saved positions.
    assert httpx.get(f"{url}/api/v1/episodes/{ids['Downloaded']}").json()["playback"]["position"] == 0

    # Continue the full episode: it plays on past the clip's end; the bar is the episode's again.
    page.click("#reel-continue")
    page.wait_for_function("document.getElementById('audio').currentTime > 7")
    state = _state(page)
    assert not state["paused"] and not state["active"] and state["episode"] == ids["Streamed"]
    assert page.locator("#reel-bar").is_hidden()
    assert page.locator("#player-title").inner_text() == "Streamed"
    page.evaluate("document.getElementById('audio').pause()")
    paused_at = _state(page)["t"]
    deadline = time.monotonic() + 5
    while abs(httpx.get(f"{url}/api/v1/episodes/{ids['Streamed']}").json()["playback"]["position"] - paused_at) > 0.6:
        assert time.monotonic() < deadline, "the full episode's position was not saved"
        time.sleep(0.1)
    assert errors == []
    context.close()


def test_reel_next_previous_and_resume(reel_live, browser):
    url, ids = reel_live
    items = httpx.get(f"{url}/api/v1/highlights").json()["items"]
    # Where the listener really is in the episode of the clip the reel is stopped in.
    httpx.put(f"{url}/api/v1/episodes/{ids['Downloaded']}/position", json={"seconds": 25.0}).raise_for_status()
    context, page, errors = _open(browser, url, {"width": 1280, "height": 900})
    # From an item of the list: the reel starts there.
    page.click(f"[data-reel-from='{items[1]['id']}']")
    page.wait_for_function("window.__clips.length === 1")
    assert _state(page)["index"] == 1 and page.locator("#player-title").inner_text() == "Second moment"
    page.wait_for_function("document.getElementById('audio').currentTime >= 8")

    page.click("#reel-next")
    page.wait_for_function("window.__clips.length === 2")
    assert _state(page)["index"] == 2 and _state(page)["episode"] == ids["Streamed"]
    assert page.locator("#reel-next").is_disabled()
    page.keyboard.press("Shift+P")  # within 3 s of the start: the one before
    page.wait_for_function("window.__clips.length === 3")
    assert _state(page)["index"] == 1
    page.click("#btn-chap-prev")  # the bar's chapter buttons (and headphone buttons) move between highlights
    page.wait_for_function("window.__clips.length === 4")
    assert _state(page)["index"] == 0 and page.locator("#player-title").inner_text() == "First moment"
    page.keyboard.press("Shift+N")
    page.wait_for_function("window.__clips.length === 5")
    assert _state(page)["index"] == 1
    assert page.evaluate("window.__clips") == [items[i]["id"] for i in (1, 2, 1, 0, 1)]

    # Stop a second into the clip, leave, come back: Resume goes on from that moment.
    page.wait_for_function("document.getElementById('audio').currentTime >= 9")
    page.click("#reel-stop")
    left_at = _state(page)["t"]
    assert _state(page)["paused"] and not _state(page)["active"]
    assert page.locator("#reel-bar").is_hidden()
    # Stopping (its pause, then leaving the page) never saves the highlight's moment as the position.
    time.sleep(1.0)
    assert httpx.get(f"{url}/api/v1/episodes/{ids['Downloaded']}").json()["playback"]["position"] == 25.0
    page.reload()
    page.evaluate(RECORD)
    resume = page.locator("#reel-resume")
    resume.wait_for()
    assert httpx.get(f"{url}/api/v1/episodes/{ids['Downloaded']}").json()["playback"]["position"] == 25.0
    assert "2 of 3" in resume.inner_text()
    resume.click()
    page.wait_for_function("window.__clips.length === 1")
    state = _state(page)
    assert state["active"] and state["index"] == 1
    page.wait_for_function(f"document.getElementById('audio').currentTime >= {left_at - 0.3}")
    assert _state(page)["t"] < left_at + 1.5
    assert page.locator("#player-title").inner_text() == "Second moment"
    # The last clip ends the reel: nothing left to resume.
    page.keyboard.press("Shift+N")
    page.wait_for_function("window.__clips.length === 2")
    page.wait_for_function("!window.EarmarkReel.active", timeout=15_000)
    page.wait_for_selector("#reel-resume", state="hidden")
    assert errors == []
    context.close()


def test_reel_on_a_phone(reel_live, browser):
    url, _ = reel_live
    context, page, errors = _open(browser, url, {"width": 390, "height": 844})
    page.click("#reel-play")
    page.wait_for_function("window.__clips.length === 1")
    page.wait_for_function("document.getElementById('audio').currentTime > 2.3")
    for button in ("#reel-prev", "#reel-next", "#reel-continue", "#reel-stop"):
        box = page.locator(button).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 40, (button, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reel-phone.png"))
    page.click("#reel-next")
    page.wait_for_function("window.__clips.length === 2")
    assert page.locator("#player-title").inner_text() == "Second moment"
    page.click("#reel-continue")
    page.wait_for_function("document.getElementById('audio').currentTime > 11.5")
    assert not _state(page)["active"]
    # A podcast's page offers its own reel (only when it has highlights).
    page.goto(f"{url}/podcasts/{httpx.get(f'{url}/api/v1/podcasts').json()[0]['id']}")
    page.wait_for_selector("[data-reel-podcast]:not([hidden])")
    page.screenshot(path=str(ARTIFACTS / "reel-podcast-phone.png"))
    page.evaluate(RECORD)
    page.click("[data-reel-podcast]")
    page.wait_for_function("window.__clips.length === 1")
    page.wait_for_function("document.getElementById('audio').currentTime > 2.2")
    assert page.locator("#player-title").inner_text() == "First moment"
    # Going elsewhere in the episode (back 15 s) leaves the reel: the episode plays on from there.
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("!window.EarmarkReel.active")
    assert page.locator("#player-title").inner_text() == "Downloaded" and not _state(page)["paused"]
    assert errors == []
    context.close()

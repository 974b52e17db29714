"""The player in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; no
browser download): the app runs under uvicorn on 127.0.0.1, the feed on tests/loopback.py."""

from __future__ import annotations

import time

import httpx
import pytest

from earmark.config import Settings
from earmark.web.app import create_app
from tests.ai.fakes import valid_answer
from tests.chromium import ARTIFACTS
from tests.web.conftest import serving
from tests.web.media import CUES, serve_show

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path, monkeypatch, fake_llm):
    """`earmark serve` in a thread: the app with its job workers, on a free loopback port."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    fake_llm.reset(default=valid_answer)  # whatever tests ran before, every task and snip card gets a valid answer
    with serving(create_app(Settings.load(http_timeout=5.0, llm_engine="fake", semantic_index=False), run_jobs=True)) as url:
        yield url



def _audio(page, expr: str):
    return page.evaluate(f"(() => {{ const a = document.getElementById('audio'); return {expr}; }})()")


def test_listen_to_an_episode(live, server, browser):
    feed_url = serve_show(server)
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the pages' CSP forbids.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Subscribe through the Library page's form.
    page.goto(live + "/")
    page.evaluate("window.__noReload = true")  # survives only if pages are swapped, not reloaded
    page.fill("#subscribe-url", feed_url)
    page.click("#subscribe-form button[type=submit]")
    page.wait_for_selector(".show-title:has-text('Loopback Show')")
    assert page.locator(".unplayed").inner_text() == "1"

    # Podcast → episode, by in-page navigation.
    page.click(".show-link")
    page.click(".episode-link:has-text('Sine waves and you')")
    page.wait_for_selector("#episode")
    assert page.evaluate("window.__noReload") is True
    assert page.url.startswith(live + "/episodes/")
    episode_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#chapters li").count() == 3

    # Process: the publisher's transcript arrives and is shown with speakers and timestamps.
    page.click("#btn-process")
    page.wait_for_selector(".line[data-i='4']")
    lines = page.locator(".line")
    assert lines.count() == len(CUES)
    assert lines.nth(1).locator(".speaker").inner_text() == "Bob"
    assert lines.nth(1).locator(".ts").inner_text() == "0:04"
    assert lines.nth(1).locator(".text").inner_text() == CUES[1][3]
    assert page.locator(".stage[data-stage='transcript'] .stage-state").inner_text() != "queued"

    # Play: the position advances and the current line follows it.
    page.click("button.primary[data-play]")
    page.wait_for_function("document.getElementById('audio').currentTime > 1.2")
    assert _audio(page, "a.paused") is False
    page.wait_for_selector(".line.current[data-i='0']")
    assert page.locator("#player-title").inner_text() == "Sine waves and you"

    # Speed.
    assert page.locator("#speed").input_value() == "1"  # the select shows the speed in use
    page.select_option("#speed", "2")
    assert _audio(page, "a.playbackRate") == 2
    page.keyboard.press("[")
    assert _audio(page, "a.playbackRate") == 1.75
    page.keyboard.press("[")
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert _audio(page, "a.playbackRate") == 1.2

    # Click a transcript line: the audio seeks there and that line becomes current.
    page.click(".line[data-i='3']")
    page.wait_for_function("document.getElementById('audio').currentTime >= 12")
    assert _audio(page, "a.currentTime") < 14
    page.wait_for_selector(".line.current[data-i='3']")

    # S = snip: saved at the playing position, and shown in the episode's snip list.
    page.keyboard.press("s")
    page.wait_for_selector("#toast:has-text('Snip saved at')")
    [snip] = httpx.get(f"{live}/api/v1/episodes/{episode_id}/snips").json()["items"]
    assert snip["episode_id"] == episode_id
    page.wait_for_selector(f"#episode-snips .snip[data-snip-id='{snip['id']}']")

    # Up next.
    page.click("#episode button[data-enqueue]")
    page.wait_for_function("document.getElementById('queue-count').textContent === '1'")

    # Space pauses (outside buttons, where it presses the button); the position is saved to the server.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('audio').paused")
    paused_at = _audio(page, "a.currentTime")
    assert paused_at >= 12
    deadline = time.monotonic() + 5
    while True:
        saved = httpx.get(f"{live}/api/v1/episodes/{episode_id}").json()["playback"]["position"]
        if abs(saved - paused_at) < 0.6 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert abs(saved - paused_at) < 0.6

    page.locator("#transcript").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "episode-first-listen.png"), full_page=False)

    # Reload: the player comes back with the episode at the saved position.
    page.reload()
    page.wait_for_function(f"document.getElementById('audio').currentTime >= {saved - 0.6}")
    assert page.locator("#player-title").inner_text() == "Sine waves and you"
    assert _audio(page, "a.playbackRate") == 1.2  # speed is kept in this browser

    # Another device (a fresh browser profile): the server's position is where playback starts.
    other = browser.new_context(bypass_csp=True).new_page()
    other.goto(f"{live}/episodes/{episode_id}")
    other.click("button.primary[data-play]")
    other.wait_for_function(f"document.getElementById('audio').currentTime >= {saved - 0.6}")
    other.context.close()

    # Phone-sized screen: the player bar and the transcript both fit.
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "episode-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    context.close()


def test_hostile_show_notes_never_reach_the_page(live, server, browser):
    notes = ('<p>Safe words</p><script>window.__pwned = 1</script>'
             '<img src="data:," onerror="window.__pwned = 2">'
             '<a href="javascript:window.__pwned = 3" id="evil">click</a> <a href="https://example.org/ok">ok</a>')
    feed_url = serve_show(server, notes=notes)
    podcast = httpx.post(f"{live}/api/v1/podcasts", json={"url": feed_url}).json()
    [item] = httpx.get(f"{live}/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
    page = browser.new_page(bypass_csp=True)  # the sanitizer alone must keep the notes harmless
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live}/episodes/{item['id']}")
    page.wait_for_selector("#show-notes p:has-text('Safe words')")
    found = page.evaluate("""(() => {
        const notes = document.getElementById('show-notes');
        return {
          scripts: notes.querySelectorAll('script').length,
          handlers: [...document.querySelectorAll('*')].flatMap(el => [...el.attributes].map(a => a.name))
                      .filter(n => n.startsWith('on')).length,
          hrefs: [...notes.querySelectorAll('a')].map(a => a.getAttribute('href')),
          pwned: window.__pwned || null,
        };
    })()""")
    assert found["scripts"] == 0 and found["handlers"] == 0 and found["pwned"] is None
    assert all(h is None or h.startswith("https://") for h in found["hrefs"]), found
    assert "https://example.org/ok" in found["hrefs"]
    page.click("#show-notes a:has-text('click')")  # a link with its javascript: href removed
    assert page.evaluate("window.__pwned || null") is None and dialogs == []
    page.close()


def _wait(predicate, seconds: float = 10.0, what: str = ""):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_snip_then_find_it_and_search(live, server, browser):
    """Processed episode: S saves a snip that appears (pending, then with its AI card from the fake
    engine), the Snips page lists it, and a word of the transcript found on the Search page opens
    the episode playing at that moment."""
    feed_url = serve_show(server)
    podcast = httpx.post(f"{live}/api/v1/podcasts", json={"url": feed_url}).json()
    [item] = httpx.get(f"{live}/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
    episode_id = item["id"]
    httpx.post(f"{live}/api/v1/episodes/{episode_id}/process")
    job = _wait(lambda: next((j for j in httpx.get(f"{live}/api/v1/jobs?episode_id={episode_id}").json()
                              if j["state"] not in ("queued", "running")), None), 30, "processing")
    assert job["state"] == "done", job

    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live}/episodes/{episode_id}")
    assert page.locator("#summary p").count() >= 1  # the fake engine's summary, from the pipeline
    assert page.locator("#chapters li").count() == 3

    page.click("button.primary[data-play]")
    page.wait_for_function("document.getElementById('audio').currentTime > 9")
    page.keyboard.press("S")
    card = page.locator("#episode-snips .snip").first
    card.wait_for()
    [snip] = httpx.get(f"{live}/api/v1/episodes/{episode_id}/snips").json()["items"]
    assert card.get_attribute("data-snip-id") == str(snip["id"])
    page.wait_for_selector(f"#episode-snips .snip[data-snip-id='{snip['id']}'][data-state='ready']", timeout=20_000)
    ready = httpx.get(f"{live}/api/v1/snips/{snip['id']}").json()
    assert ready["state"] == "ready" and ready["share"]["twitter"].startswith("https://twitter.com/intent/tweet?")
    assert card.locator(".snip-title").inner_text() == (ready["title"] or "Untitled snip")
    assert card.locator("a.share-link:has-text('WhatsApp')").get_attribute("href").startswith("https://wa.me/?text=")
    page.evaluate("document.getElementById('audio').pause()")
    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1500})  # the whole side column, player bar at the bottom
    page.screenshot(path=str(ARTIFACTS / "episode.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # Favourite it on the episode page; the Snips page lists it (with the star) and plays from it.
    card.locator("[data-action=favorite]").click()
    page.wait_for_selector(f"#episode-snips .snip.favorite[data-snip-id='{snip['id']}']")
    page.click("nav a[href='/snips']")
    page.wait_for_selector(f"#all-snips .snip.favorite[data-snip-id='{snip['id']}']")
    assert page.locator("#all-snips .snip").count() == 1
    assert "Sine waves and you" in page.locator("#all-snips .snip").inner_text()

    # Search for a word of the transcript (cue 3, at 0:08) and open the result.
    page.click("nav a[href='/search']")
    page.fill("#search-q", "frequency")
    page.click("#search-form button[type=submit]")
    result = page.locator("#search-results .result-link").first
    result.wait_for()
    assert page.locator("#search-results mark").first.inner_text().lower() == "frequency"
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=False)
    page.evaluate("document.getElementById('audio').currentTime = 40")
    result.click()
    page.wait_for_selector("#episode")
    assert page.url.startswith(f"{live}/episodes/{episode_id}?t=")
    page.wait_for_function("(() => { const a = document.getElementById('audio');"
                           " return a.currentTime >= 7.9 && a.currentTime < 11 && !a.paused; })()")
    page.wait_for_selector(".line.current[data-i='2']")
    assert errors == []
    context.close()


def test_the_time_left_follows_a_running_job(tmp_path, monkeypatch, browser):
    """pages.js keeps "about N min left" current: the episode page (its 1 s poll) and the queue
    page (3 s) rewrite it as the running stage moves. No workers: the test moves the job itself."""
    from earmark.models import Episode, ParsedFeed, Podcast
    from earmark.store.jobs import JobStore

    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    app = create_app(Settings.load(http_timeout=5.0, llm_engine="fake", semantic_index=False))
    lib = app.state.library
    podcast, _ = lib.add_podcast("http://127.0.0.1:1/eta.rss")
    lib.save_feed(podcast.id, ParsedFeed(Podcast(url=podcast.url, title="S"), [Episode(guid="a", title="A", duration=3600)]),
                  url=podcast.url, etag=None, last_modified=None, content_hash=None)
    [episode] = lib.episodes(podcast.id)
    store = JobStore(lib)
    job = store.enqueue(episode.id, priority=10)
    store.claim(job.id)
    store.start_stage(job.id, "download")
    store.report(job.id, "download", 0.0, 0.0)
    with serving(app) as url:
        httpx.put(f"{url}/api/v1/queue", json={"episode_ids": [episode.id]})
        page = browser.new_context(bypass_csp=True).new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{url}/episodes/{episode.id}")
        first = page.locator(".processing-eta").inner_text()
        assert first == "about 1 h 11 min left"  # 1 h of audio at the built-in figures: nothing measured yet
        store.finish_stage(job.id, "download")
        for name in ("transcript", "speakers", "names", "index", "chapters", "summary"):
            store.finish_stage(job.id, name)
        store.start_stage(job.id, "highlights")
        store.report(job.id, "highlights", 50.0, 95.0)
        page.wait_for_function("document.querySelector('.processing-eta').textContent === 'about 1 min left'")
        assert "running · about 1 min left" in page.locator(".stage[data-stage='highlights']").inner_text()
        page.click("a[href='/queue']")
        tag = page.locator("[data-processing]")
        assert tag.inner_text() == "processing 95% · about 1 min left"
        store.report(job.id, "highlights", 90.0, 99.0)
        page.wait_for_function("document.querySelector('[data-processing]').textContent"
                               " === 'processing 99% · less than a minute left'")

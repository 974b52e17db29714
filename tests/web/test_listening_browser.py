"""The player's listening features in real headless Chromium (Debian's /usr/bin/chromium): skip
silence on a file with known silent gaps (the time saved measured against the silence in it),
volume boost through the limiter, a podcast's own speed and intro skip, the streamed-episode
fallback, marking played at the end, and the History page. Desktop and a 390 px phone."""

from __future__ import annotations

import io
import math
import struct
import time
import wave
from xml.sax.saxutils import escape

import httpx
import pytest

from earmark.config import Settings
from earmark.web.app import create_app
from tests.ai.fakes import valid_answer
from tests.web.conftest import serving
from tests.web.media import tone_wav
from tests.chromium import ARTIFACTS

pytestmark = pytest.mark.browser

RATE = 8000
# tone, silence, tone, … (seconds): 8 s of tone, 9 s of digital silence
PATTERN = [(2.0, True), (3.0, False), (2.0, True), (3.0, False), (2.0, True), (3.0, False), (2.0, True)]
TOTAL = sum(s for s, _ in PATTERN)
SILENT = sum(s for s, tone in PATTERN if not tone)
AMPLITUDE = 3000  # about -24 dBFS RMS: quiet, and ×2 stays under the limiter


def gaps_wav() -> bytes:
    frames = bytearray()
    n = 0
    for seconds, tone in PATTERN:
        for _ in range(int(seconds * RATE)):
            value = int(AMPLITUDE * math.sin(2 * math.pi * 440 * n / RATE)) if tone else 0
            frames += struct.pack("<h", value)
            n += 1
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return out.getvalue()


def feed(base: str) -> bytes:
    items = [("gaps", "Tones and gaps", "/gaps.wav", 17), ("stream", "Streamed talk", "/stream.wav", 30)]
    body = "".join(
        f'<item><guid isPermaLink="false">{g}</guid><title>{escape(t)}</title>'
        f"<pubDate>Tue, 14 Nov 2023 22:1{i}:20 GMT</pubDate><itunes:duration>{d}</itunes:duration>"
        f'<enclosure url="{base}{path}" type="audio/wav" length="1"/></item>'
        for i, (g, t, path, d) in enumerate(items)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Quiet Show</title>
<link>https://example.org/</link><description>Quiet, with pauses</description>{body}</channel></rss>""".encode()


@pytest.fixture
def app(tmp_path, monkeypatch, fake_llm):
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    fake_llm.reset(default=valid_answer)
    return create_app(Settings.load(http_timeout=5.0, llm_engine="fake", semantic_index=False), run_jobs=True)



@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "mobile"])
def test_skip_silence_boost_speed_intro_and_history(app, server, browser, viewport):
    name = "desktop" if viewport["width"] > 600 else "mobile"
    ARTIFACTS.mkdir(exist_ok=True)
    server.add("/gaps.wav", gaps_wav(), content_type="audio/wav")
    server.add("/stream.wav", tone_wav(30.0), content_type="audio/wav")
    server.add("/quiet.rss", feed(server.base))
    with serving(app) as live:
        api = httpx.Client(base_url=live + "/api/v1", timeout=10)
        podcast = api.post("/podcasts", json={"url": server.url("/quiet.rss")}).json()["id"]
        episodes = {e["guid"]: e["id"] for e in api.get(f"/podcasts/{podcast}/episodes").json()["items"]}
        gaps, stream = episodes["gaps"], episodes["stream"]
        # The gaps episode is downloaded (served by Earmark itself); the other streams from the feed's host.
        library, settings = app.state.library, app.state.settings
        path = settings.downloads_dir / str(podcast) / "gaps.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gaps_wav())
        library.record_download(gaps, str(path), path.stat().st_size)
        assert api.put(f"/podcasts/{podcast}/settings", json={"skip_silence": True, "volume_boost": 2.0}).status_code == 200

        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # The podcast page shows its settings (open: they differ from the defaults).
        page.goto(f"{live}/podcasts/{podcast}")
        page.wait_for_function("document.querySelector('#settings-form [name=skip_silence]').checked")
        assert page.locator("#podcast-settings").get_attribute("open") is not None
        assert page.locator("#settings-form [name=volume_boost]").input_value() == "2"
        page.screenshot(path=str(ARTIFACTS / f"listening-podcast-settings-{name}.png"), full_page=True)

        # Play the downloaded episode with skip silence and a 2× boost; time it to its end.
        page.evaluate("""() => {
            const a = document.getElementById('audio');
            window.__t = {};
            a.addEventListener('playing', () => { if (!window.__t.start) window.__t.start = performance.now(); });
            a.addEventListener('ended', () => { window.__t.end = performance.now(); });
        }""")
        page.click(f"[data-play='{gaps}']")
        page.wait_for_function("window.__t.start")
        assert page.locator("#btn-silence").get_attribute("aria-pressed") == "true"
        assert page.locator("#fx-note").is_hidden()
        # Boost: the element is muted, its capture plays through gain 2 and the limiter.
        page.wait_for_function("document.getElementById('audio').currentTime > 0.3")
        assert page.evaluate("(() => { const a = document.getElementById('audio'); return [a.muted, Earmark.player.fx.gain.gain.value]; })()") == [True, 2.0]
        # Levels sampled through the first tone: one reading alone can straddle the tone's start or
        # a capture underrun on a loaded machine, so the median of the readings is judged.
        samples = page.evaluate("""async () => {
            const f = Earmark.player.fx, a = document.getElementById('audio'), out = [];
            for (let i = 0; i < 12 && a.currentTime < 1.8; i++) {
                out.push([f.level, f.postLevel]);
                await new Promise((r) => setTimeout(r, 40));
            }
            return out;
        }""")
        ratios = sorted(post / pre for pre, post in samples if pre > 0.03)
        assert len(ratios) >= 3 and 1.7 < ratios[len(ratios) // 2] < 2.2, samples
        page.screenshot(path=str(ARTIFACTS / f"listening-playing-{name}.png"))
        page.wait_for_function("window.__t.end", timeout=TOTAL * 1000 + 10_000)
        wall = page.evaluate("(window.__t.end - window.__t.start) / 1000")
        reported = page.evaluate("Earmark.player.listening.current.silence")
        saved = TOTAL - wall
        print(f"\n[{name}] {TOTAL:.0f} s file with {SILENT:.0f} s of silence played in {wall:.1f} s:"
              f" {saved:.1f} s saved; the player reports {reported:.1f} s of silence skipped")
        assert 4.0 <= saved <= SILENT, (wall, saved)
        assert 3.5 <= reported <= SILENT + 0.5 and abs(reported - saved) < 1.5, (reported, saved)

        # The end marks it played; the report reaches the stats.
        deadline = time.monotonic() + 10
        while not api.get(f"/episodes/{gaps}").json()["playback"]["played"]:
            assert time.monotonic() < deadline, "not marked played at the end"
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while api.get("/stats").json()["silence_saved_seconds"] < 3.5:
            assert time.monotonic() < deadline, api.get("/stats").json()
            time.sleep(0.2)
        stats = api.get("/stats").json()
        assert stats["podcasts"][0]["podcast_id"] == podcast and 8 <= stats["listened_seconds"] <= 16

        # The podcast's own speed and intro skip, applied when its episode loads; this one streams
        # from another site, so skip silence and boost are off for it — and the bar says so.
        page.select_option("#settings-form [name=speed]", "1.5")
        page.fill("#settings-form [name=skip_intro]", "5")
        page.select_option("#settings-form [name=volume_boost]", "1")
        page.click("#settings-form button[type=submit]")
        page.wait_for_selector("#settings-status:has-text('Saved.')")
        assert api.get(f"/podcasts/{podcast}/settings").json()["speed"] == 1.5
        page.click(f"[data-play='{stream}']")
        page.wait_for_function(f"Earmark.player.episodeId === {stream} && !document.getElementById('audio').paused")
        state = page.evaluate("(() => { const a = document.getElementById('audio'); return [a.playbackRate, a.currentTime, a.muted]; })()")
        assert state[0] == 1.5 and 5.0 <= state[1] < 8.0 and state[2] is False, state
        assert page.locator("#speed").input_value() == "1.5"
        # (on a phone the bar folds its extra controls away: the note is there, not hidden, once opened)
        assert page.locator("#fx-note").get_attribute("hidden") is None
        if name == "desktop":
            assert page.locator("#fx-note").is_visible()
        page.wait_for_function("document.getElementById('audio').currentTime > 6.5")  # it plays
        page.screenshot(path=str(ARTIFACTS / f"listening-streamed-{name}.png"))
        page.evaluate("document.getElementById('audio').pause()")

        # History: the finished episode, with its time saved.
        page.click("a[href='/history']") if name == "desktop" else page.goto(f"{live}/history")
        page.wait_for_selector("#history li[data-episode-id]")
        assert page.locator(f"#history li[data-episode-id='{gaps}'] .tag").inner_text() == "played"
        assert page.locator("#stats-podcasts tbody tr").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"listening-history-{name}.png"), full_page=True)
        assert errors == []
        context.close()


def test_outro_skip_finishes_the_episode(app, server, browser):
    server.add("/gaps.wav", gaps_wav(), content_type="audio/wav")
    server.add("/stream.wav", tone_wav(30.0), content_type="audio/wav")
    server.add("/quiet.rss", feed(server.base))
    with serving(app) as live:
        api = httpx.Client(base_url=live + "/api/v1", timeout=10)
        podcast = api.post("/podcasts", json={"url": server.url("/quiet.rss")}).json()["id"]
        stream = {e["guid"]: e["id"] for e in api.get(f"/podcasts/{podcast}/episodes").json()["items"]}["stream"]
        api.put(f"/podcasts/{podcast}/settings", json={"skip_intro": 24, "skip_outro": 3})
        page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
        page.goto(f"{live}/episodes/{stream}")
        page.click("button.primary[data-play]")
        # 30 s: starts at 24, finished at 27 — marked played, without waiting for the last 3 s.
        deadline = time.monotonic() + 15
        while not api.get(f"/episodes/{stream}").json()["playback"]["played"]:
            assert time.monotonic() < deadline, "the outro skip did not finish the episode"
            time.sleep(0.2)
        assert page.evaluate("document.getElementById('audio').currentTime") < 29
        page.context.close()

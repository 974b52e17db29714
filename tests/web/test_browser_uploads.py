"""Your own audio in real headless Chromium: files dropped on the Library page's drop zone (a drop
event carrying a DataTransfer of Files, as a drag from the desktop does) upload one by one with
their progress; the good one becomes an episode that processes into a transcript (fake ASR, as the
other browser tests), the bad one says why."""

from __future__ import annotations

import base64

import httpx
import pytest

from earmark.config import Settings
from earmark.web.app import create_app
from tests.ai.fakes import valid_answer
from tests.uploads_media import TITLE, mp3
from tests.web.conftest import serving

pytestmark = pytest.mark.browser

DROP = """([files, selector]) => {
  const transfer = new DataTransfer();
  for (const [name, b64, type] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  const zone = document.querySelector(selector);
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


@pytest.fixture
def live(tmp_path, monkeypatch, fake_llm):
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    fake_llm.reset(default=valid_answer)
    settings = Settings.load(http_timeout=5.0, asr_engine="fake", llm_engine="fake", semantic_index=False)
    with serving(create_app(settings, run_jobs=True)) as url:
        yield url


def test_drop_files_then_transcribe(live, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live + "/")
    page.wait_for_selector("#upload-zone")

    files = [
        ["talk.mp3", base64.b64encode(mp3(seconds=8)).decode(), "audio/mpeg"],
        ["notes.mp3", base64.b64encode(b"just some text, not audio\n" * 40).decode(), "audio/mpeg"],
    ]
    page.evaluate(DROP, [files, "#upload-zone"])
    page.wait_for_selector(".upload-item.done .upload-episode")
    page.wait_for_selector(".upload-item.failed")
    items = page.locator(".upload-item")
    assert items.count() == 2
    assert items.nth(0).locator(".upload-name").inner_text() == "talk.mp3"
    assert items.nth(0).locator(".upload-state").inner_text() == "added"
    assert items.nth(0).locator("progress").evaluate("p => p.value") == 100
    assert "notes.mp3: not a readable audio file" in items.nth(1).locator(".upload-state").inner_text()

    # The new episode: its page shows the chapters from the file's tags; Process gives a transcript.
    page.click(".upload-episode")
    page.wait_for_selector("#episode")
    assert page.locator("h1").first.inner_text() == TITLE
    assert page.locator("#chapters li").count() == 2
    page.click("#btn-process")
    page.wait_for_selector(".line[data-i='0']", timeout=30_000)
    assert page.locator(".line").count() >= 2

    episode_id = int(page.url.rsplit("/", 1)[1])
    [job] = httpx.get(f"{live}/api/v1/jobs?episode_id={episode_id}").json()
    assert {s["name"]: s["state"] for s in job["stages"]}["download"] == "done"

    # The library now lists "My uploads" with no Refresh button.
    page.goto(live + "/")
    show = page.locator(".show:has-text('My uploads')")
    assert show.count() == 1 and show.locator("[data-refresh]").count() == 0
    assert errors == []
    context.close()

"""The login page in real Chromium, served as beyond loopback (a token required): a browser without
a session lands on the login page, logs in, sees its own library, and logs out."""

from __future__ import annotations

import pytest

from earmark.accounts import hash_password
from earmark.config import Settings
from earmark.store.accounts import AccountStore
from earmark.web.app import create_app
from tests.web.conftest import serving

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path, monkeypatch):
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    app = create_app(Settings.load(http_timeout=5.0, llm_engine="fake"), require_token=True)
    accounts = AccountStore(app.state.library)
    accounts.add("alice", hash_password("alice's password"))
    accounts.add("bob", hash_password("bob's password!"))
    podcast, _ = app.state.library.add_podcast("http://127.0.0.1:1/alice.rss", title="Alice's Show")
    app.state.library.add_podcast("http://127.0.0.1:1/bob.rss", title="Bob's Show", user_id=2)
    with serving(app) as url:
        yield url


def test_log_in_see_your_own_library_log_out(live, browser):
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.goto(live + "/snips")
    assert page.url.startswith(live + "/login?next=")
    page.fill("input[name=name]", "bob")
    page.fill("input[name=password]", "not bob's password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong user name or password."
    page.fill("input[name=password]", "bob's password!")
    page.click("button[type=submit]")
    page.wait_for_url(live + "/snips")
    page.goto(live + "/")
    assert page.locator(".show-title").all_inner_texts() == ["Bob's Show"]
    [cookie] = [c for c in page.context.cookies() if c["name"] == "earmark_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("earmark_session") == -1  # scripts cannot read it
    page.goto(live + "/login")
    assert "Logged in as bob" in page.inner_text("main")
    page.click("button:has-text('Log out')")
    page.wait_for_url(live + "/login")
    page.goto(live + "/")
    assert page.url.startswith(live + "/login?next=")

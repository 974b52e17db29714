"""Accounts: `earmark user …`, the login page (session cookie, CSRF), API tokens, and what a
failed login says. Served beyond loopback (a token required), as `earmark serve --host 0.0.0.0` is."""

from __future__ import annotations

import re
import sqlite3

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from earmark.accounts import hash_password
from earmark.cli import app as cli
from earmark.store.accounts import AccountStore
from earmark.web.app import create_app

PASSWORD = "a long passphrase"


@pytest.fixture
def served(settings):
    app = create_app(settings, require_token=True)
    AccountStore(app.state.library).add("alice", hash_password(PASSWORD))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield app, client


def _csrf(client) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_cli_users(settings):
    runner = CliRunner()
    r = runner.invoke(cli, ["user", "add", "alice", "--password-stdin"], input="first password\n")
    assert r.exit_code == 0 and "owner of this library" in r.output
    assert runner.invoke(cli, ["user", "add", "bob", "--password-stdin"], input="second password\n").exit_code == 0
    r = runner.invoke(cli, ["user", "add", "bob", "--password-stdin"], input="whatever pass\n")
    assert r.exit_code == 1 and "already a user named 'bob'" in r.output
    assert runner.invoke(cli, ["user", "add", "carol", "--password-stdin"], input="short\n").exit_code == 1
    assert runner.invoke(cli, ["user", "add", "a/b", "--password-stdin"], input="long enough\n").exit_code == 1
    r = runner.invoke(cli, ["user", "list", "--json"])
    assert '"name": "alice"' in r.output and '"owner": true' in r.output and "carol" not in r.output
    assert runner.invoke(cli, ["user", "remove", "alice"]).exit_code == 1  # the owner stays
    assert runner.invoke(cli, ["user", "remove", "bob"]).exit_code == 0
    assert runner.invoke(cli, ["user", "passwd", "bob", "--password-stdin"], input="x" * 10 + "\n").exit_code == 1
    # Only an argon2id hash is stored.
    with sqlite3.connect(settings.db_path) as db:
        [(stored,)] = db.execute("SELECT password_hash FROM users WHERE name = 'alice'")
    assert stored.startswith("$argon2id$") and "first password" not in stored


def test_a_browser_without_a_session_is_sent_to_login_and_back(served):
    app, client = served
    r = client.get("/snips?tag=x", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fsnips%3Ftag%3Dx"
    assert client.get("/api/v1/podcasts").status_code == 401  # the API still answers 401
    csrf = _csrf(client)
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": csrf, "next": "/snips?tag=x"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/snips?tag=x"
    cookie = r.headers["set-cookie"]
    assert "earmark_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert client.get("/api/v1/podcasts").status_code == 200
    assert client.get("/", headers={"accept": "text/html"}).status_code == 200
    assert "Logged in as" in client.get("/login").text
    r = client.post("/logout", data={"csrf": _csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.delete("earmark_session")
    assert client.get("/api/v1/podcasts").status_code == 401


def test_the_session_ends_when_the_password_changes(served):
    app, client = served
    client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": _csrf(client)})
    assert client.get("/api/v1/podcasts").status_code == 200
    accounts = AccountStore(app.state.library)
    accounts.set_password(accounts.by_name("alice").id, hash_password("another long one"))
    assert client.get("/api/v1/podcasts").status_code == 401


def test_a_login_form_without_its_csrf_token_is_refused(served):
    app, client = served
    client.get("/login")
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "earmark_session" not in r.headers.get("set-cookie", "")
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": _csrf(client)},
                    headers={"origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403  # a cross-site form post, whatever it carries


@pytest.mark.parametrize("name", ["alice", "mallory"])
def test_a_failed_login_never_says_whether_the_user_exists(served, name):
    app, client = served
    r = client.post("/login", data={"name": name, "password": "wrong password", "csrf": _csrf(client)})
    assert r.status_code == 401
    assert "Wrong user name or password." in r.text and "earmark_session" not in r.headers.get("set-cookie", "")


def test_login_attempts_are_limited(served):
    app, client = served
    csrf = _csrf(client)
    for _ in range(10):
        client.post("/login", data={"name": "alice", "password": "guess", "csrf": csrf})
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "Too many failed logins" in r.text


def test_next_never_leaves_the_server(served):
    app, client = served
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": _csrf(client), "next": target},
                        follow_redirects=False)
        assert r.headers["location"] == "/"


def test_api_tokens_for_scripts(served):
    app, client = served
    accounts = AccountStore(app.state.library)
    user = accounts.by_name("alice")
    token = accounts.new_token(user.id, "backup script")
    assert client.get("/api/v1/podcasts", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/podcasts", headers={"authorization": "Bearer em_not-a-token"}).status_code == 401
    [(token_id, label, _)] = accounts.tokens(user.id)
    assert label == "backup script"
    accounts.revoke_token(user.id, token_id)
    assert client.get("/api/v1/podcasts", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_on_loopback_without_a_token_no_login_is_needed(settings):
    app = create_app(settings)
    AccountStore(app.state.library).add("alice", hash_password(PASSWORD))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/", headers={"accept": "text/html"}).status_code == 200
        assert client.get("/api/v1/podcasts").status_code == 200

import dataclasses

import pytest
from fastapi.testclient import TestClient

from earmark.web.app import TOKEN_COOKIE, app_for_host, create_app, is_loopback


@pytest.fixture
def guarded(settings):
    app = create_app(dataclasses.replace(settings, access_token="s3cret-token"), require_token=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def test_loopback_needs_no_token(client):
    assert client.app.state.access_token is None
    assert client.get("/api/v1/podcasts").status_code == 200


@pytest.mark.parametrize("path", ["/", "/api/v1/podcasts", "/api/v1/episodes/1", "/openapi.json", "/docs", "/api/v1/nope"])
def test_token_required_everywhere(guarded, path):
    response = guarded.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_bearer_header(guarded):
    assert guarded.get("/api/v1/podcasts", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert guarded.get("/api/v1/podcasts", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/api/v1/podcasts", headers={"Authorization": "s3cret-token"}).status_code == 401
    assert guarded.get("/api/v1/podcasts", params={"token": "wrong"}).status_code == 401


def test_cookie_flow_for_the_browser(guarded):
    response = guarded.get("/?token=s3cret-token&x=1", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?x=1"  # the token leaves the address bar
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}=s3cret-token") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = guarded.get("/?x=1")  # the client kept the cookie
    assert page.status_code == 200 and "<h1>Library</h1>" in page.text
    assert guarded.get("/api/v1/podcasts").status_code == 200
    guarded.cookies.clear()
    assert guarded.get("/api/v1/podcasts").status_code == 401
    guarded.cookies.set(TOKEN_COOKIE, "forged")
    assert guarded.get("/api/v1/podcasts").status_code == 401


def test_query_token_for_api_clients(guarded):
    response = guarded.get("/api/v1/podcasts", params={"token": "s3cret-token"})
    assert response.status_code == 200 and TOKEN_COOKIE in response.headers["set-cookie"]


def test_generated_token(settings):
    app, token = app_for_host("0.0.0.0", settings)
    assert token and len(token) >= 32 and app.state.access_token == token
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/api/v1/podcasts").status_code == 401
        assert client.get("/api/v1/podcasts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    _, other = app_for_host("192.168.1.5", settings)
    assert other != token


def test_host_decides(settings):
    assert app_for_host("127.0.0.1", settings)[1] is None
    assert app_for_host("localhost", settings)[1] is None
    assert app_for_host("::1", settings)[1] is None
    configured = dataclasses.replace(settings, access_token="mine")
    assert app_for_host("0.0.0.0", configured)[1] == "mine"
    assert app_for_host("127.0.0.1", configured)[1] == "mine"  # a configured token is always checked


@pytest.mark.parametrize(
    "host,expected",
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.0.2", False), ("example.org", False)],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


@pytest.mark.parametrize("header", ['a"b=c; earmark_token', "earmark_token=", "\x7f=\x01;;;", f"{TOKEN_COOKIE}=s3cret-token2"])
def test_malformed_cookies_are_401_not_500(guarded, header):
    response = guarded.get("/api/v1/podcasts", headers={"Cookie": header})
    assert response.status_code == 401


def test_the_access_log_never_shows_the_token():
    import logging

    from earmark.cli.serve import HideToken

    # the record uvicorn's access logger writes for the printed link
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50000", "GET", "/episodes/3?token=s3cret-token&t=12", "1.1", 303), None,
    )
    assert HideToken().filter(record)
    assert record.getMessage() == '127.0.0.1:50000 - "GET /episodes/3?token=…&t=12 HTTP/1.1" 303'

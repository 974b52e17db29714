"""The Host check (DNS rebinding) and a free event loop while a big feed is subscribed.

- Every route and method of the app answers 421 ``misdirected_request`` to a Host it does not
  serve, before the token check and before any route runs; loopback names, the ``allowed_hosts``
  setting and (with a token) IP addresses are answered.
- Under uvicorn on 127.0.0.1: a request with no Host is refused, and subscribing a feed of 20,000
  items (parsed and saved in a worker thread) leaves the server answering other requests.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import threading
import time

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from earmark.config import Settings
from earmark.web.app import create_app
from earmark.web.pages import STATIC_DIR
from tests.feedmaker import rss
from tests.web.conftest import serving

try:
    from fastapi.routing import iter_route_contexts  # newer FastAPI keeps included routers unflattened
except ImportError:  # older FastAPI: app.routes is already flat

    def iter_route_contexts(routes):
        return routes


EVIL = "evil.example:8321"


def _misdirected(response: httpx.Response, method: str = "GET") -> bool:
    if response.status_code != 421:
        return False
    return method == "HEAD" or response.json()["error"]["code"] == "misdirected_request"


def _every_request(app) -> list[tuple[str, str]]:
    """(method, path) for every route of the app: path parameters are 1, the static mount a real file."""
    static_file = next(p.name for p in sorted(STATIC_DIR.iterdir()) if p.is_file())
    requests = []
    for route in iter_route_contexts(app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            requests += [(method, f"{route.path}/{static_file}") for method in ("GET", "HEAD")]
        elif isinstance(original, (APIRoute, Route)):
            path = re.sub(r"\{[^}]*\}", "1", route.path_format)
            requests += [(method, path) for method in sorted(route.methods)]
        else:
            raise AssertionError(f"a route this test does not know how to call: {route!r}")
    return requests


def test_every_route_refuses_a_foreign_host(app, client):
    requests = _every_request(app)
    assert len(requests) > 30
    for method, path in requests:
        response = client.request(method, path, headers={"Host": EVIL})
        assert _misdirected(response, method), (method, path, response.status_code, response.text[:200])


def test_dns_rebinding_requests_are_refused(client):
    rebound = {"Host": EVIL, "Origin": f"http://{EVIL}"}  # same-origin as far as the browser knows
    assert _misdirected(client.put("/api/v1/episodes/1/position", json={"seconds": 3}, headers=rebound))
    assert _misdirected(client.get("/api/v1/opml", headers={"Host": "evil.example"}))


@pytest.mark.parametrize("host", ["127.0.0.1:8321", "localhost:8321", "localhost", "[::1]:8321", "LOCALHOST."])
def test_loopback_hosts_are_answered(client, host):
    assert client.get("/api/v1/podcasts", headers={"Host": host}).status_code == 200


def test_allowed_hosts_setting(settings):
    app = create_app(dataclasses.replace(settings, allowed_hosts=("podcasts.home.lan",)))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/api/v1/podcasts", headers={"Host": "podcasts.home.lan:8321"}).status_code == 200
        assert _misdirected(client.get("/api/v1/podcasts", headers={"Host": "other.home.lan:8321"}))


def test_with_a_token_ip_addresses_are_answered_but_not_other_names(settings):
    app = create_app(settings, require_token=True)
    auth = {"Authorization": f"Bearer {app.state.access_token}"}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/api/v1/podcasts", headers={**auth, "Host": "192.168.1.20:8321"}).status_code == 200
        assert _misdirected(client.get("/api/v1/podcasts", headers={**auth, "Host": EVIL}))
        # The Host check comes first: no token, foreign host → 421, not 401.
        assert _misdirected(client.get("/api/v1/podcasts", headers={"Host": EVIL}))


# -- under uvicorn ----------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path, monkeypatch):
    """The app under uvicorn in a thread, on a free loopback port."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    with serving(create_app(Settings.load(http_timeout=30.0, llm_engine="fake", semantic_index=False))) as url:
        yield url


def test_a_request_without_host_is_refused(live):
    # HTTP/1.0 may omit Host (TestClient always sends one): a raw request on a socket.
    port = int(live.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /api/v1/podcasts HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.split(b"\r\n", 1)[0].split()[1] == b"421"
    assert b'"misdirected_request"' in answer


def test_subscribing_a_big_feed_leaves_the_loop_answering(live, server):
    count = 20_000
    server.add("/big.rss", rss("Big Show", [(f"g{n}", f"Episode {n}") for n in range(count, 0, -1)]))
    outcome: dict = {}

    def subscribe() -> None:
        started = time.monotonic()
        with httpx.Client(base_url=live, timeout=120) as c:
            outcome["response"] = c.post("/api/v1/podcasts", json={"url": server.url("/big.rss")})
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=subscribe)
    latencies = []
    with httpx.Client(base_url=live, timeout=30) as client:
        worker.start()
        while worker.is_alive():
            started = time.monotonic()
            assert client.get("/api/v1/podcasts").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
        worker.join()
        [podcast] = client.get("/api/v1/podcasts").json()

    print(f"\nsubscribe {outcome['seconds']:.2f} s, slowest poll {max(latencies):.3f} s, {len(latencies)} polls")
    assert outcome["response"].status_code == 201, outcome["response"].text[:300]
    assert outcome["seconds"] > 1.0, "the feed is too small to show a blocked loop: make it bigger"
    assert max(latencies) < 1.0
    assert podcast["episode_count"] == count


def test_every_answer_carries_the_security_headers(client):
    for path in ("/api/v1/podcasts", "/", "/api/v1/nothing", "/static/app.css"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer" and response.headers["x-frame-options"] == "DENY"
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]  # not doubled on pages
    assert client.get("/", headers={"Host": "evil.example"}).headers["x-frame-options"] == "DENY"

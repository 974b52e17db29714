import json

import pytest

from earmark.errors import (
    DownloadError,
    EarmarkError,
    FeedError,
    FetchError,
    NotFound,
    OPMLError,
)


def test_unknown_route_and_method(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response = client.patch("/api/v1/podcasts")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_huge_json_body_is_413(client, show):
    body = json.dumps({"episode_ids": [show["g1"]] + [0] * 400_000}).encode()  # ~1.2 MB
    assert len(body) > 1024 * 1024
    response = client.put("/api/v1/queue", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_huge_chunked_body_is_413(client, show):
    def chunks():
        yield b'{"url": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = client.post("/api/v1/podcasts", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_small_chunked_body_passes(client, show):
    def chunks():
        yield b'{"seconds": '
        yield b"7}"

    response = client.put(
        f"/api/v1/episodes/{show['g1']}/position", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and response.json()["position"] == 7


def test_json_body_needs_json_content_type(client, show):
    response = client.put(
        f"/api/v1/episodes/{show['g1']}/position", content=b'{"seconds": 3}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 422


def test_cross_origin_writes_refused(client, show):
    path = f"/api/v1/episodes/{show['g1']}/position"
    evil = client.put(path, json={"seconds": 3}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "forbidden"
    fetch_site = client.put(path, json={"seconds": 3}, headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch_site.status_code == 403
    same = client.put(path, json={"seconds": 3}, headers={"Origin": "http://127.0.0.1"})
    assert same.status_code == 200
    assert client.get("/api/v1/podcasts", headers={"Origin": "https://evil.example"}).status_code == 200


@pytest.mark.parametrize(
    "exc,status,code",
    [
        (NotFound("no such thing"), 404, "not_found"),
        (FetchError("http://x: connection refused"), 502, "upstream_error"),
        (FeedError("http://x: not a feed"), 422, "invalid_feed"),
        (OPMLError("bad opml"), 422, "invalid_opml"),
        (DownloadError("cut off"), 502, "download_error"),
        (EarmarkError("something"), 500, "error"),
    ],
)
def test_earmark_errors_are_mapped_centrally(app, exc, status, code):
    from fastapi.testclient import TestClient

    async def boom():
        raise exc

    app.add_api_route("/boom", boom)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.get("/boom")
    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": str(exc)}}


def test_unexpected_error_is_json_500(app):
    from fastapi.testclient import TestClient

    async def bug():
        raise RuntimeError("secret detail")

    app.add_api_route("/bug", bug)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        response = client.get("/bug")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error" and "secret" not in response.text

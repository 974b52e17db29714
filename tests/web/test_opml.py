import xml.etree.ElementTree as ET

from tests.feedmaker import rss


def test_export(client, show):
    response = client.get("/api/v1/opml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    [outline] = root.iter("outline")
    assert outline.get("xmlUrl") == "http://127.0.0.1:1/show.rss" and outline.get("text") == "The Show"


def _opml(*urls: str) -> bytes:
    outlines = "".join(f'<outline type="rss" text="F{n}" xmlUrl="{u}"/>' for n, u in enumerate(urls))
    return f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'.encode()


def test_import_raw_body(client, server):
    server.add("/a.rss", rss("A"))
    server.add("/b.rss", b"nope", status=404)
    body = _opml(server.url("/a.rss"), server.url("/b.rss"), "ftp://example.org/feed")
    response = client.post("/api/v1/opml", content=body, headers={"Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["feeds"] == 2 and len(summary["added"]) == 2 and len(summary["refreshed"]) == 1
    assert summary["failed"][0]["url"] == server.url("/b.rss") and "404" in summary["failed"][0]["error"]
    assert summary["invalid"] == ["ftp://example.org/feed"]
    titles = sorted(p["title"] for p in client.get("/api/v1/podcasts").json())
    assert titles == ["A", "F1"]
    again = client.post("/api/v1/opml", content=body, headers={"Content-Type": "text/xml"}).json()
    assert again["added"] == [] and sorted(again["already_subscribed"]) == sorted(summary["added"])


def test_import_upload_without_refresh(client, server):
    files = {"file": ("subs.opml", _opml(server.url("/x.rss")), "text/x-opml")}
    response = client.post("/api/v1/opml", params={"refresh": "false"}, files=files)
    assert response.status_code == 200, response.text
    assert len(response.json()["added"]) == 1 and response.json()["refreshed"] == []
    assert server.requests_to("/x.rss") == []  # not fetched
    [podcast] = client.get("/api/v1/podcasts").json()
    assert podcast["status"] == "new"


def test_import_bad_input(client):
    for content in (b"", b"<html/>", b"<opml><body><outline", b'<!DOCTYPE x [<!ENTITY a "b">]><opml><body/></opml>'):
        response = client.post("/api/v1/opml", content=content, headers={"Content-Type": "application/xml"})
        assert response.status_code == 422, content
        assert response.json()["error"]["code"] == "invalid_opml"
    response = client.post("/api/v1/opml", content=b"<opml/>", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
    response = client.post("/api/v1/opml", files={"other": ("a.opml", b"<opml/>")})
    assert response.status_code == 422
    assert client.get("/api/v1/podcasts").json() == []


def test_import_size_limits(client):
    big = b"<opml><body>" + b" " * (2 * 1024 * 1024) + b"</body></opml>"  # over the JSON limit, fine for OPML
    response = client.post("/api/v1/opml", content=big, headers={"Content-Type": "application/xml"})
    assert response.status_code == 200 and response.json()["feeds"] == 0
    huge = b" " * (17 * 1024 * 1024)
    response = client.post("/api/v1/opml", content=huge, headers={"Content-Type": "application/xml"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

"""A podcast directory on 127.0.0.1 for tests: Apple's iTunes Search API (/search, /lookup, the
top-podcasts chart) and Podcast Index (/api/1.0/search/byterm, /podcasts/trending,
/podcasts/byfeedurl), answering with the documented JSON shapes from a small catalogue. Routes
match the path without its query; ``fail`` makes a path answer an error status; every request
is logged with its query and headers."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PI_PREFIX = "/api/1.0"


@dataclass
class Show:
    """One show in the stub's catalogue, with what each directory says about it."""

    title: str
    feed: str | None  # None: Apple lists it without a feedUrl
    author: str = "Someone"
    itunes_id: int | None = None
    pi_id: int | None = None
    episodes: int | None = 10
    genres: list[str] = field(default_factory=lambda: ["Science", "Podcasts"])
    artwork: str | None = "https://img.example.org/art600.jpg"
    artwork_small: str | None = "https://img.example.org/art100.jpg"  # Apple's artworkUrl100 (and 30)
    in_itunes: bool = True
    in_pi: bool = True
    pi_url: str | None = None  # Podcast Index's spelling of the feed address, when it differs from Apple's


def itunes_result(s: Show) -> dict:
    item = {
        "wrapperType": "track", "kind": "podcast", "collectionId": s.itunes_id, "trackId": s.itunes_id,
        "artistName": s.author, "collectionName": s.title, "trackName": s.title,
        "collectionViewUrl": f"https://podcasts.apple.com/us/podcast/x/id{s.itunes_id}",
        "artworkUrl30": s.artwork_small, "artworkUrl100": s.artwork_small,
        "trackCount": s.episodes, "primaryGenreName": s.genres[0] if s.genres else None,
        "genreIds": ["1533", "26"], "genres": s.genres,
    }
    if s.feed is not None:
        item["feedUrl"] = s.feed
    if s.artwork is not None:
        item["artworkUrl600"] = s.artwork
    return {k: v for k, v in item.items() if v is not None}


def pi_feed(s: Show) -> dict:
    url = s.pi_url or s.feed
    return {
        "id": s.pi_id, "podcastGuid": "9b024349-ccf0-5f69-a609-6b82873eab3c", "title": s.title, "url": url,
        "originalUrl": url, "link": "https://example.org/", "description": f"All about {s.title}",
        "author": s.author, "ownerName": s.author, "image": s.artwork, "artwork": s.artwork,
        "lastUpdateTime": 1700000000, "itunesId": s.itunes_id, "language": "en", "explicit": False,
        "episodeCount": s.episodes, "categories": {"67": "Science", "70": "Physics"} if s.genres else None,
    }


class _Server(ThreadingHTTPServer):
    request_queue_size = 64

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (a timeout test) leaves a broken pipe: nothing to report, and a
        # traceback printed from this thread would land in whatever output a later test captures.
        pass


class DirectoryStub:
    def __init__(self, catalogue: list[Show] | None = None) -> None:
        self.catalogue: list[Show] = list(catalogue or [])
        self.failures: dict[str, tuple[int, bytes, dict]] = {}  # path → (status, body, headers)
        self.raw: dict[str, bytes] = {}  # path → a body sent as is (200)
        self.log: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.delay = 0.0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                stub._handle(self)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def pi_base(self) -> str:
        return self.base + PI_PREFIX

    def fail(self, path: str, status: int, body: bytes = b"error", headers: dict | None = None) -> None:
        self.failures[path] = (status, body, headers or {})

    def requests_to(self, path: str) -> list[tuple[dict[str, list[str]], dict[str, str]]]:
        return [(q, h) for p, q, h in self.log if p == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- answers --------------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        import time

        parts = urlsplit(req.path)
        query = parse_qs(parts.query)
        self.log.append((parts.path, query, {k.lower(): v for k, v in req.headers.items()}))
        if self.delay:
            time.sleep(self.delay)
        if parts.path in self.failures:
            status, body, headers = self.failures[parts.path]
            return self._send(req, status, body, {"Content-Type": "text/html", **headers})
        if parts.path in self.raw:
            return self._send(req, 200, self.raw[parts.path], {"Content-Type": "application/json"})
        answer = self._answer(parts.path, query)
        if answer is None:
            return self._send(req, 404, b"not found", {"Content-Type": "text/plain"})
        self._send(req, 200, json.dumps(answer).encode(), {"Content-Type": "text/javascript; charset=utf-8"})

    def _answer(self, path: str, query: dict[str, list[str]]) -> dict | None:
        one = lambda name, default="": query.get(name, [default])[0]
        if path == "/search":
            term = one("term").lower()
            hits = [s for s in self.catalogue if s.in_itunes and term in s.title.lower()][: int(one("limit", "50"))]
            return {"resultCount": len(hits), "results": [itunes_result(s) for s in hits]}
        if path == "/lookup":
            ids = {int(i) for i in one("id").split(",") if i.isdigit()}
            hits = [s for s in self.catalogue if s.in_itunes and s.itunes_id in ids]
            return {"resultCount": len(hits), "results": [itunes_result(s) for s in hits]}
        if path.endswith("/json") and "/rss/toppodcasts/" in path:
            chart = [s for s in self.catalogue if s.in_itunes and s.itunes_id]
            entries = [
                {"im:name": {"label": s.title}, "im:artist": {"label": s.author},
                 "id": {"label": f"https://podcasts.apple.com/us/podcast/x/id{s.itunes_id}",
                        "attributes": {"im:id": str(s.itunes_id)}}}
                for s in chart
            ]
            return {"feed": {"author": {"name": {"label": "iTunes Store"}}, "entry": entries}}
        if path == PI_PREFIX + "/search/byterm":
            term = one("q").lower()
            hits = [s for s in self.catalogue if s.in_pi and s.feed and term in s.title.lower()][: int(one("max", "40"))]
            return {"status": "true", "feeds": [pi_feed(s) for s in hits], "count": len(hits), "query": one("q"),
                    "description": "Found matching feeds."}
        if path == PI_PREFIX + "/podcasts/trending":
            hits = [s for s in self.catalogue if s.in_pi and s.feed][: int(one("max", "10"))]
            feeds = [{k: v for k, v in pi_feed(s).items() if k != "episodeCount"} | {"trendScore": 9} for s in hits]
            return {"status": "true", "feeds": feeds, "count": len(feeds), "max": one("max", "10"),
                    "since": None, "description": "Found matching feeds"}
        if path == PI_PREFIX + "/podcasts/byfeedurl":
            url = one("url")
            hit = next((s for s in self.catalogue if s.in_pi and url in (s.feed, s.pi_url)), None)
            return {"status": "true", "query": {"url": url}, "feed": pi_feed(hit) if hit else [],
                    "description": "Found matching feed" if hit else "No feeds match this url."}
        return None

    @staticmethod
    def _send(req, status: int, body: bytes, headers: dict) -> None:
        req.send_response(status)
        for key, value in headers.items():
            req.send_header(key, value)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

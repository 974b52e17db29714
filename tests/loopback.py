"""A real HTTP server on 127.0.0.1 for tests: files with ETag/Last-Modified and Range, redirects,
errors, slow answers and connections dropped mid-body. Every request is logged."""

from __future__ import annotations

import gzip as gzip_module
import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Resource:
    body: bytes
    content_type: str = "application/rss+xml"
    etag: bool = True
    last_modified: bool = True
    ranges: bool = True  # answer Range requests with 206
    gzip: bool = False
    send_length: bool = True
    delay: float = 0.0  # seconds before answering
    drop_after: int | None = None  # close the connection after this many body bytes (once)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    mtime: float = 1_700_000_000.0
    if_range: bool = False  # honour If-Range: a stale validator gets the whole body (200), not a range

    @property
    def etag_value(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified_value(self) -> str:
        return formatdate(self.mtime, usegmt=True)


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when many clients connect at once (a
    # refresh of 16 feeds), and each dropped SYN costs a 1 s retransmit.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer (a test that got what it needed) is no error; printed,
        # it lands in whatever stderr is being captured then (a CliRunner's output in another test).
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class LoopbackServer:
    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.redirects: dict[str, tuple[int, str]] = {}
        self.handlers: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.log: list[Logged] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server._handle(self)

            def do_HEAD(self):
                server._handle(self, head=True)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for it, once per test.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes, **options) -> Resource:
        self.resources[path] = Resource(body=body, **options)
        return self.resources[path]

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        self.redirects[path] = (status, to)

    def requests_to(self, path: str) -> list[Logged]:
        return [entry for entry in self.log if entry.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- request handling ------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler, head: bool = False) -> None:
        entry = Logged(req.command, req.path, {k.lower(): v for k, v in req.headers.items()})
        self.log.append(entry)
        path = req.path
        if path in self.handlers:
            self.handlers[path](req)
            return
        if path in self.redirects:
            status, target = self.redirects[path]
            entry.status = status
            req.send_response(status)
            req.send_header("Location", target)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        resource = self.resources.get(path)
        if resource is None:
            entry.status = 404
            self._send(req, 404, b"not found", {"Content-Type": "text/plain"}, head)
            return
        if resource.delay:
            time.sleep(resource.delay)
        if resource.status != 200:
            entry.status = resource.status
            self._send(req, resource.status, b"error page", {"Content-Type": "text/html"}, head)
            return
        headers = {"Content-Type": resource.content_type, **resource.headers}
        if resource.etag:
            headers["ETag"] = resource.etag_value
        if resource.last_modified:
            headers["Last-Modified"] = resource.last_modified_value
        if resource.etag and req.headers.get("If-None-Match") == resource.etag_value or (
            resource.last_modified
            and not req.headers.get("If-None-Match")
            and req.headers.get("If-Modified-Since") == resource.last_modified_value
        ):
            entry.status = 304
            self._send(req, 304, b"", headers, head=True)
            return
        body, status = resource.body, 200
        range_header = req.headers.get("Range")
        if resource.ranges:
            headers["Accept-Ranges"] = "bytes"
            if_range = req.headers.get("If-Range")
            current = {
                resource.etag_value if resource.etag else None,
                resource.last_modified_value if resource.last_modified else None,
            }
            stale = resource.if_range and if_range is not None and if_range not in current
            if range_header and range_header.startswith("bytes=") and not stale:
                start_text, _, end_text = range_header[6:].partition("-")
                start = int(start_text)
                end = int(end_text) if end_text else len(body) - 1
                if start >= len(body):
                    entry.status = 416
                    self._send(req, 416, b"", {"Content-Range": f"bytes */{len(body)}"}, head)
                    return
                headers["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
                body, status = body[start : end + 1], 206
        if resource.gzip:
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        entry.status = status
        if resource.drop_after is not None:
            cut = resource.drop_after
            resource.drop_after = None  # only the first answer is cut
            req.send_response(status)
            for key, value in headers.items():
                req.send_header(key, value)
            req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            req.wfile.write(body[:cut])
            req.wfile.flush()
            req.close_connection = True
            return
        if not resource.send_length:
            req.protocol_version = "HTTP/1.0"  # no length: the body ends when the connection closes
            req.close_connection = True
        self._send(req, status, body, headers, head, send_length=resource.send_length)

    @staticmethod
    def _send(req, status, body, headers, head=False, send_length=True) -> None:
        req.send_response(status)
        for key, value in headers.items():
            req.send_header(key, value)
        if send_length:
            req.send_header("Content-Length", str(len(body)))
        else:
            req.send_header("Connection", "close")
        req.end_headers()
        if not head and body:
            req.wfile.write(body)

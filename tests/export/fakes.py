"""Small stand-ins for Readwise and Notion on 127.0.0.1. They check the documented request shapes,
headers and limits, keep what they accepted, and answer scripted failures (401, 429 with
Retry-After, 500) the way the real services document them."""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Fake:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failures: list[tuple[int, dict]] = []  # answered (in order) before any real handling
        self.requests: list[tuple[str, str, dict, object]] = []  # method, path, headers, body
        self.holds: list[Hold] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with fake.lock:
                    fake.requests.append((self.command, self.path, dict(self.headers), body))
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure:
                    status, headers = failure
                    return self._answer(status, fake.error_body(status), headers)
                hold = fake._hold_for(self.command, self.path)
                if hold is not None and not hold.applied:
                    hold.wait()  # received, not handled: the client is killed meanwhile
                    return
                status, payload = fake.handle(self.command, self.path, self.headers, body)
                if hold is not None and hold.cut:  # handled, then the connection dropped unanswered
                    hold.reached.set()
                    self.close_connection = True
                    return
                if hold is not None:
                    hold.wait()  # handled, the answer withheld: the client never learns of it
                    return
                self._answer(status, payload)

            def _answer(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def hold(self, method: str, path: str, nth: int = 1, *, applied: bool = True, cut: bool = False) -> Hold:
        """Stop the ``nth`` request matching ``method`` and ``path`` (a regular expression), before
        (``applied=False``) or after it took effect, and answer nothing until ``release()``: the
        moment a client dies with a request in flight. ``reached`` is set when it gets there.
        ``cut``: carry it out, then close the connection without an answer."""
        hold = Hold(method, re.compile(path), nth, applied, cut)
        self.holds.append(hold)
        return hold

    def _hold_for(self, method: str, path: str):
        with self.lock:
            for hold in self.holds:
                if hold.method == method and hold.path.fullmatch(path.split("?")[0]):
                    hold.seen += 1
                    if hold.seen == hold.nth:
                        return hold
        return None

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures += [(status, headers)] * times

    def close(self) -> None:
        for hold in self.holds:
            hold.release()
        self.httpd.shutdown()
        self.httpd.server_close()


class Hold:
    def __init__(self, method: str, path: re.Pattern, nth: int, applied: bool, cut: bool = False):
        self.method, self.path, self.nth, self.applied, self.cut = method, path, nth, applied, cut
        self.seen = 0
        self.reached = threading.Event()
        self._release = threading.Event()

    def wait(self) -> None:
        self.reached.set()
        self._release.wait(60)

    def release(self) -> None:
        self._release.set()


# -- Readwise -------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


HIGHLIGHT_FIELDS = {"text", "title", "author", "source_url", "source_type", "category", "note", "location",
                    "location_type", "highlighted_at", "highlight_url", "image_url"}


class FakeReadwise(_Fake):
    """Creates highlights the way Readwise documents: one with the same text, title, author and
    source_url as a stored one updates it instead of making a second (``stored``); lists them with
    ``GET /api/v2/highlights/`` (page_size, page, highlighted_at__gt/__lt, updated__gt)."""

    token = "rw-secret"

    def __init__(self) -> None:
        self.highlights: list[dict] = []  # accepted, in order (every item of every POST)
        self.stored: dict[tuple, dict] = {}  # Readwise's highlights, by its de-duplication key
        self.books: dict[tuple, int] = {}
        super().__init__()

    @staticmethod
    def identity(item: dict) -> tuple:
        return item["text"], item.get("title"), item.get("author"), item.get("source_url")

    def error_body(self, status):
        return {401: {"detail": "Invalid token."}, 429: {"detail": "Request was throttled."}}.get(
            status, {"detail": "Server Error"})

    def handle(self, method, path, headers, body):
        if headers.get("Authorization") != f"Token {self.token}":
            return 401, {"detail": "Invalid token."}
        if method == "GET" and path.split("?")[0] == "/api/v2/highlights/":
            return self._list(path)
        if (method, path) != ("POST", "/api/v2/highlights/"):
            return 404, {"detail": "Not found."}
        if not isinstance(body, dict) or not isinstance(body.get("highlights"), list):
            return 400, {"highlights": ["This field is required."]}
        for item in body["highlights"]:
            problems = sorted(set(item) - HIGHLIGHT_FIELDS)
            if problems or not isinstance(item.get("text"), str) or not item["text"]:
                return 400, {"detail": f"bad highlight {problems}"}
            if item.get("category") != "podcasts" or item.get("location_type") != "time_offset":
                return 400, {"detail": "category/location_type"}
            if not isinstance(item.get("location"), int) or len(item["text"]) > 8191:
                return 400, {"detail": "location/text"}
        books: dict[int, dict] = {}
        with self.lock:
            self.highlights += body["highlights"]
            for item in body["highlights"]:
                book = self.books.setdefault((item.get("title"), item.get("author")), len(self.books) + 1)
                key = self.identity(item)
                stored = self.stored.get(key)
                record = {"id": stored["id"] if stored else len(self.stored) + 1, "text": item["text"],
                          "note": item.get("note", ""), "location": item.get("location"),
                          "location_type": item.get("location_type"), "highlighted_at": item.get("highlighted_at"),
                          "url": item.get("highlight_url"), "color": "", "updated": _now(), "book_id": book, "tags": []}
                self.stored[key] = record
                books.setdefault(book, {"id": book, "title": item.get("title"), "modified_highlights": []})
                books[book]["modified_highlights"].append(record["id"])
        return 200, list(books.values())

    def _list(self, path: str):
        query = parse_qs(urlsplit(path).query)
        size = int(query.get("page_size", ["100"])[0])
        page = int(query.get("page", ["1"])[0])
        found = sorted(self.stored.values(), key=lambda h: h["id"])
        for name, keep in (("highlighted_at__gt", lambda v, x: v is not None and _ts(v) > x),
                           ("highlighted_at__lt", lambda v, x: v is not None and _ts(v) < x)):
            if name in query:
                bound = _ts(query[name][0])
                found = [h for h in found if keep(h["highlighted_at"], bound)]
        if "updated__gt" in query:
            found = [h for h in found if _ts(h["updated"]) > _ts(query["updated__gt"][0])]
        start = (page - 1) * size
        more = start + size < len(found)
        return 200, {"count": len(found), "previous": None, "results": found[start : start + size],
                     "next": f"{self.url}/api/v2/highlights/?page_size={size}&page={page + 1}"
                             + "".join(f"&{k}={quote(v[0])}" for k, v in query.items() if k not in ("page", "page_size"))
                     if more else None}

    @property
    def posts(self) -> list[dict]:
        return [body for method, path, _, body in self.requests if method == "POST"]


# -- Notion ---------------------------------------------------------------------------------------


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeNotion(_Fake):
    token = "secret_notion"
    parent = "parent-page-0001"

    def __init__(self) -> None:
        self.pages: dict[str, dict] = {}  # id → {"title": str, "children": [block ids]}
        self.blocks: dict[str, dict] = {}  # id → block (with "archived")
        self.rejected: list[str] = []  # messages of the 400s it answered
        super().__init__()

    def error_body(self, status):
        code = {401: "unauthorized", 429: "rate_limited", 500: "internal_server_error"}.get(status, "error")
        return {"object": "error", "status": status, "code": code, "message": f"fake {code}"}

    def _error(self, status, code, message):
        if status == 400:
            self.rejected.append(message)
        return status, {"object": "error", "status": status, "code": code, "message": message}

    def _check_rich_text(self, where: str, items) -> str | None:
        if not isinstance(items, list):
            return f"{where} should be an array"
        if len(items) > 100:
            return f"{where}.length should be ≤ `100`, instead was `{len(items)}`."
        for i, item in enumerate(items):
            content = item.get("text", {}).get("content")
            if item.get("type") != "text" or not isinstance(content, str):
                return f"{where}[{i}].text.content should be defined"
            if _utf16(content) > 2000:
                return f"{where}[{i}].text.content.length should be ≤ `2000`, instead was `{_utf16(content)}`."
            link = item["text"].get("link")
            if link is not None and not re.match(r"https?://", link.get("url", "")):
                return "Invalid URL for link."
        return None

    def _check_children(self, children) -> str | None:
        if not isinstance(children, list):
            return "body.children should be an array"
        if len(children) > 100:
            return f"body.children.length should be ≤ `100`, instead was `{len(children)}`."
        for n, block in enumerate(children):
            kind = block.get("type")
            if kind not in ("paragraph", "heading_3", "quote", "bulleted_list_item"):
                return f"body.children[{n}].type unsupported"
            problem = self._check_rich_text(f"body.children[{n}].{kind}.rich_text", block.get(kind, {}).get("rich_text"))
            if problem:
                return problem
        return None

    def _add(self, page_id, children) -> list[dict]:
        created = []
        for block in children:
            block_id = str(uuid.uuid4())
            self.blocks[block_id] = {**block, "id": block_id, "archived": False, "page": page_id}
            self.pages[page_id]["children"].append(block_id)
            created.append(self.blocks[block_id])
        return created

    def handle(self, method, path, headers, body):
        if headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(401, "unauthorized", "API token is invalid.")
        if not headers.get("Notion-Version"):
            return self._error(400, "missing_version", "Notion-Version header failed validation.")
        with self.lock:
            if method == "POST" and path == "/v1/pages":
                if body.get("parent") != {"page_id": self.parent}:
                    return self._error(404, "object_not_found", "Could not find page with that ID.")
                problem = self._check_rich_text("body.properties.title.title", body["properties"]["title"]["title"])
                problem = problem or self._check_children(body.get("children", []))
                if problem:
                    return self._error(400, "validation_error", f"body failed validation: {problem}")
                page_id = str(uuid.uuid4())
                title = "".join(t["text"]["content"] for t in body["properties"]["title"]["title"])
                self.pages[page_id] = {"title": title, "children": []}
                self._add(page_id, body.get("children", []))
                return 200, {"object": "page", "id": page_id}
            match = re.fullmatch(r"/v1/blocks/([\w-]+)/children", path.split("?")[0])
            if method == "GET" and match:
                return self._children(match.group(1), parse_qs(urlsplit(path).query))
            if method == "PATCH" and match:
                page_id = match.group(1)
                if page_id not in self.pages:
                    return self._error(404, "object_not_found", f"Could not find block with ID: {page_id}.")
                problem = self._check_children(body.get("children"))
                if problem:
                    return self._error(400, "validation_error", f"body failed validation: {problem}")
                return 200, {"object": "list", "results": self._add(page_id, body["children"]), "has_more": False}
            match = re.fullmatch(r"/v1/blocks/([\w-]+)", path)
            if method == "DELETE" and match:
                block = self.blocks.get(match.group(1))
                if block is None or block["archived"]:
                    return self._error(404, "object_not_found", "Could not find block.")
                block["archived"] = True
                return 200, {**block, "archived": True}
        return self._error(400, "invalid_request_url", "Invalid request URL.")

    def _children(self, block_id: str, query: dict):
        """"Retrieve block children": the parent's pages as child_page blocks, a page's blocks;
        archived ones left out; pages of ``page_size`` (≤ 100) from ``start_cursor``."""
        if block_id == self.parent:
            listed = [{"object": "block", "id": pid, "type": "child_page", "child_page": {"title": page["title"]},
                       "has_children": True, "archived": False} for pid, page in self.pages.items()]
        elif block_id in self.pages:
            listed = [{**{k: v for k, v in b.items() if k != "page"}, "object": "block", "has_children": False}
                      for b in self.page_blocks(block_id)]
        else:
            return self._error(404, "object_not_found", f"Could not find block with ID: {block_id}.")
        size = min(int(query.get("page_size", ["100"])[0]), 100)
        cursor = query.get("start_cursor", [None])[0]
        start = next((n for n, b in enumerate(listed) if b["id"] == cursor), 0) if cursor else 0
        more = start + size < len(listed)
        return 200, {"object": "list", "results": listed[start : start + size],
                     "next_cursor": listed[start + size]["id"] if more else None, "has_more": more}

    def page_blocks(self, page_id: str) -> list[dict]:
        return [self.blocks[b] for b in self.pages[page_id]["children"] if not self.blocks[b]["archived"]]

    @staticmethod
    def text(block: dict) -> str:
        return "".join(t["text"]["content"] for t in block[block["type"]]["rich_text"])

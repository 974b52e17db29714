"""Small stand-ins for Readwise and Notion on 127.0.0.1. They check the documented request shapes,
headers and limits, keep what they accepted, and answer scripted failures (401, 429 with
Retry-After, 500) the way the real services document them."""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Fake:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failures: list[tuple[int, dict]] = []  # answered (in order) before any real handling
        self.requests: list[tuple[str, str, dict, object]] = []  # method, path, headers, body
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
                status, payload = fake.handle(self.command, self.path, self.headers, body)
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

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures += [(status, headers)] * times

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- Readwise -------------------------------------------------------------------------------------

HIGHLIGHT_FIELDS = {"text", "title", "author", "source_url", "source_type", "category", "note", "location",
                    "location_type", "highlighted_at", "highlight_url", "image_url"}


class FakeReadwise(_Fake):
    token = "rw-secret"

    def __init__(self) -> None:
        self.highlights: list[dict] = []  # accepted, in order
        super().__init__()

    def error_body(self, status):
        return {401: {"detail": "Invalid token."}, 429: {"detail": "Request was throttled."}}.get(
            status, {"detail": "Server Error"})

    def handle(self, method, path, headers, body):
        if headers.get("Authorization") != f"Token {self.token}":
            return 401, {"detail": "Invalid token."}
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
        with self.lock:
            self.highlights += body["highlights"]
        return 200, [{"id": 1, "title": body["highlights"][0]["title"], "modified_highlights": [1]}]

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
            match = re.fullmatch(r"/v1/blocks/([\w-]+)/children", path)
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

    def page_blocks(self, page_id: str) -> list[dict]:
        return [self.blocks[b] for b in self.pages[page_id]["children"] if not self.blocks[b]["archived"]]

    @staticmethod
    def text(block: dict) -> str:
        return "".join(t["text"]["content"] for t in block[block["type"]]["rich_text"])

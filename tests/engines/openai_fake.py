"""A small OpenAI-compatible chat server on 127.0.0.1 for contract tests. It checks the request's
shape (path, Bearer key, model, messages, response_format) and answers 400 when it is wrong;
scripted replies can be errors (401, 429 with Retry-After, 500) or slow answers."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    content: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: dict | str | None = None  # raw body instead of a chat completion
    finish_reason: str = "stop"


class FakeOpenAI:
    def __init__(self, *, key: str | None = "sk-test", model: str = "test-model") -> None:
        self.key = key
        self.model = model
        self.replies: list[Reply] = []
        self.requests: list[dict] = []  # {"path", "headers", "json"}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _send(self, h: BaseHTTPRequestHandler, status: int, body, headers: dict | None = None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length", 0)))
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        self.requests.append({"path": h.path, "headers": dict(h.headers), "json": payload})
        if h.path != "/v1/chat/completions":
            return self._send(h, 404, {"error": {"message": f"no route {h.path}"}})
        if self.key and h.headers.get("Authorization") != f"Bearer {self.key}":
            return self._send(h, 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        problem = self._check(payload)
        if problem:
            return self._send(h, 400, {"error": {"message": problem}})
        reply = self.replies.pop(0) if self.replies else Reply()
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status != 200:
            return self._send(h, reply.status, reply.body or {"error": {"message": f"scripted {reply.status}"}}, reply.headers)
        if reply.body is not None:
            return self._send(h, 200, reply.body, reply.headers)
        prompt_tokens = sum(len(m["content"].split()) for m in payload["messages"])
        self._send(h, 200, {
            "id": "chatcmpl-1", "object": "chat.completion", "model": payload["model"],
            "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                         "message": {"role": "assistant", "content": reply.content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(reply.content.split()),
                      "total_tokens": prompt_tokens + len(reply.content.split()),
                      "prompt_tokens_details": {"cached_tokens": 3}},
        }, reply.headers)

    def _check(self, p) -> str | None:
        if not isinstance(p, dict):
            return "body is not a JSON object"
        if p.get("model") != self.model:
            return f"model {p.get('model')!r} does not exist"
        msgs = p.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return "messages missing"
        for m in msgs:
            if set(m) != {"role", "content"} or m["role"] not in ("system", "user", "assistant") or not isinstance(m["content"], str):
                return f"bad message {m!r}"
        rf = p.get("response_format")
        if rf is not None:
            js = rf.get("json_schema") if isinstance(rf, dict) else None
            if rf.get("type") != "json_schema" or not isinstance(js, dict) or not js.get("name") or not isinstance(js.get("schema"), dict):
                return f"bad response_format {rf!r}"
        if not isinstance(p.get("max_tokens"), int):
            return "max_tokens missing"
        return None

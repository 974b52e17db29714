"""The OpenAPI document the app serves: FastAPI's, plus what FastAPI cannot see from the routes —
the error answers every route shares (the guard and body-limit middleware, the error handlers) and
the links from the operations that give out ids to the operations that take them, so a client
(or a contract fuzzer) can walk from a list to the things in it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}

# Answers any operation may give, whatever its route: (status, description, applies to).
SHARED = [
    ("400", "The body is not valid JSON (or multipart), or a header is malformed", "body"),
    ("401", "The access token is missing or wrong (only when serving beyond loopback)", "all"),
    ("403", "A request from another site's page may not change anything", "unsafe"),
    ("404", "No such podcast, episode or snip", "id"),
    ("413", "The body is over the size limit", "body"),
    ("421", "The Host header names another server (DNS rebinding is refused)", "all"),
    ("422", "Invalid input", "validated"),
]

EPISODE_OPS = [
    ("get", "/api/v1/episodes/{episode_id}"),
    ("get", "/api/v1/episodes/{episode_id}/audio"),
    ("put", "/api/v1/episodes/{episode_id}/position"),
    ("post", "/api/v1/episodes/{episode_id}/played"),
    ("get", "/api/v1/episodes/{episode_id}/transcript"),
    ("post", "/api/v1/episodes/{episode_id}/process"),
    ("post", "/api/v1/episodes/{episode_id}/snips"),
    ("get", "/api/v1/episodes/{episode_id}/snips"),
    ("get", "/api/v1/episodes/{episode_id}/summary"),
    ("get", "/api/v1/episodes/{episode_id}/chapters"),
    ("get", "/api/v1/episodes/{episode_id}/highlights"),
    ("post", "/api/v1/episodes/{episode_id}/ask"),
    ("get", "/api/v1/search/similar"),
    ("get", "/api/v1/jobs"),
]
PODCAST_OPS = [
    ("get", "/api/v1/podcasts/{podcast_id}"),
    ("delete", "/api/v1/podcasts/{podcast_id}"),
    ("post", "/api/v1/podcasts/{podcast_id}/refresh"),
    ("get", "/api/v1/podcasts/{podcast_id}/episodes"),
    ("get", "/api/v1/podcasts/{podcast_id}/settings"),
    ("put", "/api/v1/podcasts/{podcast_id}/settings"),
]
SNIP_OPS = [
    ("get", "/api/v1/snips/{snip_id}"),
    ("patch", "/api/v1/snips/{snip_id}"),
    ("delete", "/api/v1/snips/{snip_id}"),
]
# (method, path, status) → (parameter, where in the answer, operations that take it)
LINKS: list[tuple[tuple[str, str, str], str, str, list[tuple[str, str]]]] = [
    (("get", "/api/v1/podcasts", "200"), "podcast_id", "$response.body#/0/id", PODCAST_OPS),
    (("post", "/api/v1/podcasts", "201"), "podcast_id", "$response.body#/id", PODCAST_OPS),
    (("post", "/api/v1/podcasts", "200"), "podcast_id", "$response.body#/id", PODCAST_OPS),
    (("get", "/api/v1/podcasts/{podcast_id}/episodes", "200"), "episode_id", "$response.body#/items/0/id", EPISODE_OPS),
    (("get", "/api/v1/queue", "200"), "episode_id", "$response.body#/episode_ids/0", EPISODE_OPS),
    (("post", "/api/v1/episodes/{episode_id}/snips", "201"), "snip_id", "$response.body#/id", SNIP_OPS),
    (("get", "/api/v1/snips", "200"), "snip_id", "$response.body#/items/0/id", SNIP_OPS),
    (("get", "/api/v1/episodes/{episode_id}/snips", "200"), "snip_id", "$response.body#/items/0/id", SNIP_OPS),
    (("post", "/api/v1/uploads", "201"), "episode_id", "$response.body#/episode/id", EPISODE_OPS),
    (("post", "/api/v1/uploads", "200"), "episode_id", "$response.body#/episode/id", EPISODE_OPS),
]


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            complete(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any]) -> None:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            _shared_answers(method, path, operation)
    for (method, path, status), name, source, targets in LINKS:
        links = schema["paths"][path][method]["responses"][status].setdefault("links", {})
        for target_method, target_path in targets:
            target = schema["paths"][target_path][target_method]
            links[target["operationId"]] = {"operationId": target["operationId"], "parameters": {name: source}}
    # FastAPI's own 422 model ({"detail": …}) is not what the error handler sends.
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)


def _shared_answers(method: str, path: str, operation: dict[str, Any]) -> None:
    has_id = any(p["in"] == "path" for p in operation.get("parameters", [])) or any(
        p["in"] == "query" and p["name"] == "episode_id" for p in operation.get("parameters", [])
    )
    responses = operation.setdefault("responses", {})
    applies = {
        "all": True,
        "validated": "422" in responses,  # FastAPI's (or a route's own): its body is ours, not {"detail"}
        "body": "requestBody" in operation,
        "unsafe": method not in ("get", "head", "options"),
        "id": has_id,
    }
    for status, description, scope in SHARED:
        if not applies[scope]:
            continue
        answer = responses.setdefault(status, {"description": description})
        answer["content"] = {"application/json": {"schema": ERROR_REF}}

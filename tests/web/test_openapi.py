def test_openapi_lists_the_routes(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    expected = {
        "/api/v1/podcasts": {"get", "post"},
        "/api/v1/podcasts/{podcast_id}": {"get", "delete"},
        "/api/v1/podcasts/{podcast_id}/refresh": {"post"},
        "/api/v1/podcasts/{podcast_id}/episodes": {"get"},
        "/api/v1/opml": {"get", "post"},
        "/api/v1/episodes/{episode_id}": {"get"},
        "/api/v1/episodes/{episode_id}/audio": {"get"},
        "/api/v1/episodes/{episode_id}/position": {"put"},
        "/api/v1/episodes/{episode_id}/played": {"post"},
        "/api/v1/queue": {"get", "put"},
        "/api/v1/episodes/{episode_id}/transcript": {"get"},
        "/api/v1/episodes/{episode_id}/process": {"post"},
        "/api/v1/snips/{snip_id}": {"get", "patch", "delete"},
        "/api/v1/search": {"get"},
        "/api/v1/jobs": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    assert "EpisodeDetailOut" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_every_answer_the_middleware_gives_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    podcast = paths["/api/v1/podcasts/{podcast_id}"]
    assert {"401", "404", "421", "422"} <= set(podcast["get"]["responses"])
    assert "403" in podcast["delete"]["responses"] and "403" not in podcast["get"]["responses"]
    create = paths["/api/v1/podcasts"]["post"]["responses"]
    assert {"400", "413", "502"} <= set(create) and "404" not in create
    error = create["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorResponse"}


def test_links_lead_from_lists_to_the_ids_they_hold(client):
    paths = client.get("/openapi.json").json()["paths"]
    links = paths["/api/v1/podcasts/{podcast_id}/episodes"]["get"]["responses"]["200"]["links"]
    operation_ids = {op["operationId"] for item in paths.values() for op in item.values()}
    assert len(links) >= 10 and all(link["operationId"] in operation_ids for link in links.values())
    ask = paths["/api/v1/episodes/{episode_id}/ask"]["post"]["operationId"]
    assert links[ask]["parameters"] == {"episode_id": "$response.body#/items/0/id"}
    snip_links = paths["/api/v1/episodes/{episode_id}/snips"]["post"]["responses"]["201"]["links"]
    assert {link["parameters"]["snip_id"] for link in snip_links.values()} == {"$response.body#/id"}


def test_a_wrong_method_names_every_method_of_the_path(client):
    response = client.request("OPTIONS", "/api/v1/podcasts")
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
    assert client.patch("/api/v1/snips/export").headers["allow"] == "GET"  # the literal path, not /snips/{id}
    assert client.put("/api/v1/snips/1").headers["allow"] == "DELETE, GET, PATCH"
    assert client.head("/api/v1/podcasts").headers["allow"] == "GET, POST"  # the API answers no HEAD

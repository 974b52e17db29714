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

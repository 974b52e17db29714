import pytest

EPISODE_ROUTES = [
    ("GET", "transcript"), ("GET", "summary"), ("GET", "chapters"), ("GET", "highlights"),
    ("POST", "ask"), ("GET", "snips"), ("POST", "snips"), ("POST", "process"),
]
OTHER_ROUTES = [
    ("GET", "/api/v1/snips"), ("GET", "/api/v1/snips/export"), ("GET", "/api/v1/snips/1"),
    ("PATCH", "/api/v1/snips/1"), ("DELETE", "/api/v1/snips/1"), ("GET", "/api/v1/search?q=x"), ("GET", "/api/v1/jobs"),
]


@pytest.mark.parametrize("method,name", EPISODE_ROUTES)
def test_episode_features_not_landed(client, show, method, name):
    response = client.request(method, f"/api/v1/episodes/{show['g1']}/{name}")
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["code"] == "not_implemented" and "not landed" in error["message"]
    assert client.request(method, f"/api/v1/episodes/999/{name}").status_code == 404


@pytest.mark.parametrize("method,path", OTHER_ROUTES)
def test_other_features_not_landed(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "not_implemented"

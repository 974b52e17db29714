import pytest


def test_queue_roundtrip(client, show):
    assert client.get("/api/v1/queue").json() == {"episode_ids": [], "episodes": []}
    order = [show["g2"], show["g1"], show["g3"]]
    response = client.put("/api/v1/queue", json={"episode_ids": order})
    assert response.status_code == 200
    assert response.json()["episode_ids"] == order
    assert [e["guid"] for e in response.json()["episodes"]] == ["g2", "g1", "g3"]
    queue = client.get("/api/v1/queue").json()
    assert queue["episode_ids"] == order and queue["episodes"][0]["playback"]["played"] is False
    assert client.put("/api/v1/queue", json={"episode_ids": [show["g3"]]}).json()["episode_ids"] == [show["g3"]]
    assert client.put("/api/v1/queue", json={"episode_ids": []}).json()["episode_ids"] == []


def test_unknown_id_changes_nothing(client, show):
    order = [show["g1"], show["g2"]]
    client.put("/api/v1/queue", json={"episode_ids": order})
    response = client.put("/api/v1/queue", json={"episode_ids": [show["g3"], 999, show["g1"]]})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found" and "999" in response.json()["error"]["message"]
    assert client.get("/api/v1/queue").json()["episode_ids"] == order


@pytest.mark.parametrize(
    "body",
    [{"episode_ids": [1, 1]}, {"episode_ids": ["1"]}, {"episode_ids": [0]}, {"episode_ids": [2**63]},
     {"episode_ids": 5}, {}, {"episode_ids": [1.5]}, {"episode_ids": list(range(1, 10_002))}],
)
def test_bad_queue_bodies(client, show, body):
    client.put("/api/v1/queue", json={"episode_ids": [show["g1"]]})
    response = client.put("/api/v1/queue", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert client.get("/api/v1/queue").json()["episode_ids"] == [show["g1"]]


def test_removed_podcast_leaves_the_queue(client, show):
    client.put("/api/v1/queue", json={"episode_ids": [show["g1"]]})
    client.delete(f"/api/v1/podcasts/{show['podcast']}")
    assert client.get("/api/v1/queue").json() == {"episode_ids": [], "episodes": []}

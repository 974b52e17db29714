"""POST /episodes/{id}/process, GET /jobs, stages in GET /episodes/{id}, and the transcript in
every format, against a feed served on loopback with a publisher transcript."""

import time

import pytest
from fastapi.testclient import TestClient

from earmark.jobs import Pipeline
from earmark.web.app import create_app
from tests.web.media import CUES, serve_show


@pytest.fixture
def episode_id(client, server):
    podcast = client.post("/api/v1/podcasts", json={"url": serve_show(server)}).json()
    [item] = client.get(f"/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
    return item["id"]


def test_process_queues_a_job_with_stages(client, episode_id):
    assert client.get(f"/api/v1/episodes/{episode_id}").json()["stages"] == []
    response = client.post(f"/api/v1/episodes/{episode_id}/process")
    assert response.status_code == 202
    job = response.json()
    assert job["episode_id"] == episode_id and job["state"] == "queued" and job["priority"] == 10
    # Later issues add stages after these two (index, summary, …); every stage starts queued.
    assert [s["name"] for s in job["stages"]][:2] == ["download", "transcript"]
    assert {s["state"] for s in job["stages"]} == {"queued"}
    # Asking again returns the same live job rather than a second one.
    assert client.post(f"/api/v1/episodes/{episode_id}/process").json()["id"] == job["id"]
    [listed] = client.get("/api/v1/jobs").json()
    assert listed["id"] == job["id"]
    assert client.get(f"/api/v1/jobs?episode_id={episode_id}").json()[0]["id"] == job["id"]
    stages = client.get(f"/api/v1/episodes/{episode_id}").json()["stages"]
    assert [s["name"] for s in stages] == [s["name"] for s in job["stages"]]


def test_transcript_404_until_processed_then_every_format(client, app, settings, episode_id):
    response = client.get(f"/api/v1/episodes/{episode_id}/transcript")
    assert response.status_code == 404 and "no transcript yet" in response.json()["error"]["message"]
    client.post(f"/api/v1/episodes/{episode_id}/process")
    Pipeline(app.state.library, settings).run_until_empty()

    [listed] = client.get("/api/v1/jobs").json()
    assert listed["state"] in ("done", "failed") and listed["progress"] > 0
    # Stages after the transcript belong to later issues; these two must be done.
    assert [(s["name"], s["state"], s["progress"]) for s in listed["stages"][:2]] == [
        ("download", "done", 100), ("transcript", "done", 100)
    ]
    detail = client.get(f"/api/v1/episodes/{episode_id}").json()
    assert [s["state"] for s in detail["stages"][:2]] == ["done", "done"] and detail["download"]["downloaded"]

    doc = client.get(f"/api/v1/episodes/{episode_id}/transcript").json()
    assert doc["source"] == "publisher" and doc["total"] == len(CUES)
    assert [(s["start"], s["end"], s["speaker"], s["text"]) for s in doc["segments"]] == [
        (a, b, who, text) for a, b, who, text in CUES
    ]
    page = client.get(f"/api/v1/episodes/{episode_id}/transcript?offset=3&limit=1").json()
    assert page["offset"] == 3 and page["total"] == len(CUES) and [s["text"] for s in page["segments"]] == [CUES[3][3]]

    vtt = client.get(f"/api/v1/episodes/{episode_id}/transcript?format=vtt")
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT") and "<v Bob>Today we talk about sine waves." in vtt.text
    srt = client.get(f"/api/v1/episodes/{episode_id}/transcript?format=srt").text
    assert "00:00:04,000 --> 00:00:08,000\nBob: Today we talk about sine waves." in srt
    txt = client.get(f"/api/v1/episodes/{episode_id}/transcript?format=txt").text
    assert "Alice: Welcome to the loopback show." in txt


@pytest.mark.parametrize("query", ["format=pdf", "offset=-1", "limit=0", "limit=x"])
def test_transcript_bad_queries(client, episode_id, query):
    response = client.get(f"/api/v1/episodes/{episode_id}/transcript?{query}")
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_unknown_episode(client):
    for method, path in [("GET", "/api/v1/episodes/999/transcript"), ("POST", "/api/v1/episodes/999/process"),
                         ("GET", "/api/v1/jobs?episode_id=999")]:
        response = client.request(method, path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
    assert client.get("/api/v1/jobs?episode_id=0").status_code == 422
    assert client.get("/api/v1/jobs?limit=abc").status_code == 422


def test_served_app_runs_the_workers(settings, server):
    """What `earmark serve` runs: the workers start with the app, POST /process wakes them, and
    they stop with it."""
    app = create_app(settings, run_jobs=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        workers = app.state.workers
        assert workers is not None and all(t.is_alive() for t in workers._threads)
        podcast = client.post("/api/v1/podcasts", json={"url": serve_show(server)}).json()
        [item] = client.get(f"/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
        client.post(f"/api/v1/episodes/{item['id']}/process")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            [job] = client.get("/api/v1/jobs").json()
            if job["stages"][1]["state"] == "done" or job["state"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        assert job["stages"][1]["name"] == "transcript" and job["stages"][1]["state"] == "done", job
        assert client.get(f"/api/v1/episodes/{item['id']}/transcript").json()["total"] == len(CUES)
    assert app.state.workers is None and not any(t.is_alive() for t in workers._threads)


def test_plain_app_runs_no_workers(client, app):
    assert app.state.workers is None


def test_a_running_job_reports_the_time_it_has_left(client, lib, show):
    """eta_seconds: null while queued; while running, the job's and each unfinished stage's
    seconds left (built-in figures here: nothing has run on this machine yet)."""
    from earmark.jobs.eta import DEFAULTS
    from earmark.store.jobs import JobStore

    job = client.post(f"/api/v1/episodes/{show['g1']}/process").json()
    assert job["eta_seconds"] is None and {s["eta_seconds"] for s in job["stages"]} == {None}
    store = JobStore(lib)
    store.claim(job["id"])
    store.start_stage(job["id"], "download")
    store.finish_stage(job["id"], "download")
    store.start_stage(job["id"], "transcript")
    store.report(job["id"], "transcript", 50.0, 40.0)

    [running] = client.get(f"/api/v1/jobs?episode_id={show['g1']}").json()
    stages = {s["name"]: s["eta_seconds"] for s in running["stages"]}
    minutes = 601 / 60  # the episode's length
    assert stages["download"] is None
    assert stages["transcript"] == pytest.approx(DEFAULTS["transcript"].per_minute * minutes / 2, abs=0.1)
    assert running["eta_seconds"] == pytest.approx(sum(v for v in stages.values() if v), abs=0.5)
    detail = client.get(f"/api/v1/episodes/{show['g1']}").json()
    assert [s["eta_seconds"] for s in detail["stages"]] == list(stages.values())

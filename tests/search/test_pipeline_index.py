"""The "index" stage: after the transcript, the episode's segments are searchable by keyword and
its windows by meaning; running it again replaces rather than duplicates."""

import dataclasses

import pytest

from earmark.jobs import Pipeline, stages
from earmark.search import Searcher
from tests.jobs.conftest import fake_library, fake_settings, subscribe_feed, wav_bytes  # noqa: F401  (fixtures)


@pytest.mark.real_model
def test_pipeline_indexes_the_new_transcript(fake_settings, fake_library, server, embedder):  # noqa: F811
    settings = dataclasses.replace(fake_settings, semantic_index=True)
    server.add("/c.wav", wav_bytes(), content_type="audio/wav")
    ids = subscribe_feed(fake_library, settings, server, [{"guid": "c", "title": "C", "audio": "/c.wav"}])
    pipeline = Pipeline(fake_library, settings)
    job = pipeline.run_job(pipeline.enqueue(ids["c"]).id)
    assert job.state == "done", job.error
    assert {s.name: s.state for s in job.stages}["index"] == "done"
    searcher = Searcher(fake_library, embedder)
    hits = searcher.search('"Segment3 says"', mode="keyword")
    assert [(h.episode_id, h.start) for h in hits] == [(ids["c"], 6.0)]
    windows = fake_library.conn.execute("SELECT count(*) FROM search_windows WHERE episode_id = ?", (ids["c"],)).fetchone()[0]
    assert windows >= 1
    assert searcher.search("hello", mode="semantic")[0].episode_id == ids["c"]
    # indexing again (e.g. a re-run) replaces the entries
    with fake_library.transaction() as conn:
        conn.execute("UPDATE job_stages SET state = 'queued' WHERE name = 'index'")
    stages.index(pipeline.context(job), next(s for s in job.stages if s.name == "index"))
    assert len(searcher.search('"Segment3 says"', mode="keyword")) == 1
    assert fake_library.conn.execute("SELECT count(*) FROM search_windows").fetchone()[0] == windows

"""The understanding stages in the pipeline and the CLI, with the fake engine: results stored with
engine, model and prompt version; a failing LLM stage is marked failed with its reason while the
transcript and the other results stay; a retry reruns only what failed."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from earmark.ai.prompts import load_prompt
from earmark.cli.app import app
from earmark.jobs import Pipeline
from earmark.store.transcripts import TranscriptStore
from earmark.store.understanding import UnderstandingStore
from tests.ai.fakes import valid_answer
from tests.jobs.conftest import fake_library, fake_settings, subscribe_feed, wav_bytes  # noqa: F401  (fixtures)

SRT = b"""1
00:00:00,000 --> 00:00:20,000
Welcome to the show about honey bees and hives.

2
00:00:20,000 --> 00:00:40,000
Bees fly five kilometres to find flowers.

3
00:00:40,000 --> 00:01:00,000
Now sourdough bread, with a starter called Gerald.

4
00:01:00,000 --> 00:01:20,000
The dough rises for fourteen hours.
"""
UNDERSTANDING = ["summary", "chapters", "highlights"]
runner = CliRunner()


def _episode(server, library, settings) -> int:
    server.add("/e.wav", wav_bytes(80), content_type="audio/wav")
    server.add("/e.srt", SRT, content_type="application/x-subrip")
    ids = subscribe_feed(library, settings, server, [
        {"guid": "e", "title": "Bees and bread", "audio": "/e.wav", "transcripts": [("/e.srt", "application/x-subrip")]},
    ])
    return ids["e"]


def test_stages_store_results_with_provenance_and_cli_reads_them(fake_settings, fake_library, server, fake_llm):
    episode_id = _episode(server, fake_library, fake_settings)
    pipeline = Pipeline(fake_library, fake_settings)
    job = pipeline.run_job(pipeline.enqueue(episode_id).id)
    assert job.state == "done", job.error
    stages = {s.name: s for s in job.stages}
    assert all(stages[n].state == "done" and stages[n].engine == "fake" for n in UNDERSTANDING)
    store = UnderstandingStore(fake_library)
    summary = store.summary(episode_id)
    said = SRT.decode()
    assert summary.takeaways and all(t in said for t in summary.takeaways)  # the fake copies its sentences
    assert (summary.engine, summary.model) == ("fake", "fake-llm-1") and load_prompt("summary").id in summary.prompt_version
    chapters = store.chapters(episode_id)
    assert chapters.source == "generated" and all(c.generated for c in chapters.chapters)
    assert load_prompt("section").id in chapters.prompt_version
    highlights = store.highlights(episode_id)
    assert highlights and all(30 <= h.end - h.start <= 120 and load_prompt("highlights").id in h.prompt_version for h in highlights)
    calls = len(fake_llm.history)

    out = json.loads(runner.invoke(app, ["summary", str(episode_id), "--json"]).stdout)
    assert out["paragraphs"] == summary.paragraphs and out["prompt_version"]
    out = json.loads(runner.invoke(app, ["chapters", str(episode_id), "--json"]).stdout)
    assert out["source"] == "generated" and out["chapters"][0]["generated"] is True
    out = json.loads(runner.invoke(app, ["highlights", "--json"]).stdout)
    assert {h["episode_id"] for h in out} == {episode_id}
    assert len(fake_llm.history) == calls  # stored results are read, not recomputed
    result = runner.invoke(app, ["ask", str(episode_id), "How long does the dough rise?", "--json"])
    out = json.loads(result.stdout)
    [citation] = out["citations"]
    assert out["answerable"] and any(p["start"] <= citation["start"] < p["end"] for p in out["passages"])
    assert "Bees and bread" in runner.invoke(app, ["highlights"]).stdout


def test_failed_llm_stage_is_marked_and_the_rest_stays_then_retry(fake_settings, fake_library, server, fake_llm):
    episode_id = _episode(server, fake_library, fake_settings)

    def flaky(messages, schema):
        if "paragraph" in schema["properties"]:
            return '{"paragraph": 5}'
        return valid_answer(messages, schema)

    fake_llm.reset(default=flaky)
    pipeline = Pipeline(fake_library, fake_settings)
    job = pipeline.run_job(pipeline.enqueue(episode_id).id)
    assert job.state == "failed" and job.error.startswith("summary: ") and "no valid summary" in job.error, job.error
    stages = {s.name: s for s in job.stages}
    assert stages["summary"].state == "failed" and "after 3 attempts" in stages["summary"].error
    assert stages["transcript"].state == "done" and stages["chapters"].state == "done"
    assert stages["highlights"].state == "done"
    assert TranscriptStore(fake_library).get(episode_id) is not None
    store = UnderstandingStore(fake_library)
    assert store.summary(episode_id) is None and store.chapters(episode_id) is not None

    fake_llm.reset(default=valid_answer)
    pipeline = Pipeline(fake_library, fake_settings)  # a new worker gets the fixed engine
    job = pipeline.run_job(pipeline.jobs.retry(job.id).id)
    assert job.state == "done"
    asked = [set(c.schema["properties"]) for c in fake_llm.history]
    assert {"paragraph"} in asked and {"takeaways"} in asked  # the summary ran again …
    assert not any("why" in a for a in asked)  # … and the highlights, already done, did not
    assert store.summary(episode_id) is not None


def test_engine_that_cannot_load_fails_each_llm_stage_with_reason(fake_settings, fake_library, server, fake_llm):
    episode_id = _episode(server, fake_library, fake_settings)
    fake_llm.reset(fail_after=0)
    pipeline = Pipeline(fake_library, fake_settings)
    job = pipeline.run_job(pipeline.enqueue(episode_id).id)
    assert job.state == "failed"
    for name in UNDERSTANDING:
        stage = next(s for s in job.stages if s.name == name)
        assert stage.state == "failed" and "fail_after" in stage.error
    assert TranscriptStore(fake_library).get(episode_id) is not None


def test_redo_understanding_recomputes_outdated_episodes_only(fake_settings, fake_library, server, fake_llm):
    episode_id = _episode(server, fake_library, fake_settings)
    assert runner.invoke(app, ["process", str(episode_id), "--wait"]).exit_code == 0
    assert "up to date" in runner.invoke(app, ["process", "--redo", "understanding"]).stdout
    with fake_library.transaction() as conn:  # as if made by an older release's prompts
        conn.execute("UPDATE summaries SET prompt_version = 'system@1+summary@1' WHERE episode_id = ?", (episode_id,))
    before = TranscriptStore(fake_library).get(episode_id)
    fake_llm.history.clear()
    result = runner.invoke(app, ["process", "--redo", "understanding", "--wait"])
    assert result.exit_code == 0, result.output
    job = Pipeline(fake_library, fake_settings).jobs.list(episode_id=episode_id)[0]
    ran = {s.name for s in job.stages if s.started_at is not None}
    assert ran == {"names", "chapters", "summary", "highlights"}  # no download, transcript or index again
    assert TranscriptStore(fake_library).get(episode_id).segments == before.segments
    assert load_prompt("summary").id in UnderstandingStore(fake_library).summary(episode_id).prompt_version
    assert "up to date" in runner.invoke(app, ["process", "--redo", "understanding"]).stdout
    assert runner.invoke(app, ["process", "--redo", "everything"]).exit_code != 0

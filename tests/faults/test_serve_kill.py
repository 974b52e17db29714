"""kill -9 where ``earmark serve`` does the work: its job workers inside a stage, its snip enricher
inside a card, and a ``process --wait`` killed while a server runs beside it. After the restart (or
without one) the work is finished once: nothing lost, nothing twice."""

from __future__ import annotations

import json

from tests.faults.harness import Earmark, episode_rows, kill, wait_for
from tests.faults.test_pipeline_kill import ORDER, setup_feed


def snips(em: Earmark) -> list[tuple]:
    return [tuple(r) for r in em.query("SELECT id, episode_id, tapped_at FROM snips ORDER BY id")]


def job_done(em: Earmark, episode_id: int):
    job = em.job(episode_id)
    return job is not None and job["state"] in ("done", "failed") and job


def test_kill_9_of_serve_inside_summary_then_restart(em, server, campaign):
    fault = campaign("summary (serve)", "kill -9 of `earmark serve` while its worker is inside summary")
    ids = setup_feed(em, server)
    em.run("process", str(ids["k"]))  # queued; the server's worker takes it
    proc, _ = em.serve(gate="llm@summary")
    assert em.wait_gate(proc)["stage"] == "summary"
    job = em.job(ids["k"])
    assert (job["state"], job["stage"]) == ("running", "summary")
    kill(proc)
    fault.inject()

    proc, _ = em.serve()  # recovers the job left running, and finishes it
    job = wait_for(lambda: job_done(em, ids["k"]), "the job to finish after the restart", proc=proc)
    assert (job["state"], job["attempts"]) == ("done", 2), job["error"]
    assert {n: s["attempts"] for n, s in em.stages(job["id"]).items() if n in ORDER} == {
        n: (2 if n == "summary" else 1) for n in ORDER}
    kill(proc)
    em.run("process", str(ids["u"]), "--wait")
    assert episode_rows(em, ids["k"]) == episode_rows(em, ids["u"])
    em.check_integrity()
    fault.survive("summary re-run by the restarted server")


def test_process_killed_while_serve_runs_is_taken_over(em, server, campaign):
    """The server's workers recover jobs at start; a CLI run killed later must not stay 'running'
    for as long as the server lives."""
    fault = campaign("chapters (cli+serve)", "kill -9 of `process --wait` while `earmark serve` runs")
    ids = setup_feed(em, server)
    cli = em.start("process", str(ids["k"]), "--wait", gate="llm@chapters")
    assert em.wait_gate(cli)["stage"] == "chapters"
    proc, _ = em.serve()  # the CLI is alive: its job is left to it
    assert em.job(ids["k"])["state"] == "running"
    kill(cli)
    fault.inject()

    job = wait_for(lambda: job_done(em, ids["k"]), "the server to take the killed job over", timeout=30, proc=proc)
    assert (job["state"], job["attempts"]) == ("done", 2), job["error"]
    kill(proc)
    em.run("process", str(ids["u"]), "--wait")
    assert episode_rows(em, ids["k"]) == episode_rows(em, ids["u"])
    em.check_integrity()
    fault.survive("the running server recovered and finished the job")


def test_kill_9_during_snip_enrichment(em, server, campaign):
    fault = campaign("snip enrichment", "kill -9 of `earmark serve` inside a snip's AI card")
    ids = setup_feed(em, server)
    em.run("process", str(ids["k"]), "--wait")
    first = json.loads(em.run("snip", str(ids["k"]), "--at", "5", "--wait", "--json"))
    assert first["state"] == "ready"
    kept = [tuple(r) for r in em.query("SELECT * FROM snips WHERE id = ?", first["id"])]

    proc, _ = em.serve(gate="llm@card")
    second = json.loads(em.run("snip", str(ids["k"]), "--at", "25", "--json"))
    assert second["state"] == "pending"
    assert em.wait_gate(proc)["stage"] == "card"
    assert em.one("SELECT state FROM snips WHERE id = ?", second["id"]) == "pending"
    kill(proc)
    fault.inject()
    assert snips(em) == [(first["id"], ids["k"], 5.0), (second["id"], ids["k"], 25.0)]
    em.check_integrity()

    proc, _ = em.serve()
    wait_for(lambda: em.one("SELECT state FROM snips WHERE id = ?", second["id"]) == "ready",
             "the restarted server to finish the card", proc=proc)
    kill(proc)
    assert snips(em) == [(first["id"], ids["k"], 5.0), (second["id"], ids["k"], 25.0)]
    assert [tuple(r) for r in em.query("SELECT * FROM snips WHERE id = ?", first["id"])] == kept
    card = em.query("SELECT title, quote, takeaways, error FROM snips WHERE id = ?", second["id"])[0]
    assert card["title"] and card["quote"] and json.loads(card["takeaways"]) and card["error"] is None
    for snip in em.query("SELECT id, title, takeaways FROM snips"):  # searchable once: title, each takeaway
        docs = [r["text"] for r in em.query("SELECT text FROM search_docs WHERE kind = 'snip' AND ref = ?", snip["id"])]
        assert sorted(docs) == sorted([snip["title"], *json.loads(snip["takeaways"])])
    em.check_integrity()
    fault.survive("the pending snip got its card after the restart, once")

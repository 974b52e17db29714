"""`earmark add / podcasts / episodes / refresh / remove`, end to end: CLI → loopback HTTP → SQLite
in the EARMARK_HOME the ``settings`` fixture sets."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from earmark.cli.app import app
from tests.feedmaker import rss

runner = CliRunner()


def earmark(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def as_json(*args: str, ok: bool = True):
    return json.loads(earmark(*args, "--json", ok=ok).stdout)


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/" + "a-long-path/" * 12 + "feed.rss"  # long: must stay one line


def test_library_commands_with_json(settings, server):
    alpha = server.add("/alpha.rss", rss(title="Alpha", items=[("a2", "Alpha two"), ("a1", "Alpha one")]))
    server.add("/beta.rss", rss(title="Beta", items=[("b1", "Beta one")]))

    added = as_json("add", server.url("/alpha.rss"))
    assert (added["title"], added["episode_count"], added["status"]) == ("Alpha", 2, "ok")
    assert added["url"] == server.url("/alpha.rss")
    beta = as_json("add", server.url("/beta.rss"))
    again = as_json("add", server.url("/alpha.rss"))
    assert again["id"] == added["id"]

    listed = as_json("podcasts")
    assert [(p["id"], p["title"], p["episode_count"]) for p in listed] == [
        (added["id"], "Alpha", 2),
        (beta["id"], "Beta", 1),
    ]
    assert listed[0]["last_checked"]  # datetimes come out as ISO strings

    episodes = as_json("episodes", str(added["id"]))
    assert [e["title"] for e in episodes] == ["Alpha two", "Alpha one"]  # newest first
    assert all(e["podcast_id"] == added["id"] and e["enclosure_url"] for e in episodes)
    assert len(as_json("episodes", str(added["id"]), "--limit", "1")) == 1

    alpha.body = rss(title="Alpha", items=[("a3", "Alpha three"), ("a2", "Alpha two"), ("a1", "Alpha one")])
    [one] = as_json("refresh", str(added["id"]))
    assert (one["podcast_id"], one["status"], one["new_episodes"]) == (added["id"], "updated", 1)
    everything = as_json("refresh")
    assert sorted((r["podcast_id"], r["status"]) for r in everything) == [
        (added["id"], "not-modified"),
        (beta["id"], "not-modified"),
    ]

    removed = as_json("remove", str(added["id"]))
    assert (removed["id"], removed["removed"]) == (added["id"], True)
    assert [p["id"] for p in as_json("podcasts")] == [beta["id"]]


def test_library_commands_as_text(settings, server):
    # A title that is also Rich markup must be shown as written, not styled away.
    server.add("/show.rss", rss(title="[b]Loud[/b] Show", items=[("e1", "[i]First[/i]")]))
    out = earmark("podcasts").stdout
    assert "No subscriptions yet" in out
    assert "Subscribed to [b]Loud[/b] Show (id 1): 1 episodes" in earmark("add", server.url("/show.rss")).stdout
    assert "Already subscribed: [b]Loud[/b] Show" in earmark("add", server.url("/show.rss")).stdout
    assert "[b]Loud[/b] Show" in earmark("podcasts").stdout
    assert "[i]First[/i]" in earmark("episodes", "1").stdout
    assert "1 checked, 0 failed." in earmark("refresh").stdout
    assert "Removed [b]Loud[/b] Show." in earmark("remove", "1").stdout


def test_refresh_reports_a_failing_feed_and_exits_1(settings, server):
    server.add("/ok.rss", rss(title="Fine"))
    server.add("/flaky.rss", rss(title="Flaky"))
    fine, flaky = as_json("add", server.url("/ok.rss")), as_json("add", server.url("/flaky.rss"))
    server.resources["/flaky.rss"].status = 503
    result = earmark("refresh", "--json", ok=False)
    assert result.exit_code == 1
    by_id = {r["podcast_id"]: r for r in json.loads(result.stdout)}
    assert by_id[fine["id"]]["status"] == "not-modified"
    assert by_id[flaky["id"]]["status"] == "error" and "HTTP 503" in by_id[flaky["id"]]["error"]
    text = earmark("refresh", ok=False)
    assert "✗ Flaky:" in text.stdout and "2 checked, 1 failed." in text.stdout
    [stored] = [p for p in as_json("podcasts") if p["id"] == flaky["id"]]
    assert stored["status"] == "error" and "HTTP 503" in stored["error"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["episodes", "999"], "no podcast with id 999"),
        (["remove", "999"], "no podcast with id 999"),
        (["refresh", "999"], "no podcast with id 999"),
        (["add", "DEAD"], "cannot connect: connection refused"),
        (["add", "gopher://example.org/feed"], "not a feed address"),
    ],
    ids=["episodes", "remove", "refresh", "add-dead-host", "add-bad-scheme"],
)
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_errors_are_one_line_without_traceback(settings, args, message, json_flag):
    args = [dead_url() if a == "DEAD" else a for a in args]
    result = earmark(*args, *json_flag, ok=False)
    assert result.exit_code == 1
    assert result.stdout == ""  # nothing half-written for a script to parse
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert as_json("podcasts") == []

import json

import pytest
import typer
from typer.testing import CliRunner

from earmark.cli import app
from earmark.cli.snip import parse_time
from earmark.store.snips import SnipStore
from tests.snips.conftest import save_transcript
from tests.snips.helpers import transcript

runner = CliRunner()


@pytest.mark.parametrize("text,seconds", [("754", 754.0), ("12:34", 754.0), ("1:02:03", 3723.0), ("0:05.5", 5.5)])
def test_parse_time(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize("bad", ["12:75", "1:61:00", "abc", "-3", "1:2:3:4"])
def test_parse_time_rejects(bad):
    with pytest.raises(typer.BadParameter):
        parse_time(bad)


def test_snip_and_snips(lib, snip_settings, episode, monkeypatch, fake_llm):
    monkeypatch.setenv("EARMARK_HOME", str(snip_settings.home))
    (snip_settings.home / "settings.toml").write_text('asr_engine = "fake"\nllm_engine = "fake"\n')
    segments, _ = transcript(100, speakers={0: "Ana"})
    save_transcript(lib, episode, segments)
    result = runner.invoke(app, ["snip", str(episode), "--at", "2:50", "--json"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["state"] == "pending" and made["tapped_at"] == 170.0 and fake_llm.history == []

    fake_llm.reset(default='{"title": "Card of sentences", "takeaways": ["Sentence39 ends it."], "quote": "Sentence39", "speaker": null}')
    result = runner.invoke(app, ["snip", str(episode), "--at", "200", "--boundary", "fixed:60", "--wait"])
    assert result.exit_code == 0, result.output
    assert "Card of sentences" in result.stdout and "• Sentence39 ends it." in result.stdout
    newest = SnipStore(lib).list()[0]
    assert newest.state == "ready" and newest.boundary == "fixed:60" and abs(newest.end - newest.start - 60) < 2.2

    result = runner.invoke(app, ["snips", "--json"])
    assert [s["id"] for s in json.loads(result.stdout)] == [newest.id, made["id"]]
    SnipStore(lib).update(made["id"], favorite=True, tags=["t"])
    assert [s["id"] for s in json.loads(runner.invoke(app, ["snips", "--favorite", "--json"]).stdout)] == [made["id"]]
    assert [s["id"] for s in json.loads(runner.invoke(app, ["snips", "--tag", "t", "--json"]).stdout)] == [made["id"]]
    table = runner.invoke(app, ["snips"])
    assert table.exit_code == 0 and "Card of sentences" in table.stdout

    assert runner.invoke(app, ["snip", "999", "--at", "1:00"]).exit_code == 1
    bad = runner.invoke(app, ["snip", str(episode), "--at", "1:75"])
    assert bad.exit_code == 2
    assert runner.invoke(app, ["snip", str(episode), "--at", "10", "--boundary", "fixed:zz"]).exit_code == 2

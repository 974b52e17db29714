"""`earmark upload FILE…` end to end (CLI → SQLite in the ``settings`` fixture's EARMARK_HOME), then
`earmark process` on the upload with the fake engines."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from earmark.cli.app import app
from earmark.store.library import Library
from tests.ai.fakes import valid_answer
from tests.uploads_media import TITLE, aac, flac, mp3

runner = CliRunner()


def test_upload_several_files_one_bad(settings, tmp_path):
    (tmp_path / "talk.mp3").write_bytes(mp3())
    (tmp_path / "music.flac").write_bytes(flac())
    (tmp_path / "fake.mp3").write_text("this is a text file with an .mp3 name\n" * 20)
    result = runner.invoke(app, ["upload", str(tmp_path / "talk.mp3"), str(tmp_path / "fake.mp3"), str(tmp_path / "music.flac")])
    assert result.exit_code == 1, result.output  # one file failed: the others are in
    assert f"talk.mp3 → episode 1: {TITLE} (added, in My uploads)" in result.stdout
    assert "fake.mp3: not a readable audio file" in result.stderr
    assert "2 uploaded, 1 failed. Transcribe with: earmark process 1" in result.stdout

    result = runner.invoke(app, ["upload", "--json", "--podcast", "Field recordings", str(tmp_path / "talk.mp3")])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)["uploaded"]
    assert item["created"] is True and item["episode"]["title"] == TITLE

    library = Library(settings.db_path)
    titles = sorted((p.title, p.kind, p.episode_count) for p in library.podcasts())
    assert titles == [("Field recordings", "uploads", 1), ("My uploads", "uploads", 2)]
    listed = json.loads(runner.invoke(app, ["episodes", "1", "--json"]).stdout)
    assert {e["title"] for e in listed} == {TITLE}
    library.close()


def test_refresh_skips_uploads_and_process_runs_the_pipeline(settings, tmp_path, fake_llm):
    fake_llm.reset(default=valid_answer)  # extractive answers that pass every task's checks
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "settings.toml").write_text('asr_engine = "fake"\nllm_engine = "fake"\nsemantic_index = false\n')
    (tmp_path / "memo.aac").write_bytes(aac())
    assert runner.invoke(app, ["upload", str(tmp_path / "memo.aac")]).exit_code == 0
    refreshed = runner.invoke(app, ["refresh", "--json"])
    assert refreshed.exit_code == 0 and json.loads(refreshed.stdout) == []  # nothing with a feed to check
    result = runner.invoke(app, ["process", "1", "--wait"])
    assert result.exit_code == 0, result.output
    transcript = runner.invoke(app, ["transcript", "1"])
    assert transcript.exit_code == 0 and transcript.stdout.strip()
    deleted = runner.invoke(app, ["download", "1", "--delete"])
    assert deleted.exit_code == 1 and "your own upload" in deleted.stderr


def test_over_the_limit_and_missing_files(settings, tmp_path):
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "settings.toml").write_text("max_upload_bytes = 1000\n")
    (tmp_path / "talk.mp3").write_bytes(mp3())
    result = runner.invoke(app, ["upload", str(tmp_path / "talk.mp3"), str(tmp_path / "nowhere.mp3")])
    assert result.exit_code == 1
    assert "is over the upload limit of 1,000 bytes (max_upload_bytes)" in result.stderr
    assert "nowhere.mp3: no such file" in result.stderr

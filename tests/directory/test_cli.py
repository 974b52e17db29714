"""`earmark discover`: the directories from settings.toml (the stub on 127.0.0.1), JSON and table
output, a directory failing, and offline."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from earmark.cli.app import app
from earmark.store.library import Library
from tests.directory.conftest import KEY, SECRET
from tests.directory.stub import PI_PREFIX

runner = CliRunner()


def _settings_file(home, itunes: str, pi: str, key: bool = True) -> None:
    home.mkdir(parents=True, exist_ok=True)
    lines = [f'itunes_base_url = "{itunes}"', f'podcastindex_base_url = "{pi}"', "directory_timeout = 2.0"]
    if key:
        lines += [f'podcastindex_key = "{KEY}"', f'podcastindex_secret = "{SECRET}"']
    (home / "settings.toml").write_text("\n".join(lines) + "\n")


def test_discover_json_and_table(dsettings, stub, monkeypatch):
    from earmark.cli.app import console

    monkeypatch.setattr(console, "width", 200)  # one row per show, to read it back
    _settings_file(dsettings.home, stub.base, stub.pi_base)
    library = Library(dsettings.db_path)
    podcast, _ = library.add_podcast("https://builders.example.org/feed")
    library.close()
    result = runner.invoke(app, ["discover", "bridge", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == "bridge"
    assert data["results"][0]["title"] == "Bridges Weekly"
    builders = next(r for r in data["results"] if r["title"] == "Bridge Builders")
    assert builders["podcast_id"] == podcast.id and builders["sources"] == ["podcastindex"]
    assert [s["state"] for s in data["sources"]] == ["ok", "ok"]

    table = runner.invoke(app, ["discover", "bridge"])
    assert table.exit_code == 0, table.output
    assert "Bridges Weekly" in table.stdout and "<b>Tunnels</b><script>" in table.stdout
    assert f"subscribed (id {podcast.id})" in table.stdout

    popular = runner.invoke(app, ["discover", "--category", "science", "--json"])
    assert popular.exit_code == 0, popular.output
    assert json.loads(popular.stdout)["category"] == "science"
    assert stub.requests_to(PI_PREFIX + "/podcasts/trending")[0][0]["cat"] == ["Science"]
    bad = runner.invoke(app, ["discover", "--category", "nope"])
    assert bad.exit_code != 0 and "true-crime" in bad.output


def test_discover_says_when_a_directory_fails_or_all_do(dsettings, stub, monkeypatch):
    from earmark.cli.app import console, err_console

    monkeypatch.setattr(console, "width", 200)
    monkeypatch.setattr(err_console, "width", 300)
    _settings_file(dsettings.home, stub.base, stub.pi_base, key=False)
    stub.fail("/search", 503)
    result = runner.invoke(app, ["discover", "bridge"])
    assert result.exit_code == 1
    assert "Error: no directory could answer: Apple Podcasts is down or failing (HTTP 503)" in result.stderr
    assert "set podcastindex_key and podcastindex_secret" in result.stderr
    assert "Traceback" not in result.output

    _settings_file(dsettings.home, stub.base, stub.pi_base)
    partial = runner.invoke(app, ["discover", "bridge"])
    assert partial.exit_code == 0
    assert "Bridge Builders" in partial.stdout
    assert "Apple Podcasts: Apple Podcasts is down" in partial.stderr

    _settings_file(dsettings.home, "http://127.0.0.1:1", "http://127.0.0.1:1/api")
    offline = runner.invoke(app, ["discover", "something else"])
    assert offline.exit_code == 1 and "cannot be reached (offline?)" in offline.stderr

import json
import re

import yaml
from typer.testing import CliRunner

from earmark.cli import app
from earmark.export.markdown import (
    export_markdown,
    safe_name,
    update_front_matter,
    yaml_str,
)


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text[4 : text.index("\n---\n", 4)])


def _snip_ids(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"<!-- earmark:snip id=(\d+) -->", text)]


def test_files_per_episode_with_front_matter_links_and_safe_names(library, settings, episodes, snip_factory, tmp_path):
    a = snip_factory(episodes[0], 100, tags=["ideas", 'tag "quoted": yes'], note="My own note")
    snip_factory(episodes[1], 5)
    out = tmp_path / "vault"
    report = export_markdown(library, settings, out)
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "Deep Questions Answers - Ep 1 1 — Why pilot.md",
        "Deep Questions Answers - Ep 2 yes no.md",
    ]
    assert sorted(report.containers.values()) == ["created", "created"] and report.ok
    text = (out / files[0]).read_text("utf-8")
    meta = _front_matter(text)
    assert meta["podcast"] == 'Deep: "Questions" / Answers'
    assert meta["episode"] == "Ep 1: #1 — Why? [pilot]"
    assert str(meta["date"]) == "2024-05-01"
    assert meta["url"] == "https://example.com/ep1"
    assert meta["tags"] == ["ideas", 'tag "quoted": yes']
    assert _front_matter((out / files[1]).read_text("utf-8"))["url"] == "https://cdn.example.com/ep2.mp3"
    block = text[text.index("<!-- earmark:begin") : text.index("<!-- earmark:end -->")]
    for piece in ("### Idea at 100", "takeaway 100 a", "“Quote said at 100.”", "— Ada", "Transcript text around 100.",
                  "My own note", f"{settings.public_base_url}/episodes/{episodes[0].id}?t=100"):
        assert piece in block
    assert _snip_ids(text) == [a.id]


def test_reexport_keeps_user_text_byte_exact_and_updates_in_place(library, settings, episodes, snip_factory, store, tmp_path):
    first = snip_factory(episodes[0], 100)
    second = snip_factory(episodes[0], 200)
    export_markdown(library, settings, tmp_path)
    path = next(tmp_path.glob("*.md"))
    original = path.read_text("utf-8")
    begin, end = original.index("<!-- earmark:begin"), original.index("<!-- earmark:end -->") + len("<!-- earmark:end -->")
    before = original[:begin] + "My thoughts before, with CRLF\r\nand ünïcödé 🎧\n\n"
    after = "\n\n## My notes after\n- [ ] follow up <!-- my comment -->\n"
    path.write_bytes((before + original[begin:end] + after).encode("utf-8"))

    # Unchanged snips: the file is not even rewritten.
    mtime = path.stat().st_mtime_ns
    report = export_markdown(library, settings, tmp_path)
    assert report.containers == {str(path): "unchanged"} and sorted(report.skipped) == [f"snip:{first.id}", f"snip:{second.id}"]
    assert path.stat().st_mtime_ns == mtime

    # Edit one, delete one, add two (one before the others in listening order).
    store.update(first.id, title="Edited title", note="edited note")
    late = snip_factory(episodes[0], 300)
    early = snip_factory(episodes[0], 10)
    store.delete(second.id)  # not the newest: SQLite would hand the newest id out again
    report = export_markdown(library, settings, tmp_path)
    assert report.updated == [f"snip:{first.id}"] and report.deleted == [f"snip:{second.id}"]
    assert sorted(report.created) == sorted([f"snip:{late.id}", f"snip:{early.id}"])
    data = path.read_bytes().decode("utf-8")
    assert data.startswith(before) and data.endswith(after)  # byte-exact, CRLF included
    assert _snip_ids(data) == [early.id, first.id, late.id]  # listening order, no duplicates
    assert "Edited title" in data and "edited note" in data and "Idea at 100" not in data
    assert "Idea at 200" not in data
    assert data.count("<!-- earmark:begin") == 1 and data.count("<!-- earmark:end -->") == 1

    # A third export changes nothing at all.
    assert export_markdown(library, settings, tmp_path).containers == {str(path): "unchanged"}
    assert path.read_bytes().decode("utf-8") == data


def test_front_matter_keeps_user_keys_and_all_snips_deleted_empties_block(library, settings, episodes, snip_factory, store, tmp_path):
    snip = snip_factory(episodes[0], 100, tags=["one"])
    export_markdown(library, settings, tmp_path)
    path = next(tmp_path.glob("*.md"))
    text = path.read_text("utf-8").replace("---\n\n", "status: reading\naliases:\n  - mine\n---\n\nintro\n", 1)
    path.write_text(text, "utf-8")
    store.update(snip.id, tags=["two", "three"])
    export_markdown(library, settings, tmp_path)
    meta = _front_matter(path.read_text("utf-8"))
    assert meta["tags"] == ["three", "two"] and meta["status"] == "reading" and meta["aliases"] == ["mine"]
    store.delete(snip.id)
    report = export_markdown(library, settings, tmp_path)
    data = path.read_text("utf-8")
    assert report.deleted == [f"snip:{snip.id}"] and _snip_ids(data) == [] and "intro\n" in data
    assert "<!-- earmark:begin" in data and "<!-- earmark:end -->" in data


def test_removed_markers_get_a_new_block_and_snip_text_cannot_fake_markers(library, settings, episodes, snip_factory, tmp_path):
    snip_factory(episodes[0], 100, note="<!-- earmark:end --> sneaky")
    export_markdown(library, settings, tmp_path)
    path = next(tmp_path.glob("*.md"))
    text = path.read_text("utf-8")
    assert text.count("<!-- earmark:end -->") == 1
    path.write_text("only my words\n", "utf-8")
    export_markdown(library, settings, tmp_path)
    data = path.read_text("utf-8")
    assert data.startswith("only my words\n") and data.count("<!-- earmark:begin") == 1


def test_helpers():
    assert safe_name('a/b\\c:d*e?f"g<h>i|j') == "a b c d e f g h i j"
    assert safe_name("CON") == "CON_" and safe_name("...") == "Untitled"
    assert len(safe_name("é" * 500).encode()) <= 200
    for value in ['plain', 'with "quotes" and \\ backslash', "yes", "null", "- dash", "# hash", "a: b", "line\nbreak",
                  "\u2028sep\u0085", "emoji 🎧"]:
        assert yaml.safe_load(f"k: {yaml_str(value)}") == {"k": value}
    text = "---\ntags:\n- old\n- older\ntitle: mine\n---\nbody\n"
    assert update_front_matter(text, {"tags": '["new"]'}) == '---\ntags: ["new"]\ntitle: mine\n---\nbody\n'


def test_cli_markdown_json(library, settings, episodes, snip_factory, tmp_path):
    snip = snip_factory(episodes[0], 100)
    result = CliRunner().invoke(app, ["export", "markdown", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["created"] == [f"snip:{snip.id}"] and data["ok"] is True
    result = CliRunner().invoke(app, ["export", "markdown", str(tmp_path / "out")])
    assert result.exit_code == 0 and "0 created, 0 updated, 1 unchanged" in result.stdout

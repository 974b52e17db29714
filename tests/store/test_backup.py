"""`earmark backup` / `earmark restore` and the start-up integrity check, on real SQLite files:
a backup taken while another thread keeps writing is intact, a restore keeps the library it
replaces, a damaged file is refused with what to do."""

from __future__ import annotations

import threading

import pytest
from typer.testing import CliRunner

from earmark.cli.app import app
from earmark.store.backup import BackupError, backup, check, restore
from earmark.store.library import Library

runner = CliRunner()


def damage(path) -> None:
    data = bytearray(path.read_bytes())
    data[8192:12288] = b"\x5a" * 4096  # a b-tree page in the middle
    path.write_bytes(bytes(data))


def test_backup_while_writing_is_consistent(library, settings, tmp_path):
    for n in range(50):
        library.add_podcast(f"https://example.org/{n}.rss")
    stop = threading.Event()

    def write() -> None:
        n = 1000
        while not stop.is_set():
            library.add_podcast(f"https://example.org/{n}.rss")
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copies = [backup(settings.db_path, tmp_path / f"copy{k}.sqlite3") for k in range(3)]
    finally:
        stop.set()
        writer.join()
    counts = [c.podcasts for c in copies]
    assert counts == sorted(counts) and counts[0] >= 50 and counts[-1] <= len(library.podcasts())
    for c in copies:
        assert check(c.path).podcasts == c.podcasts  # intact on its own: no -wal file needed
        assert not c.path.with_name(c.path.name + "-wal").exists()


def test_restore_replaces_the_library_and_keeps_the_old_one(library, settings, tmp_path):
    library.add_podcast("https://example.org/kept.rss")
    saved = backup(settings.db_path, tmp_path)  # a folder: a dated file in it
    assert saved.path.parent == tmp_path and saved.path.name.startswith("earmark-")
    library.add_podcast("https://example.org/later.rss")
    library.close()
    info, previous = restore(saved.path, settings.db_path)
    assert info.podcasts == 1 and check(previous).podcasts == 2
    reopened = Library(settings.db_path)
    try:
        assert [p.url for p in reopened.podcasts()] == ["https://example.org/kept.rss"]
    finally:
        reopened.close()


def test_damaged_or_foreign_files_are_refused(library, settings, tmp_path):
    for n in range(200):  # enough rows for several pages
        library.add_podcast(f"https://example.org/{n}/" + "x" * 200)
    good = backup(settings.db_path, tmp_path / "good.sqlite3").path
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(good.read_bytes())
    damage(bad)
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    for path, message in ((bad, "damaged|malformed"), (text, "not an Earmark library"), (tmp_path / "none", "no such file")):
        with pytest.raises(BackupError, match=message):
            restore(path, settings.db_path)
    assert len(library.podcasts()) == 200  # untouched


def test_cli_backup_restore_and_serve_refusing_a_damaged_library(library, settings, tmp_path):
    library.add_podcast("https://example.org/a.rss")
    result = runner.invoke(app, ["backup", str(tmp_path / "b.sqlite3")])
    assert result.exit_code == 0, result.output
    assert "1 podcasts, 0 episodes, 0 snips" in " ".join(result.stdout.split())
    result = runner.invoke(app, ["restore", str(tmp_path / "b.sqlite3"), "--json"])
    assert result.exit_code == 0, result.output
    library.close()
    filled = Library(settings.db_path)
    for n in range(200):
        filled.add_podcast(f"https://example.org/{n}/" + "x" * 200)
    filled.close()  # the last connection checkpoints the WAL into the file
    damage(settings.db_path)
    with pytest.raises(BackupError):  # (else the serve below would start and never return)
        check(settings.db_path, quick=True)
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert "earmark restore" in result.stderr and "damaged" in result.stderr

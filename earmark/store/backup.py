"""Backups of the library: SQLite's online backup API (consistent while the server keeps writing),
each copy checked before it is trusted; a restore first backs up the library it replaces."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from earmark.errors import EarmarkError
from earmark.store.schema import MIGRATIONS


class BackupError(EarmarkError, OSError):
    """A backup could not be written, or a file is not a sound Earmark library."""


@dataclass(frozen=True, slots=True)
class LibraryCheck:
    path: Path
    size: int  # bytes
    schema: int
    podcasts: int
    episodes: int
    snips: int


def check(path: Path | str, *, quick: bool = False) -> LibraryCheck:
    """Whether ``path`` is an intact Earmark library (SQLite's integrity check, a schema this
    Earmark knows); raises BackupError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check")]
            if verdict != ["ok"]:
                raise BackupError(f"{path}: the database is damaged ({'; '.join(verdict[:3])})")
            schema = conn.execute("PRAGMA user_version").fetchone()[0]
            if not 0 < schema <= len(MIGRATIONS):
                raise BackupError(f"{path}: not an Earmark library this version can read (schema {schema})")
            count = lambda table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
            return LibraryCheck(path, path.stat().st_size, schema, count("podcasts"), count("episodes"), count("snips"))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # not a database at all, or a table missing
        raise BackupError(f"{path}: not an Earmark library ({exc})") from None


def _copy(source: Path, target: Path) -> None:
    """One step over a read snapshot: in WAL mode writers go on meanwhile (a copy in several steps
    would start over after every write made through another connection, forever while serving)."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def backup(db_path: Path, target: Path | str) -> LibraryCheck:
    """Copy the library to ``target`` (a file, or a folder to put a dated file in), safely while
    it is in use: written beside the target, checked, fsynced, then renamed into place."""
    target = Path(target).expanduser()
    if target.is_dir():
        target = target / time.strftime("earmark-%Y%m%d-%H%M%S.sqlite3")
    if not Path(db_path).is_file():
        raise BackupError(f"{db_path}: there is no library to back up yet")
    part = target.with_name(target.name + ".part")
    try:
        part.unlink(missing_ok=True)
        _copy(Path(db_path), part)
        check(part)
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, target)
    except sqlite3.Error as exc:
        part.unlink(missing_ok=True)
        raise BackupError(f"{target}: cannot write the backup ({exc})") from None
    except OSError as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"{target}: cannot write the backup ({exc.strerror or exc})") from None
    return check(target)


def restore(source: Path | str, db_path: Path) -> tuple[LibraryCheck, Path | None]:
    """Replace the library with the backup at ``source`` (checked first). The library it replaces
    is backed up beside it; returns the restored library's figures and that file (None when
    there was no library)."""
    source = Path(source).expanduser()
    check(source)  # refused before anything is touched
    kept = None
    if Path(db_path).is_file():
        kept = backup(db_path, Path(db_path).with_name(time.strftime("library.before-restore-%Y%m%d-%H%M%S.sqlite3"))).path
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(db_path, timeout=30)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{db_path}: cannot restore ({exc}); the library before it is in {kept}") from None
    return check(db_path), kept

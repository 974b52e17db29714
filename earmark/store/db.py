"""Opening the SQLite library: WAL, foreign keys, and migrations up to the newest schema."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from earmark.errors import EarmarkError
from earmark.store.schema import MIGRATIONS


CHUNK = 500  # ids bound in one statement (SQLite limits the number of parameters)


def rows_in(conn: sqlite3.Connection, sql: str, ids: Sequence[int], params: Sequence = ()) -> Iterator[sqlite3.Row]:
    """The rows of ``sql`` for ``ids``: its ``{ids}`` becomes placeholders for a chunk of at most
    CHUNK ids at a time, bound after ``params``."""
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        yield from conn.execute(sql.format(ids=",".join("?" * len(chunk))), (*params, *chunk))


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection with the schema migrated. ``isolation_level=None``: transactions are explicit."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, never corrupt
    conn.execute("PRAGMA foreign_keys=ON")
    try:
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _version(conn: sqlite3.Connection) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise EarmarkError(
            f"the library was written by a newer Earmark (schema {version}, this one knows {len(MIGRATIONS)})"
        )
    return version


def migrate(conn: sqlite3.Connection) -> None:
    while _version(conn) < len(MIGRATIONS):
        # executescript would commit on its own; run statement by statement inside one transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process (CLI and web app opening a new
            # library together) may have migrated while we waited for it.
            version = _version(conn)
            if version < len(MIGRATIONS):
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split at each ``;`` that ends a statement (not one in a string, comment or trigger body),
    so several statements may share a line."""
    statements, current = [], ""
    pieces = script.split(";")
    for index, piece in enumerate(pieces):
        current += piece if index == len(pieces) - 1 else piece + ";"
        if current.strip() and sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())  # no final ";": sqlite will say what is wrong, if anything
    return statements

"""Your own audio in the library: the uploads podcasts (kind 'uploads', no feed) and each uploaded
episode with its file, added in one transaction together with the file's move into place."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from earmark.models import Episode, Podcast
from earmark.store.library import _EPISODE_COLUMNS, OWNER_ID, Library, _episode_values, _hash

DEFAULT_TITLE = "My uploads"
URL_PREFIX = "earmark:uploads"  # podcasts.url is NOT NULL UNIQUE; an uploads podcast has no feed


@dataclass(frozen=True, slots=True)
class UploadRecord:
    episode_id: int
    filename: str
    sha256: str
    source: str  # web / cli / watch
    artwork: str | None
    uploaded_at: float


def uploads_url(name: str | None, user_id: int = OWNER_ID) -> str:
    """The placeholder address of ``user_id``'s uploads podcast called ``name`` (None: "My uploads").
    Each user's are their own: the owner's keep the addresses they had before accounts."""
    prefix = URL_PREFIX if user_id == OWNER_ID else f"{URL_PREFIX}@{int(user_id)}"  # (a name is quoted: no "@")
    if name is None or name.strip().casefold() == DEFAULT_TITLE.casefold():
        return prefix
    return f"{prefix}/{quote(name.strip().casefold(), safe='')}"


class UploadStore:
    def __init__(self, library: Library):
        self.library = library

    def podcast(self, name: str | None = None, *, user_id: int = OWNER_ID) -> Podcast:
        """The uploads podcast called ``name`` ("My uploads" when None), created on first use, in
        ``user_id``'s subscriptions."""
        title = (name or "").strip() or DEFAULT_TITLE
        url = uploads_url(name, user_id)
        with self.library.transaction() as conn:
            row = conn.execute("SELECT id FROM podcasts WHERE url = ?", (url,)).fetchone()
            if row is not None:
                podcast_id = row[0]
            else:
                now = time.time()
                podcast_id = conn.execute(
                    "INSERT INTO podcasts (url, title, description, added_at, status, last_checked, last_success, kind)"
                    " VALUES (?, ?, ?, ?, 'ok', ?, ?, 'uploads')",
                    (url, title, "Audio files you added yourself.", now, now, now),
                ).lastrowid
            conn.execute(
                "INSERT INTO user_podcasts (user_id, podcast_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, podcast_id, time.time()),
            )
        return self.library.podcast(podcast_id)

    def find(self, podcast_id: int, sha256: str) -> int | None:
        """The episode already made from these bytes in this podcast, if any."""
        row = self.library.conn.execute(
            "SELECT e.id FROM uploads u JOIN episodes e ON e.id = u.episode_id WHERE e.podcast_id = ? AND u.sha256 = ?",
            (podcast_id, sha256),
        ).fetchone()
        return row[0] if row else None

    def get(self, episode_id: int) -> UploadRecord | None:
        row = self.library.conn.execute("SELECT * FROM uploads WHERE episode_id = ?", (episode_id,)).fetchone()
        if row is None:
            return None
        return UploadRecord(row["episode_id"], row["filename"], row["sha256"], row["source"], row["artwork"],
                            row["uploaded_at"])

    def add(
        self,
        podcast_id: int,
        episode: Episode,
        *,
        temp: Path,
        destination: Callable[[int], Path],
        filename: str,
        sha256: str,
        source: str,
        artwork: str | None = None,
        artwork_type: str | None = None,
    ) -> tuple[int, bool]:
        """Insert ``episode`` and move ``temp`` to ``destination(episode id)`` in one step: the row and
        its download record are committed only once the file is in place, and the file goes back
        to ``temp`` (for the caller to delete) if the transaction fails. Returns (episode id,
        created); the same bytes already in this podcast give the existing episode, untouched."""
        values = _episode_values(episode)
        columns = ", ".join(_EPISODE_COLUMNS)
        final: Path | None = None
        try:
            with self.library.transaction() as conn:
                row = conn.execute(
                    "SELECT e.id FROM uploads u JOIN episodes e ON e.id = u.episode_id WHERE e.podcast_id = ? AND u.sha256 = ?",
                    (podcast_id, sha256),
                ).fetchone()
                if row is not None:
                    return row[0], False
                now = time.time()
                episode_id = conn.execute(
                    f"INSERT INTO episodes (podcast_id, guid, {columns}, content_hash, first_seen, updated_at)"
                    f" VALUES ({', '.join('?' * (len(_EPISODE_COLUMNS) + 5))})",
                    (podcast_id, episode.guid, *values, _hash(values), now, now),
                ).lastrowid
                target = destination(episode_id)
                target.parent.mkdir(parents=True, exist_ok=True)
                size = temp.stat().st_size
                os.replace(temp, target)
                final = target
                conn.execute(
                    "INSERT OR REPLACE INTO downloads (episode_id, path, size, finished_at) VALUES (?, ?, ?, ?)",
                    (episode_id, str(target), size, now),
                )
                conn.execute(
                    "INSERT INTO uploads (episode_id, filename, sha256, source, artwork, artwork_type, uploaded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (episode_id, filename, sha256, source, artwork, artwork_type, now),
                )
        except BaseException:
            if final is not None and final.exists() and not temp.exists():
                os.replace(final, temp)  # rolled back: no file without its row
            raise
        return episode_id, True

    def is_upload(self, episode_id: int) -> bool:
        row = self.library.conn.execute(
            "SELECT p.kind FROM episodes e JOIN podcasts p ON p.id = e.podcast_id WHERE e.id = ?", (episode_id,)
        ).fetchone()
        return bool(row) and row[0] != "feed"

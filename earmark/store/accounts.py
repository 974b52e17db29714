"""Accounts: users with argon2 password hashes, their API tokens and web sessions (schema migration 12).

User 1 owns the library that existed before accounts; the first ``earmark user add`` names them.
Secrets (API tokens, session ids) are stored as their sha256, so a copy of the library file lets
nobody in; passwords only as argon2 hashes (earmark/accounts.py makes and checks them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass

from earmark.errors import EarmarkError, NotFound
from earmark.store.library import OWNER_ID, Library

SESSION_SECONDS = 30 * 24 * 3600  # a login (the web page, login.json)
RENEW_SECONDS = 3600  # a session still in use near its end lasts this much longer; also a Basic login's


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str | None  # None: the owner before anyone named them
    has_password: bool
    created_at: float

    @property
    def is_owner(self) -> bool:
        return self.id == OWNER_ID


def _user(row: sqlite3.Row) -> User:
    return User(row["id"], row["name"], row["password_hash"] is not None, row["created_at"])


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccountStore:
    def __init__(self, library: Library):
        self.library = library

    # -- users ----------------------------------------------------------------------------------

    def users(self) -> list[User]:
        rows = self.library.conn.execute("SELECT * FROM users WHERE name IS NOT NULL ORDER BY id")
        return [_user(r) for r in rows]

    def user(self, user_id: int) -> User:
        row = self.library.conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        return _user(row)

    def by_name(self, name: str) -> User | None:
        row = self.library.conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return _user(row) if row else None

    def password_hash(self, user_id: int) -> str | None:
        row = self.library.conn.execute("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def add(self, name: str, password_hash: str) -> User:
        """A new user; the first one named becomes the owner (user 1) of the existing library."""
        with self.library.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise EarmarkError(f"there is already a user named {name!r}")
            claimed = conn.execute(
                "UPDATE users SET name = ?, password_hash = ? WHERE id = ? AND name IS NULL",
                (name, password_hash, OWNER_ID),
            ).rowcount
            if not claimed:
                conn.execute(
                    "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                    (name, password_hash, time.time()),
                )
        user = self.by_name(name)
        assert user is not None
        return user

    def set_password(self, user_id: int, password_hash: str) -> None:
        """New password; the user's web sessions end (API tokens stay: revoke those on their own)."""
        with self.library.transaction() as conn:
            if not conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)).rowcount:
                raise NotFound(f"no user with id {user_id}")
            conn.execute("DELETE FROM web_sessions WHERE user_id = ?", (user_id,))

    def remove(self, user_id: int) -> None:
        """Remove a user with their snips, subscriptions, playback, tokens, sessions, devices and
        sync state. The owner stays: the library is theirs. (Podcasts only they followed are left
        unfollowed: ``Library.unfollowed()``; `earmark user remove` removes them with their files.)"""
        if user_id == OWNER_ID:
            raise EarmarkError("the owner of the library cannot be removed (change their password instead)")
        with self.library.transaction() as conn:
            conn.execute("DELETE FROM snips WHERE user_id = ?", (user_id,))
            if not conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount:
                raise NotFound(f"no user with id {user_id}")

    # -- where a user's snips are exported -------------------------------------------------------

    EXPORT_SETTINGS = ("readwise_token", "notion_token", "notion_parent_page_id")

    def export_settings(self, user_id: int) -> dict[str, str]:
        """The user's own export settings that are set (names as in settings.toml)."""
        row = self.library.conn.execute(
            f"SELECT {', '.join(self.EXPORT_SETTINGS)} FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        return {name: row[name] for name in self.EXPORT_SETTINGS if row[name]}

    def set_export_settings(self, user_id: int, **values: str | None) -> None:
        """Set (a value) or clear ("" or None) some of the user's export settings."""
        unknown = set(values) - set(self.EXPORT_SETTINGS)
        if unknown:
            raise ValueError(f"not an export setting: {', '.join(sorted(unknown))}")
        with self.library.transaction() as conn:
            for name, value in values.items():
                conn.execute(f"UPDATE users SET {name} = ? WHERE id = ?", (value or None, user_id))

    # -- API tokens -----------------------------------------------------------------------------

    def new_token(self, user_id: int, label: str = "") -> str:
        """A new API token for scripts; only its hash is kept, so it is shown once."""
        token = "em_" + secrets.token_urlsafe(32)
        with self.library.transaction() as conn:
            conn.execute(
                "INSERT INTO user_tokens (user_id, token_hash, label, created_at) VALUES (?, ?, ?, ?)",
                (user_id, secret_hash(token), label, time.time()),
            )
        return token

    def token_user(self, token: str) -> int | None:
        row = self.library.conn.execute(
            "SELECT user_id FROM user_tokens WHERE token_hash = ?", (secret_hash(token),)
        ).fetchone()
        return row[0] if row else None

    def tokens(self, user_id: int) -> list[tuple[int, str, float]]:
        rows = self.library.conn.execute(
            "SELECT id, label, created_at FROM user_tokens WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def revoke_token(self, user_id: int, token_id: int) -> None:
        with self.library.transaction() as conn:
            if not conn.execute("DELETE FROM user_tokens WHERE id = ? AND user_id = ?", (token_id, user_id)).rowcount:
                raise NotFound(f"no token with id {token_id}")

    # -- feed addresses -------------------------------------------------------------------------

    def feed_token(self, user_id: int) -> str:
        """What a podcast app's feed address carries (``?feed=``): it opens that user's feeds and
        their artwork, nothing else, so a feed URL synced to an app's cloud gives away no more."""
        mac = hmac.new(self._feed_key(), f"feed:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{user_id}.{mac}"

    def feed_user(self, token: str) -> int | None:
        user, _, _ = token.partition(".")
        if not user.isdigit() or len(user) > 12:
            return None
        expected = self.feed_token(int(user))
        return int(user) if hmac.compare_digest(expected.encode(), token.encode()) else None

    def _feed_key(self) -> bytes:
        row = self.library.conn.execute("SELECT value FROM app_secrets WHERE name = 'feed_key'").fetchone()
        if row is None:
            with self.library.transaction() as conn:
                conn.execute("INSERT INTO app_secrets (name, value) VALUES ('feed_key', ?) ON CONFLICT DO NOTHING",
                             (secrets.token_hex(32),))
            row = self.library.conn.execute("SELECT value FROM app_secrets WHERE name = 'feed_key'").fetchone()
        return bytes.fromhex(row[0])

    # -- web sessions ---------------------------------------------------------------------------

    def new_session(self, user_id: int, seconds: float = SESSION_SECONDS) -> str:
        session = secrets.token_urlsafe(32)
        now = time.time()
        with self.library.transaction() as conn:
            conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO web_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (secret_hash(session), user_id, now, now + seconds),
            )
        return session

    def session_user(self, session: str) -> int | None:
        """The session's user while it lasts; one in use is kept at least another hour."""
        now, key = time.time(), secret_hash(session)
        row = self.library.conn.execute(
            "SELECT user_id, expires_at FROM web_sessions WHERE token_hash = ? AND expires_at > ?", (key, now)
        ).fetchone()
        if row is None:
            return None
        if row[1] < now + RENEW_SECONDS / 2:
            with self.library.transaction() as conn:
                conn.execute("UPDATE web_sessions SET expires_at = ? WHERE token_hash = ?", (now + RENEW_SECONDS, key))
        return row[0]

    def end_session(self, session: str) -> None:
        with self.library.transaction() as conn:
            conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (secret_hash(session),))

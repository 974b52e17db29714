"""Logging in: argon2 password checks, a limit on failed attempts, and one answer for every failure.

A failed login never says whether the user exists: an unknown name is checked against a dummy hash
(the same work as a real one) and gets the same message. Failures are counted per client address
and per user name; past the limit, attempts are refused for a while without checking anything.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from earmark.errors import EarmarkError
from earmark.store.accounts import AccountStore, User

# argon2id, RFC 9106's second recommended option (64 MiB, 3 passes): ~50 ms a check here.
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
_DUMMY_HASH = HASHER.hash("not a password anyone has")
MIN_PASSWORD = 8
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
LOGIN_FAILED = "wrong user name or password"


class LoginRefused(EarmarkError):
    """Wrong name or password, or too many attempts (``retry_after`` seconds set)."""

    def __init__(self, message: str = LOGIN_FAILED, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise EarmarkError("a user name is 1–64 letters, digits, '.', '_' or '-' (it appears in sync addresses)")
    return name


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise EarmarkError(f"a password needs at least {MIN_PASSWORD} characters")
    return HASHER.hash(password)


@dataclass
class RateLimiter:
    """At most ``limit`` failures per key within ``window`` seconds (sliding)."""

    limit: int
    window: float
    _failures: dict[str, deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may try again, or None when it may now."""
        with self._lock:
            times = self._failures.get(key)
            if not times:
                return None
            now = time.monotonic()
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < self.limit:
                return None
            return max(1, int(times[0] + self.window - now + 1))

    def fail(self, key: str) -> None:
        with self._lock:
            self._failures.setdefault(key, deque()).append(time.monotonic())
            if len(self._failures) > 10_000:  # a flood of addresses cannot grow this without bound
                self._failures.pop(next(iter(self._failures)))

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class Authenticator:
    """Checks names and passwords for one library: the login page, HTTP Basic (sync clients), API tokens."""

    def __init__(self, store: AccountStore, *, per_address: int = 20, per_name: int = 10, window: float = 300.0):
        self.store = store
        self.by_address = RateLimiter(per_address, window)
        self.by_name = RateLimiter(per_name, window)
        # A sync client sends Basic credentials with every request: a success is remembered (by a
        # hash of name, password and the stored hash) so argon2 runs once, not on every request.
        self._verified: dict[str, tuple[int, float]] = {}

    def login(self, name: str, password: str, address: str) -> User:
        """The user, or LoginRefused (wrong name or password, or too many failures lately).
        Blocking (argon2 takes ~50–150 ms): call it off the event loop."""
        user = self.store.by_name(name) if name else None
        stored = self.store.password_hash(user.id) if user else None
        memo = hashlib.sha256(f"{name}\0{password}\0{stored}".encode()).hexdigest()
        if stored is not None and (hit := self._verified.get(memo)) and hit[1] > time.monotonic():
            return user  # type: ignore[return-value]  # a password already proven: the limits are for guesses
        # Keys of bounded size: a name is hashed; an IPv6 client is counted by its /64 (one host
        # can use millions of addresses there).
        name_key = hashlib.sha256(name.lower().encode()).hexdigest()
        address_key = _network(address)
        waits = [w for w in (self.by_address.retry_after(address_key), self.by_name.retry_after(name_key)) if w]
        if waits:
            raise LoginRefused(f"too many failed logins; try again in {max(waits)} s", retry_after=max(waits))
        with _CHECKS:
            try:
                HASHER.verify(stored or _DUMMY_HASH, password)
                ok = stored is not None
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok or user is None:
            self.by_address.fail(address_key)
            self.by_name.fail(name_key)
            raise LoginRefused()
        if HASHER.check_needs_rehash(stored):
            self.store.set_password(user.id, HASHER.hash(password))
        self.by_name.clear(name_key)
        self.by_address.clear(address_key)
        if len(self._verified) > 1000:
            self._verified.clear()
        self._verified[memo] = (user.id, time.monotonic() + 300)
        return user


_CHECKS = threading.BoundedSemaphore(2)  # argon2 checks at once (64 MiB and a core each)


def _network(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)

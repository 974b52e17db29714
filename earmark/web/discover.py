"""Directory artwork on Discover, served by this server like every other image (pages never load a
publisher's or directory's host: CSP ``img-src 'self'``).

A directory result's artwork address reaches the page only as ``/artwork/directory?src=…&sig=…``:
the signature (HMAC with a key made per app) says this server handed that address out, so the
route cannot be used to make Earmark fetch addresses nobody got from a directory. The image itself
is fetched once through earmark/net.py and kept by earmark/artwork.py."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from earmark import artwork

PATH = "/artwork/directory"


def _key(state) -> bytes:
    key = getattr(state, "directory_art_key", None)
    if key is None:
        key = state.directory_art_key = secrets.token_bytes(32)
    return key


def signature(state, source: str) -> str:
    return hmac.new(_key(state), source.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def art_path(state, source: str | None, size: int = 300) -> str | None:
    """This server's address for a directory's artwork (None when there is none to show)."""
    if not artwork.fetchable(source):
        return None
    query = {"src": source, "size": artwork.nearest_size(size), "sig": signature(state, source)}
    return f"{PATH}?{urlencode(query)}"


def signed(state, source: str, sig: str) -> bool:
    return hmac.compare_digest(signature(state, source), sig)

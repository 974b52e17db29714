"""Earmark serving on 127.0.0.1 (uvicorn) with two accounts: alice, who owns the library, and bob."""

from __future__ import annotations

import httpx
import pytest

from earmark.accounts import hash_password
from earmark.store.accounts import AccountStore
from tests.web.conftest import serving

PASSWORD = "correct horse battery"


@pytest.fixture
def sync_app(settings):
    from earmark.web.app import create_app

    app = create_app(settings)
    accounts = AccountStore(app.state.library)
    accounts.add("alice", hash_password(PASSWORD))
    accounts.add("bob", hash_password("bob's own password"))
    return app


@pytest.fixture
def base(sync_app):
    with serving(sync_app) as url:
        yield url


@pytest.fixture
def alice(base):
    with httpx.Client(base_url=base, auth=("alice", PASSWORD), timeout=10) as c:
        yield c


@pytest.fixture
def anon(base):
    with httpx.Client(base_url=base, timeout=10) as c:
        yield c

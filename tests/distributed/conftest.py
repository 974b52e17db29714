"""The worker tests' Redis: one real redis-server per module (tests/distributed/cluster.py)."""

from __future__ import annotations

import pytest

from tests.distributed.cluster import RedisServer


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()

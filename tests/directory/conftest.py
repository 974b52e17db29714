from __future__ import annotations

import pytest

from earmark.config import Settings
from tests.directory.stub import DirectoryStub, Show

KEY, SECRET = "UXKCGDSYGUUEVQJSYDZH", "yzJe2eE7XV-3eY576dyRZ6wXyAbndh6LUrCZ8KN|"


def catalogue() -> list[Show]:
    return [
        # In both directories, spelled differently: one show after merging.
        Show("Bridges Weekly", "https://feeds.example.org/bridges.rss", author="Ann Engineer", itunes_id=101, pi_id=201,
             episodes=120, pi_url="http://www.feeds.example.org/bridges.rss/"),
        # Hosted by Apple only: no feedUrl, never listed.
        Show("Bridges on Apple", None, itunes_id=102, in_pi=False),
        # Only in Podcast Index.
        Show("Bridge Builders", "https://builders.example.org/feed", author="Bo Builder", pi_id=202, in_itunes=False,
             episodes=7),
        # Only in Apple, with fields missing and text that must stay text.
        Show('Bridges & <b>Tunnels</b><script>alert(1)</script>', "https://tunnels.example.org/rss", itunes_id=103,
             in_pi=False, episodes=None, genres=[], artwork=None),
    ]


@pytest.fixture
def stub() -> DirectoryStub:
    srv = DirectoryStub(catalogue())
    yield srv
    srv.close()


@pytest.fixture
def dsettings(tmp_path, monkeypatch, stub) -> Settings:
    """Settings whose directories are the stub (Podcast Index with a key and secret)."""
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path / "home"))
    return Settings.load(
        http_timeout=5.0, directory_timeout=2.0, itunes_base_url=stub.base, podcastindex_base_url=stub.pi_base,
        podcastindex_key=KEY, podcastindex_secret=SECRET,
    )

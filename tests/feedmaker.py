"""Feed bodies for loopback tests: tiny generated RSS, and corpus feeds made safe to serve."""

from __future__ import annotations

import re
from email.utils import formatdate
from xml.sax.saxutils import escape

from tests.conftest import CORPUS

# itunes:new-feed-url and the older <redirect><newLocation> both move a subscription.
_NEW_FEED_URL = re.compile(rb"<(\w+:)?(new-feed-url|newLocation)>[^<]*</(\w+:)?(new-feed-url|newLocation)>\s*", re.IGNORECASE)


def rss(title: str = "Show", items: list | tuple =(("g1", "Episode 1"),), new_url: str | None = None, padding: int = 0) -> bytes:
    """An RSS 2.0 feed; ``items`` are (guid, title) pairs, newest first, a day apart counted from
    the oldest (so prepending an item leaves the others unchanged). ``padding`` adds that many
    bytes of description to the first item (for size limits)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link><description>About {escape(title)}</description>",
    ]
    if new_url:
        parts.append(f"<itunes:new-feed-url>{escape(new_url)}</itunes:new-feed-url>")
    for n, (guid, item_title) in enumerate(items):
        description = "x" * padding if n == 0 else f"Notes for {escape(item_title)}"
        parts.append(
            f'<item><guid isPermaLink="false">{escape(guid)}</guid>'
            f"<title>{escape(item_title)}</title>"
            f"<pubDate>{formatdate(1_700_000_000 + (len(items) - n) * 86400, usegmt=True)}</pubDate>"
            f"<description>{description}</description>"
            f'<enclosure url="https://example.org/{escape(guid)}.mp3" type="audio/mpeg" length="1000"/></item>'
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def corpus_feed(name: str) -> bytes:
    """A corpus feed without its ``itunes:new-feed-url`` / ``newLocation``, which point at the real
    internet host (Earmark would move the subscription there, off the loopback server)."""
    return _NEW_FEED_URL.sub(b"", (CORPUS / "feeds" / name).read_bytes())

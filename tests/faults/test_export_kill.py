"""kill -9 of ``earmark export readwise`` / ``export notion`` in the middle of a batch, with the
request in flight — received but not yet applied, or applied with the answer not yet sent (the
client dies not knowing). The re-run must not send again what the target already holds: no second
highlight in Readwise, no repeated block or page in Notion; and nothing is left out."""

from __future__ import annotations

from collections import Counter

import pytest

from earmark.models import Snip
from earmark.store.library import Library
from earmark.store.snips import SnipStore
from tests.export.fakes import FakeNotion, FakeReadwise
from tests.faults.harness import Earmark, kill, wait_for
from tests.jobs.conftest import feed_xml


@pytest.fixture
def readwise():
    fake = FakeReadwise()
    yield fake
    fake.close()


@pytest.fixture
def notion():
    fake = FakeNotion()
    yield fake
    fake.close()


def make_snips(em: Earmark, server, count: int, *, episodes: int = 2, takeaways: int = 2) -> list[int]:
    """``count`` ready snips spread over ``episodes`` episodes of a subscribed loopback feed."""
    items = [{"guid": f"e{n}", "title": f"Episode {n}", "audio": f"/e{n}.mp3"} for n in range(episodes)]
    server.add("/feed.rss", feed_xml(server, items))
    em.run("add", server.url("/feed.rss"))
    library = Library(em.db_path)
    try:
        episode_ids = [r["id"] for r in library.conn.execute("SELECT id FROM episodes ORDER BY id")]
        store, made = SnipStore(library), []
        for n in range(count):
            start = 10.0 * n
            snip = store.create(Snip(episode_id=episode_ids[n % episodes], tapped_at=start + 20, start=start, end=start + 30))
            store.set_card(snip.id, state="ready", title=f"Idea {n}", quote=f"Quote number {n}.", quote_speaker="Ada",
                           takeaways=[f"takeaway {n}.{k}" for k in range(takeaways)], excerpt=f"Said at {start}.")
            made.append(snip.id)
        return made
    finally:
        library.close()


def export_rows(em: Earmark, target: str) -> dict[str, int]:
    rows = em.query("SELECT key FROM export_state WHERE target = ?", target)
    return Counter(r["key"].split(":", 1)[0] for r in rows)


@pytest.mark.parametrize("applied", [True, False], ids=["accepted", "not-accepted"])
def test_kill_9_mid_readwise_batch(applied, em, server, readwise, campaign):
    what = "accepted, answer lost" if applied else "received, not applied"
    fault = campaign("readwise export", f"kill -9 mid-batch (batch 2 of 3 {what})")
    snips = make_snips(em, server, 250)
    em.settings(f'readwise_token = "{readwise.token}"\nreadwise_base_url = "{readwise.url}"\n')
    hold = readwise.hold("POST", "/api/v2/highlights/", nth=2, applied=applied)
    proc = em.start("export", "readwise")
    wait_for(hold.reached.is_set, "the second batch in flight", proc=proc)
    kill(proc)
    hold.release()
    fault.inject(f"{len(readwise.stored)} highlights in Readwise at the kill")
    assert len(readwise.stored) == (200 if applied else 100)
    assert em.one("SELECT count(*) FROM export_state WHERE target = 'readwise' AND key LIKE 'snip:%'") == 100
    em.check_integrity()

    em.run("export", "readwise")
    sent = Counter(FakeReadwise.identity(h) for h in readwise.highlights)
    assert len(sent) == 250 and max(sent.values()) == 1, "a highlight Readwise had was sent again"
    assert len(readwise.stored) == 250
    assert sorted(h["location"] for h in readwise.stored.values()) == [10 * n for n in range(250)]
    assert em.one("SELECT count(*) FROM export_state WHERE target = 'readwise' AND key LIKE 'snip:%'") == len(snips)
    posts = len(readwise.posts)
    assert "250 unchanged" in em.run("export", "readwise")  # a third run has nothing to send
    assert len(readwise.posts) == posts
    assert set(export_rows(em, "readwise")) == {"snip"}
    em.check_integrity()
    fault.survive(f"{len(readwise.highlights)} highlights sent for 250 snips, none twice")


def _live(notion: FakeNotion) -> list[dict]:
    return [b for page in notion.pages for b in notion.page_blocks(page)]


@pytest.mark.parametrize("applied", [True, False], ids=["accepted", "not-accepted"])
@pytest.mark.parametrize("where", ["append", "page"])
def test_kill_9_mid_notion_batch(where, applied, em, server, notion, campaign):
    what = "accepted, answer lost" if applied else "received, not applied"
    request = "the 2nd block append" if where == "append" else "the 2nd page creation"
    fault = campaign("notion export", f"kill -9 in {request} ({what})")
    snips = make_snips(em, server, 60, episodes=3)  # 6 blocks a snip: 2 appends a page
    em.settings(f'notion_token = "{notion.token}"\nnotion_parent_page_id = "{notion.parent}"\n'
                f'notion_base_url = "{notion.url}"\n')
    if where == "append":
        hold = notion.hold("PATCH", r"/v1/blocks/[\w-]+/children", nth=2, applied=applied)
    else:
        hold = notion.hold("POST", "/v1/pages", nth=2, applied=applied)
    proc = em.start("export", "notion")
    wait_for(hold.reached.is_set, f"{request} in flight", proc=proc)
    kill(proc)
    hold.release()
    fault.inject(f"{len(_live(notion))} blocks on {len(notion.pages)} pages at the kill")
    em.check_integrity()

    em.run("export", "notion")
    assert len(notion.pages) == 3 and sorted(p["title"] for p in notion.pages.values()) == [
        f"Jobs Show – Episode {n}" for n in range(3)]
    blocks = _live(notion)
    headings = Counter(FakeNotion.text(b) for b in blocks if b["type"] == "heading_3")
    assert sorted(headings) == sorted(f"Idea {n}" for n in range(60)) and max(headings.values()) == 1
    per_snip = 1 + 1 + 2 + 1 + 1  # heading, quote, 2 takeaways, transcript, play link
    assert len(blocks) == 3 + 60 * per_snip  # each page's intro, and every snip's blocks once
    bodies = Counter(FakeNotion.text(b) for b in blocks)
    assert max(n for text, n in bodies.items() if not text.startswith("Snips from")) == 1  # no repeated block
    assert em.one("SELECT count(*) FROM export_state WHERE target = 'notion' AND key LIKE 'snip:%'") == len(snips)
    requests = len(notion.requests)
    assert "60 unchanged" in em.run("export", "notion")
    assert len(notion.requests) == requests
    assert set(export_rows(em, "notion")) == {"snip", "episode"}
    em.check_integrity()
    fault.survive(f"{len(blocks)} live blocks, none repeated")

import json

import pytest
from typer.testing import CliRunner

from earmark.cli import app
from earmark.export import ExportError, ExportState
from earmark.export.notion import NOTION_VERSION, export_notion, rich_text, split_text
from tests.export.conftest import with_settings
from tests.export.fakes import FakeNotion


@pytest.fixture
def fake():
    server = FakeNotion()
    yield server
    server.close()


@pytest.fixture
def n_settings(settings, fake):
    return with_settings(settings, notion_token=fake.token, notion_parent_page_id=fake.parent, notion_base_url=fake.url)


def sleeps():
    done = []
    return done, done.append


def _page_for(fake, episode_title):
    return next(pid for pid, page in fake.pages.items() if episode_title in page["title"])


def _snip_headings(fake, page_id):
    return [FakeNotion.text(b) for b in fake.page_blocks(page_id) if b["type"] == "heading_3"]


def test_page_per_episode_with_documented_shapes(library, n_settings, fake, episodes, snip_factory):
    a = snip_factory(episodes[0], 100, note="my note", tags=["t"])
    snip_factory(episodes[1], 5)
    report = export_notion(library, n_settings, sleep=sleeps()[1])
    assert report.ok, report.error
    assert len(fake.pages) == 2 and sorted(report.containers.values()) == ["created", "created"]
    assert fake.rejected == []
    for method, _, headers, _ in fake.requests:
        assert headers["Authorization"] == f"Bearer {fake.token}" and headers["Notion-Version"] == NOTION_VERSION
    create = next(body for method, path, _, body in fake.requests if path == "/v1/pages")
    assert create["parent"] == {"page_id": fake.parent}
    page = _page_for(fake, "Ep 1: #1")
    kinds = [b["type"] for b in fake.page_blocks(page)]
    assert kinds == ["paragraph", "heading_3", "quote", "bulleted_list_item", "bulleted_list_item", "paragraph",
                     "paragraph", "paragraph"]
    texts = [FakeNotion.text(b) for b in fake.page_blocks(page)]
    assert "Idea at 100" in texts[1] and "Quote said at 100." in texts[2] and "— Ada" in texts[2]
    assert "my note" in texts[6] and "#t" in texts[7]
    heading = fake.page_blocks(page)[1]["heading_3"]["rich_text"][0]
    assert heading["text"]["link"]["url"] == f"{n_settings.public_base_url}/episodes/{episodes[0].id}?t=100"
    state = ExportState(library, "notion")
    assert state.get(f"episode:{episodes[0].id}").remote_id == page
    assert json.loads(state.get(f"snip:{a.id}").remote_id)["page"] == page


def test_limits_long_text_and_many_blocks(library, n_settings, fake, episodes, snip_factory):
    long_excerpt = ("word " * 1300).strip() + " 🎧" * 700  # > 2,000 UTF-16 units several times over
    snip = snip_factory(episodes[0], 10, excerpt=long_excerpt, takeaways=[f"point {n}" for n in range(150)])
    report = export_notion(library, n_settings, sleep=sleeps()[1])
    assert report.ok, (report.error, fake.rejected)
    assert fake.rejected == []  # the fake answers 400 for >2,000-char text or >100 children, as Notion does
    page = _page_for(fake, "Ep 1: #1")
    blocks = fake.page_blocks(page)
    excerpt_block = next(b for b in blocks if "Transcript" in FakeNotion.text(b))
    assert FakeNotion.text(excerpt_block).endswith(long_excerpt)
    assert len(excerpt_block["paragraph"]["rich_text"]) >= 3
    assert sum(b["type"] == "bulleted_list_item" for b in blocks) == 150
    appends = [body for method, _, _, body in fake.requests if method == "PATCH"]
    assert len(appends) >= 2 and all(len(body["children"]) <= 100 for body in appends)
    assert report.created == [f"snip:{snip.id}"]
    assert len(json.loads(ExportState(library, "notion").get(f"snip:{snip.id}").remote_id)["blocks"]) == len(blocks) - 1


def test_fake_rejects_over_limit_requests_like_notion(fake):
    import httpx

    headers = {"Authorization": f"Bearer {fake.token}", "Notion-Version": NOTION_VERSION}
    page = httpx.post(f"{fake.url}/v1/pages", headers=headers, json={
        "parent": {"page_id": fake.parent}, "properties": {"title": {"title": rich_text("t")}}}).json()["id"]
    too_long = [{"type": "text", "text": {"content": "x" * 2001}}]
    answer = httpx.patch(f"{fake.url}/v1/blocks/{page}/children", headers=headers,
                         json={"children": [{"type": "paragraph", "paragraph": {"rich_text": too_long}}]})
    assert answer.status_code == 400 and answer.json()["code"] == "validation_error"
    assert answer.json()["object"] == "error" and "≤ `2000`" in answer.json()["message"]
    many = [{"type": "paragraph", "paragraph": {"rich_text": rich_text("x")}}] * 101
    answer = httpx.patch(f"{fake.url}/v1/blocks/{page}/children", headers=headers, json={"children": many})
    assert answer.status_code == 400 and "≤ `100`" in answer.json()["message"]
    assert all(len(piece) <= 2000 for piece in split_text("y" * 4500)) and "".join(split_text("y" * 4500)) == "y" * 4500


def test_reexport_is_idempotent_appends_new_and_replaces_changed(library, n_settings, fake, episodes, snip_factory, store):
    a = snip_factory(episodes[0], 100)
    b = snip_factory(episodes[0], 200)
    export_notion(library, n_settings, sleep=sleeps()[1])
    page = _page_for(fake, "Ep 1: #1")
    count = len(fake.requests)
    report = export_notion(library, n_settings, sleep=sleeps()[1])
    assert len(fake.requests) == count and sorted(report.skipped) == sorted([f"snip:{a.id}", f"snip:{b.id}"])
    assert report.containers == {f"episode:{episodes[0].id}": "unchanged", f"episode:{episodes[1].id}": "unchanged"} \
        or report.containers == {f"episode:{episodes[0].id}": "unchanged"}

    store.update(a.id, title="Edited A")
    c = snip_factory(episodes[0], 300)
    report = export_notion(library, n_settings, sleep=sleeps()[1])
    assert report.updated == [f"snip:{a.id}"] and report.created == [f"snip:{c.id}"] and report.ok
    assert len(fake.pages) == 1
    assert _snip_headings(fake, page) == ["Idea at 200", "Edited A", "Idea at 300"]  # no duplicates

    store.delete(b.id)
    report = export_notion(library, n_settings, sleep=sleeps()[1])
    assert report.deleted == [f"snip:{b.id}"]
    assert _snip_headings(fake, page) == ["Edited A", "Idea at 300"]


def test_errors_retry_and_nothing_is_lost(library, n_settings, fake, episodes, snip_factory):
    snip = snip_factory(episodes[0], 100)
    fake.fail(429, retry_after="3")
    fake.fail(503)  # unavailable: nothing was done, so it is sent again
    done, sleep = sleeps()
    report = export_notion(library, n_settings, sleep=sleep)
    assert report.ok and report.created == [f"snip:{snip.id}"] and done == [3.0, 2.0]
    assert _snip_headings(fake, _page_for(fake, "Ep 1: #1")) == ["Idea at 100"]


def test_a_500_to_a_write_is_not_sent_again_until_the_next_run_checks(library, n_settings, fake, episodes, snip_factory):
    snip = snip_factory(episodes[0], 100)
    fake.fail(500)  # may come after the page was made (a gateway's timeout): no blind resend
    done, sleep = sleeps()
    report = export_notion(library, n_settings, sleep=sleep)
    assert not report.ok and "run the export again" in report.error and done == []
    report = export_notion(library, n_settings, sleep=sleep)
    assert report.ok and report.created == [f"snip:{snip.id}"]
    assert _snip_headings(fake, _page_for(fake, "Ep 1: #1")) == ["Idea at 100"]


def test_failure_midway_then_rerun_leaves_exactly_one_copy(library, n_settings, fake, episodes, snip_factory):
    for n in range(4):
        snip_factory(episodes[0], 10 * n, takeaways=[f"p{n}-{k}" for k in range(40)])
    original = fake.handle
    patches = []

    def flaky(method, path, headers, body):
        if method == "PATCH":
            patches.append(1)
            if len(patches) >= 2:
                return 500, {"object": "error", "status": 500, "code": "internal_server_error", "message": "boom"}
        return original(method, path, headers, body)

    fake.handle = flaky
    report = export_notion(library, n_settings, sleep=sleeps()[1])
    assert not report.ok and "500" in report.error
    assert 0 < len(report.created) < 4
    fake.handle = original
    report = export_notion(library, n_settings, sleep=sleeps()[1])
    assert report.ok
    page = _page_for(fake, "Ep 1: #1")
    assert _snip_headings(fake, page) .count("Idea at 0") == 1
    assert sorted(_snip_headings(fake, page)) == sorted(f"Idea at {10 * n}" for n in range(4))
    assert len(fake.pages) == 1


def test_401_marks_nothing_and_deleted_page_is_recreated(library, settings, n_settings, fake, episodes, snip_factory):
    snip = snip_factory(episodes[0], 100)
    bad = with_settings(settings, notion_token="wrong", notion_parent_page_id=fake.parent, notion_base_url=fake.url)
    done, sleep = sleeps()
    report = export_notion(library, bad, sleep=sleep)
    assert not report.ok and "401" in report.error and done == [] and ExportState(library, "notion").all() == {}
    with pytest.raises(ExportError, match="no Notion token"):
        export_notion(library, settings)

    assert export_notion(library, n_settings, sleep=sleep).ok
    old_page = _page_for(fake, "Ep 1: #1")
    del fake.pages[old_page]  # the user deleted the page in Notion; noticed when something is to be sent
    other = snip_factory(episodes[0], 200)
    report = export_notion(library, n_settings, sleep=sleep)
    assert report.ok, report.error
    new_page = _page_for(fake, "Ep 1: #1")
    assert new_page != old_page and _snip_headings(fake, new_page) == ["Idea at 100", "Idea at 200"]
    assert ExportState(library, "notion").get(f"episode:{episodes[0].id}").remote_id == new_page
    assert snip.id and other.id


def test_cli_notion(library, settings, fake, episodes, snip_factory):
    (settings.home / "settings.toml").write_text(
        f'notion_token = "{fake.token}"\nnotion_parent_page_id = "{fake.parent}"\nnotion_base_url = "{fake.url}"\n')
    snip = snip_factory(episodes[0], 100)
    result = CliRunner().invoke(app, ["export", "notion", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == [f"snip:{snip.id}"]
    result = CliRunner().invoke(app, ["export", "notion"])
    assert result.exit_code == 0 and "1 unchanged" in result.stdout


def test_connection_cut_after_notion_acted_is_not_sent_twice(library, n_settings, fake, episodes, snip_factory):
    """Notion created the page / appended the blocks, but the answer never came: the request is not
    retried blindly; the next run finds what arrived (its in-flight note) and sends only the rest."""
    for n in range(30):  # 6 blocks each: two appends for the page
        snip_factory(episodes[0], 10 * n)
    snip_factory(episodes[1], 5)
    fake.hold("PATCH", r"/v1/blocks/[\w-]+/children", nth=2, cut=True)
    fake.hold("POST", "/v1/pages", nth=2, cut=True)
    done, sleep = sleeps()
    report = export_notion(library, n_settings, sleep=sleep)
    assert not report.ok and "after the request was sent" in report.error and done == []
    assert sum(1 for m, *_ in fake.requests if m == "PATCH") == 2  # not sent again within the run
    report = export_notion(library, n_settings, sleep=sleep)  # the first page done; the second page's creation cut
    assert not report.ok and "after the request was sent" in report.error
    report = export_notion(library, n_settings, sleep=sleep)
    assert report.ok, report.error
    assert len(fake.pages) == 2
    headings = _snip_headings(fake, _page_for(fake, "Ep 1: #1"))
    assert headings == [f"Idea at {10 * n}" for n in range(30)]  # each once, in order
    assert _snip_headings(fake, _page_for(fake, "Ep 2")) == ["Idea at 5"]
    assert not [k for k in ExportState(library, "notion").all() if not k.startswith(("snip:", "episode:"))]

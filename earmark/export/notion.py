"""Notion: a page per episode under a chosen parent page, each snip as a few blocks.

API contract (developers.notion.com/reference: "Create a page", "Append block children",
"Delete a block", "Request limits"): ``Authorization: Bearer <token>`` and a ``Notion-Version``
header on every call; ``POST /v1/pages`` with ``parent.page_id`` and a ``title`` property;
``PATCH /v1/blocks/{id}/children`` with at most 100 ``children`` per request (the answer lists the
created blocks in order); ``DELETE /v1/blocks/{id}`` archives a block. A rich text object's
``text.content`` holds at most 2,000 characters and a rich text array at most 100 objects —
longer text is split across objects and then across blocks. Over-limit requests are answered 400
``validation_error``; rate limits 429 with ``Retry-After``; errors as
``{"object": "error", "status", "code", "message"}``.

Idempotency, the simple way: ``export_state`` keeps ``episode:ID`` → the page id, and
``snip:ID`` → the ids of that snip's blocks plus a hash of what they say. A re-export appends the
blocks of new snips, and for a changed snip deletes its old blocks and appends fresh ones (so an
edited snip moves to the end of its page); a snip deleted in Earmark has its blocks deleted. Block
ids are recorded after every accepted request — even those of a snip only partly sent, under an
empty hash — so a failure part-way leaves nothing unaccounted: the next run removes the partial
blocks and sends the snip again. A page deleted in Notion (404) is created again.

Notion does not de-duplicate, so a request whose answer never came back (the process killed, the
connection cut) must not simply be sent again. Before each page creation and each append,
``export_state`` gets an in-flight row — ``creating:episode:ID`` with the page's title,
``appending:PAGE`` with a fingerprint of every block in the request (type, text, links) and the
snips they belong to — forgotten in the transaction that records the answer. The next run settles
such rows first ("Retrieve block children", ``GET /v1/blocks/{id}/children``): a page under the
parent with that title that no episode owns is the one created, and a run of unrecorded blocks on
the page whose fingerprints match the request's, in order, are the ones appended — their ids are
recorded as if the answer had come. Only what is not found is sent again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

import httpx

from earmark.config import Settings
from earmark.export import (
    ExportError,
    ExportReport,
    ExportState,
    content_hash,
    episode_url,
    exported_groups,
    state_target,
    timestamp_link,
)
from earmark.export._http import RequestError, api_client, request
from earmark.models import Episode, Podcast, Snip
from earmark.store.library import OWNER_ID, Library
from earmark.transcripts.timecode import format_clock

TARGET = "notion"
NOTION_VERSION = "2022-06-28"
CREATING = "creating:"  # export_state: a page creation in flight ("creating:episode:ID")
APPENDING = "appending:"  # export_state: a block append in flight ("appending:PAGE_ID")
MAX_LIST_PAGES = 200  # of 100 children each, when looking for what an interrupted run sent
MAX_TEXT = 2000  # characters per rich text object's text.content (counted as JavaScript does: UTF-16)
MAX_RICH_TEXT = 100  # rich text objects per array
MAX_CHILDREN = 100  # blocks per append request


# -- blocks ---------------------------------------------------------------------------------------


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most ``limit`` UTF-16 units, cut at whitespace where one is near the end."""
    pieces: list[str] = []
    while _units(text) > limit:
        cut, units = 0, 0
        for i, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > limit:
                cut = i
                break
        space = text.rfind(" ", cut - 200, cut)
        if space > 0:
            cut = space + 1
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces


def _link_ok(url: str | None) -> bool:
    # Notion accepts http(s) links of at most 2,000 characters.
    return bool(url) and url.startswith(("http://", "https://")) and url.isascii() and len(url) <= MAX_TEXT


def rich_text(text: str, *, link: str | None = None, bold: bool = False) -> list[dict]:
    objects = []
    for piece in split_text(text):
        obj: dict = {"type": "text", "text": {"content": piece}}
        if link and _link_ok(link):
            obj["text"]["link"] = {"url": link}
        if bold:
            obj["annotations"] = {"bold": True}
        objects.append(obj)
    return objects


def _blocks(kind: str, objects: list[dict]) -> list[dict]:
    """One block of ``kind`` per 100 rich text objects."""
    return [
        {"object": "block", "type": kind, kind: {"rich_text": objects[i : i + MAX_RICH_TEXT]}}
        for i in range(0, max(len(objects), 1), MAX_RICH_TEXT)
    ]


def snip_blocks(snip: Snip, base_url: str) -> list[dict]:
    link = timestamp_link(base_url, snip)
    title = " ".join(snip.title.split()) or f"Snip at {format_clock(snip.start)}"
    blocks = _blocks("heading_3", rich_text(title, link=link))
    if snip.quote.strip():
        quote = f"“{snip.quote.strip()}”" + (f"\n— {snip.quote_speaker}" if snip.quote_speaker else "")
        blocks += _blocks("quote", rich_text(quote))
    for takeaway in snip.takeaways:
        if takeaway.strip():
            blocks += _blocks("bulleted_list_item", rich_text(takeaway.strip()))
    if snip.excerpt.strip():
        blocks += _blocks(
            "paragraph",
            rich_text(f"Transcript {format_clock(snip.start)}–{format_clock(snip.end)}: ", bold=True) + rich_text(snip.excerpt.strip()),
        )
    if snip.note.strip():
        blocks += _blocks("paragraph", rich_text("Note: ", bold=True) + rich_text(snip.note.strip()))
    play = rich_text(f"▶ Play from {format_clock(snip.start)} in Earmark", link=link)
    if snip.tags:
        play += rich_text("  " + " ".join(f"#{tag}" for tag in snip.tags))
    blocks += _blocks("paragraph", play)
    return blocks


def fingerprint(block: dict) -> str:
    """What a block says — its type, text and links — the same for a block as sent and as Notion
    lists it (which adds plain_text, annotations and may merge adjacent pieces of text)."""
    kind = block.get("type") or ""
    pieces = ((block.get(kind) or {}).get("rich_text")) or []
    text = "".join(((p.get("text") or {}).get("content") or "") for p in pieces)
    links: list[str] = []
    for p in pieces:
        url = (((p.get("text") or {}).get("link")) or {}).get("url")
        if url and (not links or links[-1] != url):
            links.append(url)
    return hashlib.sha256("\0".join([kind, text, *links]).encode()).hexdigest()[:24]


def page_title(podcast: Podcast, episode: Episode) -> str:
    return "".join(t["text"]["content"] for t in page_body(podcast, episode)["title"])


def page_body(podcast: Podcast, episode: Episode) -> dict:
    title = f"{podcast.title or 'Podcast'} – {episode.title or 'Episode'}"
    intro = rich_text(f"Snips from {podcast.title or 'a podcast'}", bold=True)
    if episode_url(episode):
        intro += rich_text(" · ") + rich_text("episode", link=episode_url(episode))
    return {"title": rich_text(title)[:MAX_RICH_TEXT], "children": _blocks("paragraph", intro)}


# -- export ---------------------------------------------------------------------------------------


class _Notion:
    def __init__(self, http: httpx.Client, sleep: Callable[[float], None]):
        self.http = http
        self.sleep = sleep

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = request(self.http, method, path, target="Notion", json=body, sleep=self.sleep, resend_on_5xx=False)
        return response.json() if response.content else {}

    def create_page(self, parent_id: str, podcast: Podcast, episode: Episode) -> str:
        body = page_body(podcast, episode)
        page = self.call("POST", "/v1/pages", {
            "parent": {"page_id": parent_id},
            "properties": {"title": {"title": body["title"]}},
            "children": body["children"],
        })
        return page["id"]

    def children(self, block_id: str) -> list[dict]:
        """Every child block of a page (the 100-a-request pages of the listing, followed)."""
        found: list[dict] = []
        cursor = None
        for _ in range(MAX_LIST_PAGES):
            params = {"page_size": 100, **({"start_cursor": cursor} if cursor else {})}
            answer = request(self.http, "GET", f"/v1/blocks/{block_id}/children", target="Notion", params=params,
                             sleep=self.sleep).json()
            found += answer.get("results") or []
            cursor = answer.get("next_cursor")
            if not answer.get("has_more") or not cursor:
                break
        return found

    def delete_block(self, block_id: str) -> None:
        try:
            self.call("DELETE", f"/v1/blocks/{block_id}")
        except RequestError as exc:
            # Already gone: 404, or 400 "Can't edit block that is archived" — both fine here.
            if exc.status != 404 and not (exc.status == 400 and "archived" in str(exc)):
                raise


def _remote(ids: list[str], page_id: str) -> str:
    return json.dumps({"page": page_id, "blocks": ids})


def _ids(state) -> tuple[str | None, list[str]]:
    try:
        value = json.loads(state.remote_id or "{}")
        return value.get("page"), list(value.get("blocks") or [])
    except ValueError:
        return None, []


def _uncertain(exc: ExportError) -> bool:
    return isinstance(exc, RequestError) and exc.uncertain


def settle_in_flight(notion: _Notion, settings: Settings, state: ExportState) -> None:
    """Requests an earlier run sent without learning the answer: what Notion holds from them is
    recorded as if the answer had come (see the module's docstring); the rest is sent again."""
    creating = state.all(CREATING)
    if creating:
        owned = {row.remote_id for row in state.all("episode:").values()}
        under_parent = None
        for key, row in creating.items():
            page_key = key[len(CREATING):]
            adopt = None
            if state.get(page_key) is None:
                if under_parent is None:
                    under_parent = notion.children(settings.notion_parent_page_id)
                title = json.loads(row.remote_id or "{}").get("title")
                made = [b["id"] for b in under_parent if b.get("type") == "child_page" and not b.get("archived")
                        and (b.get("child_page") or {}).get("title") == title and b["id"] not in owned]
                adopt = made[-1] if made else None
            if adopt:
                owned.add(adopt)
            state.put_many([(page_key, "", adopt)] if adopt else [], forget=[key])
    for key, row in state.all(APPENDING).items():
        page_id = key[len(APPENDING):]
        plan = json.loads(row.remote_id or "{}")
        sent = plan.get("blocks") or []
        recorded = {b for s in state.all("snip:").values() for b in _ids(s)[1]}
        try:
            listed = [b for b in notion.children(page_id) if b.get("id") not in recorded and not b.get("archived")]
        except RequestError as exc:
            if exc.status != 404:
                raise
            listed = []  # the page is gone: the export starts it again
        wanted = [fp for _, fp in sent]
        prints = [fingerprint(b) for b in listed]
        rows = []
        for start in range(len(listed) - len(wanted), -1, -1):  # the latest such run of blocks
            if wanted and prints[start : start + len(wanted)] == wanted:
                adopted: dict[str, list[str]] = {}
                for (snip_key, _), block in zip(sent, listed[start : start + len(wanted)]):
                    adopted.setdefault(snip_key, []).append(block["id"])
                for snip_key, ids in adopted.items():
                    old = state.get(snip_key)
                    old_page, old_blocks = _ids(old) if old else (None, [])
                    blocks = (old_blocks if old_page == page_id else []) + ids
                    digest, total = plan["snips"][snip_key]
                    rows.append((snip_key, digest if len(blocks) == total else "", _remote(blocks, page_id)))
                break
        state.put_many(rows, forget=[key])


def _export_episode(notion: _Notion, settings: Settings, state: ExportState, report: ExportReport,
                    podcast: Podcast, episode: Episode, snips: list[Snip], known: dict) -> None:
    page_key = f"episode:{episode.id}"
    page = state.get(page_key)
    page_id = page.remote_id if page else None
    action = "unchanged"
    if page_id is None:
        note = CREATING + page_key
        state.put(note, "", json.dumps({"title": page_title(podcast, episode)}, ensure_ascii=False))
        try:
            page_id = notion.create_page(settings.notion_parent_page_id, podcast, episode)
        except ExportError as exc:
            if not _uncertain(exc):
                state.forget(note)
            raise
        state.put_many([(page_key, "", page_id)], forget=[note])
        action = "created"
    present = {f"snip:{snip.id}" for snip in snips}
    # Snips deleted in Earmark: their blocks go from the page.
    for key, old in known.items():
        old_page, old_blocks = _ids(old)
        if old_page == page_id and key not in present:
            for block_id in old_blocks:
                notion.delete_block(block_id)
            state.forget(key)
            report.deleted.append(key)
            action = "updated" if action == "unchanged" else action
    to_send: list[tuple[str, list[dict], str, bool]] = []  # key, blocks, hash, existed
    for snip in snips:
        key = f"snip:{snip.id}"
        blocks = snip_blocks(snip, settings.public_base_url)
        digest = content_hash(blocks)
        old = known.get(key)
        old_page, old_blocks = _ids(old) if old else (None, [])
        if old and old_page == page_id and old.content_hash == digest:
            report.skipped.append(key)
            continue
        if old and old_page == page_id:
            remaining = list(old_blocks)
            for block_id in old_blocks:  # a changed (or partly sent) snip: its old blocks go
                notion.delete_block(block_id)
                remaining.remove(block_id)
                state.put(key, "", _remote(remaining, page_id))
        to_send.append((key, blocks, digest, bool(old and old.content_hash)))
    if not to_send:
        report.containers[page_key] = action
        return
    # Pack whole snips into requests of at most 100 blocks (a snip of more than 100 spans several).
    queue = [(key, block, digest, existed) for key, blocks, digest, existed in to_send for block in blocks]
    totals = {key: len(blocks) for key, blocks, _, _ in to_send}
    sent: dict[str, list[str]] = {}
    while queue:
        batch: list = []
        for item in queue:
            if len(batch) == MAX_CHILDREN:
                break
            left = totals[item[0]] - len(sent.get(item[0], []))
            if batch and batch[-1][0] != item[0] and len(batch) + left > MAX_CHILDREN and left <= MAX_CHILDREN:
                break  # start that snip in the next request rather than splitting it
            batch.append(item)
        note = APPENDING + page_id
        state.put(note, "", json.dumps({
            "blocks": [[b[0], fingerprint(b[1])] for b in batch],
            "snips": {key: [next(b[2] for b in batch if b[0] == key), totals[key]] for key in dict.fromkeys(b[0] for b in batch)},
        }))
        try:
            answer = notion.call("PATCH", f"/v1/blocks/{page_id}/children", {"children": [b[1] for b in batch]})
        except ExportError as exc:
            if not _uncertain(exc):
                state.forget(note)
            raise
        results = [r["id"] for r in answer.get("results", [])][-len(batch):]
        if len(results) != len(batch):  # appended, but not as said: the next run finds them on the page
            raise ExportError(f"Notion answered {len(results)} blocks for {len(batch)} sent")
        for (key, _, digest, existed), block_id in zip(batch, results):
            sent.setdefault(key, []).append(block_id)
        rows = []
        for key in dict.fromkeys(b[0] for b in batch):
            digest, existed = next((b[2], b[3]) for b in batch if b[0] == key)
            complete = len(sent[key]) == totals[key]
            rows.append((key, digest if complete else "", _remote(sent[key], page_id)))
            if complete:
                (report.updated if existed else report.created).append(key)
        state.put_many(rows, forget=[note])  # the answer and the end of the in-flight note, together
        queue = queue[len(batch):]
    report.containers[page_key] = action if action == "created" else "updated"


def export_notion(
    library: Library,
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    user_id: int = OWNER_ID,
) -> ExportReport:
    """``user_id``'s snips to pages under ``settings.notion_parent_page_id``."""
    if not settings.notion_token:
        raise ExportError("no Notion token: set notion_token in settings.toml (an internal integration's secret)")
    if not settings.notion_parent_page_id:
        raise ExportError("no Notion parent page: set notion_parent_page_id in settings.toml "
                          "(a page shared with the integration)")
    state = ExportState(library, state_target(TARGET, user_id))
    report = ExportReport(TARGET)
    headers = {"Authorization": f"Bearer {settings.notion_token}", "Notion-Version": NOTION_VERSION}
    with api_client(settings, client, base_url=settings.notion_base_url, headers=headers) as http:
        try:
            _export(_Notion(http, sleep), library, settings, state, report, user_id)
        except ExportError as exc:
            report.error = str(exc)
    return report


def _export(notion: _Notion, library: Library, settings: Settings, state: ExportState, report: ExportReport,
            user_id: int) -> None:
    settle_in_flight(notion, settings, state)
    known = state.all("snip:")
    groups = exported_groups(library, state, user_id)  # episodes whose snips are all deleted: their blocks go too
    for episode_id in sorted(groups):
        podcast, episode, snips = groups[episode_id]
        page = state.get(f"episode:{episode_id}")
        keys = {f"snip:{snip.id}" for snip in snips}
        mine = {key: s for key, s in known.items()
                if key in keys or (page is not None and _ids(s)[0] == page.remote_id)}
        try:
            _export_episode(notion, settings, state, report, podcast, episode, snips, mine)
        except RequestError as exc:
            if exc.status == 404 and page is not None:
                # The page was deleted in Notion: forget it and what was on it, and start again.
                state.forget(f"episode:{episode_id}")
                for key, s in mine.items():
                    if _ids(s)[0] == page.remote_id:
                        state.forget(key)
                fresh = {k: v for k, v in state.all("snip:").items() if k in mine}
                _export_episode(notion, settings, state, report, podcast, episode, snips, fresh)
            else:
                raise

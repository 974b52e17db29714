"""Your highlights as a podcast feed: ``GET /feeds/highlights.rss`` (``?podcast_id=`` for one show)
lists the asking user's highlights of downloaded episodes, newest first, each item a clip cut once
with PyAV and cached (earmark/share/highlight_clips.py), served with Range from
``/feeds/highlights/{id}.mp3``.

Podcast apps cannot send headers, so beyond loopback the feed's address carries a token: the
user's feed token (``?feed=``, from ``AccountStore.feed_token``: it opens their feeds and artwork,
nothing else) or the server's access token (``?token=``); the enclosure and artwork addresses in
the feed carry the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from earmark.errors import AudioError, NotFound
from earmark.models import LibraryHighlight
from earmark.share.highlight_clips import ClipRequest, HighlightClips
from earmark.store.library import Library
from earmark.store.understanding import UnderstandingStore
from earmark.transcripts.timecode import format_clock
from earmark.web.deps import APIError, get_user_id
from earmark.web.schemas import MAX_ID

router = APIRouter(include_in_schema=False)

FEED_PATH = "/feeds/highlights.rss"
FEED_LIMIT = 500  # items in the feed (newest highlights first)


def _source(library: Library, downloads_dir: Path, episode_id: int) -> Path | None:
    """The episode's downloaded file, only when it lies inside the downloads folder."""
    record = library.download(episode_id)
    if record is None:
        return None
    path = Path(record.path).resolve()
    return path if path.is_relative_to(downloads_dir.resolve()) and path.is_file() else None


def _clip_request(source: Path, h: LibraryHighlight) -> ClipRequest:
    return ClipRequest(source=source, episode_id=h.episode_id, start=h.start, end=h.end, title=h.title,
                       artist=h.podcast_title, album=f"{h.episode_title} (highlights)", comment=h.why)


def _description(h: LibraryHighlight) -> str:
    parts = [h.why.strip()] if h.why.strip() else []
    if h.quote.strip():
        parts.append(f"“{h.quote.strip()}”")
    parts.append(f"From “{h.episode_title}” ({h.podcast_title}), at {format_clock(h.start)}.")
    return "\n\n".join(parts)


def _with_token(url: str, token: tuple[str, str] | None) -> str:
    return f"{url}?{urlencode([token])}" if token else url


def feed_param(request: Request, user_id: int) -> tuple[str, str] | None:
    """The token a podcast app's addresses carry: the one the feed was asked with, else (a browser
    with a session beyond loopback) the user's feed token."""
    for name in ("feed", "token"):
        if value := request.query_params.get(name):
            return name, value
    if request.app.state.access_token is not None:
        return "feed", request.app.state.accounts.feed_token(user_id)
    return None


@router.head(FEED_PATH)
@router.get(FEED_PATH)
def highlights_feed(
    request: Request,
    podcast_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    library: Library = request.app.state.library
    settings = request.app.state.settings
    user_id = get_user_id(request)
    if podcast_id is not None:
        library.podcast(podcast_id)  # 404 for a podcast that does not exist
    items, _ = UnderstandingStore(library).library_highlights(limit=FEED_LIMIT, user_id=user_id, podcast_id=podcast_id)
    clips = HighlightClips(settings)
    base = str(request.base_url).rstrip("/")
    token = feed_param(request, user_id)  # a podcast app's address: the clips need it too
    channel_title = "Earmark highlights" + (f" · {items[0].podcast_title}" if podcast_id and items else "")
    entries: list[str] = []
    newest: datetime | None = None
    sources: dict[int, Path | None] = {}
    order: dict[int, int] = {}
    for h in items:
        if h.episode_id not in sources:
            sources[h.episode_id] = _source(library, settings.downloads_dir, h.episode_id)
        source = sources[h.episode_id]
        if source is None or h.id is None:
            continue  # not downloaded: nothing to cut from here (the player streams it instead)
        cached = clips.cached(_clip_request(source, h))
        length = cached.stat().st_size if cached else clips.estimated_size(h.start, h.end)
        # Ordered as in the reel: within an episode the earlier moment comes first (a second apart).
        order[h.episode_id] = order.get(h.episode_id, -1) + 1
        made = (h.created_at or datetime.now(UTC)) + timedelta(seconds=order[h.episode_id])
        newest = max(newest, made) if newest else made
        enclosure = _with_token(f"{base}/feeds/highlights/{h.id}.mp3", token)
        artwork = _with_token(f"{base}/artwork/episode/{h.episode_id}", token)
        link = f"{base}/episodes/{h.episode_id}?t={int(h.start)}"
        entries.append(
            "<item>"
            f"<title>{escape(h.title)}</title>"
            f"<description>{escape(_description(h))}</description>"
            f"<itunes:subtitle>{escape(h.why)}</itunes:subtitle>"
            f"<itunes:author>{escape(h.podcast_title)}</itunes:author>"
            f"<link>{escape(link)}</link>"
            f"<guid isPermaLink=\"false\">earmark-highlight:{h.episode_id}:{h.start:.2f}-{h.end:.2f}</guid>"
            f"<pubDate>{format_datetime(made.astimezone(UTC), usegmt=True)}</pubDate>"
            f"<enclosure url={quoteattr(enclosure)} type=\"audio/mpeg\" length=\"{length}\"/>"
            f"<itunes:duration>{round(h.end - h.start)}</itunes:duration>"
            f"<itunes:image href={quoteattr(artwork)}/>"
            "</item>"
        )
    build = format_datetime(newest or datetime.now(UTC), usegmt=True)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        "<channel>"
        f"<title>{escape(channel_title)}</title>"
        f"<link>{escape(base + '/highlights')}</link>"
        "<description>The best moments of your podcasts, picked by Earmark: each item a highlight,"
        " cut from the downloaded episode.</description>"
        "<language>en</language><itunes:author>Earmark</itunes:author>"
        f"<lastBuildDate>{build}</lastBuildDate>"
        + "".join(entries)
        + "</channel></rss>"
    )
    return Response(body, media_type="application/rss+xml; charset=utf-8",
                    headers={"Cache-Control": "private, no-cache"})


@router.head("/feeds/highlights/{highlight_id}.mp3")
@router.get("/feeds/highlights/{highlight_id}.mp3")
def highlight_clip(request: Request, highlight_id: Annotated[int, PathParam(ge=1, le=MAX_ID)]) -> Response:
    """One highlight's clip: cut on first request, then from the cache (a plain def: the threadpool
    runs it, the store reads and the cut included)."""
    library: Library = request.app.state.library
    settings = request.app.state.settings
    found = UnderstandingStore(library).highlight(highlight_id, get_user_id(request))
    if found is None:
        raise NotFound(f"no highlight with id {highlight_id}")
    source = _source(library, settings.downloads_dir, found.episode_id)  # type: ignore[arg-type]
    if source is None:
        raise NotFound(f"highlight {highlight_id}: its episode is not downloaded")
    episode = library.episode(found.episode_id)  # type: ignore[arg-type]
    podcast = library.podcast(episode.podcast_id)
    item = LibraryHighlight(found.start, found.end, found.title, found.why, found.quote, episode_id=found.episode_id,
                            id=found.id, episode_title=episode.title, podcast_id=podcast.id, podcast_title=podcast.title)
    try:
        path = HighlightClips(settings).get(_clip_request(source, item))
    except AudioError as exc:
        raise APIError(500, "clip_failed", f"highlight {highlight_id}: the clip could not be cut: {exc}") from None
    return FileResponse(path, media_type="audio/mpeg", headers={"Cache-Control": "private, max-age=86400"},
                        filename=f"highlight-{highlight_id}.mp3", content_disposition_type="inline")

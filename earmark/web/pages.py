"""The pages: server-rendered Jinja2 templates (autoescaped) over the same store the JSON API uses.

Every page extends base.html, which holds the player bar; static/navigation.js swaps only
``<main>`` when the listener follows a link, so the audio element never reloads. Feed text is
escaped by Jinja; show notes reach a page only through sanitize.py. No inline scripts: the page's
settings travel in data attributes, and a Content-Security-Policy allows scripts from this origin
only. Pages that read the store are plain ``def`` handlers: they run in the threadpool, not on the
event loop.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Path as PathParam, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from earmark.errors import NotFound
from earmark.jobs.eta import Estimator, describe as time_left
from earmark.models import RUNNING, Episode
from earmark.share.text import share_text
from earmark.store.jobs import JobStore
from earmark.store.library import Library
from earmark.store.snips import SnipStore
from earmark.store.transcripts import TranscriptStore
from earmark.store.understanding import UnderstandingStore
from earmark.transcripts.timecode import format_clock
from earmark.web.artwork import episode_artwork_url, podcast_artwork_url
from earmark.web.deps import get_playback, get_user_id, private_uploads
from earmark.web.sanitize import show_notes_html
from earmark.web.schemas import MAX_ID

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")  # autoescape is on for .html

HEADPHONE_ACTIONS = {"nexttrack", "previoustrack", "seekforward", "seekbackward", "off"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' http: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; worker-src 'self'; manifest-src 'self'"
)
EPISODE_PAGE_LIMIT = 100  # a podcast page shows this many episodes, newest first; older ones on ?page=2, …

router = APIRouter(include_in_schema=False, dependencies=[Depends(private_uploads)])  # (your own audio is yours)
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def day(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


templates.env.filters["clock"] = format_clock
templates.env.filters["day"] = day
templates.env.filters["left"] = time_left  # "about 7 min left" (pages.js writes the same)
templates.env.globals["podcast_art"] = podcast_artwork_url  # artwork only from this server, never the feed's host
templates.env.globals["episode_art"] = episode_artwork_url


def _snip_action(request: Request) -> str:
    action = request.app.state.settings.headphone_snip_action
    if action not in HEADPHONE_ACTIONS:
        log.warning("headphone_snip_action %r is not one of %s; using 'off'", action, sorted(HEADPHONE_ACTIONS))
        return "off"
    return action


def _render(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    # data-user: whose page this is, so the offline outbox and caches never mix two users' data
    context = {"snip_action": _snip_action(request), "user_id": get_user_id(request), **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _not_found(request: Request, message: str) -> HTMLResponse:
    return _render(request, "notfound.html", {"page": "notfound", "message": message}, status=404)


def _library(request: Request) -> Library:
    return request.app.state.library


def _page_number(request: Request) -> int:
    """``?page=N`` (1 when missing or not a page number)."""
    page = request.query_params.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1


def _processing(library: Library, ids: list[int]) -> dict[int, dict]:
    """Each episode's latest job (state, progress, seconds left while running) and whether it has a
    complete transcript."""
    store = JobStore(library)
    jobs = store.latest(ids)
    transcribed = TranscriptStore(library).complete_ids(ids)
    eta = Estimator(library)  # the time left of the few running ones (speeds read once)
    running = {i: store.list(episode_id=i, limit=1)[0]
               for i in ids if i in jobs and jobs[i][0] == RUNNING and i not in transcribed}
    left = {i: eta.job(job).seconds for i, job in running.items()}
    worker = {i: next((s.worker for s in job.stages if s.name == job.stage), None) for i, job in running.items()}
    return {i: {"job": jobs[i][0] if i in jobs else None, "progress": jobs[i][1] if i in jobs else 0.0,
                "eta": left.get(i), "worker": worker.get(i), "transcript": i in transcribed} for i in ids}


def _rows(request: Request, episodes: list[Episode]) -> list[dict]:
    library = _library(request)
    ids = [e.id for e in episodes]
    states = get_playback(request).states(ids)
    processing = _processing(library, ids)
    return [{"episode": e, "playback": states[e.id], **processing[e.id]} for e in episodes]


@router.get("/", response_class=HTMLResponse)
def library_page(request: Request) -> HTMLResponse:
    library = _library(request)
    user = get_user_id(request)
    unplayed = library.unplayed_counts(user)
    podcasts = [{"podcast": p, "unplayed": unplayed.get(p.id, 0)} for p in library.podcasts(user)]
    return _render(request, "library.html", {"page": "library", "podcasts": podcasts})


@router.get("/podcasts/{podcast_id}", response_class=HTMLResponse)
def podcast_page(request: Request, podcast_id: IdPath) -> HTMLResponse:
    library = _library(request)
    try:
        podcast = library.podcast(podcast_id)
    except NotFound as exc:
        return _not_found(request, str(exc))
    number = _page_number(request)
    offset = (number - 1) * EPISODE_PAGE_LIMIT
    episodes = library.episodes(podcast_id, limit=EPISODE_PAGE_LIMIT, offset=offset)
    pages = max(1, -(-podcast.episode_count // EPISODE_PAGE_LIMIT))
    return _render(
        request, "podcast.html",
        {
            "page": "podcast", "podcast": podcast, "rows": _rows(request, episodes), "number": number,
            "first": offset + 1, "last": offset + len(episodes), "pages": pages,
        },
    )


@router.get("/episodes/{episode_id}", response_class=HTMLResponse)
def episode_page(request: Request, episode_id: IdPath) -> HTMLResponse:
    library = _library(request)
    try:
        episode = library.episode(episode_id)
    except NotFound as exc:
        return _not_found(request, str(exc))
    podcast = library.podcast(episode.podcast_id)
    jobs = JobStore(library).list(episode_id=episode_id, limit=1)
    info = TranscriptStore(library).info(episode_id)
    understanding = UnderstandingStore(library)
    chapters = understanding.shown_chapters(episode_id)
    return _render(
        request, "episode.html",
        {
            "page": "episode",
            "episode": episode,
            "podcast": podcast,
            "notes": show_notes_html(episode.description_html, episode.description),
            "playback": get_playback(request).state(episode_id),
            "job": jobs[0] if jobs else None,
            "eta": Estimator(library).job(jobs[0]) if jobs else None,
            "transcript": info if info is not None and info.complete else None,
            "summary": understanding.summary(episode_id),
            "chapters": chapters[0] if chapters else None,
            "highlights": understanding.highlights(episode_id),
        },
    )


@router.get("/snips", response_class=HTMLResponse)
def snips_page(request: Request) -> HTMLResponse:
    podcasts = _library(request).podcasts(get_user_id(request))
    return _render(request, "snips.html", {"page": "snips", "podcasts": podcasts})


@router.get("/snips/{snip_id}", response_class=HTMLResponse)
def snip_page(request: Request, snip_id: IdPath) -> HTMLResponse:
    library = _library(request)
    try:
        snip = SnipStore(library, get_user_id(request)).get(snip_id)
    except NotFound as exc:
        return _not_found(request, str(exc))
    episode = library.episode(snip.episode_id)
    podcast = library.podcast(episode.podcast_id)
    share = share_text(snip, episode, podcast, base_url=request.app.state.settings.public_base_url)
    return _render(request, "snip.html", {"page": "snip", "snip": snip, "episode": episode, "podcast": podcast,
                                          "share": share})


HIGHLIGHTS_PAGE = 100


@router.get("/highlights", response_class=HTMLResponse)
def highlights_page(request: Request) -> HTMLResponse:
    """The highlights (all, ``?podcast_id=`` one podcast's, ``?since=week`` this week's episodes'),
    and the highlights reel that plays them (static/reel.js)."""
    from datetime import UTC, timedelta

    library, user = _library(request), get_user_id(request)
    number = _page_number(request)
    podcast_id = request.query_params.get("podcast_id", "")
    podcast_id = int(podcast_id) if podcast_id.isdigit() and 0 < int(podcast_id) <= MAX_ID else None
    week = request.query_params.get("since") == "week"
    since = (datetime.now(UTC) - timedelta(days=7)).replace(microsecond=0) if week else None
    items, more = UnderstandingStore(library).library_highlights(
        limit=HIGHLIGHTS_PAGE, offset=(number - 1) * HIGHLIGHTS_PAGE, user_id=user, podcast_id=podcast_id,
        since=since.timestamp() if since else None)
    scope = "&".join(([f"podcast_id={podcast_id}"] if podcast_id else []) + (["since=week"] if week else []))
    return _render(request, "highlights.html", {
        "page": "highlights", "items": items, "more": more, "number": number, "podcasts": library.podcasts(user),
        "podcast_id": podcast_id, "week": week, "since": since.isoformat() if since else "", "scope": scope,
        "feed_url": _feed_url(request, user, podcast_id),
    })


def _feed_url(request: Request, user: int, podcast_id: int | None) -> str:
    """The highlights feed's address for a podcast app (with the user's feed token beyond loopback)."""
    from urllib.parse import urlencode

    from earmark.web.feeds import feed_param

    params = ([("podcast_id", str(podcast_id))] if podcast_id else [])
    if (token := feed_param(request, user)) is not None and token[0] == "feed":
        params.append(token)
    return "/feeds/highlights.rss" + (f"?{urlencode(params)}" if params else "")


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request) -> HTMLResponse:
    query = request.query_params.get("q", "")[:500]
    return _render(request, "search.html", {"page": "search", "query": query})


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request) -> HTMLResponse:
    library = _library(request)
    episodes = [library.episode(i) for i in get_playback(request).queue()]
    titles = library.podcast_titles()
    return _render(request, "queue.html", {"page": "queue", "rows": _rows(request, episodes), "titles": titles})


# -- Discover (directory search; earmark/web/discover.py, static/discover.js) ----------------------


@router.get("/discover", response_class=HTMLResponse)
async def discover_page(request: Request) -> HTMLResponse:
    from earmark.directory import CATEGORIES

    query = request.query_params.get("q", "")[:200]
    categories = [(slug, label) for slug, (label, _, _) in CATEGORIES.items()]
    return _render(request, "discover.html", {"page": "discover", "query": query, "categories": categories})


@router.get("/artwork/directory")
async def directory_artwork(request: Request):
    """A directory result's artwork, only for an address this server handed out (signed)."""
    from earmark.web import discover
    from earmark.web.artwork import _respond

    source = request.query_params.get("src", "")
    if not discover.signed(request.app.state, source, request.query_params.get("sig", "")):
        return await _respond(request, [], "", status=404)
    return await _respond(request, [source], request.query_params.get("title", "")[:100])


# -- listening history and statistics (earmark/store/listening.py) ---------------------------------


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request) -> HTMLResponse:
    from earmark.store.listening import Listening

    listening = Listening(_library(request), get_user_id(request))
    number = _page_number(request)
    offset = (number - 1) * 100
    items, count = listening.history(100, offset)
    return _render(
        request, "history.html",
        {"page": "history", "week": listening.summary(7), "total": listening.summary(None),
         "items": items, "count": count, "offset": offset, "number": number},
    )

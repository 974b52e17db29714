"""Snips: create one from a position (stored at once, enriched in the background), list, read,
edit (user edits are never overwritten by the AI), delete, and export (Markdown or JSON)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field, model_validator

from earmark.errors import NotFound
from earmark.export import markdown as md
from earmark.models import Snip, as_dict
from earmark.snips import create_snip, edit_snip
from earmark.snips.boundaries import FIXED_LENGTHS, parse_boundary
from earmark.store.library import Library
from earmark.store.snips import SnipFilter, SnipStore
from earmark.web.api.schemas import ShareOut, SnipOut, SnipPageOut
from earmark.web.deps import APIError, EpisodeIdPath, LibraryDep, SettingsDep, UserIdDep
from earmark.web.schemas import MAX_ID, ErrorResponse, _In

router = APIRouter(tags=["snips"])

SnipIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="snip id")]
_404 = {404: {"model": ErrorResponse, "description": "No such snip or episode"}}
BOUNDARY_PATTERN = rf"^(auto|fixed:({'|'.join(map(str, FIXED_LENGTHS))}))$"
_422 = {422: {"model": ErrorResponse, "description": "Invalid input"}}


class SnipIn(_In):
    position: float = Field(ge=0, le=10_000_000, allow_inf_nan=False, description="seconds into the episode of the tap")
    boundary: str | None = Field(
        None, pattern=BOUNDARY_PATTERN, description='"auto" (default: the snip_boundary setting) or "fixed:30|60|90|120"'
    )
    client_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="an idempotency key the client makes (a UUID): sent again, by a retry or an offline queue, it"
        " answers 200 with the snip already made with it instead of making another (keys are per user)",
    )


class SnipPatchIn(_In):
    """Only the fields sent change; a field left out stays as it is (only quote_speaker may be null)."""

    # Typed without None: a field may be left out, not sent as null (the default is never validated).
    title: str = Field(None, max_length=300)
    takeaways: list[Annotated[str, Field(max_length=2000)]] = Field(None, max_length=10)
    quote: str = Field(None, max_length=5000)
    quote_speaker: str | None = Field(None, max_length=300)
    start: float = Field(None, ge=0, le=10_000_000, allow_inf_nan=False)
    end: float = Field(None, ge=0, le=10_000_000, allow_inf_nan=False)
    note: str = Field(None, max_length=100_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(None, max_length=50)
    favorite: bool = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _check(self):
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class _Context:
    """Episode and podcast lookups for a response's snips (each looked up once), and share links."""

    def __init__(self, library: Library, base_url: str):
        self.library = library
        self.base_url = base_url
        self.episodes: dict = {}
        self.podcasts: dict = {}

    def out(self, snip: Snip) -> SnipOut:
        from earmark.share.text import share_text

        out = SnipOut.model_validate(snip)
        if snip.episode_id not in self.episodes:
            self.episodes[snip.episode_id] = self.library.episode(snip.episode_id)
        episode = self.episodes[snip.episode_id]
        if episode.podcast_id not in self.podcasts:
            self.podcasts[episode.podcast_id] = self.library.podcast(episode.podcast_id)
        podcast = self.podcasts[episode.podcast_id]
        share = share_text(snip, episode, podcast, base_url=self.base_url)
        return out.model_copy(update={
            "episode_title": episode.title, "podcast_id": podcast.id, "podcast_title": podcast.title,
            "share": ShareOut(text=share.text, link=share.link, twitter=share.twitter, whatsapp=share.whatsapp),
        })


def _out(snip: Snip, library: Library | None = None, settings=None) -> SnipOut:
    if library is None:
        return SnipOut.model_validate(snip)
    return _Context(library, settings.public_base_url).out(snip)


def _page(library: Library, where: SnipFilter, settings, user: int) -> SnipPageOut:
    context = _Context(library, settings.public_base_url)
    found = SnipStore(library, user).list(
        SnipFilter(where.podcast_id, where.episode_id, where.tag, where.favorite, where.limit + 1, where.offset)
    )
    return SnipPageOut(
        items=[context.out(s) for s in found[: where.limit]], limit=where.limit, offset=where.offset,
        has_more=len(found) > where.limit,
    )


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=2**62)]
PodcastQ = Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this podcast's snips")]
TagQ = Annotated[str | None, Query(max_length=100, description="only snips with this tag")]
FavoriteQ = Annotated[bool | None, Query(description="only favourites (true) or only the others (false)")]


@router.post(
    "/episodes/{episode_id}/snips", status_code=201, response_model=SnipOut,
    responses={
        200: {"model": SnipOut, "description": "This client_id was sent before: the snip made then, unchanged"},
        201: {"description": "The new snip"},
        404: {"model": ErrorResponse, "description": "No such episode"}, **_422,
    },
)
def post_snip(
    episode_id: EpisodeIdPath, body: SnipIn, library: LibraryDep, settings: SettingsDep, user: UserIdDep, response: Response,
):
    """Save the moment at ``position``. Answers at once with bounds snapped to sentences (when the
    episode has a transcript) or a provisional window; the AI card arrives in the background
    (``state`` goes from pending to ready, or failed with ``error``). With ``client_id`` the snip is
    made once: the same key again answers 200 with the first one (an offline queue sent twice)."""
    library.episode(episode_id)  # 404 first
    if body.client_id is not None:
        try:
            existing = SnipStore(library, user).by_client_id(body.client_id)
        except NotFound:
            pass
        else:
            response.status_code = 200
            return _out(existing, library, settings)
    if body.boundary is not None:
        try:
            parse_boundary(body.boundary)
        except ValueError as exc:
            raise APIError(422, "validation_error", str(exc)) from None
    try:
        snip = create_snip(library, settings, episode_id, body.position, body.boundary, user_id=user, client_id=body.client_id)
    except ValueError as exc:
        raise APIError(422, "validation_error", str(exc)) from None
    return _out(snip, library, settings)


@router.get("/episodes/{episode_id}/snips", response_model=SnipPageOut, responses=_404)
def episode_snips(
    episode_id: EpisodeIdPath, library: LibraryDep, settings: SettingsDep, user: UserIdDep, limit: Limit = 100, offset: Offset = 0,
):
    """The episode's snips, newest first."""
    library.episode(episode_id)
    return _page(library, SnipFilter(episode_id=episode_id, limit=limit, offset=offset), settings, user)


@router.get("/snips", response_model=SnipPageOut, responses=_422)
def list_snips(
    library: LibraryDep, settings: SettingsDep, user: UserIdDep, podcast: PodcastQ = None, tag: TagQ = None,
    favorite: FavoriteQ = None, limit: Limit = 50, offset: Offset = 0,
):
    """All your snips, newest first, filtered by podcast, tag or favourite."""
    where = SnipFilter(podcast_id=podcast, tag=tag, favorite=favorite, limit=limit, offset=offset)
    return _page(library, where, settings, user)


def _markdown(library: Library, settings, snips: list[Snip]) -> str:
    """One file's worth per episode (in order of its newest snip), in the Obsidian exporter's format."""
    by_episode: dict[int, list[Snip]] = {}
    for snip in snips:
        by_episode.setdefault(snip.episode_id, []).append(snip)
    files = []
    for episode_id, group in by_episode.items():
        episode = library.episode(episode_id)
        podcast = library.podcast(episode.podcast_id)
        group.sort(key=lambda s: s.start)
        block = md.render_block(episode, [md.render_snip(s, settings.public_base_url) for s in group])
        files.append(md.new_file(md.front_matter_values(podcast, episode, group), block))
    return "\n".join(files)


@router.get(
    "/snips/export",
    responses={200: {"content": {"text/markdown": {}, "application/json": {}}}, **_422},
)
def export_snips(
    library: LibraryDep, settings: SettingsDep, user: UserIdDep,
    format: Annotated[Literal["markdown", "json"], Query(description="markdown (default) or json")] = "markdown",
    podcast: PodcastQ = None, tag: TagQ = None, favorite: FavoriteQ = None,
):
    """Every matching snip in one document: Markdown (a file's worth per episode) or JSON."""
    snips = SnipStore(library, user).list(SnipFilter(podcast_id=podcast, tag=tag, favorite=favorite, limit=100_000))
    if format == "json":
        items = []
        for snip in snips:
            episode = library.episode(snip.episode_id)
            items.append({**as_dict(snip), "episode_title": episode.title, "podcast_id": episode.podcast_id})
        return Response(json.dumps({"snips": items}, ensure_ascii=False), media_type="application/json")
    return PlainTextResponse(_markdown(library, settings, snips), media_type="text/markdown; charset=utf-8")


@router.get("/snips/{snip_id:int}", response_model=SnipOut, responses=_404)
def get_snip(snip_id: SnipIdPath, library: LibraryDep, settings: SettingsDep, user: UserIdDep):
    return _out(SnipStore(library, user).get(snip_id), library, settings)


@router.patch("/snips/{snip_id:int}", response_model=SnipOut, responses={**_404, **_422})
def patch_snip(snip_id: SnipIdPath, body: SnipPatchIn, library: LibraryDep, settings: SettingsDep, user: UserIdDep):
    """Edit title, takeaways, quote, bounds (0 ≤ start < end ≤ the episode's duration, at most
    10 minutes), note, tags or favourite. Edited fields are never overwritten by the AI."""
    changes = body.model_dump(exclude_unset=True)
    store = SnipStore(library, user)
    store.get(snip_id)  # 404 before validation of the bounds against the episode
    if not changes:
        return _out(store.get(snip_id), library, settings)
    try:
        return _out(edit_snip(library, snip_id, user_id=user, **changes), library, settings)
    except ValueError as exc:
        raise APIError(422, "validation_error", str(exc)) from None


@router.delete("/snips/{snip_id:int}", status_code=204, responses=_404)
def delete_snip(snip_id: SnipIdPath, library: LibraryDep, user: UserIdDep):
    SnipStore(library, user).delete(snip_id)
    return Response(status_code=204)

"""Your own audio: POST /uploads takes one file as the raw request body (the browser sends each
dropped file with its own request, for per-file progress), streamed to disk and stopped at
``max_upload_bytes``; the result is an episode whose audio is already downloaded."""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from earmark.uploads import ACCEPTED, TempWriter, UploadError, UploadTooLarge, import_temp, too_large
from earmark.web.api.episodes import get_episode
from earmark.web.deps import APIError, LibraryDep, PlaybackDep, SettingsDep, UserIdDep
from earmark.web.schemas import NO_CONTROL, ErrorResponse, PodcastOut, UploadOut

router = APIRouter(tags=["uploads"])
log = logging.getLogger(__name__)

BODY = {
    "required": True,
    "description": f"The file's bytes ({ACCEPTED}; checked by decoding, not by name), as sent by"
    " `curl --data-binary @talk.mp3` or a browser's `xhr.send(file)`",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


@router.post(
    "/uploads",
    response_model=UploadOut,
    status_code=201,
    openapi_extra={"requestBody": BODY},
    responses={
        200: {"model": UploadOut, "description": "The same file was already uploaded to this podcast: that episode"},
        413: {"model": ErrorResponse, "description": "The file is over the max_upload_bytes setting"},
        422: {"model": ErrorResponse, "description": "Not an accepted audio file (not audio, truncated, another format), or a bad parameter"},
        507: {"model": ErrorResponse, "description": "No space left on the disk that holds the downloads"},
    },
)
async def upload(
    request: Request,
    library: LibraryDep,
    playback: PlaybackDep,
    settings: SettingsDep,
    user: UserIdDep,
    response: Response,
    filename: Annotated[str, Query(min_length=1, max_length=255, pattern=NO_CONTROL,
                                   description="the file's name (its title when the tags have none)")],
    podcast: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_CONTROL,
                                         description='the uploads podcast to add it to (created if new; default "My uploads")')] = None,
) -> UploadOut:
    """Add an audio file of your own as an episode (of "My uploads", or of the uploads podcast
    named by `podcast`), with title, date, artwork and chapters from its tags. Process it like any
    episode (`POST /episodes/{id}/process`). An interrupted upload leaves nothing behind."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > settings.max_upload_bytes:
        raise APIError(413, "payload_too_large", str(too_large(settings, int(declared))))
    try:
        with TempWriter(settings) as writer:
            async for chunk in request.stream():
                writer.write(chunk)
            temp = writer.keep()
    except UploadTooLarge as exc:
        raise APIError(413, "payload_too_large", str(exc)) from None
    except ClientDisconnect:  # the temp file is already gone; nobody is left to read an answer
        log.info("upload of %r interrupted by the client", filename)
        raise APIError(400, "bad_request", "the upload was interrupted") from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise APIError(507, "insufficient_storage", "no space left for the upload (downloads_dir)") from None
        raise
    if writer.size == 0:
        temp.unlink(missing_ok=True)
        raise APIError(422, "invalid_audio", f"{filename}: the file is empty (0 bytes)")
    try:
        # Decoding, tags and artwork take a while on a big file: off the event loop.
        result = await asyncio.to_thread(
            import_temp, library, settings, temp, filename=filename, sha256=writer.sha256, podcast=podcast, source="web",
            user_id=user,
        )
    except UploadError as exc:
        raise APIError(422, "invalid_audio", str(exc)) from None
    if not result.created:
        response.status_code = 200
    episode = await run_in_threadpool(get_episode, result.episode.id, library, playback)
    return UploadOut(episode=episode, podcast=PodcastOut.model_validate(result.podcast), created=result.created)

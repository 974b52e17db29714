"""OPML export and import."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from earmark.feeds.opml import (
    MAX_OPML_BYTES,
    export_opml,
    import_feeds,
    parse_opml_document,
)
from earmark.web.deps import APIError, LibraryDep, SettingsDep, UserIdDep
from earmark.web.schemas import ErrorResponse, FailedFeedOut, OPMLImportOut

router = APIRouter(tags=["opml"])

_XML_TYPES = {"application/xml", "text/xml", "text/x-opml", "application/x-opml", "application/octet-stream"}


@router.get("/opml", response_class=Response, responses={200: {"content": {"application/xml": {}}}})
def get_opml(library: LibraryDep, user: UserIdDep) -> Response:
    """Every subscription as an OPML 2.0 file."""
    return Response(
        export_opml(library.podcasts(user)),
        media_type="application/xml",
        headers={"Content-Disposition": 'attachment; filename="earmark-subscriptions.opml"'},
    )


async def _uploaded(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10, max_part_size=MAX_OPML_BYTES) as form:
            upload = form.get("file")
            if set(form.keys()) - {"file"}:  # as documented: the one field
                raise APIError(422, "validation_error", "the form may only hold the field 'file'")
            if not isinstance(upload, UploadFile):
                raise APIError(422, "validation_error", "the form has no file field named 'file'")
            return await upload.read(MAX_OPML_BYTES + 1)
    if content_type in _XML_TYPES:
        return await request.body()
    raise APIError(
        415,
        "unsupported_media_type",
        "send the OPML file as the body (Content-Type: application/xml) or as a form field named 'file'",
    )


@router.post(
    "/opml",
    response_model=OPMLImportOut,
    responses={
        413: {"model": ErrorResponse},
        415: {"model": ErrorResponse},
        422: {"model": ErrorResponse, "description": "Not an OPML file; nothing was added"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/xml": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                        "additionalProperties": False,
                    }
                },
            },
        }
    },
)
async def post_opml(
    request: Request,
    library: LibraryDep,
    settings: SettingsDep,
    user: UserIdDep,
    refresh: Annotated[bool, Query(description="load the new feeds now")] = True,
) -> OPMLImportOut:
    """Subscribe to every feed an OPML file lists. The whole file is read first, so a broken file
    adds nothing; feeds that fail to load stay subscribed with their error."""
    data = await _uploaded(request)
    doc = await asyncio.to_thread(parse_opml_document, data, "the uploaded OPML file")
    summary = await import_feeds(library, settings, doc, refresh=refresh, user_id=user)
    return OPMLImportOut(
        feeds=summary.feeds,
        added=summary.added,
        already_subscribed=summary.already_subscribed,
        refreshed=summary.refreshed,
        failed=[FailedFeedOut(podcast_id=r.podcast_id, url=r.url, error=r.error) for r in summary.failed],
        invalid=summary.invalid,
    )

"""HTTP routes of document delivery: uploads (not through the socket), links, downloads.

Uploads are ``multipart/form-data`` with a ``meta`` part (JSON) first and then the ``file``
part, streamed to disk with the size limit enforced as the bytes arrive. The chat gets a
message that refers to the file; the uploader's reply carries that message.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import Field, ValidationError, field_validator

from desk import auth
from desk.delivery import actions, files
from desk.delivery.storage import CHUNK, too_large
from desk.directory import ConsultantInfo
from desk.errors import Forbidden, InvalidPayload, NotFound, Unauthenticated
from desk.http import DESK_KEY, _Body, _cors, _json, console_origin_ok
from desk.models import Consultation
from desk.phrases import _staff
from transcripts.records import DOC_TYPES, StoredMessage

#: Largest ``meta`` part.
META_BYTES = 16 * 1024
#: What a multipart body may carry besides the file itself (boundaries, headers, meta).
OVERHEAD_BYTES = 64 * 1024
_CMID = r"^[A-Za-z0-9._:-]{1,64}$"


class DocFields(_Body):
    """A document's bibliographic basics, as sent by the console."""

    title: str = Field("", max_length=500)
    authors: str = Field("", max_length=500)
    source: str = Field("", max_length=500)
    year: int | None = Field(None, ge=1000, le=2100)
    doc_type: str = ""

    @field_validator("doc_type")
    @classmethod
    def _doc_type(cls, v: str) -> str:
        if v and v not in DOC_TYPES:
            raise ValueError(f"one of {', '.join(DOC_TYPES)}")
        return v

    def meta(self) -> actions.DocMeta:
        return actions.DocMeta(self.title, self.authors, self.source, self.year, self.doc_type)


class Doc(DocFields):
    client_msg_id: str = Field(pattern=_CMID)


class LinkBody(Doc):
    url: str = Field(min_length=1, max_length=actions.MAX_URL_CHARS)


class ReaderFile(_Body):
    client_msg_id: str = Field(pattern=_CMID)
    title: str = Field("", max_length=500)


def _ids(request: web.Request, *names: str) -> list[int]:
    out = []
    for n in names:
        raw = request.match_info[n]
        if not raw.isdecimal() or len(raw) > 18:
            raise NotFound("no such consultation", code="consultation_not_found")
        out.append(int(raw))
    return out


def _reply(msg: StoredMessage, *, staff: bool) -> dict[str, Any]:
    return {"ok": True, "message": msg.to_client(staff=staff), "duplicate": msg.duplicate}


async def next_part(reader: MultipartReader) -> Any:
    try:
        return await reader.next()
    except (HttpProcessingError, ValueError) as exc:
        # Control characters in a part's headers, a broken boundary, ...
        raise InvalidPayload(
            "the upload is not well-formed multipart/form-data", code="multipart_invalid"
        ) from exc


async def read_meta(request: web.Request, model: type[_Body]) -> tuple[Any, MultipartReader]:
    """The validated ``meta`` part of a multipart upload, and the reader of the rest."""
    if not request.content_type.startswith("multipart/form-data"):
        raise InvalidPayload("send multipart/form-data: meta, then file", code="multipart_required")
    reader = await request.multipart()
    part = await next_part(reader)
    if not isinstance(part, BodyPartReader) or part.name != "meta":
        raise InvalidPayload("the first part is meta (JSON)", code="multipart_required")
    raw = b""
    while chunk := await part.read_chunk(4096):
        raw += chunk
        if len(raw) > META_BYTES:
            raise InvalidPayload("meta is too long", code="invalid_payload")
    try:
        meta = model.model_validate(json.loads(raw or b"{}"))
    except (ValueError, UnicodeDecodeError) as exc:
        fields = (
            [
                {"field": ".".join(map(str, e["loc"])), "problem": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)
            ]
            if isinstance(exc, ValidationError)
            else []
        )
        raise InvalidPayload("meta is not valid", code="invalid_payload", fields=fields) from exc
    return meta, reader


async def file_part(reader: MultipartReader) -> BodyPartReader:
    part = await next_part(reader)
    if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
        raise InvalidPayload("the second part is the file, with its name", code="file_required")
    return part


async def _parts(request: web.Request, model: type[_Body]) -> tuple[Any, BodyPartReader]:
    """The validated ``meta`` part and the ``file`` part after it."""
    meta, reader = await read_meta(request, model)
    return meta, await file_part(reader)


def part_filename(part: BodyPartReader) -> str:
    """The part's file name. Browsers send it as UTF-8 with only ``"``, CR and LF
    percent-encoded (the HTML standard); some clients percent-encode all of it. Decoded when
    that gives text; ``files.clean_name`` does the rest."""
    raw = part.filename or ""
    if "%" in raw:
        try:
            return unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return raw
    return raw


async def part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def _check_length(request: web.Request, library_id: int) -> None:
    """Refuse at once a body that announces more than the library takes."""
    limits = await actions.library_limits(request.app[DESK_KEY], library_id)
    if request.content_length is not None and (
        request.content_length > limits.max_bytes + OVERHEAD_BYTES
    ):
        raise too_large(limits.max_bytes)


async def _library_of(request: web.Request, consultation_id: int) -> int:
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        c = await s.get(Consultation, consultation_id)
    if c is None:
        raise NotFound("no such consultation", code="consultation_not_found")
    return c.library_id


async def _writing_staff(request: web.Request) -> ConsultantInfo:
    who = await _staff(request)
    if not console_origin_ok(request.app[DESK_KEY], request):
        raise Forbidden("send files from the desk itself", code="origin_not_allowed")
    return who


async def staff_upload(request: web.Request) -> web.Response:
    who = await _writing_staff(request)
    (cid,) = _ids(request, "cid")
    await _check_length(request, await _library_of(request, cid))
    meta, part = await _parts(request, Doc)
    msg = await actions.deliver_file(
        request.app[DESK_KEY],
        cid,
        who,
        client_msg_id=meta.client_msg_id,
        meta=meta.meta(),
        name=part_filename(part),
        chunks=part_chunks(part),
    )
    return web.json_response(_reply(msg, staff=True))


async def staff_link(request: web.Request) -> web.Response:
    who = await _writing_staff(request)
    (cid,) = _ids(request, "cid")
    body: LinkBody = await _json(request, LinkBody)
    msg = await actions.deliver_link(
        request.app[DESK_KEY],
        cid,
        who,
        client_msg_id=body.client_msg_id,
        url=body.url,
        meta=body.meta(),
    )
    return web.json_response(_reply(msg, staff=True))


_BEARER = re.compile(r"^Bearer ([A-Za-z0-9_-]{20,200})$")


async def _reader(request: web.Request, consultation_id: int) -> int:
    """The reader of a request: their token in ``Authorization``, from a page of the
    consultation's library (or the desk itself)."""
    desk = request.app[DESK_KEY]
    m = _BEARER.match(request.headers.get("Authorization", ""))
    reader_id = await auth.reader_from_token(desk, m.group(1) if m else None)
    if reader_id is None:
        raise Unauthenticated("a reader token is needed", code="auth_invalid")
    library = await desk.directory.library(await _library_of(request, consultation_id))
    origin = (request.headers.get("Origin") or "").rstrip("/")
    if library is None or (
        origin not in library.allowed_origins and origin != desk.settings.origin()
    ):
        raise Forbidden("this site may not use the widget", code="origin_not_allowed")
    return reader_id


async def reader_upload(request: web.Request) -> web.Response:
    (cid,) = _ids(request, "cid")
    reader_id = await _reader(request, cid)
    await _check_length(request, await _library_of(request, cid))
    meta, part = await _parts(request, ReaderFile)
    msg = await actions.reader_file(
        request.app[DESK_KEY],
        cid,
        reader_id,
        client_msg_id=meta.client_msg_id,
        title=meta.title,
        name=part_filename(part),
        chunks=part_chunks(part),
    )
    return _cors(request, web.json_response(_reply(msg, staff=False)))


def file_response(entry: Any, path: Any, *, inline: bool) -> web.FileResponse:
    inline = inline and entry.content_type in files.INLINE_OK
    return web.FileResponse(
        path,
        headers={
            "Content-Type": entry.content_type,
            "Content-Disposition": files.content_disposition(entry.file_name, inline=inline),
            "X-Content-Type-Options": "nosniff",
            # Nothing served here may run: no scripts, no plugins, no framing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


async def staff_download(request: web.Request) -> web.StreamResponse:
    who = await _staff(request)
    cid, seq = _ids(request, "cid", "seq")
    entry, path = await actions.file_for_download(request.app[DESK_KEY], cid, seq, staff=who)
    return file_response(entry, path, inline=request.query.get("inline") == "1")


async def reader_download(request: web.Request) -> web.StreamResponse:
    cid, seq = _ids(request, "cid", "seq")
    reader_id = await _reader(request, cid)
    entry, path = await actions.file_for_download(
        request.app[DESK_KEY], cid, seq, reader_id=reader_id
    )
    resp = file_response(entry, path, inline=False)
    origin = request.headers.get("Origin")
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Expose-Headers"] = "Content-Disposition, Content-Length"
        resp.headers["Vary"] = "Origin"
    return resp


def add_delivery_routes(app: web.Application) -> None:
    app.router.add_post("/api/consultations/{cid}/files", staff_upload)
    app.router.add_post("/api/consultations/{cid}/links", staff_link)
    app.router.add_get("/api/consultations/{cid}/files/{seq}", staff_download)
    app.router.add_post("/api/readers/consultations/{cid}/files", reader_upload)
    app.router.add_get("/api/readers/consultations/{cid}/files/{seq}", reader_download)

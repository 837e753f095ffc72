"""The delivery ledger over HTTP: its rows, its counts, and both as CSV.

This is the figure the alliance reports as documents delivered (传递文献数量): every file or
link a consultant gave a reader, counted per consultation, consultant, library (serving, and
the readers' own) and period. Who sees what:

- rows (titles, file names): a consultant their own; a supervisor their library's (serving or
  origin); an admin all;
- counts (aggregates only): a consultant their own; supervisors and admins the whole alliance.

Periods are calendar days in the alliance's time zone (``DESK_REPORT_TIMEZONE``, Beijing time
by default).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from desk.context import Desk
from desk.delivery.actions import staff_scope
from desk.directory import ConsultantInfo
from desk.errors import InvalidPayload
from desk.http import DESK_KEY
from desk.models import Consultant, LedgerEntry, Library
from desk.phrases import _staff

GROUPS = ("consultant", "serving_library", "origin_library", "consultation", "day", "month", "year")
PAGE = 200
#: Rows of one CSV export written per database round trip.
EXPORT_BATCH = 2000

COLUMNS = (
    "id",
    "created_at",
    "direction",
    "kind",
    "consultation_id",
    "seq",
    "ticket_id",
    "consultant",
    "serving_library",
    "origin_library",
    "title",
    "authors",
    "source",
    "year",
    "doc_type",
    "file_name",
    "size",
    "sha256",
    "url",
    "file_purged_at",
)


def _zone(desk: Desk) -> ZoneInfo:
    return ZoneInfo(desk.settings.report_timezone)


def _day(raw: str | None, what: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidPayload(f"{what} is a date, YYYY-MM-DD", code="invalid_payload") from exc


def _int(raw: str | None, what: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdecimal() or len(raw) > 18:
        raise InvalidPayload(f"{what} is a number", code="invalid_payload")
    return int(raw)


async def _filters(
    request: web.Request, who: ConsultantInfo, *, rows: bool
) -> list[ColumnElement[bool]]:
    desk = request.app[DESK_KEY]
    q = request.query
    zone = _zone(desk)
    out: list[ColumnElement[bool]] = []
    scope = (
        staff_scope(who)
        if rows
        else (
            LedgerEntry.consultant_id == who.id if who.role not in ("supervisor", "admin") else None
        )
    )
    if scope is not None:
        out.append(scope)
    since, until = _day(q.get("from"), "from"), _day(q.get("to"), "to")
    if since is not None:
        out.append(LedgerEntry.created_at >= datetime.combine(since, time(), zone))
    if until is not None:
        out.append(
            LedgerEntry.created_at < datetime.combine(until + timedelta(days=1), time(), zone)
        )
    direction = q.get("direction", "to_reader")
    if direction not in ("to_reader", "from_reader", "all"):
        raise InvalidPayload("direction is to_reader, from_reader or all", code="invalid_payload")
    if direction != "all":
        out.append(LedgerEntry.direction == direction)
    kind = q.get("kind")
    if kind:
        if kind not in ("file", "link"):
            raise InvalidPayload("kind is file or link", code="invalid_payload")
        out.append(LedgerEntry.kind == kind)
    for name, col in (
        ("consultant", LedgerEntry.consultant_id),
        ("consultation", LedgerEntry.consultation_id),
    ):
        value = _int(q.get(name), name)
        if value is not None:
            out.append(col == value)
    for name, col in (
        ("library", LedgerEntry.serving_library_id),
        ("origin", LedgerEntry.origin_library_id),
    ):
        code = q.get(name)
        if code:
            lib = await desk.directory.library_by_code(code[:32])
            out.append(col == (lib.id if lib else -1))
    return out


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


async def _names(desk: Desk) -> tuple[dict[int, str], dict[int, str]]:
    libs = {i: x.code for i, x in (await desk.directory.libraries()).items()}
    async with desk.reads() as s:
        people = dict((await s.execute(select(Consultant.id, Consultant.username))).all())
    return libs, people


def _row(e: LedgerEntry, libs: dict[int, str], people: dict[int, str]) -> dict[str, Any]:
    return {
        "id": e.id,
        "created_at": _iso(e.created_at),
        "direction": e.direction,
        "kind": e.kind,
        "consultation_id": e.consultation_id,
        "seq": e.seq,
        "ticket_id": e.ticket_id,
        "consultant": people.get(e.consultant_id) if e.consultant_id else None,
        "serving_library": libs.get(e.serving_library_id) if e.serving_library_id else None,
        "origin_library": libs.get(e.origin_library_id),
        "title": e.title,
        "authors": e.authors,
        "source": e.source,
        "year": e.year,
        "doc_type": e.doc_type,
        "file_name": e.file_name,
        "size": e.size,
        "sha256": e.sha256,
        "url": e.url,
        "file_purged_at": _iso(e.file_purged_at),
    }


async def list_rows(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    where = await _filters(request, who, rows=True)
    before = _int(request.query.get("before_id"), "before_id")
    if before is not None:
        where.append(LedgerEntry.id < before)
    limit = min(_int(request.query.get("limit"), "limit") or PAGE, PAGE)
    async with desk.reads() as s:
        found = (
            await s.scalars(
                select(LedgerEntry).where(*where).order_by(LedgerEntry.id.desc()).limit(limit)
            )
        ).all()
    libs, people = await _names(desk)
    return web.json_response(
        {
            "ok": True,
            "rows": [_row(e, libs, people) for e in found],
            "more": len(found) == limit,
        }
    )


def _period(desk: Desk, group: str) -> ColumnElement[str]:
    """The row's day, month or year in the report time zone, as text."""
    fmt = {"day": ("%Y-%m-%d", "YYYY-MM-DD"), "month": ("%Y-%m", "YYYY-MM"), "year": ("%Y", "YYYY")}
    sqlite_fmt, pg_fmt = fmt[group]
    zone = desk.settings.report_timezone
    if desk.settings.is_sqlite:
        # SQLite keeps naive UTC text; the zone's offset now is applied (no summer time in
        # the default, Asia/Shanghai).
        offset = datetime.now(ZoneInfo(zone)).utcoffset() or timedelta()
        minutes = int(offset.total_seconds() // 60)
        return func.strftime(sqlite_fmt, LedgerEntry.created_at, f"{minutes:+d} minutes")
    return func.to_char(func.timezone(zone, LedgerEntry.created_at), pg_fmt)


async def _counts(request: web.Request) -> tuple[str, list[dict[str, Any]]]:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    group = request.query.get("group", "consultant")
    if group not in GROUPS:
        raise InvalidPayload(f"group is one of {', '.join(GROUPS)}", code="invalid_payload")
    where = await _filters(request, who, rows=False)
    key: Any = {
        "consultant": LedgerEntry.consultant_id,
        "serving_library": LedgerEntry.serving_library_id,
        "origin_library": LedgerEntry.origin_library_id,
        "consultation": LedgerEntry.consultation_id,
    }.get(group)
    if key is None:
        key = _period(desk, group)
    stmt = (
        select(
            key.label("key"),
            func.count().label("total"),
            func.count().filter(LedgerEntry.kind == "file").label("files"),
            func.count().filter(LedgerEntry.kind == "link").label("links"),
            func.coalesce(func.sum(LedgerEntry.size), 0).label("bytes"),
        )
        .where(*where)
        .group_by(key)
        .order_by(key)
    )
    async with desk.reads() as s:
        found = (await s.execute(stmt)).all()
    libs, people = await _names(desk)
    async with desk.reads() as s:
        names = dict((await s.execute(select(Consultant.id, Consultant.display_name))).all())
        lib_names = dict((await s.execute(select(Library.id, Library.name))).all())

    def label(k: Any) -> tuple[Any, str]:
        if group == "consultant":
            return people.get(k, k), names.get(k, "")
        if group in ("serving_library", "origin_library"):
            return libs.get(k, k), lib_names.get(k, "")
        return k, ""

    out = []
    for r in found:
        k, name = label(r.key)
        out.append(
            {
                "key": k,
                "name": name,
                "total": r.total,
                "files": r.files,
                "links": r.links,
                "bytes": int(r.bytes),
            }
        )
    return group, out


async def counts(request: web.Request) -> web.Response:
    group, rows = await _counts(request)
    return web.json_response(
        {
            "ok": True,
            "group": group,
            "counts": rows,
            "total": sum(r["total"] for r in rows),
            "timezone": request.app[DESK_KEY].settings.report_timezone,
        }
    )


def _csv_response(request: web.Request, name: str) -> web.StreamResponse:
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
    )
    return resp


def _csv_line(values: list[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow(["" if v is None else v for v in values])
    return buf.getvalue().encode()


async def counts_csv(request: web.Request) -> web.StreamResponse:
    group, rows = await _counts(request)
    resp = _csv_response(request, f"delivery-counts-by-{group}.csv")
    await resp.prepare(request)
    # A byte-order mark, so spreadsheet programs read the Chinese names as UTF-8.
    await resp.write(
        b"\xef\xbb\xbf" + _csv_line([group, "name", "total", "files", "links", "bytes"])
    )
    for r in rows:
        await resp.write(
            _csv_line([r["key"], r["name"], r["total"], r["files"], r["links"], r["bytes"]])
        )
    await resp.write_eof()
    return resp


async def rows_csv(request: web.Request) -> web.StreamResponse:
    """Every matching row, streamed in batches: a year of an alliance is over a million."""
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    where = await _filters(request, who, rows=True)
    libs, people = await _names(desk)
    resp = _csv_response(request, "delivery-ledger.csv")
    await resp.prepare(request)
    await resp.write(b"\xef\xbb\xbf" + _csv_line(list(COLUMNS)))
    after = 0
    while True:
        async with desk.reads() as s:
            batch = (
                await s.scalars(
                    select(LedgerEntry)
                    .where(*where, LedgerEntry.id > after)
                    .order_by(LedgerEntry.id)
                    .limit(EXPORT_BATCH)
                )
            ).all()
        if not batch:
            break
        chunk = b"".join(_csv_line([_row(e, libs, people)[c] for c in COLUMNS]) for e in batch)
        await resp.write(chunk)
        after = batch[-1].id
    await resp.write_eof()
    return resp


def add_ledger_routes(app: web.Application) -> None:
    app.router.add_get("/api/ledger", list_rows)
    app.router.add_get("/api/ledger/counts", counts)
    app.router.add_get("/api/ledger/counts.csv", counts_csv)
    app.router.add_get("/api/ledger/export.csv", rows_csv)

"""The statistics' routes: reports and tables (JSON, CSV, XLSX), quality grading, certificates
and their public verification page. Routes and error codes: docs/protocol.md section 2, and
docs/stats.md."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any, Literal

import xlsxwriter
from aiohttp import web
from pydantic import Field
from sqlalchemy import and_, func, or_, select

from desk.directory import ConsultantInfo
from desk.errors import Forbidden, InvalidPayload, NotFound
from desk.http import DESK_KEY, _Body, _json, console_origin_ok
from desk.models import Consultant, LedgerEntry, Library, Ticket
from desk.phrases import _staff
from stats import certificates, criteria, grading, reports
from stats.models import Certificate, ConsultationFact, Grade
from stats.rating import add_rating_routes
from stats.rollup import today
from transcripts.models import TranscriptDoc

FORMATS = ("json", "csv", "xlsx")
#: Dates outside these years are typing mistakes (and would overflow the time arithmetic).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _day(raw: str | None, what: str, default: date) -> date:
    if not raw:
        return default
    try:
        got = date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidPayload(f"{what} is a date, YYYY-MM-DD", code="invalid_payload") from exc
    if not FIRST_YEAR <= got.year <= LAST_YEAR:
        raise InvalidPayload(
            f"{what} is between {FIRST_YEAR} and {LAST_YEAR}", code="invalid_payload"
        )
    return got


def _range(request: web.Request) -> tuple[date, date]:
    now = today(request.app[DESK_KEY])
    first = _day(request.query.get("from"), "from", now.replace(day=1))
    last = _day(request.query.get("to"), "to", now)
    if last < first:
        raise InvalidPayload("the range ends before it starts", code="invalid_payload")
    if (last - first).days >= reports.MAX_DAYS:
        raise InvalidPayload(
            f"a range covers at most {reports.MAX_DAYS} days", code="invalid_payload"
        )
    return first, last


def _int(raw: str | None, what: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdecimal() or len(raw) > 12:
        raise InvalidPayload(f"{what} is a number", code="invalid_payload")
    return int(raw)


def _format(request: web.Request) -> str:
    fmt = request.query.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidPayload(f"format is one of {', '.join(FORMATS)}", code="invalid_payload")
    return fmt


async def _writing(request: web.Request) -> ConsultantInfo:
    desk = request.app[DESK_KEY]
    if not console_origin_ok(desk, request):
        raise Forbidden("use the console on the desk itself", code="origin_not_allowed")
    return await _staff(request)


# -- who reports on what ---------------------------------------------------------------------


async def _subject(
    request: web.Request, who: ConsultantInfo, kind: str, raw_id: str | None
) -> tuple[int, dict[str, Any]]:
    desk = request.app[DESK_KEY]
    if kind == "alliance":
        return 0, {"name": "全国图书馆参考咨询联盟", "name_en": "The alliance"}
    async with desk.reads() as s:
        if kind == "library":
            lib = None
            if raw_id and not raw_id.isdecimal():
                lib = await s.scalar(select(Library).where(Library.code == raw_id[:32]))
            else:
                lib = await s.get(Library, _int(raw_id, "id") or who.library_id)
            if lib is None:
                raise NotFound("no such library", code="library_not_found")
            if who.role != "admin" and lib.id != who.library_id:
                raise Forbidden("another library's report is for admins", code="forbidden")
            return lib.id, {
                "id": lib.id,
                "code": lib.code,
                "name": lib.name,
                "name_en": lib.name_en,
            }
        if kind == "consultant":
            c = await s.get(Consultant, _int(raw_id, "id") or who.id)
            if c is None:
                raise NotFound("no such consultant", code="consultant_not_found")
            if not certificates.may_see_consultant(who, c):
                raise Forbidden("a colleague's report is for supervisors", code="forbidden")
            return c.id, {
                "id": c.id,
                "username": c.username,
                "name": c.display_name,
                "library_id": c.library_id,
            }
    raise InvalidPayload("scope is alliance, library or consultant", code="invalid_payload")


# -- exports ---------------------------------------------------------------------------------


def _safe(v: Any) -> Any:
    """A value for a spreadsheet: text that a spreadsheet would run as a formula is quoted."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


def _headers(columns: tuple[tuple[str, str, str], ...], first: list[str]) -> list[str]:
    return [*first, *(f"{zh} {en}" for _, zh, en in columns)]


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> web.Response:
    buf = io.StringIO()
    buf.write("\ufeff")  # so spreadsheet programs read the Chinese as UTF-8
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([_safe(v) for v in r])
    return web.Response(
        body=buf.getvalue().encode(),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _xlsx(
    name: str,
    title: str,
    header: list[str],
    rows: list[list[Any]],
    chart: list[int] | None,
    *,
    total_row: bool = False,
) -> web.Response:
    """A workbook of ``rows`` under ``header``; ``chart``: the columns to draw per row (the
    total row, when there is one, is not drawn)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("report")
    bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    ws.write_row(0, 0, [title], wb.add_format({"bold": True, "font_size": 13}))
    ws.write_row(2, 0, header, bold)
    for i, r in enumerate(rows):
        # Strings are never turned into formulas here (strings_to_formulas off): no quoting.
        ws.write_row(3 + i, 0, ["" if v is None else v for v in r])
    ws.set_column(0, 0, 18)
    ws.set_column(1, len(header), 12)
    ws.freeze_panes(3, 1)
    drawn = len(rows) - (1 if total_row else 0)
    if chart and drawn > 0:
        c = wb.add_chart({"type": "column"})
        for col in chart:
            c.add_series(
                {
                    "name": ["report", 2, col],
                    "categories": ["report", 3, 0, 2 + drawn, 0],
                    "values": ["report", 3, col, 2 + drawn, col],
                }
            )
        c.set_size({"width": 760, "height": 320})
        ws.insert_chart(4 + len(rows), 0, c)
    wb.close()
    return web.Response(
        body=buf.getvalue(),
        headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f'attachment; filename="{name}.xlsx"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


# -- reports ---------------------------------------------------------------------------------


async def report(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    q = request.query
    kind = q.get("scope", "consultant")
    grain = q.get("grain", "month")
    fmt = _format(request)
    first, last = _range(request)
    reports.periods(first, last, grain)  # the range's checks, before any reading
    key, subject = await _subject(request, who, kind, q.get("id"))
    async with desk.reads() as s:
        rows, total = await reports.subject_series(s, kind, key, first, last, grain)
    columns = reports.COLUMNS[kind]
    if fmt == "json":
        return web.json_response(
            {
                "ok": True,
                "scope": kind,
                "subject": subject,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "grain": grain,
                "timezone": desk.settings.report_timezone,
                "columns": [{"key": k, "zh-CN": zh, "en": en} for k, zh, en in columns],
                "rows": rows,
                "total": total,
            }
        )
    name = f"report-{kind}-{subject.get('code') or subject.get('username') or key}-{first}-{last}"
    header = _headers(columns, ["时段 Period"])
    lines = [[r["period"], *(r.get(k) for k, _, _ in columns)] for r in rows]
    lines.append(["合计 Total", *(total.get(k) for k, _, _ in columns)])
    if fmt == "csv":
        return _csv(name, header, lines)
    title = f"{subject.get('name', '')} {first} – {last}"
    chart = [1 + i for i, (k, _, _) in enumerate(columns) if k in ("served", "documents")]
    return _xlsx(name, title, header, lines, chart if len(rows) > 1 else None, total_row=True)


async def table(request: web.Request) -> web.Response:
    """Every consultant (of a library, or all) or every library over a range: the ranking."""
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    q = request.query
    kind = q.get("kind", "consultant")
    fmt = _format(request)
    first, last = _range(request)
    if kind not in ("consultant", "library"):
        raise InvalidPayload("kind is consultant or library", code="invalid_payload")
    if who.role not in ("supervisor", "admin"):
        raise Forbidden("tables are for supervisors", code="forbidden")
    sort = q.get("sort", "served")
    columns = reports.COLUMNS[kind]
    if sort not in {k for k, _, _ in columns}:
        raise InvalidPayload("sort by one of the table's columns", code="invalid_payload")
    async with desk.reads() as s:
        if kind == "consultant":
            lib_code = q.get("library")
            stmt = select(Consultant.id, Consultant.display_name, Consultant.username, Library.code)
            stmt = stmt.join(Library, Library.id == Consultant.library_id)
            if who.role != "admin":
                stmt = stmt.where(Consultant.library_id == who.library_id)
            elif lib_code:
                stmt = stmt.where(Library.code == lib_code[:32])
            names = {cid: (name, user, code) for cid, name, user, code in await s.execute(stmt)}
            keys: list[int] | None = list(names) if (who.role != "admin" or lib_code) else None
        else:
            names = {
                lid: (name, code, code)
                for lid, name, code in await s.execute(
                    select(Library.id, Library.name, Library.code)
                )
            }
            keys = None
        got = await reports.table(s, kind, keys, first, last)
    items = [
        {"id": k, "name": names[k][0], "code": names[k][1], "library": names[k][2], **fig}
        for k, fig in got.items()
        if k in names
    ]
    # Times are best small, everything else large: either way the best come first.
    smaller_first = sort.startswith(("wait_", "reply_", "duration_"))
    items.sort(
        key=lambda r: (
            (r.get(sort) is None, r.get(sort) or 0)
            if smaller_first
            else (-(r.get(sort) or 0), False),
            r["name"],
        )
    )
    if fmt == "json":
        return web.json_response(
            {
                "ok": True,
                "kind": kind,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "timezone": desk.settings.report_timezone,
                "columns": [{"key": k, "zh-CN": zh, "en": en} for k, zh, en in columns],
                "rows": items,
            }
        )
    first_cols = (
        ["姓名 Name", "用户名 Username", "馆 Library"]
        if kind == "consultant"
        else [
            "馆名 Name",
            "代码 Code",
        ]
    )
    header = _headers(columns, first_cols)
    lines = [
        ([r["name"], r["code"], r["library"]] if kind == "consultant" else [r["name"], r["code"]])
        + [r.get(k) for k, _, _ in columns]
        for r in items
    ]
    name = f"table-{kind}-{first}-{last}"
    if fmt == "csv":
        return _csv(name, header, lines)
    return _xlsx(name, f"{first} – {last}", header, lines, None)


async def subjects(request: web.Request) -> web.Response:
    """What the signed-in person may report on, for the console's pickers."""
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        libs = select(Library.id, Library.code, Library.name, Library.name_en)
        people = select(Consultant.id, Consultant.display_name, Consultant.username, Library.code)
        people = people.join(Library, Library.id == Consultant.library_id)
        if who.role != "admin":
            libs = libs.where(Library.id == who.library_id)
            people = people.where(
                Consultant.library_id == who.library_id
                if who.role == "supervisor"
                else Consultant.id == who.id
            )
        library_rows = (await s.execute(libs.order_by(Library.code))).all()
        people_rows = (await s.execute(people.order_by(Library.code, Consultant.username))).all()
    return web.json_response(
        {
            "ok": True,
            "today": today(desk).isoformat(),
            "timezone": desk.settings.report_timezone,
            "tables": who.role in ("supervisor", "admin"),
            "dashboard": who.role in ("supervisor", "admin"),
            "inspector": grading.may_grade(who),
            "libraries": [
                {"id": i, "code": c, "name": n, "name_en": ne} for i, c, n, ne in library_rows
            ],
            "consultants": [
                {"id": i, "name": n, "username": u, "library": c} for i, n, u, c in people_rows
            ],
        }
    )


async def _display_names(s: Any, ids: set[int | None]) -> dict[int, str]:
    """The display names of the consultants ``ids`` names (None left out)."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = await s.execute(
        select(Consultant.id, Consultant.display_name).where(Consultant.id.in_(wanted))
    )
    return {i: n for i, n in rows}


# -- grading ---------------------------------------------------------------------------------


class GradeBody(_Body):
    target: Literal["consultation", "ticket"]
    target_id: int = Field(ge=1, le=2**62)
    grade: Literal["excellent", "pass", "fail"]
    criteria: list[str] = Field(default_factory=list, max_length=20)
    comment: str = Field("", max_length=2000)


async def checklist(request: web.Request) -> web.Response:
    await _staff(request)
    return web.json_response({"ok": True, **criteria.checklist()})


async def give_grade(request: web.Request) -> web.Response:
    who = await _writing(request)
    body: GradeBody = await _json(request, GradeBody)
    got = await grading.grade_work(
        request.app[DESK_KEY],
        who,
        target=body.target,
        target_id=body.target_id,
        grade=body.grade,
        criteria=body.criteria,
        comment=body.comment,
    )
    return web.json_response(
        {"ok": True, "grade": grading.grade_json(got.grade), "revision": got.revision}
    )


async def list_grades(request: web.Request) -> web.Response:
    """Grades: a consultant sees theirs, a supervisor their library's, inspectors and admins
    all."""
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    q = request.query
    first, last = _range(request)
    stmt = select(Grade).where(Grade.day >= first.isoformat(), Grade.day <= last.isoformat())
    if not (grading.may_grade(who) or who.role == "admin"):
        if who.role == "supervisor":
            stmt = stmt.where(
                or_(
                    Grade.library_id == who.library_id,
                    Grade.consultant_id.in_(
                        select(Consultant.id).where(Consultant.library_id == who.library_id)
                    ),
                )
            )
        else:
            stmt = stmt.where(Grade.consultant_id == who.id)
    if (cid := _int(q.get("consultant"), "consultant")) is not None:
        stmt = stmt.where(Grade.consultant_id == cid)
    if q.get("grade"):
        stmt = stmt.where(Grade.grade == q["grade"][:16])
    if q.get("target"):
        stmt = stmt.where(Grade.target == q["target"][:16])
    if q.get("all") != "1":
        stmt = stmt.where(Grade.current.is_(True))
    if (before := _int(q.get("before_id"), "before_id")) is not None:
        stmt = stmt.where(Grade.id < before)
    limit = min(_int(q.get("limit"), "limit") or 100, 500)
    async with desk.reads() as s:
        found = (await s.scalars(stmt.order_by(Grade.id.desc()).limit(limit))).all()
        ids = {g.consultant_id for g in found} | {g.inspector_id for g in found}
        people = await _display_names(s, ids)
    return web.json_response(
        {
            "ok": True,
            "grades": [grading.grade_json(g, people) for g in found],
            "more": len(found) == limit,
        }
    )


async def candidates(request: web.Request) -> web.Response:
    """Work to spot-check (抽查): finished chats or answered tickets, by library and period,
    ungraded first; ``sample=1`` in random order."""
    who = await _staff(request)
    grading.require_inspector(who)
    desk = request.app[DESK_KEY]
    q = request.query
    target = q.get("target", "consultation")
    first, last = _range(request)
    limit = min(_int(q.get("limit"), "limit") or 50, 200)
    graded = q.get("graded", "0")
    lib_code = q.get("library")
    async with desk.reads() as s:
        lib_id = None
        if lib_code:
            lib_id = await s.scalar(select(Library.id).where(Library.code == lib_code[:32]))
            if lib_id is None:
                raise NotFound("no such library", code="library_not_found")
        out: list[dict[str, Any]] = []
        if target == "consultation":
            stmt = (
                select(ConsultationFact, func.substr(TranscriptDoc.text, 1, 160))
                .outerjoin(
                    TranscriptDoc,
                    TranscriptDoc.consultation_id == ConsultationFact.consultation_id,
                )
                .where(
                    ConsultationFact.day >= first.isoformat(),
                    ConsultationFact.day <= last.isoformat(),
                    ConsultationFact.outcome.is_not(None),
                    ConsultationFact.consultant_id.is_not(None),
                    ConsultationFact.consultant_id != who.id,
                )
            )
            if lib_id is not None:
                stmt = stmt.where(ConsultationFact.serving_library_id == lib_id)
            if graded == "0":
                stmt = stmt.where(ConsultationFact.grade.is_(None))
            elif graded == "1":
                stmt = stmt.where(ConsultationFact.grade.is_not(None))
            order = func.random() if q.get("sample") == "1" else ConsultationFact.opened_at.desc()
            for f, preview in await s.execute(stmt.order_by(order).limit(limit)):
                out.append(
                    {
                        "target": "consultation",
                        "id": f.consultation_id,
                        "day": f.day,
                        "consultant_id": f.consultant_id,
                        "library_id": f.serving_library_id,
                        "outcome": f.outcome,
                        "rating": f.rating,
                        "documents": f.documents,
                        "grade": f.grade,
                        "preview": preview or "",
                    }
                )
        elif target == "ticket":
            current = and_(
                Grade.target == "ticket", Grade.target_id == Ticket.id, Grade.current.is_(True)
            )
            stmt2 = (
                select(Ticket, Grade.grade, Consultant.library_id)
                .join(Consultant, Consultant.id == Ticket.answered_by)
                .outerjoin(Grade, current)
                .where(
                    Ticket.answered_at.is_not(None),
                    Ticket.answered_by != who.id,
                    Ticket.state == "answered",
                )
            )
            zone_first, zone_last = _bounds(desk, first, last)
            stmt2 = stmt2.where(Ticket.answered_at >= zone_first, Ticket.answered_at < zone_last)
            if lib_id is not None:
                stmt2 = stmt2.where(Consultant.library_id == lib_id)
            if graded == "0":
                stmt2 = stmt2.where(Grade.id.is_(None))
            elif graded == "1":
                stmt2 = stmt2.where(Grade.id.is_not(None))
            order2 = func.random() if q.get("sample") == "1" else Ticket.answered_at.desc()
            docs = (
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.ticket_id == Ticket.id)
                .scalar_subquery()
            )
            found = await s.execute(stmt2.add_columns(docs).order_by(order2).limit(limit))
            for t, g, lid, documents in found:
                out.append(
                    {
                        "target": "ticket",
                        "id": t.id,
                        "kind": t.kind,
                        "answer_kind": t.answer_kind,
                        "consultant_id": t.answered_by,
                        "library_id": lid,
                        "submitted_at": t.submitted_at.isoformat(),
                        "answered_at": t.answered_at.isoformat() if t.answered_at else None,
                        "state": t.state,
                        "grade": g,
                        "documents": documents,
                        "preview": t.question[:160],
                    }
                )
        else:
            raise InvalidPayload("target is consultation or ticket", code="invalid_payload")
        ids = {c["consultant_id"] for c in out}
        people = await _display_names(s, ids)
    for c in out:
        c["consultant"] = people.get(c["consultant_id"], "")
    return web.json_response({"ok": True, "candidates": out})


def _bounds(desk: Any, first: date, last: date) -> tuple[Any, Any]:
    from zoneinfo import ZoneInfo

    from stats.rollup import day_bounds

    zone = ZoneInfo(desk.settings.report_timezone)
    return day_bounds(zone, first)[0], day_bounds(zone, last)[1]


async def consultation_grades(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    raw = request.match_info["id"]
    if not raw.isdecimal() or len(raw) > 18:
        raise NotFound("no such consultation", code="consultation_not_found")
    cid = int(raw)
    async with desk.reads() as s:
        fact = await s.get(ConsultationFact, cid)
    if fact is None:
        raise NotFound("no such consultation", code="consultation_not_found")
    mine = fact.consultant_id == who.id
    if not (mine or grading.may_grade(who) or who.role in ("supervisor", "admin")):
        raise Forbidden("not your chat", code="forbidden")
    outside = who.library_id not in (fact.library_id, fact.serving_library_id)
    if who.role == "supervisor" and not mine and not grading.may_grade(who) and outside:
        raise NotFound("no such consultation", code="consultation_not_found")
    return web.json_response(
        {
            "ok": True,
            "grades": await grading.grades_of(desk, "consultation", cid),
            "rating": fact.rating,
            "rating_comment": fact.rating_comment,
        }
    )


# -- certificates ----------------------------------------------------------------------------


class CertificateBody(_Body):
    subject: Literal["consultant", "library"] = "consultant"
    id: int | None = Field(None, ge=1, le=2**62)
    start: date = Field(alias="from")
    end: date = Field(alias="to")


async def issue_certificate(request: web.Request) -> web.Response:
    who = await _writing(request)
    body: CertificateBody = await _json(request, CertificateBody)
    cert = await certificates.issue(
        request.app[DESK_KEY],
        who,
        subject=body.subject,
        subject_id=body.id,
        first=body.start,
        last=body.end,
    )
    return web.json_response({"ok": True, "certificate": certificates.cert_json(cert)})


async def list_certificates(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    stmt = select(Certificate)
    if who.role == "supervisor":
        stmt = stmt.where(
            or_(
                and_(Certificate.subject == "library", Certificate.subject_id == who.library_id),
                and_(
                    Certificate.subject == "consultant",
                    Certificate.subject_id.in_(
                        select(Consultant.id).where(Consultant.library_id == who.library_id)
                    ),
                ),
            )
        )
    elif who.role != "admin":
        stmt = stmt.where(Certificate.subject == "consultant", Certificate.subject_id == who.id)
    async with desk.reads() as s:
        found = (await s.scalars(stmt.order_by(Certificate.id.desc()).limit(200))).all()
    return web.json_response(
        {"ok": True, "certificates": [certificates.cert_json(c) for c in found]}
    )


async def revoke_certificate(request: web.Request) -> web.Response:
    who = await _writing(request)
    desk = request.app[DESK_KEY]
    cid = _int(request.match_info["id"], "id")
    async with desk.sessions.begin() as s:
        cert = await s.get(Certificate, cid or 0, with_for_update=True)
        if cert is None:
            raise NotFound("no such certificate", code="certificate_not_found")
        ours = cert.subject == "library" and cert.subject_id == who.library_id
        if cert.subject == "consultant":
            owner_lib = await s.scalar(
                select(Consultant.library_id).where(Consultant.id == cert.subject_id)
            )
            ours = owner_lib == who.library_id
        if not (who.role == "admin" or (who.role == "supervisor" and ours)):
            raise Forbidden("revoking is for supervisors and admins", code="forbidden")
        if cert.revoked_at is None:
            from datetime import UTC, datetime

            cert.revoked_at = datetime.fromtimestamp(desk.clock.now(), UTC)
        out = certificates.cert_json(cert)
    return web.json_response({"ok": True, "certificate": out})


_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


async def verify_page(request: web.Request) -> web.Response:
    """The public check of a certificate: ``/verify/{code}``, or ``/verify?code=``."""
    desk = request.app[DESK_KEY]
    lang = certificates._lang(request.query.get("lang") or request.headers.get("Accept-Language"))
    raw = request.match_info.get("code") or request.query.get("code", "")
    raw = raw[:64]
    cert = await certificates.by_code(desk, raw) if raw else None
    status = 404 if raw and cert is None else 200
    return web.Response(
        text=certificates.page(
            cert,
            lang=lang,
            base_url=desk.settings.origin(),
            code=raw,
            zone=desk.settings.report_timezone,
        ),
        content_type="text/html",
        status=status,
        headers=_PAGE_HEADERS,
    )


def add_stats_routes(app: web.Application) -> None:
    add_rating_routes(app)
    app.router.add_get("/api/stats/report", report)
    app.router.add_get("/api/stats/table", table)
    app.router.add_get("/api/stats/subjects", subjects)
    app.router.add_get("/api/grading/checklist", checklist)
    app.router.add_get("/api/grading/candidates", candidates)
    app.router.add_get("/api/grades", list_grades)
    app.router.add_post("/api/grades", give_grade)
    app.router.add_get("/api/consultations/{id}/grades", consultation_grades)
    app.router.add_get("/api/certificates", list_certificates)
    app.router.add_post("/api/certificates", issue_certificate)
    app.router.add_post("/api/certificates/{id}/revoke", revoke_certificate)
    app.router.add_get("/verify", verify_page)
    app.router.add_get("/verify/{code}", verify_page)

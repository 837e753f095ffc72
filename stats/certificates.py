"""Certificates of work (加盟协议, rights 3 and 4: proof of the number and quality of the
consultations a consultant or a library answered and the documents delivered, for appraisal
and promotion). The figures are taken from the roll-ups when the certificate is issued and
kept with it; a verification code, shown on the printed page, lets anyone confirm it at
``/verify/{code}``.

Who issues: a consultant their own; a library supervisor their library's and its
consultants'; an admin anyone's. A supervisor or admin may revoke one (the page then says so).
"""

from __future__ import annotations

import html
import secrets
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from desk.context import Desk
from desk.directory import ConsultantInfo
from desk.errors import Forbidden, InvalidPayload, NotFound
from desk.models import Consultant, Library
from stats import reports
from stats.models import Certificate
from stats.rollup import today

#: Code alphabet: no 0/O, 1/I/L, so a code read off paper is typed right.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_GROUPS = 4

FIGURES = (
    "served",
    "documents",
    "tickets_answered",
    "satisfied",
    "unsatisfied",
    "satisfaction",
    "excellent",
    "passed",
    "failed",
    "pass_rate",
)


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_GROUPS * 4))
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_code(raw: str) -> str:
    clean = "".join(ch for ch in raw.upper() if ch.isalnum())
    return "-".join(clean[i : i + 4] for i in range(0, len(clean), 4))


def may_see_consultant(who: ConsultantInfo, c: Consultant) -> bool:
    """A consultant's figures: their own, their library's supervisors', admins'."""
    return (
        who.role == "admin"
        or c.id == who.id
        or (who.role == "supervisor" and c.library_id == who.library_id)
    )


async def _subject(desk: Desk, who: ConsultantInfo, subject: str, subject_id: int | None) -> Any:
    async with desk.reads() as s:
        if subject == "consultant":
            cid = subject_id or who.id
            c = await s.get(Consultant, cid)
            if c is None:
                raise NotFound("no such consultant", code="consultant_not_found")
            if not may_see_consultant(who, c):
                raise Forbidden("not yours to certify", code="forbidden")
            lib = await s.get(Library, c.library_id)
            return c.id, {
                "name": c.display_name,
                "username": c.username,
                "library": lib.name if lib else "",
                "library_en": lib.name_en if lib else "",
            }
        if subject == "library":
            lid = subject_id or who.library_id
            lib = await s.get(Library, lid)
            if lib is None:
                raise NotFound("no such library", code="library_not_found")
            if not (who.role == "admin" or (who.role == "supervisor" and lid == who.library_id)):
                raise Forbidden("a library's certificate is for its supervisors", code="forbidden")
            return lib.id, {"name": lib.name, "name_en": lib.name_en, "code": lib.code}
    raise InvalidPayload("subject is consultant or library", code="invalid_payload")


async def issue(
    desk: Desk,
    who: ConsultantInfo,
    *,
    subject: str,
    subject_id: int | None,
    first: date,
    last: date,
) -> Certificate:
    if last < first:
        raise InvalidPayload("the period ends before it starts", code="invalid_payload")
    if first.year < 2000:
        raise InvalidPayload("the period starts in 2000 or later", code="invalid_payload")
    # Today is not over either: its figures would be fixed half-way through the day.
    if last >= today(desk):
        raise InvalidPayload("a certificate covers days that are over", code="period_not_over")
    key, names = await _subject(desk, who, subject, subject_id)
    async with desk.reads() as s:
        got = await reports.table(s, subject, [key], first, last)
    row = got.get(key) or await _empty(desk, subject, key, first, last)
    figures = {k: row.get(k) for k in FIGURES}
    figures["subject"] = names
    async with desk.sessions.begin() as s:
        cert = Certificate(
            code=new_code(),
            subject=subject,
            subject_id=key,
            period_from=first.isoformat(),
            period_to=last.isoformat(),
            figures=figures,
            issued_by=who.id,
            issued_at=datetime.fromtimestamp(desk.clock.now(), UTC),
        )
        s.add(cert)
    return cert


async def _empty(desk: Desk, subject: str, key: int, first: date, last: date) -> dict[str, Any]:
    from stats.figures import Figures

    f = Figures().summary()
    if subject == "library":
        return reports.library_summary(Figures(), Figures())
    return f


def cert_json(c: Certificate) -> dict[str, Any]:
    return {
        "id": c.id,
        "code": c.code,
        "subject": c.subject,
        "subject_id": c.subject_id,
        "from": c.period_from,
        "to": c.period_to,
        "figures": c.figures,
        "issued_at": c.issued_at.isoformat(),
        "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
        "url": f"/verify/{c.code}",
    }


async def by_code(desk: Desk, raw: str) -> Certificate | None:
    code = normalise_code(raw)
    if len(code) != CODE_GROUPS * 5 - 1:
        return None
    async with desk.reads() as s:
        found: Certificate | None = await s.scalar(
            select(Certificate).where(Certificate.code == code)
        )
    return found


def _pct(v: Any) -> str:
    return "—" if v is None else f"{float(v) * 100:.1f}%"


def _n(v: Any) -> str:
    return "—" if v is None else str(v)


_WORDS = {
    "zh-CN": {
        "title": "全国图书馆参考咨询联盟 · 咨询服务证明",
        "consultant": "咨询员",
        "library": "成员馆",
        "period": "证明期间",
        "served": "接待实时咨询",
        "documents": "传递文献",
        "tickets_answered": "回复表单咨询",
        "satisfaction": "读者满意率",
        "rated": "（{s} 满意 / {u} 不满意）",
        "grades": "质检结果",
        "grade_line": "优秀 {e} · 合格 {p} · 不合格 {f}（合格率 {r}）",
        "issued": "签发日期",
        "code_label": "验证码",
        "verify": "在 {url} 输入验证码即可核实本证明。",
        "valid": "本证明有效。",
        "revoked": "本证明已于 {at} 撤销，不再有效。",
        "print": "打印本页即得纸质证明。",
        "unknown": "没有这个验证码的证明。请检查输入。",
        "lookup": "核实证明",
        "enter": "验证码",
        "check": "核实",
        "note": "数字来自联盟咨询台的服务记录，签发时确定，之后不再改变。",
    },
    "en": {
        "title": "National Library Reference Alliance · Certificate of consultation work",
        "consultant": "Consultant",
        "library": "Member library",
        "period": "Period",
        "served": "Live consultations served",
        "documents": "Documents delivered",
        "tickets_answered": "Form consultations answered",
        "satisfaction": "Reader satisfaction",
        "rated": " ({s} satisfied / {u} not satisfied)",
        "grades": "Quality inspection",
        "grade_line": "Excellent {e} · Pass {p} · Fail {f} (pass rate {r})",
        "issued": "Issued",
        "code_label": "Verification code",
        "verify": "Enter the code at {url} to verify this certificate.",
        "valid": "This certificate is valid.",
        "revoked": "This certificate was revoked on {at} and is no longer valid.",
        "print": "Print this page for a paper copy.",
        "unknown": "No certificate has this code. Please check it.",
        "lookup": "Verify a certificate",
        "enter": "Verification code",
        "check": "Verify",
        "note": "The figures come from the alliance desk's service records, fixed when issued.",
    },
}

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:0;
background:#f3f4f6;color:#111827}
main{max-width:46rem;margin:2rem auto;background:#fff;padding:2.5rem 3rem;
border:1px solid #d1d5db}
h1{font-size:1.4rem;text-align:center;margin:0 0 1.5rem}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.5rem 1rem;margin:1.5rem 0}
dt{color:#4b5563}dd{margin:0;font-weight:600}
.code{font-family:ui-monospace,monospace;font-size:1.2rem;letter-spacing:.1em}
.state{padding:.6rem 1rem;border-left:4px solid #15803d;background:#f0fdf4}
.state.revoked{border-color:#b91c1c;background:#fef2f2}
small{color:#4b5563}nav{text-align:right}
@media print{body{background:#fff}main{border:0;margin:0}nav{display:none}}
"""


def _lang(raw: str | None) -> str:
    return "en" if (raw or "").lower().startswith("en") else "zh-CN"


def page(
    c: Certificate | None, *, lang: str, base_url: str, code: str = "", zone: str = "UTC"
) -> str:
    """The certificate as a printable page, or the look-up form."""
    w = _WORDS[lang]
    e = html.escape
    other = "en" if lang == "zh-CN" else "zh-CN"
    switch = "English" if lang == "zh-CN" else "中文"
    head = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(w['title'])}</title><style>{_STYLE}</style></head><body><main>"
    )
    form = (
        f'<form method="get" action="/verify"><label>{e(w["enter"])} '
        f'<input name="code" value="{e(code)}" autocomplete="off" required></label> '
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit">{e(w["check"])}</button></form>'
    )
    if c is None:
        body = f"<h1>{e(w['lookup'])}</h1>"
        if code:
            body += f'<p class="state revoked" role="alert">{e(w["unknown"])}</p>'
        return head + body + form + "</main></body></html>"
    f = c.figures or {}
    names = f.get("subject") or {}
    if c.subject == "consultant":
        library = names.get("library_en") if lang == "en" else names.get("library")
        who = [
            (w["consultant"], str(names.get("name", ""))),
            (w["library"], str(library or names.get("library", ""))),
        ]
    else:
        name = names.get("name_en") if lang == "en" else names.get("name")
        who = [(w["library"], str(name or names.get("name", "")))]
    rows = [
        *who,
        (w["period"], f"{c.period_from} – {c.period_to}"),
        (w["served"], _n(f.get("served"))),
        (w["documents"], _n(f.get("documents"))),
        (w["tickets_answered"], _n(f.get("tickets_answered"))),
        (
            w["satisfaction"],
            _pct(f.get("satisfaction"))
            + w["rated"].format(s=_n(f.get("satisfied")), u=_n(f.get("unsatisfied"))),
        ),
        (
            w["grades"],
            w["grade_line"].format(
                e=_n(f.get("excellent")),
                p=_n(f.get("passed")),
                f=_n(f.get("failed")),
                r=_pct(f.get("pass_rate")),
            ),
        ),
        (w["issued"], c.issued_at.astimezone(ZoneInfo(zone)).date().isoformat()),
    ]
    state = (
        f'<p class="state revoked" role="status">'
        f"{e(w['revoked'].format(at=c.revoked_at.astimezone(ZoneInfo(zone)).date().isoformat()))}"
        "</p>"
        if c.revoked_at
        else f'<p class="state" role="status">{e(w["valid"])}</p>'
    )
    url = f"{base_url}/verify"
    return (
        head
        + f'<nav><a href="/verify/{e(c.code)}?lang={other}">{switch}</a></nav>'
        + f"<h1>{e(w['title'])}</h1>{state}<dl>"
        + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
        + f'<dt>{e(w["code_label"])}</dt><dd class="code">{e(c.code)}</dd></dl>'
        + f"<p><small>{e(w['note'])}</small></p>"
        + f"<p><small>{e(w['verify'].format(url=url))}</small></p>"
        + f"<nav><small>{e(w['print'])}</small></nav>"
        + "</main></body></html>"
    )

"""Reports read from the roll-ups: a subject's figures by day, week, month or year over a
range of days, and tables (every consultant, every library) over a range. Whole months in a
range are read from ``stats_monthly`` and the days at its edges from ``stats_daily``, so a year
costs a few hundred rows for one subject and about twelve per key for a table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.errors import InvalidPayload
from stats.figures import Figures
from stats.models import StatsDaily, StatsMonthly

GRAINS = ("day", "week", "month", "year", "total")
#: The longest range a report covers (a few years, by day at most 3700 rows per subject).
MAX_DAYS = 3700


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    first: date
    last: date


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def periods(first: date, last: date, grain: str) -> list[Period]:
    """The periods of ``grain`` covering [first, last], each clipped to the range."""
    if grain not in GRAINS:
        raise InvalidPayload(f"grain is one of {', '.join(GRAINS)}", code="invalid_payload")
    if last < first:
        raise InvalidPayload("the range ends before it starts", code="invalid_payload")
    if (last - first).days >= MAX_DAYS:
        raise InvalidPayload(f"a report covers at most {MAX_DAYS} days", code="invalid_payload")
    if grain == "total":
        return [Period(f"{first.isoformat()}/{last.isoformat()}", first, last)]
    out: list[Period] = []
    d = first
    while d <= last:
        if grain == "day":
            end, label = d, d.isoformat()
        elif grain == "week":
            end = d + timedelta(days=6 - d.weekday())
            iso = d.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
        elif grain == "month":
            end, label = _month_end(d), d.isoformat()[:7]
        else:
            end, label = date(d.year, 12, 31), str(d.year)
        end = min(end, last)
        out.append(Period(label, d, end))
        d = end + timedelta(days=1)
    return out


def _split(first: date, last: date) -> tuple[list[str], list[tuple[date, date]]]:
    """The whole months inside [first, last], and the day ranges left at its edges."""
    months: list[str] = []
    edges: list[tuple[date, date]] = []
    d = first
    while d <= last:
        end = _month_end(d)
        if d.day == 1 and end <= last:
            months.append(d.isoformat()[:7])
        else:
            edges.append((d, min(end, last)))
        d = end + timedelta(days=1)
    return months, edges


async def totals(
    s: AsyncSession,
    dim: str,
    keys: Sequence[int] | None,
    first: date,
    last: date,
) -> dict[int, Figures]:
    """Each key's figures summed over [first, last] (``keys`` None: every key of ``dim``)."""
    months, edges = _split(first, last)
    out: dict[int, Figures] = defaultdict(Figures)
    # Plain rows, not ORM objects: a table over a year reads some ten thousand of them.
    monthly, daily = StatsMonthly.__table__.c, StatsDaily.__table__.c
    if months:
        q = select(*monthly).where(monthly.dim == dim, monthly.month.in_(months))
        if keys is not None:
            q = q.where(monthly.key.in_(keys))
        for row in await s.execute(q):
            out[row.key].add(row)
    for a, b in edges:
        q2 = select(*daily).where(
            daily.dim == dim, daily.day >= a.isoformat(), daily.day <= b.isoformat()
        )
        if keys is not None:
            q2 = q2.where(daily.key.in_(keys))
        for r in await s.execute(q2):
            out[r.key].add(r)
    return dict(out)


async def series(
    s: AsyncSession, dim: str, key: int, first: date, last: date, grain: str
) -> list[tuple[Period, Figures]]:
    """One subject's figures per period of ``grain``."""
    ps = periods(first, last, grain)
    if grain in ("day", "week"):
        by_day: dict[str, StatsDaily] = {
            r.day: r
            for r in (
                await s.scalars(
                    select(StatsDaily).where(
                        StatsDaily.dim == dim,
                        StatsDaily.key == key,
                        StatsDaily.day >= first.isoformat(),
                        StatsDaily.day <= last.isoformat(),
                    )
                )
            ).all()
        }
        out: list[tuple[Period, Figures]] = []
        for p in ps:
            f = Figures()
            d = p.first
            while d <= p.last:
                row = by_day.get(d.isoformat())
                if row is not None:
                    f.add(row)
                d += timedelta(days=1)
            out.append((p, f))
        return out
    return [(p, (await totals(s, dim, [key], p.first, p.last)).get(key, Figures())) for p in ps]


# -- what a report shows, per subject -------------------------------------------------------

#: Columns of a report row, per subject kind: (name, label zh-CN, label en).
ALLIANCE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("consultations", "咨询总数", "Consultations"),
    ("served", "人工接待", "Served"),
    ("abandoned", "读者离开", "Abandoned"),
    ("handed_off", "转表单咨询", "Handed off"),
    ("transferred", "转接", "Transferred"),
    ("overflow", "跨馆接待", "Overflow"),
    ("documents", "传递文献", "Documents delivered"),
    ("tickets_answered", "表单咨询回复", "Backlog replies"),
    ("wait_p50", "等待中位数(秒)", "Wait median (s)"),
    ("wait_p90", "等待90%(秒)", "Wait p90 (s)"),
    ("reply_p50", "首次回复中位数(秒)", "First reply median (s)"),
    ("reply_p90", "首次回复90%(秒)", "First reply p90 (s)"),
    ("duration_mean", "平均时长(秒)", "Mean duration (s)"),
    ("satisfied", "满意", "Satisfied"),
    ("unsatisfied", "不满意", "Not satisfied"),
    ("satisfaction", "满意率", "Satisfaction"),
    ("excellent", "优秀", "Excellent"),
    ("passed", "合格", "Pass"),
    ("failed", "不合格", "Fail"),
)
CONSULTANT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("served", "接待咨询", "Consultations served"),
    ("documents", "传递文献", "Documents delivered"),
    ("tickets_answered", "表单咨询回复", "Backlog replies"),
    ("handed_off", "转表单咨询", "Handed off"),
    ("transferred", "转接", "Transferred"),
    ("overflow", "为他馆接待", "Overflow given"),
    ("wait_p50", "等待中位数(秒)", "Wait median (s)"),
    ("wait_p90", "等待90%(秒)", "Wait p90 (s)"),
    ("reply_p50", "首次回复中位数(秒)", "First reply median (s)"),
    ("reply_p90", "首次回复90%(秒)", "First reply p90 (s)"),
    ("duration_mean", "平均时长(秒)", "Mean duration (s)"),
    ("satisfied", "满意", "Satisfied"),
    ("unsatisfied", "不满意", "Not satisfied"),
    ("satisfaction", "满意率", "Satisfaction"),
    ("excellent", "优秀", "Excellent"),
    ("passed", "合格", "Pass"),
    ("failed", "不合格", "Fail"),
)
LIBRARY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("served", "本馆接待", "Consultations served"),
    ("documents", "传递文献", "Documents delivered"),
    ("tickets_answered", "表单咨询回复", "Backlog replies"),
    ("overflow_given", "为他馆接待", "Overflow given"),
    ("readers_consultations", "本馆读者咨询", "Own readers' consultations"),
    ("overflow_received", "他馆代为接待", "Overflow received"),
    ("abandoned", "读者离开", "Abandoned"),
    ("handed_off", "转表单咨询", "Handed off"),
    ("wait_p50", "读者等待中位数(秒)", "Readers' wait median (s)"),
    ("wait_p90", "读者等待90%(秒)", "Readers' wait p90 (s)"),
    ("reply_p50", "首次回复中位数(秒)", "First reply median (s)"),
    ("reply_p90", "首次回复90%(秒)", "First reply p90 (s)"),
    ("satisfied", "满意", "Satisfied"),
    ("unsatisfied", "不满意", "Not satisfied"),
    ("satisfaction", "满意率", "Satisfaction"),
    ("excellent", "优秀", "Excellent"),
    ("passed", "合格", "Pass"),
    ("failed", "不合格", "Fail"),
)
COLUMNS = {
    "alliance": ALLIANCE_COLUMNS,
    "consultant": CONSULTANT_COLUMNS,
    "library": LIBRARY_COLUMNS,
}


def library_summary(served: Figures, readers: Figures) -> dict[str, Any]:
    """A library's row: the work it did (as the serving library) and what its readers got
    (as the origin library: their waits, their chats others served)."""
    mine = served.summary()
    theirs = readers.summary()
    return {
        "served": mine["served"],
        "documents": mine["documents"],
        "tickets_answered": mine["tickets_answered"],
        "overflow_given": mine["overflow"],
        "readers_consultations": theirs["consultations"],
        "overflow_received": theirs["overflow"],
        "abandoned": theirs["abandoned"],
        "handed_off": theirs["handed_off"],
        "wait_p50": theirs["wait_p50"],
        "wait_p90": theirs["wait_p90"],
        "reply_p50": mine["reply_p50"],
        "reply_p90": mine["reply_p90"],
        "duration_mean": mine["duration_mean"],
        "satisfied": mine["satisfied"],
        "unsatisfied": mine["unsatisfied"],
        "satisfaction": mine["satisfaction"],
        "excellent": mine["excellent"],
        "passed": mine["passed"],
        "failed": mine["failed"],
        "excellent_rate": mine["excellent_rate"],
        "pass_rate": mine["pass_rate"],
    }


async def subject_series(
    s: AsyncSession, kind: str, key: int, first: date, last: date, grain: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A report's rows (one per period) and its total, for ``kind`` alliance, consultant or
    library."""
    if kind == "library":
        served = await series(s, "serving", key, first, last, grain)
        readers = await series(s, "origin", key, first, last, grain)
        rows = [
            {"period": p.label, "from": p.first.isoformat(), "to": p.last.isoformat()}
            | library_summary(a, b)
            for (p, a), (_, b) in zip(served, readers, strict=True)
        ]
        total_a, total_b = Figures(), Figures()
        for (_, a), (_, b) in zip(served, readers, strict=True):
            total_a.add(a)
            total_b.add(b)
        return rows, library_summary(total_a, total_b)
    dim, k = ("alliance", 0) if kind == "alliance" else ("consultant", key)
    got = await series(s, dim, k, first, last, grain)
    total = Figures()
    for _, f in got:
        total.add(f)
    rows = [
        {"period": p.label, "from": p.first.isoformat(), "to": p.last.isoformat()} | f.summary()
        for p, f in got
    ]
    return rows, total.summary()


async def table(
    s: AsyncSession, kind: str, keys: Iterable[int] | None, first: date, last: date
) -> dict[int, dict[str, Any]]:
    """Every key's total over the range: consultants, or libraries."""
    periods(first, last, "total")  # the range's checks
    ks = list(keys) if keys is not None else None
    if kind == "library":
        served = await totals(s, "serving", ks, first, last)
        readers = await totals(s, "origin", ks, first, last)
        return {
            k: library_summary(served.get(k, Figures()), readers.get(k, Figures()))
            for k in set(served) | set(readers)
        }
    got = await totals(s, "consultant", ks, first, last)
    return {k: f.summary() for k, f in got.items()}

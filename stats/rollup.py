"""The roll-up job: each day's facts, delivered documents, answered tickets and grades become a
few rows per consultant and library in ``stats_daily``, and the month's ``stats_monthly`` rows
follow by difference, so a report over a year reads at most a few hundred rows however many
consultations it covers.

A day is rebuilt whole from its records (never incremented event by event), so a rebuild is
always right however often it runs: the job (once across nodes) rebuilds today and yesterday
on every run, and any older day something marked dirty (a late rating or grade, a chat that
ended after midnight).

Dimensions: ``alliance`` (key 0), ``consultant`` (the one who served the chat in the end, who
answered the ticket, who delivered the document), ``serving`` (the library the work was done
for: the consultant's) and ``origin`` (the readers' library).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.context import Desk
from desk.db import stream_rows
from desk.models import Consultant, LedgerEntry, Ticket
from stats.figures import Figures
from stats.models import ConsultationFact, Grade, StatsDaily, StatsDirtyDay, StatsMonthly

log = logging.getLogger(__name__)

DIMS = ("alliance", "consultant", "serving", "origin")
#: The roll-up job runs this often (once across nodes); the live dashboard's "today" is at
#: most this old.
ROLLUP_SECONDS = 30.0
#: Dirty days rebuilt per run at most (a backfill of a year is spread over runs).
DIRTY_PER_RUN = 62

Key = tuple[str, int]
T = TypeVar("T")


def day_bounds(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The UTC instants a calendar day of the report time zone starts and ends."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def today(desk: Desk) -> date:
    return datetime.fromtimestamp(desk.clock.now(), ZoneInfo(desk.settings.report_timezone)).date()


async def _day_figures(s: AsyncSession, desk: Desk, day: date) -> dict[Key, Figures]:
    zone = ZoneInfo(desk.settings.report_timezone)
    start, end = day_bounds(zone, day)
    out: dict[Key, Figures] = defaultdict(Figures)

    def keys(consultant: int | None, serving: int | None, origin: int | None) -> Iterable[Key]:
        yield ("alliance", 0)
        if consultant is not None:
            yield ("consultant", consultant)
        if serving is not None:
            yield ("serving", serving)
        if origin is not None:
            yield ("origin", origin)

    # A busy day holds thousands of facts: they are read and counted a partition at a time,
    # with a turn for the chats between partitions.
    facts = select(
        ConsultationFact.consultant_id,
        ConsultationFact.serving_library_id,
        ConsultationFact.library_id,
        ConsultationFact.first_assigned_at,
        ConsultationFact.wait_seconds,
        ConsultationFact.first_reply_seconds,
        ConsultationFact.outcome,
        ConsultationFact.transfers,
        ConsultationFact.overflow,
        ConsultationFact.duration_seconds,
        ConsultationFact.reader_messages,
        ConsultationFact.consultant_messages,
        ConsultationFact.rating,
    ).where(ConsultationFact.day == day.isoformat())
    async for (
        consultant,
        serving,
        origin,
        assigned,
        wait,
        reply,
        outcome,
        transfers,
        overflow,
        duration,
        reader_msgs,
        consultant_msgs,
        rating,
    ) in stream_rows(s, facts, PARTITION):
        for k in keys(consultant, serving, origin):
            f = out[k]
            f.consultations += 1
            if assigned is not None:
                f.served += 1
            if outcome == "abandoned":
                f.abandoned += 1
            elif outcome == "handed_off":
                f.handed_off += 1
            if transfers:
                f.transferred += 1
            if overflow:
                f.overflow += 1
            if duration is not None:
                f.durations += 1
                f.duration_sum += float(duration)
            if wait is not None:
                f.count_wait(float(wait))
            if reply is not None:
                f.count_reply(float(reply))
            f.reader_messages += reader_msgs or 0
            f.consultant_messages += consultant_msgs or 0
            if rating == 1:
                f.satisfied += 1
            elif rating == 0:
                f.unsatisfied += 1

    documents = await s.execute(
        select(
            LedgerEntry.consultant_id,
            LedgerEntry.serving_library_id,
            LedgerEntry.origin_library_id,
            func.count(),
        )
        .where(
            LedgerEntry.direction == "to_reader",
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .group_by(
            LedgerEntry.consultant_id, LedgerEntry.serving_library_id, LedgerEntry.origin_library_id
        )
    )
    for consultant, serving, origin, n in documents:
        for k in keys(consultant, serving, origin):
            out[k].documents += n

    tickets = await s.execute(
        select(Ticket.answered_by, Consultant.library_id, Ticket.library_id, func.count())
        .join(Consultant, Consultant.id == Ticket.answered_by, isouter=True)
        .where(Ticket.answered_at >= start, Ticket.answered_at < end)
        .group_by(Ticket.answered_by, Consultant.library_id, Ticket.library_id)
    )
    for consultant, serving, origin, n in tickets:
        for k in keys(consultant, serving, origin):
            out[k].tickets_answered += n

    grades = await s.execute(
        select(Grade.consultant_id, Grade.library_id, Grade.grade, func.count())
        .where(Grade.day == day.isoformat(), Grade.current.is_(True))
        .group_by(Grade.consultant_id, Grade.library_id, Grade.grade)
    )
    for consultant, serving, grade, n in grades:
        for k in keys(consultant, serving, None):
            f = out[k]
            if grade == "excellent":
                f.excellent += n
            elif grade == "pass":
                f.passed += n
            elif grade == "fail":
                f.failed += n
    return {k: f for k, f in out.items() if not f.empty()}


#: Rows fetched or handled at a time before the job gives the event loop a turn: the job
#: shares its node's loop with the chats, and a day's thousands of facts or its row per
#: consultant and library handled in one go would hold every chat up for tens of
#: milliseconds (bench/rollup.py measures it).
PARTITION = 50
#: Rows written a statement at a time: the ORM's bulk statements take some 0.1 ms a row to
#: prepare, on the loop.
WRITE_PARTITION = 40


async def _turns(items: Iterable[T]) -> AsyncIterator[T]:
    """``items``, with a turn for the loop after every partition of them."""
    for i, item in enumerate(items, 1):
        yield item
        if i % PARTITION == 0:
            await asyncio.sleep(0)


def _load(row: Any) -> Figures:
    f = Figures()
    f.add(row)
    return f


async def rebuild_day(desk: Desk, day: date) -> int:
    """Rebuild one day's rows from its records, and move its month's rows by the
    difference; returns the rows written."""
    iso, month = day.isoformat(), day.isoformat()[:7]
    # Read first, outside the write: on SQLite the writers (chats) wait only for the short
    # write below, not for the reading of a day's records.
    async with desk.reads() as s:
        mark = await s.scalar(select(StatsDirtyDay.version).where(StatsDirtyDay.day == iso))
        new = await _day_figures(s, desk, day)
    new_columns = {k: f.columns() async for k, f in _turns(new.items())}
    async with desk.sessions.begin() as s:
        await _lock_month(s, desk, month)
        # Plain rows, not ORM objects: a day has a row per consultant and library.
        old = {
            (r.dim, r.key): _load(r)
            async for r in stream_rows(
                s, select(*StatsDaily.__table__.c).where(StatsDaily.day == iso), PARTITION
            )
        }
        # Only the rows whose figures changed are written (on a busy day most keys stand
        # still between two runs), in bulk statements rather than one ORM object a row.
        changed = {
            k
            async for k in _turns(set(new) | set(old))
            if k not in new or k not in old or new_columns[k] != old[k].columns()
        }
        if mark is not None:
            # Only the mark seen before reading: one made since stays for the next run. In
            # this transaction, so a rebuild that fails keeps it.
            await s.execute(
                delete(StatsDirtyDay).where(StatsDirtyDay.day == iso, StatsDirtyDay.version == mark)
            )
        if not changed:
            return len(new)
        await _write_rows(
            s,
            StatsDaily.day,
            iso,
            {k: new.get(k) for k in changed},
            existing=set(old),
        )
        months = {
            (r.dim, r.key): r
            async for r in stream_rows(
                s,
                select(*StatsMonthly.__table__.c)
                .where(StatsMonthly.month == month)
                .with_for_update(),
                PARTITION,
            )
        }
        totals: dict[Key, Figures | None] = {}
        async for k in _turns(changed):
            row = months.get(k)
            total = _load(row) if row is not None else Figures()
            if k in old:
                total.add(old[k], -1)
            if k in new:
                total.add(new[k])
            totals[k] = None if total.empty() else total
        await _write_rows(s, StatsMonthly.month, month, totals, existing=set(months))
    return len(new)


async def _write_rows(
    s: AsyncSession,
    period: Any,
    value: str,
    figures: dict[Key, Figures | None],
    *,
    existing: set[Key],
) -> None:
    """Set one period's rows of ``period``'s table by key: ``None`` deletes the row; the
    rest are updated where they exist and inserted where not, in bulk statements of a
    partition each."""
    model = period.class_
    name = period.key
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    gone: list[Key] = []
    async for k, f in _turns(figures.items()):
        if f is None:
            if k in existing:
                gone.append(k)
            continue
        row = {name: value, "dim": k[0], "key": k[1], **f.columns()}
        (updates if k in existing else inserts).append(row)
    for k in gone:
        await s.execute(delete(model).where(period == value, model.dim == k[0], model.key == k[1]))
    for statement, rows in ((update(model), updates), (insert(model), inserts)):
        for i in range(0, len(rows), WRITE_PARTITION):
            await s.execute(statement, rows[i : i + WRITE_PARTITION])
            await asyncio.sleep(0)


async def _lock_month(s: AsyncSession, desk: Desk, month: str) -> None:
    """One rebuild of a month's days at a time across nodes (the job and the command line):
    the month's rows move by differences, which must not be applied from the same old day
    twice. SQLite has one writer at a time anyway."""
    if not desk.settings.is_sqlite:
        await s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"stats:{month}"})


async def run_rollup(desk: Desk) -> int:
    """The job: today, yesterday, and the days marked dirty; returns the days rebuilt."""
    now = today(desk)
    async with desk.reads() as s:
        dirty = list(
            (
                await s.scalars(
                    select(StatsDirtyDay.day).order_by(StatsDirtyDay.day).limit(DIRTY_PER_RUN)
                )
            ).all()
        )
    days = {now, now - timedelta(days=1)}
    for raw in dirty:
        try:
            days.add(date.fromisoformat(raw))
        except ValueError:
            log.warning("a dirty day that is not a date was dropped", extra={"day": raw})
            async with desk.sessions.begin() as s:
                await s.execute(delete(StatsDirtyDay).where(StatsDirtyDay.day == raw))
    for day in sorted(days):
        await rebuild_day(desk, day)
    return len(days)


async def rebuild_month(desk: Desk, month: str) -> int:
    """Rebuild a month's rows as the sum of its days' (repairs any drift); returns the rows
    written."""
    async with desk.sessions.begin() as s:
        await _lock_month(s, desk, month)
        sums: dict[Key, Figures] = defaultdict(Figures)
        for r in (
            await s.scalars(
                select(StatsDaily).where(
                    StatsDaily.day >= f"{month}-01", StatsDaily.day <= f"{month}-31"
                )
            )
        ).all():
            sums[(r.dim, r.key)].add(r)
        await s.execute(delete(StatsMonthly).where(StatsMonthly.month == month))
        for (dim, key), f in sums.items():
            if not f.empty():
                s.add(StatsMonthly(month=month, dim=dim, key=key, **f.columns()))
    return len(sums)


async def rebuild_range(desk: Desk, first: date, last: date) -> int:
    """Rebuild every day from ``first`` to ``last``, then their months from the days (the
    command line's rebuild); returns the days rebuilt."""
    n, day = 0, first
    months: list[str] = []
    while day <= last:
        await rebuild_day(desk, day)
        if day.isoformat()[:7] not in months:
            months.append(day.isoformat()[:7])
        n += 1
        day += timedelta(days=1)
    for month in months:
        await rebuild_month(desk, month)
    return n

"""Quality grading (咨询回复质量检查标准): a quality inspector grades a consultant's live
consultation or backlog reply as excellent, pass or fail, with the checklist's criteria and a
comment. The consultant sees the grade (``grade.given`` on their console, and their list); a
failed backlog reply goes back to them for revision (the ticket's state ``revision``, claimed
by them), and their next answer marks the grade revised. A later grade of the same work
replaces the earlier one in the figures.

Who grades: inspectors (``Consultant.inspector``) and admins, never their own work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from desk.context import Desk
from desk.directory import ConsultantInfo
from desk.errors import Conflict, Forbidden, InvalidPayload, NotFound
from desk.events import GradeGiven, TicketChanged
from desk.models import AssignmentRecord, Consultant, Consultation, Ticket, TicketEvent
from stats import criteria as checklist
from stats.models import GRADES, ConsultationFact, Grade
from stats.recorder import day_of, mark_dirty_in

TARGETS = ("consultation", "ticket")
#: Live consultations that can be graded: a consultant had them and they are over.
GRADABLE_STATES = ("closed", "handed_off", "abandoned")


def may_grade(who: ConsultantInfo) -> bool:
    return who.inspector or who.role == "admin"


def require_inspector(who: ConsultantInfo) -> None:
    if not may_grade(who):
        raise Forbidden("only quality inspectors grade", code="not_inspector")


@dataclass(frozen=True, slots=True)
class Graded:
    grade: Grade
    revision: bool


async def _served(s: Any, consultation_id: int, consultant_id: int) -> bool:
    """Whether the consultant had the chat at any time (before a transfer too)."""
    hit = await s.scalar(
        select(AssignmentRecord.id)
        .where(
            AssignmentRecord.consultation_id == consultation_id,
            AssignmentRecord.consultant_id == consultant_id,
        )
        .limit(1)
    )
    return hit is not None


def _now(desk: Desk) -> datetime:
    return datetime.fromtimestamp(desk.clock.now(), UTC)


async def grade_work(
    desk: Desk,
    who: ConsultantInfo,
    *,
    target: str,
    target_id: int,
    grade: str,
    criteria: list[str],
    comment: str,
) -> Graded:
    require_inspector(who)
    if target not in TARGETS:
        raise InvalidPayload("target is consultation or ticket", code="invalid_payload")
    if grade not in GRADES:
        raise InvalidPayload(f"grade is one of {', '.join(GRADES)}", code="invalid_payload")
    comment = comment.strip()
    codes = checklist.check(target, grade, criteria, comment)
    now = _now(desk)
    old_days: set[str] = set()
    revision = False
    t: Ticket | None = None
    async with desk.sessions.begin() as s:
        if target == "consultation":
            # Locked: two inspectors grading the same chat at once leave one current grade.
            c = await s.get(Consultation, target_id, with_for_update=True)
            if c is None:
                raise NotFound("no such consultation", code="consultation_not_found")
            fact = await s.get(ConsultationFact, target_id)
            consultant_id = (fact.consultant_id if fact else None) or c.assignee_id
            if c.state not in GRADABLE_STATES or consultant_id is None:
                raise Conflict(
                    "only a finished chat a consultant served is graded", code="not_gradable"
                )
            library_id = (fact.serving_library_id if fact else None) or c.serving_library_id
            day = fact.day if fact is not None else day_of(desk, c.created_at)
        else:
            t = await s.get(Ticket, target_id, with_for_update=True)
            if t is None:
                raise NotFound("no such ticket", code="ticket_not_found")
            if t.state != "answered" or t.answered_by is None or t.answered_at is None:
                raise Conflict("only an answered ticket is graded", code="not_gradable")
            consultant_id = t.answered_by
            library_id = await s.scalar(
                select(Consultant.library_id).where(Consultant.id == t.answered_by)
            )
            day = day_of(desk, t.answered_at)
        if consultant_id == who.id or (
            target == "consultation" and await _served(s, target_id, who.id)
        ):
            raise Forbidden("inspectors do not grade their own work", code="own_work")
        old_days = set(
            (
                await s.scalars(
                    select(Grade.day).where(
                        Grade.target == target, Grade.target_id == target_id, Grade.current
                    )
                )
            ).all()
        )
        await s.execute(
            update(Grade)
            .where(Grade.target == target, Grade.target_id == target_id, Grade.current)
            .values(current=False)
        )
        g = Grade(
            target=target,
            target_id=target_id,
            consultant_id=consultant_id,
            library_id=library_id,
            day=day,
            grade=grade,
            criteria=codes,
            comment=comment,
            inspector_id=who.id,
            created_at=now,
            current=True,
        )
        s.add(g)
        if target == "consultation":
            await s.execute(
                update(ConsultationFact)
                .where(ConsultationFact.consultation_id == target_id)
                .values(grade=grade)
            )
        elif grade == "fail" and t is not None:
            # Back to the one who answered, to revise (接受质检员的抽查，并根据质检意见尽快修改).
            t.state, t.claimed_by, t.claimed_at = "revision", t.answered_by, now
            t.version += 1
            s.add(
                TicketEvent(
                    ticket_id=t.id,
                    at=now,
                    action="revision",
                    consultant_id=who.id,
                    note=comment,
                )
            )
            revision = True
        for d in old_days | {day}:
            await mark_dirty_in(s, desk, d)
        await s.flush()
        ticket_library = t.library_id if t is not None else None
    await desk.bus.publish(GradeGiven(g.id, consultant_id, target, target_id, grade))
    if revision and ticket_library is not None:
        await desk.bus.publish(TicketChanged(target_id, ticket_library, "revision", consultant_id))
    return Graded(g, revision)


async def mark_revised(desk: Desk, s: Any, ticket_id: int, now: datetime) -> None:
    """The consultant answered a ticket sent back for revision (called in the answer's
    transaction)."""
    await s.execute(
        update(Grade)
        .where(
            Grade.target == "ticket",
            Grade.target_id == ticket_id,
            Grade.current,
            Grade.grade == "fail",
            Grade.revised_at.is_(None),
        )
        .values(revised_at=now)
    )


def grade_json(g: Grade, people: dict[int, str] | None = None) -> dict[str, Any]:
    people = people or {}
    return {
        "id": g.id,
        "target": g.target,
        "target_id": g.target_id,
        "consultant_id": g.consultant_id,
        "consultant": people.get(g.consultant_id or 0, ""),
        "library_id": g.library_id,
        "day": g.day,
        "grade": g.grade,
        "criteria": list(g.criteria or []),
        "comment": g.comment,
        "inspector_id": g.inspector_id,
        "inspector": people.get(g.inspector_id or 0, ""),
        "created_at": g.created_at.isoformat(),
        "revised_at": g.revised_at.isoformat() if g.revised_at else None,
        "current": g.current,
    }


async def grades_of(desk: Desk, target: str, target_id: int) -> list[dict[str, Any]]:
    """The grades of one piece of work, newest first, with the inspectors' names."""
    async with desk.reads() as s:
        rows = (
            await s.execute(
                select(Grade, Consultant.display_name)
                .outerjoin(Consultant, Consultant.id == Grade.inspector_id)
                .where(Grade.target == target, Grade.target_id == target_id)
                .order_by(Grade.id.desc())
            )
        ).all()
    return [grade_json(g, {g.inspector_id or 0: name or ""}) for g, name in rows]

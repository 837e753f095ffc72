"""The statistics' records: one fact row per consultation, the daily roll-ups reports read,
quality grades, and the certificates issued."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base, UTCDateTime, utcnow

#: Upper edges (seconds) of the wait and first-reply histograms the roll-ups keep: bucket ``i``
#: holds the values in (EDGES[i-1], EDGES[i]], the first [0, 5], the last everything above an
#: hour. Every 5 s up to two minutes, 15 s up to five, a minute up to half an hour: a
#: percentile read from them is the edge above the true value, at most that far off (the
#: maximum is kept too, so the top bucket reports the largest value seen).
EDGES: tuple[int, ...] = (
    *range(5, 121, 5),
    *range(135, 301, 15),
    *range(360, 1801, 60),
    2700,
    3600,
)
BUCKETS = len(EDGES) + 1


class ConsultationFact(Base):
    """What happened in one consultation, written as it happened (``stats.recorder``)."""

    __tablename__ = "consultation_facts"
    __table_args__ = (
        Index("ix_consultation_facts_day", "day"),
        Index("ix_consultation_facts_consultant_day", "consultant_id", "day"),
    )

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id"), primary_key=True, autoincrement=False
    )
    #: The opening's calendar day in DESK_REPORT_TIMEZONE, YYYY-MM-DD.
    day: Mapped[str] = mapped_column(String(10))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    language: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The first consultant to take the chat, and when (the wait).
    first_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wait_seconds: Mapped[float | None] = mapped_column(nullable=True)
    #: The consultant's first message, from the opening.
    first_reply_seconds: Mapped[float | None] = mapped_column(nullable=True)
    #: Who served it in the end, and for which library (overflow when not the reader's own).
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    serving_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id"), nullable=True
    )
    overflow: Mapped[bool] = mapped_column(Boolean, default=False)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: closed | abandoned | handed_off (None while it runs).
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: From the first assignment to the end.
    duration_seconds: Mapped[float | None] = mapped_column(nullable=True)
    reader_messages: Mapped[int] = mapped_column(Integer, default=0)
    consultant_messages: Mapped[int] = mapped_column(Integer, default=0)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    #: The reader's rating: 1 satisfied, 0 not satisfied.
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    #: The quality grade: excellent | pass | fail.
    grade: Mapped[str | None] = mapped_column(String(16), nullable=True)


class _Figures:
    """The figures of a roll-up row."""

    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    consultations: Mapped[int] = mapped_column(Integer, default=0)
    served: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    handed_off: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    #: Chats of this key's readers served by another library (origin) / chats this key served
    #: for other libraries' readers (serving, consultant).
    overflow: Mapped[int] = mapped_column(Integer, default=0)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    tickets_answered: Mapped[int] = mapped_column(Integer, default=0)
    reader_messages: Mapped[int] = mapped_column(Integer, default=0)
    consultant_messages: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    unsatisfied: Mapped[int] = mapped_column(Integer, default=0)
    excellent: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: Chats with a duration, and its sum (the mean duration).
    durations: Mapped[int] = mapped_column(Integer, default=0)
    duration_sum: Mapped[float] = mapped_column(default=0.0)
    #: Histograms of the wait and of the first reply, by EDGES, and their largest values.
    waits: Mapped[list[int]] = mapped_column(JSON, default=list)
    replies: Mapped[list[int]] = mapped_column(JSON, default=list)
    wait_max: Mapped[float] = mapped_column(default=0.0)
    reply_max: Mapped[float] = mapped_column(default=0.0)


class StatsDaily(_Figures, Base):
    """One day's figures for one dimension and key, rebuilt from the facts by the roll-up job:
    ``alliance`` (key 0), ``consultant`` (their id), ``serving`` (the serving library),
    ``origin`` (the readers' library). A report by day over a year reads at most 366 rows."""

    __tablename__ = "stats_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)


class StatsMonthly(_Figures, Base):
    """The same by calendar month: rankings over a year read twelve rows per key."""

    __tablename__ = "stats_monthly"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)


class StatsDirtyDay(Base):
    """Days whose roll-ups must be rebuilt (a rating or a grade came later). ``version``
    grows with every mark, so a rebuild takes off only the mark it saw: one made while it ran
    stays for the next."""

    __tablename__ = "stats_dirty_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


GRADES = ("excellent", "pass", "fail")


class Grade(Base):
    """A quality inspector's grade of a live consultation or a backlog reply
    (咨询回复质量检查标准), with the criteria that applied."""

    __tablename__ = "grades"
    __table_args__ = (
        Index("ix_grades_consultant", "consultant_id", "created_at"),
        Index("ix_grades_target", "target", "target_id"),
        Index("ix_grades_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: consultation | ticket
    target: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    #: Whose work it grades, and the library they served for.
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), nullable=True)
    #: The day the graded work belongs to (its consultation's or its answer's).
    day: Mapped[str] = mapped_column(String(10))
    grade: Mapped[str] = mapped_column(String(16))
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A failed backlog reply goes back for revision; set when the consultant answers again.
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Later grades of the same work replace this one.
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class Certificate(Base):
    """A certificate of work (加盟协议: proof of the number and quality of consultations answered
    and documents delivered), with a verification code anyone may check."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: consultant | library
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    period_from: Mapped[str] = mapped_column(String(10))
    period_to: Mapped[str] = mapped_column(String(10))
    #: The figures as issued (they do not change when later data does).
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

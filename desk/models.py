"""Member libraries, staff, readers and consultations: the desk's durable records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base, UTCDateTime, utcnow


class Library(Base):
    __tablename__ = "libraries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    #: Website origins (scheme://host[:port]) allowed to embed this library's widget.
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["zh-CN"])
    #: {"timezone": "Asia/Shanghai", "weekly": {"mon": [["08:30", "21:00"]], ...}}
    service_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    phone: Mapped[str] = mapped_column(String(64), default="")
    #: "offer": a consultant accepts within offer_timeout_seconds; "direct": assigned at once.
    routing_mode: Mapped[str] = mapped_column(String(16), default="offer")
    offer_timeout_seconds: Mapped[int] = mapped_column(Integer, default=30)
    #: A reader waits this long for the library's own consultants before overflowing.
    overflow_delay_seconds: Mapped[int] = mapped_column(Integer, default=60)
    #: Which bots speak in this library's chats and how (``bots.config.BotSettings``).
    bot_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The etiquette helper's own terms and restricted hosts (``desk.etiquette``).
    etiquette: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Files in chats: {"max_mb": int, "types": [family, ...]} (``desk.delivery.files``).
    file_limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


ROLES = ("trainee", "consultant", "supervisor", "admin")


class Consultant(Base):
    __tablename__ = "consultants"

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    #: Every newcomer starts as a trainee (the alliance's admission norms).
    role: Mapped[str] = mapped_column(String(16), default="trainee")
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["zh-CN"])
    max_chats: Mapped[int] = mapped_column(Integer, default=4)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: A quality inspector (质检员) grades consultations and backlog replies alliance-wide
    #: (咨询回复质量检查标准). A duty on top of the role: inspectors are consultants too.
    inspector: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    """A console login. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    consultant_id: Mapped[int] = mapped_column(ForeignKey("consultants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reader(Base):
    """A reader of the alliance: an anonymous visitor or an account. Alliance-wide, so a reader
    recognised at one member library is recognised at all of them ("reader sharing")."""

    __tablename__ = "readers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="visitor")  # visitor | account
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    first_library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReaderToken(Base):
    """A server-issued, unguessable reader credential; only its hash is stored."""

    __tablename__ = "reader_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consultation(Base):
    __tablename__ = "consultations"
    __table_args__ = (
        Index("ix_consultations_state_assignee", "state", "assignee_id"),
        Index("ix_consultations_reader_state", "reader_id", "state"),
        # One active consultation per reader and library: a double click or a reload opens
        # nothing new.
        Index(
            "uq_consultations_active_reader_library",
            "reader_id",
            "library_id",
            unique=True,
            sqlite_where=text("state IN ('waiting', 'offered', 'assigned')"),
            postgresql_where=text("state IN ('waiting', 'offered', 'assigned')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"))
    language: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    #: The consultant currently offered or assigned the chat.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    #: Library whose consultants are tried first (origin, or the target of a transfer).
    route_library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    serving_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id"), nullable=True
    )
    #: The reader's first question, shown in the queue as a preview.
    subject: Mapped[str] = mapped_column(String(200), default="")
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    #: The seq of the last message the reader, and staff, are shown: a live message carries
    #: its side's one as ``prev``, so that a client can tell a message it missed from the
    #: other side's messages.
    last_reader_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_staff_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reader_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    staff_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    #: Requeued chats (their consultant dropped) go first in line.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: Set when the retention job anonymised the chat (personal data masked, reader unlinked).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Bumped on every state change: a client that resumes gets the state first if it moved.
    version: Mapped[int] = mapped_column(Integer, default=1)


class AssignmentRecord(Base):
    """Every offer, acceptance, decline, expiry, transfer and requeue of a consultation."""

    __tablename__ = "assignment_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), nullable=True)
    by_consultant_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultants.id"), nullable=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuickPhrase(Base):
    """A quick phrase (快捷用语) a consultant inserts with a keystroke.

    ``consultant_id`` null: library-wide, kept by the library's supervisors and admins; set: the
    consultant's own. New libraries start with the alliance's defaults (``desk.phrases``).
    """

    __tablename__ = "quick_phrases"
    __table_args__ = (Index("ix_quick_phrases_owner", "library_id", "consultant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"))
    shortcut: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BotText(Base):
    """A library's own wording of one bot template in one language (the defaults are in
    ``bots.texts``)."""

    __tablename__ = "bot_texts"

    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BotMark(Base):
    """What the waiting bot last told a queued reader, so that it speaks calmly and only
    when something changed, whichever node runs it next."""

    __tablename__ = "bot_marks"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), primary_key=True)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The long-wait (or nobody-online) offer of the form service went out.
    offered_form: Mapped[bool] = mapped_column(Boolean, default=False)


TICKET_KINDS = ("form", "document")
TICKET_STATES = ("open", "claimed", "answered")
ANSWER_KINDS = ("answer", "found", "same_topic", "not_found")


class Ticket(Base):
    """A question in the form-consultation backlog (表单咨询), the non-real-time service.

    Created from a chat (hand-off) or from the widget's form. ``kind`` is ``form`` (methods of
    retrieval and use, general knowledge) or ``document`` (specific documents wanted), which
    the 72-hour rules of the reply norms (非实时参考咨询回复规范) govern.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_state_submitted", "state", "submitted_at"),
        Index("ix_tickets_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the reader's unguessable link token; the token itself is never stored.
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id"), nullable=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id"), nullable=True, unique=True
    )
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    #: The chat so far, as the reader saw it: [{"author_kind", "body", "created_at"}].
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Who sent it here: reader (left a question), consultant (switched the chat), form.
    handed_off_by: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by the scheduled job when the ticket passes 72 hours unanswered.
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class TicketEvent(Base):
    """The ticket's history: created, claimed, returned (退回任务), answered, overdue, ..."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(16))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


KB_SOURCES = ("manual", "case")


class KbEntry(Base):
    """A knowledge-base entry the FAQ bot answers from (``bots.faq``).

    ``library_id`` null: alliance-wide, kept by admins, seen by every library's readers; set:
    the library's own, kept by its supervisors and admins. ``source`` "case" entries come from
    a typical case (``source_ref`` its id).
    """

    __tablename__ = "kb_entries"
    __table_args__ = (Index("ix_kb_entries_library_language", "library_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), nullable=True)
    language: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    #: Other words readers use for the same thing: they help matching, readers never see them.
    keywords: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="manual")
    source_ref: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)


class LedgerEntry(Base):
    """The delivery ledger: one row per file or link that passed through a chat (or a
    backlog answer), written in the same commit as its message. Rows stay when the stored
    file is purged (``file_purged_at``); they are what the alliance counts as documents
    delivered."""

    __tablename__ = "delivery_ledger"
    __table_args__ = (
        UniqueConstraint("consultation_id", "seq"),
        Index("ix_delivery_ledger_created_at", "created_at"),
        Index("ix_delivery_ledger_consultant_created", "consultant_id", "created_at"),
        Index("ix_delivery_ledger_serving_created", "serving_library_id", "created_at"),
        Index("ix_delivery_ledger_origin_created", "origin_library_id", "created_at"),
        Index("ix_delivery_ledger_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id"), nullable=True
    )
    #: The message that carried it.
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    #: to_reader (a consultant delivered it) | from_reader (the reader sent it).
    direction: Mapped[str] = mapped_column(String(16))
    #: file | link
    kind: Mapped[str] = mapped_column(String(8))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    #: The library of the consultant who served the chat.
    serving_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id"), nullable=True
    )
    #: The library whose widget the reader came from.
    origin_library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id"), nullable=True)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(500))
    authors: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    doc_type: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    file_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

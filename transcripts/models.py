"""Stored messages. ``seq`` orders a consultation's messages; ``client_msg_id`` makes a client's
retry land once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base, UTCDateTime, utcnow

AUTHOR_KINDS = ("reader", "consultant", "bot", "system")
#: "all" reaches the reader; "staff" (a private note) never does; "reader" (the reader's own
#: ticket link) never reaches staff.
VISIBILITIES = ("all", "staff", "reader")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("consultation_id", "seq"),
        UniqueConstraint("consultation_id", "client_msg_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    client_msg_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visibility: Mapped[str] = mapped_column(String(8), default="all")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A file or link sent with the message, as clients see it (``Attachment.to_client``).
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class TranscriptDoc(Base):
    """A finished consultation as search and the supervisors' views read it: its facts for
    filtering and its whole text, personal data masked (``transcripts.privacy``). Written when
    the chat ends (and again if it changes after); the full-text index beside it
    (``transcripts.search``) is dialect-specific DDL outside this metadata."""

    __tablename__ = "transcript_docs"
    __table_args__ = (
        Index("ix_transcript_docs_library_ended", "library_id", "ended_at"),
        Index("ix_transcript_docs_serving_ended", "serving_library_id", "ended_at"),
        Index("ix_transcript_docs_consultant_ended", "consultant_id", "ended_at"),
        Index("ix_transcript_docs_ended", "ended_at"),
    )

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id"), primary_key=True, autoincrement=False
    )
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    serving_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id"), nullable=True
    )
    #: The consultant who held the chat last.
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    language: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    #: The reader's rating when given (satisfied 1 / not satisfied 0).
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: "author_kind\\tbody" lines, personal data masked, private notes included (staff read it).
    text: Mapped[str] = mapped_column(Text, default="")
    #: Whether the raw text held personal data (a reveal shows it to those allowed).
    has_personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who opened, revealed, exported or erased which transcript: every view of a reader's data
    by staff (norm 6), readable by supervisors."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_consultation", "consultation_id"),
        Index("ix_audit_log_consultant_at", "consultant_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    #: open | reveal | search | export | erase | anonymise | case_create | case_publish ...
    action: Mapped[str] = mapped_column(String(32))
    consultation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The library the viewed data belongs to (the readers' library), for scoping the log.
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), nullable=True)
    #: What was asked (filters, counts, a reason); never message text or personal data.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


CASE_STATES = ("draft", "published", "withdrawn")


class TypicalCase(Base):
    """A typical case (典型案例, norm 5): an anonymised consultation kept for later retrieval,
    reviewed by a supervisor and published to the case library (and the FAQ bot's knowledge
    base)."""

    __tablename__ = "typical_cases"
    __table_args__ = (Index("ix_typical_cases_state_library", "state", "library_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id"), nullable=True
    )
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: The reader's question and the answer, anonymised (masked again whenever saved).
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("consultants.id"), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The knowledge-base entry it feeds once published.
    kb_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

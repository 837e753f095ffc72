"""Stored messages. ``seq`` orders a consultation's messages; ``client_msg_id`` makes a client's
retry land once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
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

"""The catalogue of domain events, published on the in-process bus after each commit.

Bots and statistics subscribe here; the socket layer (``desk.fanout``) is just one more listener.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from transcripts.store import StoredMessage


@dataclass(frozen=True, slots=True)
class ConsultationView:
    """What the desk says about a consultation to the people in it."""

    id: int
    library_id: int
    library_code: str
    language: str
    state: str
    reader_id: int
    assignee_id: int | None
    assignee_name: str | None
    serving_library_id: int | None
    route_library_id: int
    subject: str
    last_seq: int
    version: int
    created_at: datetime
    queued_at: datetime
    assigned_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None
    offer_expires_at: datetime | None
    priority: int
    reader_read_seq: int = 0
    staff_read_seq: int = 0
    #: (code, name, English name) of the assignee's library, shown to the reader beside the name.
    assignee_library: tuple[str, str, str | None] | None = None

    def to_client(self, *, staff: bool) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "library": self.library_code,
            "language": self.language,
            "state": self.state,
            "consultant": (
                {
                    "id": self.assignee_id,
                    "name": self.assignee_name,
                    "library": (
                        dict(zip(("code", "name", "name_en"), self.assignee_library, strict=True))
                        if self.assignee_library
                        else None
                    ),
                }
                if self.assignee_id is not None and self.state == "assigned"
                else None
            ),
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_by": self.ended_by,
            # Read marks, so a reconnecting client restores the other side's "read" too.
            "read": {"reader": self.reader_read_seq, "staff": self.staff_read_seq},
        }
        if staff:
            # last_seq counts private notes too: staff only.
            d.update(
                last_seq=self.last_seq,
                reader_id=self.reader_id,
                subject=self.subject,
                assignee_id=self.assignee_id,
                queued_at=self.queued_at.isoformat(),
                offer_expires_at=(
                    self.offer_expires_at.isoformat() if self.offer_expires_at else None
                ),
                serving_library_id=self.serving_library_id,
            )
        return d


@dataclass(frozen=True, slots=True)
class Event:
    pass


@dataclass(frozen=True, slots=True)
class ConsultationOpened(Event):
    consultation: ConsultationView


@dataclass(frozen=True, slots=True)
class ConsultationQueued(Event):
    consultation: ConsultationView
    reason: str  # opened | declined | expired | requeued | transferred


@dataclass(frozen=True, slots=True)
class ConsultationOffered(Event):
    consultation: ConsultationView
    consultant_id: int


@dataclass(frozen=True, slots=True)
class OfferWithdrawn(Event):
    consultation: ConsultationView
    consultant_id: int
    reason: str  # declined | expired


@dataclass(frozen=True, slots=True)
class ConsultationAssigned(Event):
    consultation: ConsultationView
    consultant_id: int
    how: str  # accepted | direct | transfer
    previous_consultant_id: int | None = None


@dataclass(frozen=True, slots=True)
class ConsultationReleased(Event):
    """A consultant lost a chat they held (transfer away, requeue after a drop)."""

    consultation: ConsultationView
    consultant_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConsultationEnded(Event):
    consultation: ConsultationView
    previous_assignee_id: int | None


@dataclass(frozen=True, slots=True)
class MessagePosted(Event):
    message: StoredMessage
    #: The socket that sent it, if any: it learns the seq from its acknowledgement.
    sender_sid: str | None = None


@dataclass(frozen=True, slots=True)
class TypingChanged(Event):
    consultation_id: int
    reader_id: int
    assignee_id: int | None
    author_kind: str
    typing: bool


@dataclass(frozen=True, slots=True)
class ReadMarked(Event):
    consultation_id: int
    reader_id: int
    assignee_id: int | None
    side: str  # reader | staff
    seq: int


@dataclass(frozen=True, slots=True)
class PresenceChanged(Event):
    consultant_id: int
    status: str
    connected: bool


ALL_EVENTS: tuple[type[Event], ...] = (
    ConsultationOpened,
    ConsultationQueued,
    ConsultationOffered,
    OfferWithdrawn,
    ConsultationAssigned,
    ConsultationReleased,
    ConsultationEnded,
    MessagePosted,
    TypingChanged,
    ReadMarked,
    PresenceChanged,
)


@dataclass(frozen=True, slots=True)
class QueuePositionTold(Event):
    """The waiting bot worked out where a queued reader stands (sent to the reader live)."""

    consultation_id: int
    reader_id: int
    position: int
    #: Rounded-up expected wait; None when nobody who could serve the reader is online.
    minutes: int | None
    #: The wait reached the library's threshold (or nobody is online): the widget offers to
    #: leave the question for the form service.
    offer_form: bool = False


@dataclass(frozen=True, slots=True)
class TicketChanged(Event):
    """A backlog ticket was created, claimed, returned, answered or passed 72 hours."""

    ticket_id: int
    library_id: int
    what: str
    consultant_id: int | None


@dataclass(frozen=True, slots=True)
class GradeGiven(Event):
    """A quality inspector graded a consultant's work (a chat or a backlog reply)."""

    grade_id: int
    consultant_id: int
    target: str
    target_id: int
    grade: str


@dataclass(frozen=True, slots=True)
class StaffLoggedOut(Event):
    """A console session ended by logging out: its sockets on every node are hung up."""

    token_hash: str

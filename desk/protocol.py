"""The socket protocol's typed catalogue: every client event and its payload model.

``docs/protocol.md`` documents the same set; ``tests/unit/test_protocol_doc.py`` keeps them equal.
Models forbid unknown fields, so a typo in a client is an error, not silence.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

READER_NAMESPACE = "/reader"
CONSOLE_NAMESPACE = "/console"

#: Names python-socketio treats specially; a client sending them is refused before dispatch.
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error", "message"})

ClientMsgId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
Language = Annotated[
    str,
    StringConstraints(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
]
Id = Annotated[int, Field(ge=1, le=2**62)]
Seq = Annotated[int, Field(ge=0, le=2**62)]
Note = Annotated[str, StringConstraints(max_length=2000)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Empty(Payload):
    pass


class ResumeItem(Payload):
    consultation_id: Id
    last_seq: Seq = 0
    #: The consultation version the client last saw; the state is sent first when it moved.
    version: int = Field(0, ge=0)


class Resume(Payload):
    consultations: list[ResumeItem] = Field(default_factory=list, max_length=50)


class OpenConsultation(Payload):
    language: Language = "zh-CN"
    question: str | None = Field(None, min_length=1)
    client_msg_id: ClientMsgId | None = None


class SendMessage(Payload):
    consultation_id: Id
    client_msg_id: ClientMsgId
    body: str = Field(min_length=1)


class SendStaffMessage(SendMessage):
    #: A private note for staff; never reaches the reader.
    private: bool = False


class Typing(Payload):
    consultation_id: Id
    typing: bool


class MarkRead(Payload):
    consultation_id: Id
    seq: Seq


class ConsultationRef(Payload):
    consultation_id: Id


class History(Payload):
    consultation_id: Id
    after_seq: Seq = 0


class SetStatus(Payload):
    status: Literal["online", "busy", "away"]


class Transfer(Payload):
    consultation_id: Id
    to_consultant_id: Id | None = None
    to_library: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    note: Note = ""


Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class ReaderHandOff(Payload):
    consultation_id: Id
    kind: Literal["form", "document"] = "form"
    #: Where the answer is mailed (when the desk sends mail); the ticket page works without.
    email: (
        Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
        | None
    ) = None
    #: The question as the reader wants it filed; by default their messages in the chat.
    question: Annotated[str, StringConstraints(min_length=1, max_length=4000)] | None = None


class DashboardWatch(Payload):
    #: True to get the live dashboard every few seconds, False to stop.
    watch: bool = True


class StaffHandOff(Payload):
    consultation_id: Id
    kind: Literal["form", "document"] = "form"
    note: Note = ""


#: Client -> server events on /reader, with their payload models.
READER_EVENTS: dict[str, type[Payload]] = {
    "consultation.open": OpenConsultation,
    "message.send": SendMessage,
    "resume": Resume,
    "history": History,
    "typing": Typing,
    "read": MarkRead,
    "consultation.close": ConsultationRef,
    "handoff": ReaderHandOff,
}

#: Client -> server events on /console.
CONSOLE_EVENTS: dict[str, type[Payload]] = {
    "status.set": SetStatus,
    "queue.list": Empty,
    "chats.list": Empty,
    "offer.accept": ConsultationRef,
    "offer.decline": ConsultationRef,
    "message.send": SendStaffMessage,
    "resume": Resume,
    "history": History,
    "typing": Typing,
    "read": MarkRead,
    "consultation.transfer": Transfer,
    "consultation.close": ConsultationRef,
    "consultation.handoff": StaffHandOff,
    "colleagues.list": Empty,
    "dashboard.watch": DashboardWatch,
}

#: Server -> client events.
READER_SERVER_EVENTS = frozenset({"message", "consultation", "typing", "read", "queue.position"})
CONSOLE_SERVER_EVENTS = frozenset(
    {
        "message",
        "consultation",
        "typing",
        "read",
        "offer",
        "offer.withdrawn",
        "chat.assigned",
        "chat.released",
        "queue.changed",
        "presence",
        "backlog.changed",
        "session.ended",
        "grade.given",
        "dashboard",
    }
)

"""The message records the store takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Draft:
    consultation_id: int
    author_kind: str
    body: str
    author_id: int | None = None
    visibility: str = "all"
    client_msg_id: str | None = None
    #: Post only if the consultation's reader is this reader...
    as_reader: int | None = None
    #: ...or only if its assignee is this consultant (checked in the transaction that takes seq).
    as_assignee: int | None = None
    #: Post only while the chat still waits in the queue (the waiting bot's words).
    while_waiting: bool = False


@dataclass(frozen=True, slots=True)
class StoredMessage:
    consultation_id: int
    seq: int
    client_msg_id: str | None
    author_kind: str
    author_id: int | None
    visibility: str
    body: str
    created_at: datetime
    #: Who holds the consultation at commit time, for fan-out.
    reader_id: int = 0
    assignee_id: int | None = None
    #: True when this was a client's retry of a message already stored.
    duplicate: bool = False

    def ack(self) -> dict[str, Any]:
        """What the sender is told: where the message now stands (it has the text)."""
        return {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "duplicate": self.duplicate,
        }

    def to_client(self) -> dict[str, Any]:
        return {
            "consultation_id": self.consultation_id,
            "seq": self.seq,
            "client_msg_id": self.client_msg_id,
            "author_kind": self.author_kind,
            "author_id": self.author_id,
            "visibility": self.visibility,
            "body": self.body,
            "created_at": self.created_at.isoformat(),
        }

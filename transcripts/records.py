"""The message records the store takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Which visibilities each side is shown.
STAFF_SEES = ("all", "staff")
READER_SEES = ("all", "reader")

#: What kind of document a delivery is (the ledger's ``doc_type``).
DOC_TYPES = (
    "journal_article",
    "thesis",
    "conference_paper",
    "book",
    "standard",
    "patent",
    "newspaper",
    "other",
)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file or link that travels in a chat with its message. The message carries what the
    clients show; the same write records the delivery ledger's row from the rest."""

    #: "file" or "link".
    kind: str
    #: "to_reader" (a consultant delivered it) or "from_reader" (the reader sent it).
    direction: str
    title: str
    #: The stored file's sanitised name, size, content hash and served type (files only).
    name: str = ""
    size: int = 0
    sha256: str = ""
    content_type: str = ""
    #: The delivered address (links only).
    url: str = ""
    authors: str = ""
    source: str = ""
    year: int | None = None
    doc_type: str = ""
    #: Who and where, as the ledger counts them.
    consultant_id: int | None = None
    serving_library_id: int | None = None
    origin_library_id: int = 0
    reader_id: int | None = None

    def to_client(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "direction": self.direction,
            "title": self.title,
            "name": self.name,
            "size": self.size,
            "content_type": self.content_type,
            "url": self.url,
            "authors": self.authors,
            "source": self.source,
            "year": self.year,
            "doc_type": self.doc_type,
        }


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
    #: A file or link sent with the message: its ledger row is written in the same commit.
    attachment: Attachment | None = None


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
    #: The attachment as clients see it (``Attachment.to_client``), or None.
    attachment: dict[str, Any] | None = None
    #: The seq of the message the reader (staff) was shown just before this one in the
    #: consultation, 0 for none; None where this side does not see it, or where it is not known
    #: (a message read back from the database rather than just stored).
    reader_prev: int | None = None
    staff_prev: int | None = None

    def prev(self, *, staff: bool) -> int | None:
        return self.staff_prev if staff else self.reader_prev

    def ack(self, *, staff: bool) -> dict[str, Any]:
        """What the sender is told: where the message now stands (it has the text), and the
        message before it on the sender's side (not for a retry: the client fetches again)."""
        out: dict[str, Any] = {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "duplicate": self.duplicate,
        }
        prev = self.prev(staff=staff)
        if prev is not None and not self.duplicate:
            out["prev"] = prev
        return out

    def to_client(self, *, staff: bool | None = None) -> dict[str, Any]:
        """The message as a client gets it. Given the side (a live relay), it carries ``prev``,
        with which the client can tell a message it never got (a relay lost or overtaken)
        from the normal gaps of the other side's messages; lists read back carry none, being
        whole for their range."""
        out = {
            "consultation_id": self.consultation_id,
            "seq": self.seq,
            "client_msg_id": self.client_msg_id,
            "author_kind": self.author_kind,
            "author_id": self.author_id,
            "visibility": self.visibility,
            "body": self.body,
            "created_at": self.created_at.isoformat(),
            "attachment": self.attachment,
        }
        if staff is not None and not self.duplicate:
            prev = self.prev(staff=staff)
            if prev is not None:
                out["prev"] = prev
        return out

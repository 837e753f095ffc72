"""The FAQ bot: while a reader waits for a consultant, it answers from the knowledge base when
it is confident, and says that a consultant will still follow. It never blocks the way to a
human: it changes neither the chat's state nor its place in the queue, stays quiet when a
consultant is free to take the chat at once, and never speaks once a consultant holds it.

The guards (``FaqBot.on_message``), in order: a reader's message that everyone sees; the
library's ``faq`` switch; the chat still ``waiting`` (nobody free to take it now) or
``offered``; fewer than ``MAX_ANSWERS_PER_CHAT`` answers in it so far; a confident match among
the library's own entries and the alliance-wide ones (``bots.faq_match``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from bots.faq_match import Doc, Knowledge, Match
from desk.actions.consultations import entry_for, post_message
from desk.context import Desk
from desk.directory import LibraryInfo
from desk.errors import DeskError
from desk.events import MessagePosted
from desk.models import Consultation, KbEntry
from desk.routing.policy import candidates
from desk.states import State
from transcripts.models import Message
from transcripts.records import Draft, StoredMessage

log = logging.getLogger(__name__)

#: An FAQ answer's client message id is this plus the reader message's seq: one answer per
#: reader message, however often the message is announced.
CLIENT_ID_PREFIX = "bot.faq."
#: A reader who keeps asking what the knowledge base covers needs a person, not more answers.
MAX_ANSWERS_PER_CHAT = 3
#: A node re-checks the knowledge base of a library at most this often, so an edit made through
#: another node reaches this one within this long (edits through this node: at once).
CHECK_SECONDS = 30.0

Texts = Callable[[LibraryInfo, str, str, Mapping[str, Any]], Awaitable[str]]


@dataclass
class _Cached:
    checked_at: float
    signature: tuple[Any, ...]
    knowledge: Knowledge
    entries: dict[int, KbEntry]


def _scope(library_id: int) -> Any:
    """A library's readers get answers from its own entries and the alliance-wide ones."""
    return or_(KbEntry.library_id == library_id, KbEntry.library_id.is_(None))


class FaqBot:
    def __init__(self, desk: Desk, texts: Texts) -> None:
        self.desk = desk
        self._texts = texts
        self._cache: dict[int, _Cached] = {}

    # -- the knowledge of a library --------------------------------------------------------

    def forget(self, library_id: int | None = None) -> None:
        """Drop a library's index (None: every library's, after an alliance-wide edit)."""
        if library_id is None:
            self._cache.clear()
        else:
            self._cache.pop(library_id, None)

    async def knowledge(self, library_id: int) -> tuple[Knowledge, dict[int, KbEntry]]:
        """The library's index, rebuilt only when its entries changed (their count, newest
        change and highest id: an edit, an addition and a deletion each move one)."""
        hit = self._cache.get(library_id)
        now = time.monotonic()
        if hit is not None and now - hit.checked_at < CHECK_SECONDS:
            return hit.knowledge, hit.entries
        async with self.desk.reads() as s:
            row = (
                await s.execute(
                    select(
                        func.count(KbEntry.id), func.max(KbEntry.updated_at), func.max(KbEntry.id)
                    ).where(_scope(library_id), KbEntry.active.is_(True))
                )
            ).one()
            signature = tuple(row)
            if hit is not None and hit.signature == signature:
                hit.checked_at = now
                return hit.knowledge, hit.entries
            rows = (
                await s.scalars(select(KbEntry).where(_scope(library_id), KbEntry.active.is_(True)))
            ).all()
        entries = {e.id: e for e in rows}
        knowledge = Knowledge.build(
            Doc(e.id, e.language, e.question, e.answer, e.keywords) for e in rows
        )
        self._cache[library_id] = _Cached(now, signature, knowledge, entries)
        return knowledge, entries

    async def match(self, library_id: int, question: str) -> tuple[Match, KbEntry] | None:
        knowledge, entries = await self.knowledge(library_id)
        best = knowledge.best(question)
        if best is None or best.id not in entries:
            return None
        return best, entries[best.id]

    # -- the bot ---------------------------------------------------------------------------

    async def on_message(self, e: MessagePosted) -> None:
        m = e.message
        if m.author_kind != "reader" or m.visibility != "all" or not m.body.strip():
            return
        if m.duplicate:
            # A retry of a message already stored (and considered when it was).
            return
        if m.assignee_id is not None:
            # Offered or assigned when it was stored: a consultant has it. This keeps the
            # busiest path (every message of every served chat) free of any extra work.
            return
        # Off the sender's path: the reader's acknowledgement does not wait for the lookup.
        task = asyncio.get_running_loop().create_task(self._consider(m))
        self.desk.background.add(task)
        task.add_done_callback(self.desk.background.discard)

    async def _consider(self, m: StoredMessage) -> None:
        try:
            await self._answer(m)
        except Exception:
            log.exception("faq bot failed", extra={"consultation": m.consultation_id})

    async def _answer(self, m: StoredMessage) -> None:
        desk = self.desk
        async with desk.reads() as s:
            answered = (
                select(func.count(Message.id))
                .where(
                    Message.consultation_id == Consultation.id,
                    Message.client_msg_id.like(f"{CLIENT_ID_PREFIX}%"),
                )
                .scalar_subquery()
            )
            row = (
                await s.execute(
                    select(Consultation, answered).where(Consultation.id == m.consultation_id)
                )
            ).one_or_none()
        if row is None:
            return
        c, count = row
        if not await self.should_answer(c, count):
            return
        lib = await desk.directory.library(c.library_id)
        if lib is None or not lib.bots.faq:
            return
        found = await self.match(c.library_id, m.body)
        if found is None:
            return
        _, entry = found
        body = await self._texts(
            lib, "faq_answer", entry.language, {"question": entry.question, "answer": entry.answer}
        )
        # The n-th answer of the chat: the store keeps one message per client id, so two
        # questions considered at once (on one node or two) cannot both take a slot, and the
        # cap holds across nodes. The one that finds its slot taken tries the next, so
        # questions sent together are answered up to the cap.
        for slot in range(count + 1, MAX_ANSWERS_PER_CHAT + 1):
            draft = Draft(
                c.id,
                "bot",
                body,
                client_msg_id=f"{CLIENT_ID_PREFIX}{slot}",
                # Checked again where the seq is taken: a chat routed meanwhile gets no answer.
                while_waiting=c.state == State.WAITING.value,
            )
            try:
                stored = await post_message(desk, draft)
            except DeskError as exc:
                log.info("faq bot did not answer", extra={"consultation": c.id, "reason": exc.code})
                return
            if not stored.duplicate:
                return

    async def should_answer(self, c: Consultation, answers_so_far: int) -> bool:
        """Not served yet, and no consultant free to take the chat this moment."""
        if answers_so_far >= MAX_ANSWERS_PER_CHAT:
            return False
        if c.state == State.OFFERED.value:
            return True
        if c.state != State.WAITING.value:
            return False
        lib = await self.desk.directory.library(c.route_library_id)
        delay = lib.overflow_delay_seconds if lib is not None else 0
        people = await self.desk.state.presences()
        # Routing is about to hand the chat to a person: the bot stays out of the way.
        return not candidates(entry_for(c), people, self.desk.clock.now(), delay)

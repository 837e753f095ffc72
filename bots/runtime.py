"""The bots at work: the greeting on every new chat, the waiting bot on a timer, and the FAQ
bot on readers' messages while they wait (``bots.faq``).

Both speak through ``post_message`` like people do, so a bot message is stored with its seq
before anyone sees it, reaches every node, and comes back on resume.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bots.estimate import MIN_SAMPLES, WaitEstimate, expected_wait, mean_handling
from bots.faq import FaqBot
from bots.texts import language_of, phone_hint, render
from desk.actions.consultations import post_message, timestamp
from desk.bus import EventBus
from desk.context import Desk
from desk.directory import LibraryInfo
from desk.events import ConsultationOpened, MessagePosted, QueuePositionTold
from desk.models import BotMark, BotText, Consultation
from desk.routing.policy import base_language, may_overflow, speaks
from desk.shared.base import Presence, QueueEntry
from desk.states import State
from transcripts.records import Draft

log = logging.getLogger(__name__)

#: How often the waiting bot looks at the queue (once per tick across nodes).
WAIT_TICK_SECONDS = 5.0
#: A reader is first told their place after this long: routing usually finds someone sooner.
FIRST_TELL_SECONDS = 8.0
#: Recent handling times come from chats that ended within this window...
HANDLING_WINDOW = timedelta(hours=2)
#: ...and are re-read at most this often.
HANDLING_CACHE_SECONDS = 60.0
TEXT_CACHE_SECONDS = 30.0


def library_name(lib: LibraryInfo, language: str) -> str:
    return lib.name_en or lib.name if language_of(language) == "en" else lib.name


def estimate_for(
    entry: QueueEntry,
    queue: list[QueueEntry],
    people: list[Presence],
    now: float,
    overflow_delay: float,
    handling: float,
) -> WaitEstimate:
    """Where ``entry`` stands: its place among the chats waiting for the same library in the
    same language, and the wait the consultants who could serve it imply."""
    lang = base_language(entry.language)
    line = [
        e
        for e in queue
        if e.route_library_id == entry.route_library_id and base_language(e.language) == lang
    ]
    position = next(i for i, e in enumerate(line, 1) if e.consultation_id == entry.consultation_id)
    online = [p for p in people if p.routable(now) and speaks(p, entry.language)]
    servers = [p for p in online if p.library_id == entry.route_library_id]
    if may_overflow(entry, people, now, overflow_delay):
        servers = online
    slots = sum(p.capacity for p in servers)
    free = sum(p.free for p in servers)
    return WaitEstimate(position, expected_wait(position, slots, free, handling))


@dataclass(frozen=True, slots=True)
class Told:
    """What the waiting bot says now (``key`` None: nothing) and the mark it leaves."""

    key: str | None
    position: int | None
    minutes: int | None
    offered_form: bool


def decide(
    mark: BotMark | None,
    est: WaitEstimate,
    waited: float,
    since_told: float | None,
    long_wait_minutes: int,
    update_seconds: float,
) -> Told:
    """The waiting bot's rules, as a pure function of what it told before and what it sees."""
    offered = bool(mark and mark.offered_form)
    minutes = est.minutes
    if minutes is None:
        # Nobody who could serve is online: say so once, with the form service and the phone;
        # again only if the last word gave a wait (everyone left since), and calmly.
        last_gave_a_wait = (
            mark is not None and mark.told_at is not None and mark.minutes is not None
        )
        calm = since_told is None or since_told >= update_seconds
        if not offered or (last_gave_a_wait and calm):
            return Told("nobody_online", est.position, None, True)
        return Told(None, None, None, True)
    if not offered and minutes >= long_wait_minutes:
        return Told("long_wait", est.position, minutes, True)
    if mark is None or mark.told_at is None:
        if waited < FIRST_TELL_SECONDS:
            return Told(None, None, None, offered)
        return Told(_queue_key(est), est.position, minutes, offered)
    if since_told is not None and since_told < update_seconds:
        return Told(None, None, None, offered)
    moved = mark.position != est.position
    if mark.minutes is None:
        # The last word was "nobody online": someone who can serve is back.
        changed = True
    else:
        # Meaningfully: at least 2 minutes and a quarter of the old estimate.
        changed = abs(minutes - mark.minutes) >= max(2, round(mark.minutes * 0.25))
    if moved or changed:
        return Told(_queue_key(est), est.position, minutes, offered)
    return Told(None, None, None, offered)


def _queue_key(est: WaitEstimate) -> str:
    return "queue_next" if est.position <= 1 else "queue_position"


class Bots:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._texts: dict[int, tuple[float, dict[tuple[str, str], str]]] = {}
        self._handling: tuple[float, dict[int | None, float]] | None = None
        #: Answers waiting readers from the knowledge base (``bots.faq``).
        self.faq = FaqBot(desk, self.text)

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(ConsultationOpened, self.greet)
        bus.subscribe(MessagePosted, self.faq.on_message)

    # -- texts ---------------------------------------------------------------------------

    async def overrides(self, library_id: int) -> dict[tuple[str, str], str]:
        hit = self._texts.get(library_id)
        if hit is not None and time.monotonic() - hit[0] < TEXT_CACHE_SECONDS:
            return hit[1]
        async with self.desk.reads() as s:
            rows = (await s.scalars(select(BotText).where(BotText.library_id == library_id))).all()
        got = {(r.key, r.language): r.body for r in rows}
        self._texts[library_id] = (time.monotonic(), got)
        return got

    def forget_texts(self, library_id: int) -> None:
        self._texts.pop(library_id, None)

    async def text(
        self, lib: LibraryInfo, key: str, language: str, values: Mapping[str, Any]
    ) -> str:
        override = (await self.overrides(lib.id)).get((key, language_of(language)))
        return render(key, language, values, override)

    async def say(self, consultation_id: int, body: str, tag: str) -> None:
        await post_message(
            self.desk, Draft(consultation_id, "bot", body, client_msg_id=f"bot.{tag}")
        )

    # -- greeting ------------------------------------------------------------------------

    async def greet(self, e: ConsultationOpened) -> None:
        c = e.consultation
        lib = await self.desk.directory.library(c.library_id)
        if lib is None or not lib.bots.greeting:
            return
        body = await self.text(
            lib, "greeting", c.language, {"library": library_name(lib, c.language)}
        )
        # One greeting per chat: the fixed client message id makes a repeat a no-op.
        await self.say(c.id, body, "greeting")

    # -- waiting -------------------------------------------------------------------------

    async def handling_times(self) -> dict[int | None, float]:
        """Mean handling seconds per serving library (None: the whole alliance)."""
        if self._handling and time.monotonic() - self._handling[0] < HANDLING_CACHE_SECONDS:
            return self._handling[1]
        since = timestamp(self.desk.clock.now()) - HANDLING_WINDOW
        async with self.desk.reads() as s:
            rows = (
                await s.execute(
                    select(
                        Consultation.serving_library_id,
                        Consultation.assigned_at,
                        Consultation.ended_at,
                    )
                    .where(
                        Consultation.ended_at >= since,
                        Consultation.assigned_at.is_not(None),
                        Consultation.state == State.CLOSED.value,
                    )
                    .order_by(Consultation.ended_at.desc())
                    .limit(5000)
                )
            ).all()
        per: dict[int | None, list[float]] = defaultdict(list)
        for lib_id, start, end in rows:
            if start is None or end is None:
                continue
            seconds = (end - start).total_seconds()
            per[lib_id].append(seconds)
            per[None].append(seconds)
        alliance = mean_handling(per[None])
        out: dict[int | None, float] = {None: alliance}
        for lib_id, values in per.items():
            if lib_id is not None and len(values) >= MIN_SAMPLES:
                out[lib_id] = mean_handling(values, alliance)
        self._handling = (time.monotonic(), out)
        return out

    async def _mark(self, speak: list[tuple[QueueEntry, Told, WaitEstimate]], now: float) -> None:
        async with self.desk.sessions.begin() as s:
            for entry, told, _ in speak:
                mark = await s.get(BotMark, entry.consultation_id)
                if mark is None:
                    mark = BotMark(consultation_id=entry.consultation_id)
                    s.add(mark)
                mark.told_at = timestamp(now)
                if told.position is not None:
                    mark.position = told.position
                # None after "nobody online", so the next estimate counts as news.
                mark.minutes = told.minutes
                mark.offered_form = told.offered_form

    async def tell_waiting(self) -> int:
        """One pass of the waiting bot over the queue; returns how many chat messages it sent."""
        desk = self.desk
        queue = await desk.state.queue()
        if not queue:
            return 0
        now = desk.clock.now()
        people = await desk.state.presences()
        ids = [e.consultation_id for e in queue]
        async with desk.reads() as s:
            rows = (
                await s.execute(
                    select(Consultation.id, Consultation.reader_id).where(
                        Consultation.id.in_(ids), Consultation.state == State.WAITING.value
                    )
                )
            ).all()
            marks = {
                m.consultation_id: m
                for m in (await s.scalars(select(BotMark).where(BotMark.consultation_id.in_(ids))))
            }
        readers = dict(rows)
        handling = await self.handling_times()
        libraries = await desk.directory.libraries()
        events: list[QueuePositionTold] = []
        speak: list[tuple[QueueEntry, Told, WaitEstimate]] = []
        for entry in queue:
            lib = libraries.get(entry.route_library_id)
            if entry.consultation_id not in readers or lib is None or not lib.bots.waiting:
                continue
            est = estimate_for(
                entry,
                queue,
                people,
                now,
                lib.overflow_delay_seconds,
                handling.get(lib.id, handling[None]),
            )
            events.append(
                QueuePositionTold(
                    entry.consultation_id,
                    readers[entry.consultation_id],
                    est.position,
                    est.minutes,
                    offer_form=est.minutes is None or est.minutes >= lib.bots.long_wait_minutes,
                )
            )
            mark = marks.get(entry.consultation_id)
            since = now - mark.told_at.timestamp() if mark is not None and mark.told_at else None
            told = decide(
                mark,
                est,
                now - entry.queued_at,
                since,
                lib.bots.long_wait_minutes,
                lib.bots.update_seconds,
            )
            if told.key is not None:
                speak.append((entry, told, est))
        await desk.bus.publish(*events)
        if not speak:
            return 0
        try:
            await self._mark(speak, now)
        except IntegrityError:
            # Another node's pass wrote the same marks first: it speaks, this one does not.
            return 0
        sent = 0
        for entry, told, est in speak:
            lib = libraries[entry.route_library_id]
            assert told.key is not None
            values = {
                "ahead": max(0, est.position - 1),
                "position": est.position,
                "minutes": told.minutes if told.minutes is not None else "",
                "phone_hint": phone_hint(lib.phone, entry.language),
            }
            body = await self.text(lib, told.key, entry.language, values)
            # The id names what is said: two overlapping passes (a slow pass, nodes' clocks a
            # little apart at a tick's edge) store it once.
            tag = f"{told.key}.{told.position}.{told.minutes}"
            try:
                await self.say(entry.consultation_id, body, tag)
                sent += 1
            except Exception:
                # The chat ended or was taken meanwhile; the next pass sees the new state.
                log.info(
                    "waiting bot skipped a chat", extra={"consultation": entry.consultation_id}
                )
        return sent

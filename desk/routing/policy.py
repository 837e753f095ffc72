"""Who may take a waiting chat, best first. Pure functions over plain data, tested by tables.

The pipeline: routable (online, connected, fresh heartbeat) -> free capacity -> speaks the
reader's language -> has not declined this chat -> library tier -> least loaded, longest idle.

Library tier: the consultants of the chat's routing library (its origin, or the library it was
transferred to) are tried first. Consultants of other libraries take it once it has waited the
library's overflow delay, or at once when the routing library has nobody online who speaks the
reader's language (waiting for people who are not there helps no one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from desk.shared.base import Presence, QueueEntry


def base_language(tag: str) -> str:
    return tag.split("-")[0].strip().lower()


def speaks(p: Presence, language: str) -> bool:
    want = base_language(language)
    return any(base_language(lang) == want for lang in p.languages)


def routable(people: Iterable[Presence], now: float) -> list[Presence]:
    return [p for p in people if p.routable(now)]


def with_capacity(people: Iterable[Presence]) -> list[Presence]:
    return [p for p in people if p.free > 0]


def speaking(people: Iterable[Presence], language: str) -> list[Presence]:
    return [p for p in people if speaks(p, language)]


def not_declined(people: Iterable[Presence], entry: QueueEntry) -> list[Presence]:
    return [p for p in people if p.consultant_id not in entry.declined]


def rank(people: Iterable[Presence]) -> list[Presence]:
    """Least loaded first (by free share, then count), then longest idle, then lowest id."""
    return sorted(
        people,
        key=lambda p: (
            p.load / p.capacity if p.capacity else 1.0,
            p.load,
            p.idle_since,
            p.consultant_id,
        ),
    )


def may_overflow(
    entry: QueueEntry, people: Sequence[Presence], now: float, overflow_delay: float
) -> bool:
    if now - entry.queued_at >= overflow_delay:
        return True
    home_online = [
        p
        for p in people
        if p.library_id == entry.route_library_id and p.routable(now) and speaks(p, entry.language)
    ]
    return not home_online


def candidates(
    entry: QueueEntry, people: Sequence[Presence], now: float, overflow_delay: float
) -> list[Presence]:
    pool = not_declined(speaking(with_capacity(routable(people, now)), entry.language), entry)
    home = [p for p in pool if p.library_id == entry.route_library_id]
    if home:
        return rank(home)
    if may_overflow(entry, people, now, overflow_delay):
        return rank(pool)
    return []

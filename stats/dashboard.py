"""The live dashboard: who waits and for how long, who is online with what load (and who is
at capacity), chats per library, and the day's figures so far.

Built from the shared state (the same queue and presences routing uses, so it is the desk as
it is on every node) and today's roll-up rows. Each node pushes it to its own watching
consoles every ``DASHBOARD_SECONDS`` (``dashboard`` events); nothing crosses nodes but the
state they all read. An admin sees the alliance; a library supervisor their library, with the
alliance's totals for comparison.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from desk.context import Desk
from desk.directory import ConsultantInfo
from desk.errors import Forbidden
from stats.figures import Figures
from stats.models import StatsDaily
from stats.rollup import today

DASHBOARD_SECONDS = 5.0


def may_watch(who: ConsultantInfo) -> bool:
    return who.role in ("supervisor", "admin")


def require_watcher(who: ConsultantInfo) -> None:
    if not may_watch(who):
        raise Forbidden("the dashboard is for supervisors", code="forbidden")


class Board:
    """One computation of the desk's state, cut per watcher's scope."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.at = desk.clock.now()
        self.queue: list[dict[str, Any]] = []
        self.people: list[dict[str, Any]] = []
        self.today: dict[tuple[str, int], Figures] = {}
        self.libraries: dict[int, Any] = {}

    async def load(self) -> Board:
        desk, now = self.desk, self.at
        self.libraries = await desk.directory.libraries()
        for e in await desk.state.queue():
            self.queue.append(
                {
                    "consultation_id": e.consultation_id,
                    "library_id": e.library_id,
                    "route_library_id": e.route_library_id,
                    "language": e.language,
                    "waiting_seconds": max(0, round(now - e.queued_at)),
                }
            )
        for p in await desk.state.presences():
            if not p.alive(now) or not p.connected:
                continue
            info = await desk.directory.consultant(p.consultant_id)
            self.people.append(
                {
                    "id": p.consultant_id,
                    "name": info.display_name if info else "",
                    "library_id": p.library_id,
                    "status": p.status,
                    "load": p.load,
                    "capacity": p.capacity,
                    "at_capacity": p.load >= p.capacity,
                    "languages": list(p.languages),
                }
            )
        async with desk.reads() as s:
            for r in (
                await s.scalars(
                    select(StatsDaily).where(
                        StatsDaily.day == today(desk).isoformat(),
                        StatsDaily.dim.in_(("alliance", "serving", "origin")),
                    )
                )
            ).all():
                f = Figures()
                f.add(r)
                self.today[(r.dim, r.key)] = f
        return self

    def _code(self, library_id: int) -> str:
        lib = self.libraries.get(library_id)
        return lib.code if lib else ""

    def view(self, who: ConsultantInfo) -> dict[str, Any]:
        """What ``who`` sees."""
        mine = None if who.role == "admin" else who.library_id
        queue = [
            q
            for q in self.queue
            if mine is None or mine in (q["library_id"], q["route_library_id"])
        ]
        people = [p for p in self.people if mine is None or p["library_id"] == mine]
        waiting_by: Counter[int] = Counter(q["library_id"] for q in self.queue)
        chats_by: Counter[int] = Counter()
        online_by: Counter[int] = Counter()
        free_by: Counter[int] = Counter()
        for p in self.people:
            chats_by[p["library_id"]] += p["load"]
            if p["status"] == "online":
                online_by[p["library_id"]] += 1
                free_by[p["library_id"]] += max(0, p["capacity"] - p["load"])
        keys = set(waiting_by) | set(chats_by) | set(online_by)
        keys |= {k for (dim, k) in self.today if dim in ("serving", "origin")}
        if mine is not None:
            keys = {mine}
        libraries = []
        for lid in sorted(keys, key=lambda k: self._code(k)):
            lib = self.libraries.get(lid)
            if lib is None:
                continue
            served = self.today.get(("serving", lid), Figures()).summary()
            readers = self.today.get(("origin", lid), Figures()).summary()
            libraries.append(
                {
                    "id": lid,
                    "code": lib.code,
                    "name": lib.name,
                    "name_en": lib.name_en,
                    "waiting": waiting_by.get(lid, 0),
                    "chats": chats_by.get(lid, 0),
                    "online": online_by.get(lid, 0),
                    "free": free_by.get(lid, 0),
                    "today_served": served["served"],
                    "today_consultations": readers["consultations"],
                    "today_documents": served["documents"],
                }
            )
        waits = [q["waiting_seconds"] for q in queue]
        today_key = ("alliance", 0) if mine is None else ("origin", mine)
        day = self.today.get(today_key, Figures()).summary()
        if mine is not None:
            served = self.today.get(("serving", mine), Figures()).summary()
            day.update(
                served=served["served"],
                documents=served["documents"],
                tickets_answered=served["tickets_answered"],
                reply_p50=served["reply_p50"],
                reply_p90=served["reply_p90"],
            )
        return {
            "at": datetime.fromtimestamp(self.at, UTC).isoformat(),
            "scope": "alliance" if mine is None else self._code(mine),
            "queue": [
                {
                    "consultation_id": q["consultation_id"],
                    "library": self._code(q["library_id"]),
                    "language": q["language"],
                    "waiting_seconds": q["waiting_seconds"],
                }
                for q in sorted(queue, key=lambda q: -q["waiting_seconds"])
            ],
            "waiting": len(queue),
            "longest_wait_seconds": max(waits, default=0),
            "consultants": [
                {
                    **{k: v for k, v in p.items() if k != "library_id"},
                    "library": self._code(p["library_id"]),
                }
                for p in sorted(people, key=lambda p: (p["status"], -p["load"], p["name"]))
            ],
            "online": sum(1 for p in people if p["status"] == "online"),
            "at_capacity": sum(1 for p in people if p["at_capacity"]),
            "chats": sum(p["load"] for p in people),
            "free": sum(
                max(0, p["capacity"] - p["load"]) for p in people if p["status"] == "online"
            ),
            "libraries": libraries,
            "today": day,
            "alliance_today": self.today.get(("alliance", 0), Figures()).summary(),
        }

"""A library's service hours: is its live desk staffed now, and when does it open next?

Stored on the library as ``{"timezone": "Asia/Shanghai", "weekly": {"mon": [["08:30",
"21:00"]], ...}, "closed": ["2026-10-01", ...]}``. No ``weekly`` at all means no set hours
(always open as far as the widget is concerned; routing still needs someone online). A day
missing from ``weekly`` is closed. ``closed`` lists whole dates (holidays).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse(hhmm: str) -> time | None:
    try:
        h, m = hhmm.split(":")
        if hhmm == "24:00":
            return time(23, 59, 59)
        return time(int(h), int(m))
    except (ValueError, AttributeError):
        return None


def _spans(hours: dict[str, Any], day: date) -> list[tuple[time, time]]:
    if day.isoformat() in set(hours.get("closed") or ()):
        return []
    out = []
    for span in (hours.get("weekly") or {}).get(DAYS[day.weekday()], []) or []:
        if isinstance(span, (list, tuple)) and len(span) == 2:
            start, end = _parse(span[0]), _parse(span[1])
            if start is not None and end is not None and start < end:
                out.append((start, end))
    return sorted(out)


def zone_of(hours: dict[str, Any] | None) -> ZoneInfo:
    """The library's time zone (its service hours'), Beijing time when it sets none."""
    return _zone(hours or {})


def _zone(hours: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(str(hours.get("timezone") or "Asia/Shanghai"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def status(hours: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """``{"open_now": bool or None, "opens_at": ISO time or None}``; None: no set hours."""
    if not hours or not hours.get("weekly"):
        return {"open_now": None, "opens_at": None}
    zone = _zone(hours)
    local = datetime.fromtimestamp(now, zone)
    for start, end in _spans(hours, local.date()):
        if start <= local.time() < end:
            return {"open_now": True, "opens_at": None}
    for ahead in range(0, 15):
        day = local.date() + timedelta(days=ahead)
        for start, _end in _spans(hours, day):
            at = datetime.combine(day, start, zone)
            if at > local:
                return {"open_now": False, "opens_at": at.isoformat()}
    return {"open_now": False, "opens_at": None}

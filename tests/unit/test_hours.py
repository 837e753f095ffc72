"""Service hours: open now, and when the desk opens next."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from desk.hours import status

SH = ZoneInfo("Asia/Shanghai")
HOURS = {
    "timezone": "Asia/Shanghai",
    "weekly": {
        "mon": [["08:30", "12:00"], ["13:30", "21:00"]],
        "tue": [["08:30", "21:00"]],
        "sat": [["09:00", "17:00"]],
    },
    "closed": ["2026-12-01"],
}


def at(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def test_no_hours_means_no_verdict() -> None:
    assert status({}, at(2026, 11, 30, 3, 0)) == {"open_now": None, "opens_at": None}


def test_open_within_a_span_and_closed_at_lunch() -> None:
    assert status(HOURS, at(2026, 11, 30, 9, 0))["open_now"] is True  # a Monday
    lunch = status(HOURS, at(2026, 11, 30, 12, 30))
    assert lunch == {"open_now": False, "opens_at": "2026-11-30T13:30:00+08:00"}


def test_a_holiday_and_the_weekend_skip_to_the_next_open_day() -> None:
    # Tuesday 1 December is a holiday: after Monday evening the next opening is Saturday.
    got = status(HOURS, at(2026, 11, 30, 22, 0))
    assert got == {"open_now": False, "opens_at": "2026-12-05T09:00:00+08:00"}


def test_bad_entries_are_ignored_not_fatal() -> None:
    bad = {"timezone": "Mars/Base", "weekly": {"mon": [["late", "21:00"], ["09:00"]]}}
    assert status(bad, at(2026, 11, 30, 10, 0))["open_now"] is False

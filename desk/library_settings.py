"""A library's own settings, kept by its supervisors: service hours, the phone number, and
the files its chats take (size and kinds).

The hours decide what the widget offers first (outside them: leave the question for the form
service, see ``desk.hours``); the phone is named by the bots and the widget as the other way
to ask (norm 4 of live service).
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from pydantic import Field, field_validator, model_validator

from desk import hours
from desk.context import Desk
from desk.delivery import files
from desk.delivery.actions import limits_of
from desk.errors import Forbidden, InvalidPayload, NotFound
from desk.http import DESK_KEY, _Body, _json
from desk.models import Library
from desk.phrases import _staff, can_edit_library

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
#: Spans one day may have (morning, afternoon, evening, and one more).
MAX_SPANS_PER_DAY = 4
#: Holidays and other closed dates kept at once (a year and a half of them).
MAX_CLOSED_DATES = 550


class ServiceHours(_Body):
    timezone: str = "Asia/Shanghai"
    #: Per weekday (mon..sun), spans of ["HH:MM", "HH:MM"]; a missing day is closed.
    weekly: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    #: Whole dates (YYYY-MM-DD) the desk is closed: holidays.
    closed: list[str] = Field(default_factory=list, max_length=MAX_CLOSED_DATES)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, v: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for day, spans in v.items():
            if day not in hours.DAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(hours.DAYS)}")
            if len(spans) > MAX_SPANS_PER_DAY:
                raise ValueError(f"{day}: at most {MAX_SPANS_PER_DAY} spans")
            clean = sorted((a, b) for a, b in spans)
            for a, b in clean:
                if not _HHMM.match(a) or not _HHMM.match(b):
                    raise ValueError(f"{day}: times are HH:MM, got {a!r}-{b!r}")
                if a >= b:
                    raise ValueError(f"{day}: {a}-{b} ends before it starts")
            for (_, end), (start, _) in itertools.pairwise(clean):
                if start < end:
                    raise ValueError(f"{day}: spans overlap")
            if clean:
                out[day] = clean
        return out

    @field_validator("closed")
    @classmethod
    def _dates(cls, v: list[str]) -> list[str]:
        for d in v:
            try:
                date.fromisoformat(d)
            except ValueError as exc:
                raise ValueError(f"{d!r} is not a date (YYYY-MM-DD)") from exc
        return sorted(set(v))


class FileLimits(_Body):
    #: Largest file in a chat, in MB (never above DESK_MAX_UPLOAD_MB).
    max_mb: int = Field(files.DEFAULT_MAX_MB, ge=1, le=2048)
    #: Which kinds of file the library's chats take (``desk.delivery.files.FAMILIES``).
    types: list[str] = Field(default_factory=lambda: list(files.DEFAULT_FAMILIES))

    @field_validator("types")
    @classmethod
    def _families(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in files.FAMILIES]
        if unknown:
            raise ValueError(f"unknown file types {unknown}; known: {', '.join(files.FAMILIES)}")
        return [f for f in files.FAMILIES if f in v]


class SettingsBody(_Body):
    #: Null: no set hours (the widget never says "closed"; routing still needs someone).
    service_hours: ServiceHours | None = None
    phone: str | None = Field(None, max_length=64, pattern=r"^[0-9+()\-\s转#,，、]*$")
    clear_hours: bool = False
    file_limits: FileLimits | None = None

    @model_validator(mode="after")
    def _one_way(self) -> SettingsBody:
        if self.clear_hours and self.service_hours is not None:
            raise ValueError("send service_hours or clear_hours, not both")
        return self


def stored_hours(h: ServiceHours | None) -> dict[str, Any]:
    if h is None:
        return {}
    return {
        "timezone": h.timezone,
        "weekly": {d: [list(s) for s in spans] for d, spans in h.weekly.items()},
        "closed": h.closed,
    }


def _view(desk: Desk, lib: Library, can_edit: bool) -> dict[str, Any]:
    limits = limits_of(desk, lib.file_limits)
    return {
        "ok": True,
        "library": {"code": lib.code, "name": lib.name},
        "service_hours": lib.service_hours or {},
        "phone": lib.phone,
        **hours.status(lib.service_hours, desk.clock.now()),
        "file_limits": {
            "max_mb": limits.max_bytes // (1024 * 1024),
            "types": list(limits.families),
            "families": {f: files.extensions((f,)) for f in files.FAMILIES},
            "desk_max_mb": desk.settings.max_upload_mb,
        },
        "can_edit": can_edit,
    }


async def get_settings(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        lib = await s.get(Library, who.library_id)
    if lib is None:
        raise NotFound("your library is gone", code="library_not_found")
    return web.json_response(_view(desk, lib, can_edit_library(who)))


async def put_settings(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    if not can_edit_library(who):
        raise Forbidden(
            "only supervisors and admins change the library's settings", code="forbidden"
        )
    body: SettingsBody = await _json(request, SettingsBody)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        lib = await s.get(Library, who.library_id)
        if lib is None:
            raise NotFound("your library is gone", code="library_not_found")
        if body.clear_hours:
            lib.service_hours = {}
        elif body.service_hours is not None:
            lib.service_hours = stored_hours(body.service_hours)
        if body.phone is not None:
            lib.phone = body.phone.strip()
        if body.file_limits is not None:
            if body.file_limits.max_mb > desk.settings.max_upload_mb:
                raise InvalidPayload(
                    f"this desk takes files of at most {desk.settings.max_upload_mb} MB",
                    code="invalid_payload",
                    fields=[{"field": "file_limits.max_mb", "problem": "above the desk's cap"}],
                )
            lib.file_limits = body.file_limits.model_dump()
        view = _view(desk, lib, True)
    desk.directory.forget()
    return web.json_response(view)


def add_library_settings_routes(app: web.Application) -> None:
    app.router.add_get("/api/library/settings", get_settings)
    app.router.add_put("/api/library/settings", put_settings)

"""Creating member libraries and staff: shared by the command line, the demo and the tests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.auth import MIN_PASSWORD_CHARS, hash_password
from desk.errors import Conflict, InvalidPayload
from desk.models import ROLES, Consultant, Library, Reader
from desk.phrases import seed_defaults

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


def normalise_origin(origin: str) -> str:
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise InvalidPayload(
            f"not a website origin: {origin!r} (use scheme://host[:port])", code="bad_origin"
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


async def add_library(
    sessions: async_sessionmaker[AsyncSession],
    *,
    code: str,
    name: str,
    name_en: str = "",
    origins: Sequence[str] = (),
    languages: Sequence[str] = ("zh-CN",),
    phone: str = "",
    routing_mode: str = "offer",
    offer_timeout_seconds: int = 30,
    overflow_delay_seconds: int = 60,
    service_hours: dict[str, Any] | None = None,
) -> Library:
    if not CODE_RE.match(code):
        raise InvalidPayload("a library code is 1-32 letters, digits, _ or -", code="bad_code")
    if routing_mode not in ("offer", "direct"):
        raise InvalidPayload("routing mode is offer or direct", code="bad_routing_mode")
    if not languages:
        raise InvalidPayload("a library serves at least one language", code="bad_languages")
    lib = Library(
        code=code,
        name=name,
        name_en=name_en,
        allowed_origins=[normalise_origin(o) for o in origins],
        languages=list(languages),
        phone=phone,
        routing_mode=routing_mode,
        offer_timeout_seconds=offer_timeout_seconds,
        overflow_delay_seconds=overflow_delay_seconds,
        service_hours=service_hours or {},
    )
    async with sessions.begin() as s:
        if await s.scalar(select(Library.id).where(Library.code == code)) is not None:
            raise Conflict(f"library {code} exists", code="library_exists")
        s.add(lib)
        await s.flush()
        await seed_defaults(s, lib.id)
    return lib


async def add_consultant(
    sessions: async_sessionmaker[AsyncSession],
    *,
    library_code: str,
    username: str,
    display_name: str,
    password: str,
    role: str = "trainee",
    languages: Sequence[str] = ("zh-CN",),
    max_chats: int = 4,
    inspector: bool = False,
) -> Consultant:
    if not USERNAME_RE.match(username):
        raise InvalidPayload("a username is 2-64 letters, digits, _ . or -", code="bad_username")
    if role not in ROLES:
        raise InvalidPayload(f"role is one of {', '.join(ROLES)}", code="bad_role")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidPayload(
            f"a password has at least {MIN_PASSWORD_CHARS} characters", code="weak_password"
        )
    if not 1 <= max_chats <= 20:
        raise InvalidPayload("max chats is 1 to 20", code="bad_max_chats")
    async with sessions.begin() as s:
        lib = await s.scalar(select(Library).where(Library.code == library_code))
        if lib is None:
            raise InvalidPayload(f"no library {library_code}", code="library_not_found")
        if await s.scalar(select(Consultant.id).where(Consultant.username == username)) is not None:
            raise Conflict(f"username {username} is taken", code="username_taken")
        c = Consultant(
            library_id=lib.id,
            username=username,
            display_name=display_name,
            role=role,
            languages=list(languages),
            max_chats=max_chats,
            password_hash=hash_password(password),
            inspector=inspector,
        )
        s.add(c)
    return c


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def add_reader_account(
    sessions: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    display_name: str = "",
    library_code: str | None = None,
) -> Reader:
    """An alliance reader account: recognised at every member library ("reader sharing")."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidPayload("not an email address", code="bad_email")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidPayload(
            f"a password has at least {MIN_PASSWORD_CHARS} characters", code="weak_password"
        )
    async with sessions.begin() as s:
        if await s.scalar(select(Reader.id).where(Reader.email == email)) is not None:
            raise Conflict("that email has an account", code="email_taken")
        lib_id = None
        if library_code is not None:
            lib_id = await s.scalar(select(Library.id).where(Library.code == library_code))
            if lib_id is None:
                raise InvalidPayload(f"no library {library_code}", code="library_not_found")
        r = Reader(
            kind="account",
            email=email,
            display_name=display_name,
            password_hash=hash_password(password),
            first_library_id=lib_id,
        )
        s.add(r)
    return r


_DAY_SPEC = re.compile(r"^(?P<days>[a-z,\-]+)\s+(?P<spans>.+)$")


def parse_weekly(specs: Sequence[str]) -> dict[str, list[list[str]]]:
    """``["mon-fri 08:30-12:00,14:00-17:30", "sat 09:00-12:00"]`` as stored service hours'
    ``weekly``; a later spec for the same day replaces the earlier one."""
    from desk.hours import DAYS

    weekly: dict[str, list[list[str]]] = {}
    for spec in specs:
        m = _DAY_SPEC.match(spec.strip().lower())
        if m is None:
            raise InvalidPayload(
                f"not a weekly span: {spec!r} (e.g. 'mon-fri 08:30-17:30')", code="bad_hours"
            )
        days: list[str] = []
        for part in m["days"].split(","):
            first, _, last = part.partition("-")
            if first not in DAYS or (last and last not in DAYS):
                raise InvalidPayload(f"unknown day in {spec!r}", code="bad_hours")
            i, j = DAYS.index(first), DAYS.index(last or first)
            if j < i:
                raise InvalidPayload(f"days run backwards in {spec!r}", code="bad_hours")
            days += DAYS[i : j + 1]
        spans = []
        for span in m["spans"].replace(" ", "").split(","):
            start, sep, end = span.partition("-")
            if not sep:
                raise InvalidPayload(f"not a time span: {span!r} in {spec!r}", code="bad_hours")
            spans.append([start, end])
        for day in days:
            weekly[day] = spans
    return weekly


async def set_service_hours(
    sessions: async_sessionmaker[AsyncSession],
    code: str,
    *,
    weekly: Sequence[str] = (),
    closed: Sequence[str] = (),
    timezone: str = "Asia/Shanghai",
    clear: bool = False,
) -> dict[str, Any]:
    """Replace a library's service hours (checked as the console's settings page checks
    them); ``clear``: no set hours."""
    from pydantic import ValidationError

    from desk.library_settings import ServiceHours, stored_hours

    stored: dict[str, Any] = {}
    if not clear:
        try:
            checked = ServiceHours.model_validate(
                {"timezone": timezone, "weekly": parse_weekly(weekly), "closed": list(closed)}
            )
        except ValidationError as exc:
            problems = "; ".join(e["msg"] for e in exc.errors(include_url=False))
            raise InvalidPayload(f"service hours: {problems}", code="bad_hours") from exc
        stored = stored_hours(checked)
    async with sessions.begin() as s:
        lib = (await s.scalars(select(Library).where(Library.code == code))).one_or_none()
        if lib is None:
            raise InvalidPayload(f"no library {code!r}", code="library_not_found")
        lib.service_hours = stored
    return stored


async def set_inspector(
    sessions: async_sessionmaker[AsyncSession], username: str, on: bool
) -> Consultant:
    """Give or take the quality-inspector duty (质检员)."""
    async with sessions.begin() as s:
        c = await s.scalar(select(Consultant).where(Consultant.username == username))
        if c is None:
            raise InvalidPayload(f"no consultant {username}", code="consultant_not_found")
        c.inspector = on
    return c

"""Credentials: staff passwords and sessions, reader tokens. Secrets are random and server
issued; only their SHA-256 is stored, so a database leak yields no usable token."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from desk.context import Desk
from desk.db import utcnow
from desk.directory import ConsultantInfo
from desk.events import StaffLoggedOut
from desk.models import Consultant, Reader, ReaderToken, StaffSession

#: Argon2id with the library's defaults (64 MiB, 3 passes): memory-hard, as the issue asks.
_hasher = PasswordHasher()
SESSION_COOKIE = "desk_session"
MIN_PASSWORD_CHARS = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def check_password(stored: str, password: str) -> bool:
    """Argon2 spends ~0.1 s of CPU on purpose: off the event loop, or logins freeze the desk."""
    return await asyncio.to_thread(verify_password, stored, password)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def login(desk: Desk, username: str, password: str) -> tuple[str, ConsultantInfo] | None:
    async with desk.reads() as s:
        c = await s.scalar(select(Consultant).where(Consultant.username == username))
    if c is None:
        # Spend the same time as a real check, so a timing probe can't list usernames.
        await check_password(_DUMMY_HASH, password)
        return None
    if not await check_password(c.password_hash, password) or not c.active:
        return None
    token = new_token()
    async with desk.sessions.begin() as s:
        s.add(
            StaffSession(
                token_hash=token_hash(token),
                consultant_id=c.id,
                expires_at=utcnow() + timedelta(days=desk.settings.session_days),
            )
        )
    return token, ConsultantInfo.of(c)


async def staff_from_token(desk: Desk, token: str | None) -> ConsultantInfo | None:
    if not token or len(token) > 200:
        return None
    async with desk.reads() as s:
        c = await s.scalar(
            select(Consultant)
            .join(StaffSession, StaffSession.consultant_id == Consultant.id)
            .where(StaffSession.token_hash == token_hash(token), StaffSession.expires_at > utcnow())
        )
    if c is None or not c.active:
        return None
    return ConsultantInfo.of(c)


async def logout(desk: Desk, token: str) -> None:
    hashed = token_hash(token)
    async with desk.sessions.begin() as s:
        await s.execute(delete(StaffSession).where(StaffSession.token_hash == hashed))
    # This node's sockets of the session go at once; other nodes' within a heartbeat.
    await desk.bus.publish(StaffLoggedOut(hashed))


async def live_session_hashes(desk: Desk, hashes: Iterable[str]) -> set[str]:
    """Which of these console sessions are still valid (unexpired, consultant active)."""
    wanted = list(set(hashes))
    if not wanted:
        return set()
    async with desk.reads() as s:
        rows = await s.scalars(
            select(StaffSession.token_hash)
            .join(Consultant, Consultant.id == StaffSession.consultant_id)
            .where(
                StaffSession.token_hash.in_(wanted),
                StaffSession.expires_at > utcnow(),
                Consultant.active.is_(True),
            )
        )
        return set(rows.all())


async def issue_visitor(desk: Desk, library_id: int) -> tuple[str, int]:
    token = new_token()
    async with desk.sessions.begin() as s:
        r = Reader(kind="visitor", first_library_id=library_id)
        s.add(r)
        await s.flush()
        s.add(ReaderToken(token_hash=token_hash(token), reader_id=r.id))
        reader_id = r.id
    return token, reader_id


async def reader_login(desk: Desk, email: str, password: str) -> tuple[str, int] | None:
    async with desk.reads() as s:
        r = await s.scalar(select(Reader).where(Reader.email == email.strip().lower()))
    if r is None or r.password_hash is None:
        await check_password(_DUMMY_HASH, password)
        return None
    if not await check_password(r.password_hash, password):
        return None
    token = new_token()
    async with desk.sessions.begin() as s:
        s.add(ReaderToken(token_hash=token_hash(token), reader_id=r.id))
    return token, r.id


async def reader_from_token(desk: Desk, token: str | None) -> int | None:
    if not token or len(token) > 200:
        return None
    async with desk.reads() as s:
        t = await s.get(ReaderToken, token_hash(token))
    return None if t is None else t.reader_id


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))

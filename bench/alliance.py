"""The alliance the scale benches load: 270 libraries, 900 consultants (spread over them) and
one reader row the generated consultations point at, written straight into a database the
desk's migrations made (SQLite through ``sqlite3``, PostgreSQL through ``asyncpg``)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LIBRARIES = 270
CONSULTANTS = 900
YEAR = datetime(2025, 1, 1, tzinfo=UTC)


def library_of(consultant_id: int) -> int:
    return (consultant_id % LIBRARIES) + 1


def sqlite_time(d: datetime) -> str:
    """A time as the desk's UTCDateTime keeps it in SQLite: naive UTC text."""
    return d.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def seed_sqlite(c: sqlite3.Connection) -> None:
    now = sqlite_time(YEAR)
    c.execute("BEGIN")
    c.executemany(
        "INSERT INTO libraries (id, code, name, name_en, allowed_origins, languages,"
        " service_hours, phone, routing_mode, offer_timeout_seconds, overflow_delay_seconds,"
        " bot_settings, etiquette, file_limits, created_at) VALUES"
        " (?, ?, ?, '', '[]', '[\"zh-CN\"]', '{}', '', 'offer', 30, 60, '{}', '{}', '{}', ?)",
        [(i, f"lib{i}", f"图书馆{i}", now) for i in range(1, LIBRARIES + 1)],
    )
    c.executemany(
        "INSERT INTO consultants (id, library_id, username, display_name, role, languages,"
        " max_chats, password_hash, active, inspector, created_at) VALUES"
        " (?, ?, ?, ?, 'consultant', '[\"zh-CN\"]', 4, 'x', 1, 0, ?)",
        [(i, library_of(i), f"c{i}", f"咨询员{i}", now) for i in range(1, CONSULTANTS + 1)],
    )
    c.execute(
        "INSERT INTO readers (id, kind, display_name, created_at) VALUES (1, 'visitor', '', ?)",
        (now,),
    )
    c.execute("COMMIT")


async def seed_postgres(pg: Any) -> None:
    await pg.executemany(
        "INSERT INTO libraries (id, code, name, name_en, allowed_origins, languages,"
        " service_hours, phone, routing_mode, offer_timeout_seconds, overflow_delay_seconds,"
        " bot_settings, etiquette, file_limits, created_at) VALUES"
        " ($1, $2, $3, '', '[]', '[\"zh-CN\"]', '{}', '', 'offer', 30, 60, '{}', '{}',"
        " '{}', $4)",
        [(i, f"lib{i}", f"图书馆{i}", YEAR) for i in range(1, LIBRARIES + 1)],
    )
    await pg.executemany(
        "INSERT INTO consultants (id, library_id, username, display_name, role, languages,"
        " max_chats, password_hash, active, inspector, created_at) VALUES"
        " ($1, $2, $3, $4, 'consultant', '[\"zh-CN\"]', 4, 'x', true, false, $5)",
        [(i, library_of(i), f"c{i}", f"咨询员{i}", YEAR) for i in range(1, CONSULTANTS + 1)],
    )
    await pg.execute(
        "INSERT INTO readers (id, kind, display_name, created_at) VALUES (1, 'visitor', '', $1)",
        YEAR,
    )

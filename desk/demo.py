"""A demo alliance of two libraries so a newcomer can try the desk at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.admin import add_consultant, add_library
from desk.models import Consultant, Library
from desk.settings import Settings

#: Demo-only password, printed by `make run`; never use the demo data in production.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published on purpose)

LIBRARIES = [
    ("demo-pl", "示例市公共图书馆", "Demo City Public Library", ["zh-CN", "en"], "010-5555-0101"),
    ("demo-ul", "示例大学图书馆", "Demo University Library", ["zh-CN"], "010-5555-0202"),
]
CONSULTANTS = [
    ("demo-pl", "wang", "王老师", "consultant", ["zh-CN", "en"], 4),
    ("demo-pl", "li", "李老师", "consultant", ["zh-CN"], 3),
    ("demo-ul", "zhao", "赵老师", "consultant", ["zh-CN"], 4),
    ("demo-ul", "chen", "陈主任", "supervisor", ["zh-CN", "en"], 2),
    ("demo-pl", "sun", "孙老师", "consultant", ["zh-CN"], 3),
]
#: The demo's quality inspector (质检员).
INSPECTORS = {"sun"}


async def create_demo(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> list[str]:
    origin = settings.origin()
    out = []
    async with sessions() as s:
        have_libs = set((await s.scalars(select(Library.code))).all())
        have_users = set((await s.scalars(select(Consultant.username))).all())
    for code, name, name_en, langs, phone in LIBRARIES:
        if code not in have_libs:
            await add_library(
                sessions,
                code=code,
                name=name,
                name_en=name_en,
                origins=[origin, "http://localhost:8000", "http://127.0.0.1:8000"],
                languages=langs,
                phone=phone,
                overflow_delay_seconds=30,
            )
    for lib, user, name, role, langs, cap in CONSULTANTS:
        if user not in have_users:
            await add_consultant(
                sessions,
                library_code=lib,
                username=user,
                display_name=name,
                password=DEMO_PASSWORD,
                role=role,
                languages=langs,
                max_chats=cap,
                inspector=user in INSPECTORS,
            )
    out.append(f"demo libraries: {', '.join(c for c, *_ in LIBRARIES)}")
    out.append(
        "demo consultants: "
        + ", ".join(u for _, u, *_ in CONSULTANTS)
        + f"  (password: {DEMO_PASSWORD})"
    )
    return out

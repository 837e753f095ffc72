"""The ``desk`` command line."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from desk.settings import Settings

T = TypeVar("T")


def _run(coro_fn: Callable[[Settings], Awaitable[T]]) -> T:
    settings = Settings()

    async def go() -> T:
        return await coro_fn(settings)

    return asyncio.run(go())


async def _with_sessions(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from desk.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        return await fn(make_sessionmaker(engine))
    finally:
        await engine.dispose()


def _admin(fn: Callable[[Any], Awaitable[object]]) -> None:
    """Run one administrative write; a refused one ends the command with its message."""
    from desk.errors import DeskError

    try:
        _run(lambda settings: _with_sessions(settings, fn))
    except DeskError as exc:
        raise click.ClickException(exc.message) from exc


@click.group()
def main() -> None:
    """The library alliance's live consultation desk."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (DESK_HOST).")
@click.option("--port", type=int, default=None, help="Port (DESK_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the desk."""
    from aiohttp import web

    from desk.app import create_app
    from desk.logs import setup_logging

    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = Settings(**overrides)
    setup_logging(settings.log_level, settings.log_format)
    app = create_app(settings)

    async def on_startup(_: web.Application) -> None:
        tune_gc()

    app.on_startup.append(on_startup)
    click.echo(f"desk serving on http://{settings.host}:{settings.port}", err=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)


def tune_gc() -> None:
    """Everything alive after start-up (modules, the app, caches) is long-lived: freeze it
    out of the collector's way, and collect the oldest generation rarely, since full
    collections over thousands of sockets pause the loop. Measured with
    bench/chat_load.py --chats 5000 --setup shared: p99 at 500 msg/s 59 ms with
    (50_000, 20, 100), 27 ms with (50_000, 50, 1000)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations (Alembic) up to REVISION."""
    from desk.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}", err=True)


@main.group()
def library() -> None:
    """Member libraries."""


@library.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--name-en", default="")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="Website origin allowed to embed the widget (repeat).",
)
@click.option("--language", "languages", multiple=True, default=["zh-CN"], show_default=True)
@click.option("--phone", default="")
@click.option(
    "--routing", type=click.Choice(["offer", "direct"]), default="offer", show_default=True
)
@click.option("--offer-timeout", type=int, default=30, show_default=True)
@click.option("--overflow-delay", type=int, default=60, show_default=True)
def library_add(
    code: str,
    name: str,
    name_en: str,
    origins: tuple[str, ...],
    languages: tuple[str, ...],
    phone: str,
    routing: str,
    offer_timeout: int,
    overflow_delay: int,
) -> None:
    """Add member library CODE called NAME."""
    from desk.admin import add_library

    _admin(
        lambda sessions: add_library(
            sessions,
            code=code,
            name=name,
            name_en=name_en,
            origins=origins,
            languages=languages,
            phone=phone,
            routing_mode=routing,
            offer_timeout_seconds=offer_timeout,
            overflow_delay_seconds=overflow_delay,
        )
    )
    click.echo(f"library {code} added")


@library.command("hours")
@click.argument("code")
@click.option(
    "--weekly",
    multiple=True,
    help="Days and spans, e.g. 'mon-fri 08:30-12:00,14:00-17:30' (repeat); other days closed.",
)
@click.option("--closed", multiple=True, help="A closed date, YYYY-MM-DD (repeat): holidays.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--clear", is_flag=True, help="No set hours (the widget never says closed).")
def library_hours(
    code: str, weekly: tuple[str, ...], closed: tuple[str, ...], timezone: str, clear: bool
) -> None:
    """Set the service hours of library CODE (replaces what it had)."""
    import json

    from desk.admin import set_service_hours

    if not clear and not weekly:
        raise click.UsageError("give --weekly spans, or --clear")
    got: dict[str, Any] = {}

    async def go(sessions: Any) -> None:
        got.update(
            await set_service_hours(
                sessions, code, weekly=weekly, closed=closed, timezone=timezone, clear=clear
            )
        )

    _admin(go)
    click.echo(f"library {code} hours: {json.dumps(got, ensure_ascii=False) if got else 'none'}")


@main.group()
def consultant() -> None:
    """Consultants and other staff."""


@consultant.command("add")
@click.argument("library_code")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option(
    "--role",
    type=click.Choice(["trainee", "consultant", "supervisor", "admin"]),
    default="trainee",
    show_default=True,
)
@click.option("--language", "languages", multiple=True, default=["zh-CN"], show_default=True)
@click.option("--max-chats", type=int, default=4, show_default=True)
@click.option("--inspector", is_flag=True, help="A quality inspector (质检员) too.")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from this file (first line).",
)
def consultant_add(
    library_code: str,
    username: str,
    display_name: str,
    role: str,
    languages: tuple[str, ...],
    max_chats: int,
    inspector: bool,
    password_file: Path | None,
) -> None:
    """Add USERNAME to LIBRARY_CODE. The password is prompted for, or read from a file, never
    taken from the command line (where other users and shell history would see it)."""
    from desk.admin import add_consultant

    password = _read_password(password_file)

    _admin(
        lambda sessions: add_consultant(
            sessions,
            library_code=library_code,
            username=username,
            display_name=display_name,
            password=password,
            role=role,
            languages=languages,
            max_chats=max_chats,
            inspector=inspector,
        )
    )
    extra = " and quality inspector" if inspector else ""
    click.echo(f"consultant {username} added to {library_code} as {role}{extra}")


@consultant.command("inspector")
@click.argument("username")
@click.option("--on/--off", "on", default=True, show_default=True)
def consultant_inspector(username: str, on: bool) -> None:
    """Give USERNAME the quality-inspector duty (质检员), or take it away with --off."""
    from desk.admin import set_inspector

    _admin(lambda sessions: set_inspector(sessions, username, on))
    click.echo(f"{username} is {'now' if on else 'no longer'} a quality inspector")


@main.group()
def stats() -> None:
    """The statistics' roll-ups."""


@stats.command("rebuild")
@click.option("--from", "first", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, help="Last day, YYYY-MM-DD.")
def stats_rebuild(first: str, last: str) -> None:
    """Rebuild the daily and monthly figures of the days FROM to TO from the records (after a
    restore, or to check the job's work)."""
    from datetime import date
    from types import SimpleNamespace
    from typing import cast

    from desk.context import Desk
    from stats.rollup import rebuild_range

    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise click.BadParameter("days are YYYY-MM-DD") from exc
    if b < a:
        raise click.BadParameter("--to is before --from")

    async def go(settings: Settings, sessions: Any) -> int:
        # The roll-up needs only the database and the report time zone.
        return await rebuild_range(
            cast(Desk, SimpleNamespace(sessions=sessions, reads=sessions, settings=settings)), a, b
        )

    n = _run(lambda settings: _with_sessions(settings, lambda sessions: go(settings, sessions)))
    click.echo(f"{n} days rebuilt")


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


@main.group()
def reader() -> None:
    """Alliance reader accounts."""


@reader.command("add")
@click.argument("email")
@click.option("--name", "display_name", default="")
@click.option("--library", "library_code", default=None, help="Library where the reader joined.")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from this file (first line).",
)
def reader_add(
    email: str, display_name: str, library_code: str | None, password_file: Path | None
) -> None:
    """Add an alliance reader account, recognised at every member library."""
    from desk.admin import add_reader_account

    password = _read_password(password_file)

    _admin(
        lambda sessions: add_reader_account(
            sessions,
            email=email,
            password=password,
            display_name=display_name,
            library_code=library_code,
        )
    )
    click.echo(f"reader account {email.strip().lower()} added")


@main.command()
def demo() -> None:
    """Create two demo libraries and a few consultants (idempotent)."""
    from desk.demo import create_demo

    settings = Settings()
    lines = _run(lambda s: _with_sessions(s, lambda sessions: create_demo(sessions, settings)))
    for line in lines:
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

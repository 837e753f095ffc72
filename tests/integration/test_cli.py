"""The desk command line against a real (SQLite) database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from desk.auth import verify_password
from desk.cli import main
from desk.db import make_engine, make_sessionmaker
from desk.models import Consultant, Library


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DESK_DATABASE_URL", sqlite_url)
    return sqlite_url


def _fetch(url: str, model: type, **where: object) -> object:
    async def go() -> object:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as s:
                return await s.scalar(select(model).filter_by(**where))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_library_and_consultant_from_the_command_line(env: str, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "library",
            "add",
            "nlc",
            "国家图书馆",
            "--origin",
            "https://www.nlc.example/",
            "--language",
            "zh-CN",
            "--language",
            "en",
            "--routing",
            "direct",
        ],
    )
    assert res.exit_code == 0, res.output
    lib = _fetch(env, Library, code="nlc")
    assert isinstance(lib, Library)
    assert lib.allowed_origins == ["https://www.nlc.example"] and lib.languages == ["zh-CN", "en"]
    assert lib.routing_mode == "direct"

    pw = tmp_path / "pw.txt"
    pw.write_text("a-long-secret-phrase\n", encoding="utf-8")
    res = runner.invoke(
        main, ["consultant", "add", "nlc", "zhang", "--name", "张老师", "--password-file", str(pw)]
    )
    assert res.exit_code == 0, res.output
    assert "trainee" in res.output, "every newcomer starts as a trainee"
    c = _fetch(env, Consultant, username="zhang")
    assert isinstance(c, Consultant) and c.role == "trainee"
    assert c.password_hash.startswith("$argon2id$") and verify_password(
        c.password_hash, "a-long-secret-phrase"
    )

    res = runner.invoke(
        main,
        ["consultant", "add", "nlc", "liu", "--name", "刘", "--role", "supervisor"],
        input="another-long-secret\n",
    )
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["library", "add", "bad code", "名"], None, "library code"),
        (["library", "add", "x", "名", "--origin", "not-an-origin"], None, "not a website origin"),
        (
            ["consultant", "add", "nope", "zhang", "--name", "张"],
            "a-long-secret-phrase\n",
            "no library",
        ),
        (["consultant", "add", "demo-pl", "zhang", "--name", "张"], "short\n", "at least"),
        (
            ["consultant", "add", "demo-pl", "wang", "--name", "王"],
            "a-long-secret-phrase\n",
            "taken",
        ),
    ],
)
def test_clear_errors(env: str, args: list[str], stdin: str | None, message: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["demo"]).exit_code == 0
    res = runner.invoke(main, args, input=stdin)
    assert res.exit_code != 0
    assert message in res.output


def test_no_password_option_exists() -> None:
    res = CliRunner().invoke(main, ["consultant", "add", "--help"])
    assert "--password " not in res.output and "--password-file" in res.output


def test_demo_is_idempotent(env: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo"])
    second = runner.invoke(main, ["demo"])
    assert first.exit_code == second.exit_code == 0
    assert "wang" in second.output


def test_reader_account_from_the_command_line(env: str) -> None:
    runner = CliRunner()
    res = runner.invoke(
        main,
        ["reader", "add", "Reader@Example.org", "--name", "读者"],
        input="long-enough-secret\n",
    )
    assert res.exit_code == 0, res.output
    again = runner.invoke(
        main, ["reader", "add", "reader@example.org"], input="long-enough-secret\n"
    )
    assert again.exit_code != 0 and "has an account" in again.output
    bad = runner.invoke(main, ["reader", "add", "not-an-email"], input="long-enough-secret\n")
    assert bad.exit_code != 0 and "email" in bad.output


def test_service_hours_from_the_command_line(env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["library", "add", "szl", "深圳图书馆"]).exit_code == 0
    res = runner.invoke(
        main,
        [
            "library",
            "hours",
            "szl",
            "--weekly",
            "mon-fri 08:30-12:00, 14:00-21:00",
            "--weekly",
            "sat,sun 09:00-17:00",
            "--weekly",
            "fri 08:30-12:00",
            "--closed",
            "2026-10-01",
        ],
    )
    assert res.exit_code == 0, res.output
    lib = _fetch(env, Library, code="szl")
    assert isinstance(lib, Library)
    weekly = lib.service_hours["weekly"]
    assert weekly["mon"] == [["08:30", "12:00"], ["14:00", "21:00"]]
    assert weekly["fri"] == [["08:30", "12:00"]], "a later spec for a day replaces it"
    assert weekly["sun"] == [["09:00", "17:00"]] and lib.service_hours["closed"] == ["2026-10-01"]
    for bad in (
        ["--weekly", "fri-mon 09:00-10:00"],
        ["--weekly", "mon 10:00-09:00"],
        ["--weekly", "mon"],
    ):
        res = runner.invoke(main, ["library", "hours", "szl", *bad])
        assert res.exit_code != 0 and "Error" in res.output, bad
    res = runner.invoke(main, ["library", "hours", "nowhere", "--clear"])
    assert res.exit_code != 0 and "nowhere" in res.output
    assert runner.invoke(main, ["library", "hours", "szl", "--clear"]).exit_code == 0
    lib = _fetch(env, Library, code="szl")
    assert isinstance(lib, Library) and lib.service_hours == {}


def test_inspector_duty_and_stats_rebuild(env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["demo"]).exit_code == 0
    res = runner.invoke(main, ["consultant", "inspector", "wang"])
    assert res.exit_code == 0, res.output
    wang = _fetch(env, Consultant, username="wang")
    assert isinstance(wang, Consultant) and wang.inspector is True
    res = runner.invoke(main, ["consultant", "inspector", "wang", "--off"])
    assert res.exit_code == 0 and "no longer" in res.output
    res = runner.invoke(main, ["consultant", "inspector", "nobody"])
    assert res.exit_code != 0 and "no consultant nobody" in res.output

    res = runner.invoke(main, ["stats", "rebuild", "--from", "2026-11-01", "--to", "2026-11-30"])
    assert res.exit_code == 0, res.output
    assert "30 days rebuilt" in res.output
    res = runner.invoke(main, ["stats", "rebuild", "--from", "2026-11-30", "--to", "2026-11-01"])
    assert res.exit_code != 0 and "before" in res.output

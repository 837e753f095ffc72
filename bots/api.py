"""HTTP routes for a library's supervisors and admins to switch bots and edit their texts."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field
from sqlalchemy import delete

from bots.config import BotSettings, parse_bot_settings
from bots.runtime import Bots
from bots.texts import LANGUAGES, TEMPLATES, check_template
from desk.db import utcnow
from desk.errors import Forbidden, InvalidPayload, NotFound
from desk.http import DESK_KEY, _Body, _json
from desk.models import BotText, Library
from desk.phrases import _staff, can_edit_library

BOTS_KEY = web.AppKey("bots", Bots)


class SettingsChange(_Body):
    greeting: bool | None = None
    waiting: bool | None = None
    long_wait_minutes: int | None = Field(None, ge=1, le=240)
    update_seconds: int | None = Field(None, ge=30, le=3600)
    faq: bool | None = None


class TextChange(_Body):
    body: str = Field(min_length=1, max_length=2000)


def _key_and_language(request: web.Request) -> tuple[str, str]:
    key, language = request.match_info["key"], request.match_info["language"]
    if key not in TEMPLATES or language not in LANGUAGES:
        raise NotFound("no such bot text", code="bot_text_not_found")
    return key, language


async def get_bots(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    lib = await desk.directory.library(who.library_id)
    if lib is None:
        raise NotFound("your library is gone", code="library_not_found")
    overrides = await request.app[BOTS_KEY].overrides(lib.id)
    texts: list[dict[str, Any]] = []
    for key, (allowed, defaults) in TEMPLATES.items():
        for language in LANGUAGES:
            own = overrides.get((key, language))
            texts.append(
                {
                    "key": key,
                    "language": language,
                    "body": own or defaults[language],
                    "default": defaults[language],
                    "custom": own is not None,
                    "placeholders": sorted(allowed),
                }
            )
    return web.json_response(
        {
            "ok": True,
            "library": lib.code,
            "settings": lib.bots.model_dump(),
            "texts": texts,
            "can_edit": can_edit_library(who),
        }
    )


async def _editor(request: web.Request) -> Any:
    who = await _staff(request, writing=True)
    if not can_edit_library(who):
        raise Forbidden("only supervisors and admins configure the bots", code="forbidden")
    return who


async def put_settings(request: web.Request) -> web.Response:
    who = await _editor(request)
    change: SettingsChange = await _json(request, SettingsChange)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        lib = await s.get(Library, who.library_id)
        if lib is None:
            raise NotFound("your library is gone", code="library_not_found")
        # Merge with the stored row, not a node's cached copy: edits on two nodes both stay.
        current = parse_bot_settings(lib.bot_settings)
        merged = BotSettings.model_validate(
            {**current.model_dump(), **change.model_dump(exclude_none=True)}
        )
        lib.bot_settings = merged.model_dump()
    desk.directory.forget()
    return web.json_response({"ok": True, "settings": merged.model_dump()})


async def put_text(request: web.Request) -> web.Response:
    who = await _editor(request)
    key, language = _key_and_language(request)
    change: TextChange = await _json(request, TextChange)
    try:
        check_template(key, change.body)
    except ValueError as exc:
        raise InvalidPayload(str(exc), code="bad_template") from exc
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        row = await s.get(BotText, (who.library_id, key, language))
        if row is None:
            row = BotText(library_id=who.library_id, key=key, language=language)
            s.add(row)
        row.body = change.body
        row.updated_by = who.id
        row.updated_at = utcnow()
    request.app[BOTS_KEY].forget_texts(who.library_id)
    return web.json_response({"ok": True, "key": key, "language": language, "body": change.body})


async def delete_text(request: web.Request) -> web.Response:
    """Back to the alliance's default wording."""
    who = await _editor(request)
    key, language = _key_and_language(request)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        await s.execute(
            delete(BotText).where(
                BotText.library_id == who.library_id,
                BotText.key == key,
                BotText.language == language,
            )
        )
    request.app[BOTS_KEY].forget_texts(who.library_id)
    body = TEMPLATES[key][1][language]
    return web.json_response({"ok": True, "key": key, "language": language, "body": body})


def add_bot_routes(app: web.Application) -> None:
    app.router.add_get("/api/bots", get_bots)
    app.router.add_put("/api/bots/settings", put_settings)
    app.router.add_put("/api/bots/texts/{key}/{language}", put_text)
    app.router.add_delete("/api/bots/texts/{key}/{language}", delete_text)

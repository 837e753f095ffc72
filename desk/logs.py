"""Structured logs. They carry ids and codes, never message text or a reader's personal data;
python-engineio's packet logger (which prints whole packets) stays off."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: Fields that may carry what a person typed; dropped if any code ever passes them.
QUIET_LOGGERS = (
    "engineio",
    "socketio",
    "aiosqlite",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "asyncpg",
    "aiohttp.access",
    "apscheduler",
)
FORBIDDEN_FIELDS = frozenset({"body", "text", "question", "note", "password", "email", "token"})


def _scrub(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in FORBIDDEN_FIELDS & event_dict.keys():
        event_dict[key] = "[withheld]"
    return event_dict


def setup_logging(level: str = "INFO", fmt: str = "json") -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _scrub,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # These print packets or SQL parameters (message text) at DEBUG/INFO: never below WARNING,
    # whatever level the desk itself logs at.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

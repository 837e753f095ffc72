"""A namespace base that validates every payload and turns every failure into a clear ack."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any, ClassVar

import socketio
from pydantic import ValidationError

from desk.context import Desk
from desk.errors import DeskError, InvalidPayload
from desk.protocol import Payload
from desk.sockets.server import refusal

log = logging.getLogger(__name__)


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def from_the_desk_itself(environ: dict[str, Any]) -> bool:
    """A browser request with no ``Origin`` that its browser marks same-origin: a page served
    by the desk. Browsers send no ``Origin`` on a same-origin GET, which is how Engine.IO's
    long-polling opens a session, and no page can forge ``Sec-Fetch-Site``."""
    return not environ.get("HTTP_ORIGIN") and environ.get("HTTP_SEC_FETCH_SITE") == "same-origin"


def cookie(environ: dict[str, Any], name: str) -> str | None:
    raw = environ.get("HTTP_COOKIE")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


class DeskNamespace(socketio.AsyncNamespace, ABC):  # type: ignore[misc]
    events: ClassVar[dict[str, type[Payload]]] = {}

    def __init__(self, namespace: str, desk: Desk) -> None:
        super().__init__(namespace)
        self.desk = desk
        self._handlers: dict[str, Callable[[str, Any], Awaitable[dict[str, Any]]]] = {}
        for event in self.events:
            self._handlers[event] = getattr(self, "on_" + event.replace(".", "_"))

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            return await self.connect(*args)
        if event == "disconnect":
            return await self.disconnect(args[0], args[1] if len(args) > 1 else None)
        sid = args[0]
        handler = self._handlers.get(event)
        if handler is None:
            return refusal("unknown_event", f"unknown event {event[:64]!r}")
        if len(args) > 2:
            return refusal("invalid_payload", "send one payload object")
        raw = args[1] if len(args) == 2 else {}
        if not isinstance(raw, dict):
            return refusal("invalid_payload", "the payload must be an object")
        try:
            payload = self.events[event].model_validate(raw)
        except ValidationError as exc:
            return InvalidPayload(
                "the payload is not valid", fields=validation_details(exc)
            ).to_ack()
        try:
            result = await handler(sid, payload)
        except DeskError as exc:
            return exc.to_ack()
        except Exception:
            log.exception("handler failed", extra={"event": event, "namespace": self.namespace})
            return refusal("internal", "something went wrong on the desk; please retry")
        return {"ok": True, **result}

    @abstractmethod
    async def connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        """Authenticate in the handshake and join the rooms there (never in a later event)."""

    @abstractmethod
    async def disconnect(self, sid: str, reason: Any) -> None: ...

    def check_body(self, body: str) -> None:
        if not body.strip():
            raise InvalidPayload("the message is empty", code="empty_message")
        limit = self.desk.settings.max_message_chars
        if len(body) > limit:
            raise InvalidPayload(
                f"the message is longer than {limit} characters",
                code="message_too_long",
                limit=limit,
            )

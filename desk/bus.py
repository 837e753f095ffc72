"""The in-process event bus. Publishing happens only after a commit; a failing listener is
logged and never breaks the action that published or the other listeners."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from desk.events import Event

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, kind: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        self._handlers[kind].append(handler)

    async def publish(self, *events: Event) -> None:
        for event in events:
            for handler in self._handlers.get(type(event), ()):
                try:
                    await handler(event)
                except Exception:
                    log.exception(
                        "event listener failed",
                        extra={"event": type(event).__name__, "listener": repr(handler)},
                    )

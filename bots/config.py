"""Per-library bot settings, stored as JSON on the library (``libraries.bot_settings``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class BotSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Greet every new chat with the service's scope (norm 2 of live service).
    greeting: bool = True
    #: Tell waiting readers their place in the queue and the expected wait (norm 1).
    waiting: bool = True
    #: Past this expected wait, offer the form service or the phone (norm 4).
    long_wait_minutes: int = Field(10, ge=1, le=240)
    #: Calm interval: at least this long between two waiting-time messages in one chat.
    update_seconds: int = Field(120, ge=30, le=3600)
    #: Answer waiting readers from the knowledge base when confident (``bots.faq``).
    faq: bool = True


DEFAULT_BOT_SETTINGS = BotSettings()


def parse_bot_settings(raw: Any) -> BotSettings:
    """Stored settings, or the defaults where a stored value is missing or no longer valid."""
    if not isinstance(raw, dict) or not raw:
        return DEFAULT_BOT_SETTINGS
    try:
        return BotSettings.model_validate(raw)
    except ValidationError:
        known = {k: v for k, v in raw.items() if k in BotSettings.model_fields}
        good: dict[str, Any] = {}
        for key, value in known.items():
            try:
                BotSettings.model_validate({key: value})
            except ValidationError:
                continue
            good[key] = value
        return BotSettings.model_validate(good)

"""Domain errors: each carries a stable code that acknowledgements and HTTP replies show."""

from __future__ import annotations

from typing import Any


class DeskError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        if code:
            self.code = code
        self.message = message
        self.details = details

    def to_ack(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"ok": False, "error": err}


class InvalidPayload(DeskError):
    code = "invalid_payload"


class NotFound(DeskError):
    code = "not_found"
    status = 404


class Forbidden(DeskError):
    code = "forbidden"
    status = 403


class Conflict(DeskError):
    code = "conflict"
    status = 409


class Unauthenticated(DeskError):
    code = "unauthenticated"
    status = 401


class Gone(DeskError):
    code = "gone"
    status = 410


class TooLarge(DeskError):
    code = "too_large"
    status = 413

"""Why a hook request is refused, with the HTTP status and the JSON body to answer it with."""

from __future__ import annotations


class HookError(Exception):
    """A refused hook request: `status` to answer with, `message` for the sender, `field` when one field is at fault.

    Nothing is written for a refused request.
    """

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, str]:
        """The JSON answer: {"error": "...", "field": "title"} (no "field" when none is at fault)."""
        return {"error": self.message, **({"field": self.field} if self.field else {})}


class BadRequest(HookError):
    """400: not JSON, not the expected shape, or a missing or bad field (named in `field`)."""

    status = 400


class Unauthorized(HookError):
    """401: unknown source, missing or stale timestamp, or a signature that does not match."""

    status = 401


class TooLarge(HookError):
    """413: the body is over the size limit."""

    status = 413

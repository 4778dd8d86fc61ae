"""Errors that carry the sentence shown to the person who caused them (and `moment`, how a refusal names a time)."""

from datetime import datetime, tzinfo

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def moment(at: datetime, *, tz: tzinfo) -> str:
    """ "Tue 3 Mar 14:00" in `tz`, independent of the process locale: a refusal's sentence names a moment so, and
    `bot.blocks.words.local_when` words every message's moments with it (the domain may not import blocks/)."""
    local = at.astimezone(tz)
    return f"{_DAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]} {local:%H:%M}"


class IntakeError(Exception):
    """Base of every error whose message is fit to show a user ephemerally."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(IntakeError):
    """The actor may not do this to this request; nothing changed."""


class NotFound(IntakeError):
    """No request with that key (or the key is malformed)."""


class Conflict(IntakeError):
    """The request changed under the actor (someone else acted first, or the state forbids it)."""


class InvalidInput(IntakeError):
    """User input that cannot be used; `field` names the form field when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Busy(IntakeError):
    """The database stayed busy longer than a person can wait (a long job, another process); nothing was written."""

    def __init__(
        self,
        message: str = "ai-intake is busy for a moment and did not save this; nothing changed. "
        "Please try again in a few seconds.",
    ) -> None:
        super().__init__(message)


class NotSaved(IntakeError):
    """The database could not be written (its disk is full, it or its directory is read-only, an I/O error):
    nothing was written, and the person is told to try again. `reason` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"ai-intake couldn't save this: {reason}. Nothing was changed; please try again in a few minutes."
        )
        self.reason = reason

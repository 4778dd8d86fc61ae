"""The clock the use cases are given: a function returning the current time (UTC). Tests pass their own."""

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)

"""The small words every nag uses: how old something is, for people, and people named as mentions."""

from collections.abc import Iterable

DAY = 86400.0


def age(seconds: float) -> str:
    """How old something is, for people: "40 minutes", "5 hours", "1 day", "19 days"."""
    if seconds < 3600:
        n = max(int(seconds // 60), 0)
        return "1 minute" if n == 1 else f"{n} minutes"
    if seconds < DAY:
        n = int(seconds // 3600)
        return "1 hour" if n == 1 else f"{n} hours"
    return days(seconds)


def days(seconds: float) -> str:
    """Whole days for people: "1 day", "19 days"."""
    n = int(seconds // DAY)
    return "1 day" if n == 1 else f"{n} days"


def mentions(users: Iterable[str], *, joined: str = " ") -> str:
    """ "<@U0PPM> <@U0MLPM>" (or joined by `joined`: " or ", " and ")."""
    return joined.join(f"<@{u}>" for u in users)

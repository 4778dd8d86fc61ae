"""The small words every message uses: a moment in a person's time zone, hours, an SLA clock in one line, each
court's label, and what was cut to fit.

The domain keeps the numbers (`bot.domain.sla.SlaStatus`, the courts a request can be in); how they read to
people is here. Pure: independent of the process locale.
"""

from collections.abc import Iterable
from datetime import datetime, tzinfo

from bot.domain.errors import moment
from bot.domain.parsing import DESCRIPTION_LIMIT, LINK_LIMIT, LINKS_LIMIT, TITLE_LIMIT
from bot.domain.sla import SlaStatus


COURT_LABEL = {
    "requester": "the requester",
    "assignee": "the assignee",
    "reviewer": "security",
    "owners": "the owners",
    "lead": "the domain lead",
    "triage": "triage",
    "nobody": "nobody",
}
"""One label per court (`bot.domain.courts.COURTS`), as people read it on the card and in nags."""


def local_when(at: datetime | None, *, tz: tzinfo) -> str:
    """ "Tue 3 Mar 14:00" in `tz`, independent of the process locale; "unknown" for None."""
    return "unknown" if at is None else moment(at, tz=tz)


def hours_text(seconds: float) -> str:
    """Hours with one decimal where needed: "4", "2.5"."""
    text = f"{seconds / 3600:.1f}"
    return text.removesuffix(".0")


def duration(seconds: float) -> str:
    """A wall-clock duration: "45 min" under an hour, else hours like "2 h", "26.5 h"."""
    if seconds < 3570:
        return f"{max(1, round(seconds / 60))} min"
    return f"{hours_text(seconds)} h"


def sla_line(status: SlaStatus, *, tz: tzinfo) -> str:
    """One SLA clock in one line for people, times local to `tz`.

    E.g. "due Tue 3 Mar 14:00, 3 business hours elapsed of 4, paused 2 h",
    "breached: due Tue 3 Mar 14:00, 4.5 business hours elapsed of 4" or
    "met Tue 3 Mar 11:20, due Tue 3 Mar 14:00, 1.5 business hours elapsed of 4".
    """
    due = f"due {local_when(status.due_at, tz=tz)}"
    hours = hours_text(status.business_seconds_elapsed)
    unit = "hour" if hours == "1" else "hours"
    parts = [f"{due}, {hours} business {unit} elapsed of {hours_text(status.target_seconds)}"]
    if status.paused_seconds > 0:
        parts.append(f"paused {duration(status.paused_seconds)}")
    line = ", ".join(parts)
    match status.state:
        case "at_risk" | "breached":
            return f"{status.state.replace('_', ' ')}: {line}"
        case "met" | "missed":
            return f"{status.state} {local_when(status.satisfied_at, tz=tz)}, {line}"
    return line


CUT = {
    "title": f"the title keeps its first {TITLE_LIMIT:,} characters",
    "description": f"the description keeps its first {DESCRIPTION_LIMIT:,} characters",
    "links": f"links over {LINK_LIMIT:,} characters, or past the {LINKS_LIMIT}th, were left out",
}
"""What cutting each field to fit (`bot.domain.parsing.within_limits`) did, for people."""


def cut_sentence(cut: Iterable[str], *, whole_elsewhere: bool = False) -> str:
    """What `within_limits` cut, in one sentence for the person (and where the whole text still is)."""
    whole = "; the whole text is in the original message" if whole_elsewhere else ""
    return "Cut to fit: " + ", ".join(CUT.get(name, name) for name in cut) + whole + "."

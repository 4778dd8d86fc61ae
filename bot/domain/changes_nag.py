"""The `change.unacknowledged` nag rule: a change nobody on the other side answered, after N business
days to the person asked, after 2N to the domain lead as well.

Pure: standard library and pydantic only; nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.business_hours import BusinessCalendar
from bot.domain.changes import QUESTIONS, RULE_UNACKNOWLEDGED, ChangeState, business_day_seconds, describe
from bot.domain.sla import local_when
from bot.domain.text import escape

# --- the change.unacknowledged nag rule ------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """One step of a nag rule: due after `business_days` business days, addressed to `audience`
    ("asked": the person asked; "lead": the domain lead)."""

    step: str
    business_days: float
    audience: tuple[str, ...]


def unacknowledged_thresholds(days: float) -> tuple[Threshold, ...]:
    """The steps of `change.unacknowledged` with N = `days`: the person asked after N business days,
    the lead as well after 2N."""
    return (Threshold("asked", days, ("asked",)), Threshold("lead", 2 * days, ("asked", "lead")))


@dataclass(frozen=True)
class ChangeNag:
    """A reminder about one unanswered change, under one step; sent once per (change, rule, step).

    in_thread: post it in the thread of the message that asked. recipients: Slack user ids, in order.
    """

    change_id: str
    rule: str
    step: str
    recipients: tuple[str, ...]
    text: str
    in_thread: bool
    waited_business_days: float

    @property
    def sent_key(self) -> tuple[str, str, str]:
        return (self.change_id, self.rule, self.step)


def unacknowledged_nag(
    state: ChangeState,
    *,
    thresholds: Sequence[Threshold],
    lead: str | None,
    tz: ZoneInfo,
    sent: Set[tuple[str, str, str]] = frozenset(),
) -> ChangeNag | None:
    """The `change.unacknowledged` nag due for `state`, or None.

    Of the steps whose threshold the wait has reached, only the highest is returned (naming everyone
    the lower ones would have named), and only when it is not in `sent`. An answered change, or one
    with nobody to ask, gets none.
    """
    if state.acknowledged or state.asked is None:
        return None
    reached = [t for t in thresholds if state.waiting_business_days >= t.business_days]
    if not reached:
        return None
    top = max(reached, key=lambda t: t.business_days)
    if (state.change.id, RULE_UNACKNOWLEDGED, top.step) in sent:
        return None
    people = {"asked": (state.asked,), "lead": (lead,) if lead else ()}
    recipients = tuple(dict.fromkeys(p for t in reached for a in t.audience for p in people.get(a, ()) if p))
    return ChangeNag(change_id=state.change.id, rule=RULE_UNACKNOWLEDGED, step=top.step, recipients=recipients,
                     text=_nag_text(state, lead=lead if "lead" in top.audience else None, tz=tz),
                     in_thread=True, waited_business_days=state.waiting_business_days)


def next_unacknowledged_check(
    state: ChangeState,
    *,
    thresholds: Sequence[Threshold],
    calendar: BusinessCalendar,
    sent: Set[tuple[str, str, str]] = frozenset(),
) -> datetime | None:
    """When the next unsent step of `change.unacknowledged` falls due for `state` (UTC); None when none
    can until the change changes (answered, nobody to ask, or every step sent or already reached)."""
    if state.acknowledged or state.asked is None:
        return None
    ahead = [t for t in thresholds if t.business_days > state.waiting_business_days
             and (state.change.id, RULE_UNACKNOWLEDGED, t.step) not in sent]
    if not ahead:
        return None
    first = min(t.business_days for t in ahead)
    return calendar.add_business_seconds(state.change.at, first * business_day_seconds(calendar))


def _nag_text(state: ChangeState, *, lead: str | None, tz: ZoneInfo) -> str:
    """E.g. "CHG-7 has waited 2 business days for an answer from <@U0MLPM>: Product shipped *express-refund
    intent* (intent) in support (<@U0PPM>, Mon 23 Nov 10:00). Does the prompt/eval suite cover it?"."""
    change = state.change
    days = int(state.waiting_business_days)
    text = (f"{change.id} has waited {days} business day{'' if days == 1 else 's'} for an answer from <@{state.asked}>: "
            f"{change.side.capitalize()} shipped {describe(change)} in {escape(change.domain)} "
            f"({change.shipper()}, {local_when(change.at, tz=tz)}). {QUESTIONS[change.side]}")
    return text + (f" Escalated to <@{lead}>." if lead else "")

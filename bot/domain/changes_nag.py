"""The `change.unacknowledged` nag rule: a change nobody on the other side answered, after N business days to the
person asked, after 2N to the domain lead as well.

A change is not a request, so its nags are `ChangeNag`s, each sent once per (change, rule, step); the jobs batch
them with the request nags of the same run, one direct message per person (`bot.domain.nags.batch`). The rule's
steps are the `thresholds` table's, who hears of it is `courts.change_audience`; it returns its facts
(`UnansweredFacts`) and offers (`Offer`), which `bot/blocks/nag_rules/` words.

Pure: standard library and pydantic only; nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.business_hours import BusinessCalendar
from bot.domain.changes import RULE_UNACKNOWLEDGED, ChangeState, business_day_seconds, change_number
from bot.domain.courts import change_audience, change_escalation
from bot.domain.nag_facts import Offer, UnansweredFacts
from bot.domain.policy import Config
from bot.domain.thresholds import Ladder, ladder

OFFERS = (Offer.COVERED, Offer.NEEDS_WORK, Offer.NOT_RELEVANT, Offer.SNOOZE)
"""What a change's nag offers: the three answers and a snooze."""

SentChanges = Set[tuple[str, str, str]]
"""(change id, rule, step) of every change nag recorded."""


@dataclass(frozen=True)
class ChangeNag:
    """A reminder about one unanswered change, under one step; sent once per (change, rule, step).

    domain: the change's. in_thread: also post it in the thread of the message that asked. recipients: Slack user
    ids, in order.
    urgency: sort key among a person's nags, higher first; a change's is below every request's (its business
    minutes waited). facts: what it says, as data. offers: what its direct message offers (every recipient may
    answer).
    """

    change_id: str
    domain: str
    rule: str
    step: str
    recipients: tuple[str, ...]
    facts: UnansweredFacts
    in_thread: bool
    waited_business_days: float
    urgency: int = 0
    offers: tuple[Offer, ...] = OFFERS

    urgent = False
    """A change's nag waits for its recipient's working hours, and a snooze quiets it."""

    @property
    def key(self) -> str:
        """What its buttons name: the change id."""
        return self.change_id

    @property
    def sent_key(self) -> tuple[str, str, str]:
        """The (change id, rule, step) triple the jobs record once the nag is sent."""
        return (self.change_id, self.rule, self.step)

    @property
    def ref(self) -> str:
        """ "CHG-7/change.unacknowledged/asked": the nag in outbox keys."""
        return "/".join(self.sent_key)

    @property
    def order(self) -> tuple[int, int, int, str, str]:
        """Most urgent first; after the request nags of equal urgency, by change number."""
        return (-self.urgency, 1, change_number(self.change_id), self.rule, self.step)

    def offers_for(self, user: str) -> tuple[Offer, ...]:
        return self.offers


def unacknowledged_nag(
    state: ChangeState, *, steps: Ladder, escalated: tuple[str, ...], tz: ZoneInfo, sent: SentChanges = frozenset()
) -> ChangeNag | None:
    """The `change.unacknowledged` nag due for `state`, or None.

    Of the steps whose threshold the wait has reached, only the highest is returned (naming everyone the lower
    ones would have named), and only when it is not in `sent`. An answered change, one with nobody to ask, and
    one whose nags are snoozed get none. `escalated`: who the `lead` step adds (the lead, else the admins).
    """
    if state.acknowledged or state.asked is None or state.snoozed_until is not None:
        return None
    top = steps.reached(state.waiting_business_days)
    if top is None or (state.change.id, RULE_UNACKNOWLEDGED, top.name) in sent:
        return None
    lead = top.name == "lead"
    return ChangeNag(
        change_id=state.change.id,
        domain=state.change.domain,
        rule=RULE_UNACKNOWLEDGED,
        step=top.name,
        recipients=change_audience(state.asked, escalated, step=top.name),
        facts=UnansweredFacts(
            state.change,
            waited_days=int(state.waiting_business_days),
            asked=state.asked,
            escalated_to=escalated if lead else (),
            tz=tz.key,
        ),
        in_thread=True,
        waited_business_days=state.waiting_business_days,
        urgency=min(int(state.waiting_business_days * 8 * 60), 10**10 - 1),
    )


def next_unacknowledged_check(
    state: ChangeState, *, steps: Ladder, calendar: BusinessCalendar, sent: SentChanges = frozenset()
) -> datetime | None:
    """The earliest instant at which a step not in `sent` could fall due for `state` (a lower bound; after a
    snooze's end while one runs); None when none can until the change changes (answered, nobody to ask, or
    its highest step sent: a lower step is never sent after a higher one)."""
    if state.acknowledged or state.asked is None:
        return None
    names = [s.name for s in steps.steps]
    sent_steps = [i for i, name in enumerate(names) if (state.change.id, RULE_UNACKNOWLEDGED, name) in sent]
    pending = steps.steps[max(sent_steps) + 1 :] if sent_steps else steps.steps
    if not pending:
        return None
    due = calendar.add_business_seconds(state.change.at, pending[0].at * business_day_seconds(calendar))
    return max(due, state.snoozed_until) if state.snoozed_until is not None else due


def changes_due(states: Iterable[ChangeState], config: Config, *, sent: SentChanges) -> list[ChangeNag]:
    """Every `change.unacknowledged` nag due for `states` (each as of the same `now`) not in `sent`, most urgent
    first, with the config's thresholds, escalation and time zones."""
    due = []
    for state in states:
        domain = state.change.domain
        nag = unacknowledged_nag(
            state,
            steps=ladder(config, domain, RULE_UNACKNOWLEDGED),
            escalated=change_escalation(config, domain),
            tz=config.calendar(domain).tz,
            sent=sent,
        )
        if nag is not None:
            due.append(nag)
    return sorted(due, key=lambda n: n.order)


def change_next_checks(
    states: Iterable[ChangeState], config: Config, *, sent: SentChanges
) -> list[tuple[str, datetime | None]]:
    """(change id, when the nag rules next need to look at it) of each state; `sent` should hold what this run records."""
    return [
        (
            s.change.id,
            next_unacknowledged_check(
                s,
                steps=ladder(config, s.change.domain, RULE_UNACKNOWLEDGED),
                calendar=config.calendar(s.change.domain),
                sent=sent,
            ),
        )
        for s in states
    ]

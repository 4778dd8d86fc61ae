"""What a nag is about, as data: the facts each rule found (who, since when, how long) and what it offers (`Offer`).

The rules (`bot.domain.nags`, `bot.domain.changes_nag`) return these; `bot/blocks/nag_rules/` turns them into the
sentences people read and the offers into buttons. The facts are kept as JSON in the outbox (`facts_json`,
`facts_from_json`), so a nag queued now is worded when it is sent, and the same after a restart.

Durations are seconds as of when the nag was found due; time zones are named (`Europe/Berlin`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter

from bot.domain.changes import ShippedChange
from bot.domain.sla import SlaStatus

DAY = 86400.0


class Offer(StrEnum):
    """What a nag offers the people it tells: intents, which `bot/blocks/` maps to buttons."""

    TAKE = "take"
    """Take ownership of the request."""
    NOT_MINE = "not_mine"
    """Say why it is not yours."""
    SNOOZE = "snooze"
    """Quiet the nags about it a while."""
    HAND = "hand"
    """Hand it to someone (the lead's, or the admins')."""
    REOPEN = "reopen"
    """Reopen a request closed as no answer."""
    START_REVIEW = "start_review"
    """Start a security review (a digest's offer)."""
    COVERED = "covered"
    """A change: the other side's suite covers it."""
    NEEDS_WORK = "needs_work"
    """A change: the suite needs work (files an eval request)."""
    NOT_RELEVANT = "not_relevant"
    """A change: it does not concern the other side."""


@dataclass(frozen=True)
class SlaFacts:
    """sla.at_risk / sla.breached: which target (`first_response`, `resolution`) of which cycle, where its clock
    stands, and whether nobody is assigned."""

    key: str
    target: str
    cycle: int
    status: SlaStatus
    unassigned: bool
    tz: str
    what: Literal["sla"] = "sla"


@dataclass(frozen=True)
class Ask:
    """Someone who spoke up while a review's ball holder was silent: the requester asking for an update, or anyone
    else writing in the thread; their latest word `ago_seconds` before the nag, `times` in all."""

    who: str
    ago_seconds: float
    times: int
    requester: bool


@dataclass(frozen=True)
class ReviewFacts:
    """review.stale: how long the review is open, the whole days it waited on each court (most first), who holds
    the ball, how long they have been silent, who asked meanwhile (latest first) and the requester's last words
    (user text, not escaped); `top`: the ladder's top rung, shown in the org digest."""

    key: str
    open_seconds: float
    courts: tuple[tuple[str, float], ...]
    holders: tuple[str, ...]
    silent_seconds: float
    asks: tuple[Ask, ...] = ()
    last_said: str | None = None
    top: bool = False
    what: Literal["review"] = "review"


@dataclass(frozen=True)
class UnownedFacts:
    """regression.unowned: business seconds without an owner since it was filed, the step (`owners`, `lead`), who is
    asked (its owners), who decides (the lead, else the admins), and the "Not mine" said so far (by, reason: user
    text, not escaped)."""

    key: str
    elapsed: float
    filed: datetime
    tz: str
    step: str
    owners: tuple[str, ...]
    lead: tuple[str, ...]
    disclaimers: tuple[tuple[str, str], ...] = ()
    what: Literal["unowned"] = "unowned"

    @property
    def disclaimed(self) -> bool:
        return bool(self.disclaimers)


@dataclass(frozen=True)
class NoAnswerFacts:
    """requester.no_answer: whom the request waits on since when, and when it closes; `closed`: it just did."""

    key: str
    requester: str
    since: datetime
    closing: datetime
    closed: bool
    tz: str
    what: Literal["no_answer"] = "no_answer"


@dataclass(frozen=True)
class UnansweredFacts:
    """change.unacknowledged: the change, the whole business days it waited on whom, and who it is escalated to
    (the lead's step)."""

    change: ShippedChange
    waited_days: int
    asked: str
    escalated_to: tuple[str, ...]
    tz: str
    what: Literal["unanswered"] = "unanswered"


@dataclass(frozen=True)
class Cover:
    """A recipient who is away (back on `until`, if known), and who covers for them."""

    user: str
    until: date | None
    covers: tuple[str, ...]


NagFacts = Union[SlaFacts, ReviewFacts, UnownedFacts, NoAnswerFacts, UnansweredFacts]


@dataclass(frozen=True)
class Told:
    """A nag's facts and the covers of its recipients who are away: everything its words are made of."""

    facts: Annotated[NagFacts, Field(discriminator="what")]
    away: tuple[Cover, ...] = ()


_TOLD = TypeAdapter(Told)


def facts_json(facts: NagFacts, away: Sequence[Cover] = ()) -> dict[str, Any]:
    """The facts (and covers) as JSON, as the outbox keeps them."""
    return _TOLD.dump_python(Told(facts, tuple(away)), mode="json")


def facts_from_json(data: dict[str, Any]) -> Told:
    """The facts (and covers) kept by `facts_json`."""
    return _TOLD.validate_python(data)


def days_of(seconds: float) -> int:
    """Whole days in `seconds`."""
    return int(seconds // DAY)

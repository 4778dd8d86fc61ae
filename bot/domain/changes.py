"""The change log: what each side of a domain shipped, who on the other side is asked about it, the
answer, and how long an unanswered change has waited.

The product side owns intents, surfaces, flows and success metrics; the platform side owns prompts,
models, eval suites, cost ceilings and retrieval. When one side ships, the other side's owner is asked
once whether it is covered. A change and its answer are events of their own (`ChangeEvent`);
`replay` folds them back into `ChangeRecord`s, and every rule reads records and `now`. A
regression's suspects and closure are in `changes_loop`, the nag for an unanswered change in
`changes_nag`. What is said about them, in Slack's words, is `bot.blocks.change_text`'s.

(`ShippedChange` is the change log's change; `workflow.Transition` is a transition of a request.)

Pure: standard library and pydantic only; nothing reads the clock. Datetimes are aware instants.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain.business_hours import BusinessCalendar
from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.text import escape, truncate


Side = Literal["product", "platform"]
SIDES: tuple[Side, ...] = ("product", "platform")
SIDE_KINDS: dict[str, tuple[str, ...]] = {
    "product": ("intent", "surface", "flow", "success_metric"),
    "platform": ("prompt", "model", "eval_suite", "cost_ceiling", "retrieval"),
}
"""The sub-kinds of each side: what a change (or a catalog asset) of that side can be."""
KINDS: tuple[str, ...] = SIDE_KINDS["product"] + SIDE_KINDS["platform"]

Answer = Literal["covered", "needs_work", "not_relevant"]
ANSWERS: tuple[Answer, ...] = ("covered", "needs_work", "not_relevant")
CAUSES: tuple[str, ...] = ("product", "platform", "both", "outside")
"""The causes of a regression besides one of its suspect changes ("change:CHG-7")."""

LOGGED = "change.logged"
ANSWERED = "change.answered"
NAGGED = "change.nag"
"""A `change.unacknowledged` nag sent about the change (data: rule, step, recipients): who was told what, when."""
SNOOZED = "change.snoozed"
"""Someone quieted the change's nags (data: until, first: the first press, from which the snooze is bounded)."""
NAMED_CAUSE = "change.named_cause"
"""A regression was resolved with the change as its cause after the change was answered (data: regression, answer):
"not relevant" then a cause is recorded against it, and the digest counts it."""
RULE_UNACKNOWLEDGED = "change.unacknowledged"
DEFAULT_SUSPECT_DAYS = 14
WHAT_LIMIT = 300
REASON_LIMIT = 500
LINK_LIMIT = 2000
_CHANGE_ID = re.compile(r"^CHG-(\d{1,9})$", re.IGNORECASE)


def change_key(number: int) -> str:
    """The user-facing id of the n-th logged change: 7 -> "CHG-7"."""
    return f"CHG-{number}"


def parse_change_key(text: str) -> str | None:
    """ "CHG-7" (any case, surrounding blanks ignored) as "CHG-7"; None when it is not a change id."""
    match = _CHANGE_ID.match(text.strip())
    return change_key(int(match.group(1))) if match else None


def side_of(kind: str) -> Side | None:
    """The side that owns a sub-kind ("intent" -> "product"); None for an unknown kind."""
    return next((side for side in SIDES if kind in SIDE_KINDS[side]), None)


def other_side(side: Side) -> Side:
    return "platform" if side == "product" else "product"


def kind_words(kind: str) -> str:
    """ "success_metric" -> "success metric"."""
    return kind.replace("_", " ")


_WEB_LINK = re.compile(r"https?://[A-Za-z0-9\[]", re.IGNORECASE)


def is_web_link(text: str) -> bool:
    """Whether `text` is an absolute http(s) URL with a host, without blanks, of at most 2000 characters."""
    if not text or len(text) > LINK_LIMIT or any(c.isspace() for c in text):
        return False
    return _WEB_LINK.match(text) is not None


# --- the change, its answer and their events ------------------------------------------------------


class HookOrigin(BaseModel):
    """Where a change filed over HTTP came from: the hook source and the sender's own id for it, and the Slack user
    the tool named as its author, when they are known (`person`)."""

    model_config = ConfigDict(frozen=True)
    source: str
    id: str
    person: str | None = None


class ShippedChange(BaseModel):
    """One change one side shipped, as logged.

    id: ours, "CHG-7". shipped_by: the Slack user who logged it, or the hook source's name when
    `origin` is set. kind: the side's sub-kind when known. asset: a catalog asset's name. asked: the
    person on the other side asked about it when it was logged (None: there was nobody to ask).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    domain: str
    side: Side
    kind: str | None = None
    what: str = Field(min_length=1, max_length=WHAT_LIMIT)
    asset: str | None = None
    version: str | None = None
    links: list[str] = Field(default_factory=list)
    shipped_by: str
    origin: HookOrigin | None = None
    at: datetime
    asked: str | None = None

    @model_validator(mode="after")
    def _kind_of_its_side(self) -> ShippedChange:
        if self.kind is not None and self.kind not in SIDE_KINDS[self.side]:
            raise ValueError(
                f"a {self.side} change cannot be a {self.kind!r}; "
                f"{self.side} changes are {', '.join(SIDE_KINDS[self.side])}"
            )
        return self

    @property
    def by_hook(self) -> bool:
        return self.origin is not None


class Acknowledgement(BaseModel):
    """The other side's answer to a change.

    covered: the eval case that covers it is `eval_link`. needs_work: an eval request was filed,
    `eval_request` holds its key ("AIR-14") once filed. not_relevant: `reason` says why.
    """

    model_config = ConfigDict(frozen=True)

    change_id: str
    answer: Answer
    by: str
    at: datetime
    eval_link: str | None = None
    reason: str | None = None
    eval_request: str | None = None


class ChangeEvent(BaseModel):
    """One append-only entry of the change log: a change logged, the answer to it, a nag about it, a snooze."""

    model_config = ConfigDict(frozen=True)

    change_id: str
    at: datetime
    actor: str
    type: Literal["change.logged", "change.answered", "change.nag", "change.snoozed", "change.named_cause"]
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class ChangeSnooze:
    """A press of Snooze on a change's nag: by whom, when (`at`), until when, and the first press it is bounded from."""

    by: str
    at: datetime
    until: datetime
    first: datetime


def logged_event(change: ShippedChange) -> ChangeEvent:
    """The event that records `change`; `replay` gives the change back."""
    data = change.model_dump(mode="json", exclude={"id", "at"})
    return ChangeEvent(change_id=change.id, at=change.at, actor=change.shipped_by, type=LOGGED, data=data)


def answered_event(answer: Acknowledgement) -> ChangeEvent:
    """The event that records an answer; `replay` gives the answer back."""
    data = answer.model_dump(mode="json", exclude={"change_id", "at", "by"})
    return ChangeEvent(change_id=answer.change_id, at=answer.at, actor=answer.by, type=ANSWERED, data=data)


def nagged_event(
    change_id: str, *, rule: str, step: str, recipients: Iterable[str], at: datetime, actor: str
) -> ChangeEvent:
    """The event that records a nag sent about a change (who was told, under which rule and step)."""
    return ChangeEvent(
        change_id=change_id,
        at=at,
        actor=actor,
        type=NAGGED,
        data={"rule": rule, "step": step, "recipients": list(recipients)},
    )


def named_cause_event(record: ChangeRecord, *, regression: str, by: str, at: datetime) -> ChangeEvent:
    """The event that records a change named as a regression's cause after it was answered (with that answer)."""
    answer = record.answer.answer if record.answer is not None else None
    return ChangeEvent(
        change_id=record.change.id, at=at, actor=by, type=NAMED_CAUSE, data={"regression": regression, "answer": answer}
    )


def snoozed_event(change_id: str, snooze: ChangeSnooze) -> ChangeEvent:
    """The event that records a snooze; `replay` gives it back in the record's `snoozes`."""
    return ChangeEvent(
        change_id=change_id,
        at=snooze.at,
        actor=snooze.by,
        type=SNOOZED,
        data={"until": snooze.until.isoformat(), "first": snooze.first.isoformat()},
    )


@dataclass(frozen=True)
class ChangeRecord:
    """A change with the answer the log holds for it (the first one: a change is asked once), and the snoozes
    of its nags, in the order pressed."""

    change: ShippedChange
    answer: Acknowledgement | None = None
    snoozes: tuple[ChangeSnooze, ...] = ()

    def answer_at(self, now: datetime) -> Acknowledgement | None:
        """The answer as the log stood at `now` (an answer given later is not seen)."""
        return self.answer if self.answer is not None and self.answer.at <= now else None

    def snoozed_until(self, now: datetime) -> datetime | None:
        """The end of the snooze running at `now` (pressed by then, ending after it); None when none runs."""
        return max((s.until for s in self.snoozes if s.at <= now < s.until), default=None)

    def snoozed_by(self, now: datetime) -> str | None:
        """Who pressed the snooze running at `now` that ends last."""
        running = [s for s in self.snoozes if s.at <= now < s.until]
        return max(running, key=lambda s: (s.until, s.at)).by if running else None


def replay(events: Iterable[ChangeEvent]) -> list[ChangeRecord]:
    """The changes the events record, in the order they were logged, each with its first answer.

    An answer to a change the events do not log is ignored, and so is any answer after the first.
    """
    records: dict[str, ChangeRecord] = {}
    for event in sorted(events, key=lambda e: e.at):
        known = records.get(event.change_id)
        if event.type == LOGGED and known is None:
            change = ShippedChange.model_validate({**event.data, "id": event.change_id, "at": event.at})
            records[event.change_id] = ChangeRecord(change)
        elif event.type == ANSWERED and known is not None and known.answer is None:
            answer = Acknowledgement.model_validate(
                {**event.data, "change_id": event.change_id, "at": event.at, "by": event.actor}
            )
            records[event.change_id] = replace(known, answer=answer)
        elif event.type == SNOOZED and known is not None and (snooze := _snooze_of(event)) is not None:
            records[event.change_id] = replace(known, snoozes=(*known.snoozes, snooze))
    return list(records.values())


def _snooze_of(event: ChangeEvent) -> ChangeSnooze | None:
    try:
        until, first = (datetime.fromisoformat(str(event.data[k])) for k in ("until", "first"))
    except (KeyError, ValueError):
        return None
    return ChangeSnooze(by=event.actor, at=event.at, until=until, first=first)


# --- who is asked, and how an answer is given ------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """The two owners of a domain or of a catalog asset, either of whom may be unknown."""

    product: str | None
    platform: str | None

    def owner(self, side: Side) -> str | None:
        return self.product if side == "product" else self.platform


def asked(change: ShippedChange, pair: Pair, *, lead: str | None) -> str | None:
    """Who is asked about `change`: the other side's owner in `pair` (the asset's pair when the change
    names one, else the domain's), else the domain lead; None when there is nobody to ask."""
    return pair.owner(other_side(change.side)) or lead


def may_answer(user: str, *, asked_user: str | None, lead: str | None, admins: Collection[str]) -> bool:
    """The person asked, the domain lead and the admins may answer for a change."""
    return user in {asked_user, lead} or user in admins


def check_answerable(
    record: ChangeRecord,
    *,
    by: str,
    asked_user: str | None,
    lead: str | None,
    admins: Collection[str] = (),
    verb: str = "answer for",
) -> None:
    """Raise Conflict when the change was answered already, NotAllowed when `by` may not answer it (or, with
    `verb` "snooze", snooze its nags: the same people may)."""
    change = record.change
    if record.answer is not None:
        raise Conflict(
            f"{change.id} was already answered by <@{record.answer.by}>: {record.answer.answer.replace('_', ' ')}."
        )
    if not may_answer(by, asked_user=asked_user, lead=lead, admins=admins):
        raise NotAllowed(
            f"Only {f'<@{asked_user}>, ' if asked_user else ''}the {escape(change.domain)} lead or an admin "
            f"can {verb} {change.id}."
        )


def acknowledge(
    record: ChangeRecord,
    *,
    answer: str,
    by: str,
    at: datetime,
    asked_user: str | None,
    lead: str | None,
    admins: Collection[str] = (),
    eval_link: str | None = None,
    reason: str | None = None,
) -> Acknowledgement:
    """The answer `by` gives to the change of `record` at `at`.

    Raises Conflict when it was answered already, NotAllowed when `by` may not answer, and
    InvalidInput naming the field: `answer` unknown, `eval_link` missing or not a web link for
    "covered", `reason` missing or too long for "not_relevant". For "needs_work" the caller files
    the eval request (`eval_request_draft`) and records its key in `eval_request`.
    """
    change = record.change
    check_answerable(record, by=by, asked_user=asked_user, lead=lead, admins=admins)
    if answer not in ANSWERS:
        raise InvalidInput(f"{answer!r} is not an answer; answer covered, needs_work or not_relevant.", field="answer")
    link, why = (eval_link or "").strip() or None, (reason or "").strip() or None
    if (answer == "covered" and link is None) or (link is not None and not is_web_link(link)):
        raise InvalidInput("Link the eval case that covers it (an http or https address).", field="eval_link")
    if answer == "not_relevant" and why is None:
        raise InvalidInput("Say why the change is not relevant to your side.", field="reason")
    if why is not None and len(why) > REASON_LIMIT:
        raise InvalidInput(f"Keep the reason under {REASON_LIMIT} characters.", field="reason")
    return Acknowledgement(change_id=change.id, answer=cast(Answer, answer), by=by, at=at, eval_link=link, reason=why)


def answer_by_cause(
    record: ChangeRecord, *, reason: str, by: str, at: datetime, eval_case: str | None
) -> Acknowledgement | None:
    """The answer a regression resolved with this change as its cause gives a change nobody answered yet: it
    needed work (`reason`: the regression it caused, in words), and the eval case linked (if any) now covers it;
    None when the change was answered already."""
    if record.answer is not None:
        return None
    return Acknowledgement(
        change_id=record.change.id,
        answer="needs_work",
        by=by,
        at=at,
        eval_link=eval_case,
        reason=reason,
    )


def snooze_change(
    record: ChangeRecord,
    *,
    by: str,
    at: datetime,
    asked_user: str | None,
    lead: str | None,
    admins: Collection[str] = (),
    max_days: float,
    days: float = 1,
) -> ChangeSnooze:
    """Quiet the change's nags for `days` more: from the end of the snooze still running, else from `at`; never
    past `max_days` from the first press (a change's question stays open until it is answered, so the first press
    ever bounds them all). Raises Conflict when it was answered or may not be snoozed any longer, NotAllowed
    when `by` may not snooze it (who may answer may snooze)."""
    check_answerable(record, by=by, asked_user=asked_user, lead=lead, admins=admins, verb="snooze")
    first = record.snoozes[0].first if record.snoozes else at
    cap = first + timedelta(days=max_days)
    start = record.snoozed_until(at) or at
    until = min(start + timedelta(days=days), cap)
    if until <= start:
        raise Conflict(
            f"{record.change.id} cannot be snoozed any longer: a snooze lasts at most {max_days:g} days from "
            "the first press. Answer it: covered, needs work or not relevant."
        )
    return ChangeSnooze(by=by, at=at, until=until, first=first)


@dataclass(frozen=True)
class EvalRequestDraft:
    """The eval request a "needs work" answer files: assigned to the platform side, linked to the change."""

    title: str
    description: str
    domain: str
    links: tuple[str, ...]
    requester: str
    assignee: str | None
    change_id: str


def eval_request_draft(change: ShippedChange, *, by: str, pair: Pair) -> EvalRequestDraft:
    """What the "needs work" answer of `by` files: an `eval` request in the change's domain, assigned to
    the platform owner of `pair` (None leaves it to triage), naming the change in its description."""
    title = truncate(f"Eval coverage for {change.what}", 150)
    version = f" (version {change.version})" if change.version else ""
    description = (
        f"{change.side.capitalize()} shipped {change.what}{version}, logged as {change.id}. "
        f"The other side answered that the evals need work to cover it."
    )
    return EvalRequestDraft(
        title=title,
        description=description,
        domain=change.domain,
        links=tuple(change.links),
        requester=by,
        assignee=pair.platform,
        change_id=change.id,
    )


# --- a change's state at `now` ----------------------------------------------------------------------


def business_day_seconds(calendar: BusinessCalendar) -> float:
    """The length of one business day of `calendar`, in seconds (its opening hours, wall clock)."""
    return float((calendar.end.hour * 60 + calendar.end.minute - calendar.start.hour * 60 - calendar.start.minute) * 60)


def business_days(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Business days between two instants: open seconds divided by one day's opening hours (0 when end <= start)."""
    return calendar.business_seconds(start, end) / business_day_seconds(calendar)


@dataclass(frozen=True)
class ChangeState:
    """Where a change stands at some `now`: who was asked, the answer, and how long it has waited.

    waiting_business_days: business days of the domain calendar since the change was logged, while it
    is unanswered (0 once answered). snoozed_until: the end of the snooze running then, if one is.
    """

    change: ShippedChange
    asked: str | None
    answer: Acknowledgement | None
    waiting_business_days: float
    snoozed_until: datetime | None = None

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None

    @property
    def unacknowledged_since(self) -> datetime | None:
        return None if self.acknowledged else self.change.at


def change_state(
    record: ChangeRecord, *, asked_user: str | None, calendar: BusinessCalendar, now: datetime
) -> ChangeState:
    """The state of `record` as of `now` in its domain's `calendar`."""
    answer = record.answer_at(now)
    waited = 0.0 if answer is not None else business_days(calendar, record.change.at, now)
    return ChangeState(
        change=record.change,
        asked=asked_user,
        answer=answer,
        waiting_business_days=waited,
        snoozed_until=None if answer is not None else record.snoozed_until(now),
    )


def change_number(change_id: str) -> int:
    """The number of a change id ("CHG-7" -> 7; 0 when it is not one), to order changes logged at the same time."""
    key = parse_change_key(change_id)
    return int(key.removeprefix("CHG-")) if key else 0

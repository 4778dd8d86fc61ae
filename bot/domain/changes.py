"""The change log: what each side of a domain shipped, whether the other side answered, which changes
are the suspects of a regression, why a regression closed, and the nag for an unanswered change.

The product side owns intents, surfaces, flows and success metrics; the platform side owns prompts,
models, eval suites, cost ceilings and retrieval. When one side ships, the other side's owner is asked
once whether it is covered. A change and its answer are events of their own (`ChangeEvent`);
`replay` folds them back into `ChangeRecord`s, and every rule below reads records and `now`.

Pure: standard library and pydantic only; nothing reads the clock. Datetimes are aware instants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.business_hours import BusinessCalendar
from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.models import Event, Request
from bot.domain.sla import local_when
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
RULE_UNACKNOWLEDGED = "change.unacknowledged"
DEFAULT_SUSPECT_DAYS = 14
WHAT_LIMIT = 300
REASON_LIMIT = 500
LINK_LIMIT = 2000
_CHANGE_ID = re.compile(r"^CHG-(\d{1,9})$", re.IGNORECASE)
_QUESTIONS = {
    "product": "Does the prompt/eval suite cover it?",
    "platform": "Does the product side need to act (intents, surfaces, flows, success metrics)?",
}


def change_key(number: int) -> str:
    """The user-facing id of the n-th logged change: 7 -> "CHG-7"."""
    return f"CHG-{number}"


def parse_change_key(text: str) -> str | None:
    """"CHG-7" (any case, surrounding blanks ignored) as "CHG-7"; None when it is not a change id."""
    match = _CHANGE_ID.match(text.strip())
    return change_key(int(match.group(1))) if match else None


def side_of(kind: str) -> Side | None:
    """The side that owns a sub-kind ("intent" -> "product"); None for an unknown kind."""
    return next((side for side in SIDES if kind in SIDE_KINDS[side]), None)


def other_side(side: Side) -> Side:
    return "platform" if side == "product" else "product"


def kind_words(kind: str) -> str:
    """"success_metric" -> "success metric"."""
    return kind.replace("_", " ")


_WEB_LINK = re.compile(r"https?://[A-Za-z0-9\[]", re.IGNORECASE)


def is_web_link(text: str) -> bool:
    """Whether `text` is an absolute http(s) URL with a host, without blanks, of at most 2000 characters."""
    if not text or len(text) > LINK_LIMIT or any(c.isspace() for c in text):
        return False
    return _WEB_LINK.match(text) is not None


# --- the change, its answer and their events ------------------------------------------------------


class HookOrigin(BaseModel):
    """Where a change filed over HTTP came from: the hook source and the sender's own id for it."""

    model_config = ConfigDict(frozen=True)
    source: str
    id: str


class Change(BaseModel):
    """One change one side shipped, as logged.

    id: ours, "CHG-7". shipped_by: the Slack user who logged it, or the hook source's name when
    `origin` is set. kind: the side's sub-kind when known. asset: a catalog asset's name.
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

    @model_validator(mode="after")
    def _kind_of_its_side(self) -> Change:
        if self.kind is not None and self.kind not in SIDE_KINDS[self.side]:
            raise ValueError(f"a {self.side} change cannot be a {self.kind!r}; "
                             f"{self.side} changes are {', '.join(SIDE_KINDS[self.side])}")
        return self

    @property
    def by_hook(self) -> bool:
        return self.origin is not None

    def shipper(self) -> str:
        """Who shipped it, for mrkdwn: "<@U0PPM>", or "the `deploys` hook"."""
        return f"the `{escape(self.shipped_by)}` hook" if self.by_hook else f"<@{self.shipped_by}>"


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
    """One append-only entry of the change log: a change logged, or the answer to it."""

    model_config = ConfigDict(frozen=True)

    change_id: str
    at: datetime
    actor: str
    type: Literal["change.logged", "change.answered"]
    data: dict[str, Any] = Field(default_factory=dict)


def logged_event(change: Change) -> ChangeEvent:
    """The event that records `change`; `replay` gives the change back."""
    data = change.model_dump(mode="json", exclude={"id", "at"})
    return ChangeEvent(change_id=change.id, at=change.at, actor=change.shipped_by, type=LOGGED, data=data)


def answered_event(answer: Acknowledgement) -> ChangeEvent:
    """The event that records an answer; `replay` gives the answer back."""
    data = answer.model_dump(mode="json", exclude={"change_id", "at", "by"})
    return ChangeEvent(change_id=answer.change_id, at=answer.at, actor=answer.by, type=ANSWERED, data=data)


@dataclass(frozen=True)
class ChangeRecord:
    """A change with the answer the log holds for it (the first one: a change is asked once)."""

    change: Change
    answer: Acknowledgement | None = None

    def answer_at(self, now: datetime) -> Acknowledgement | None:
        """The answer as the log stood at `now` (an answer given later is not seen)."""
        return self.answer if self.answer is not None and self.answer.at <= now else None


def replay(events: Iterable[ChangeEvent]) -> list[ChangeRecord]:
    """The changes the events record, in the order they were logged, each with its first answer.

    An answer to a change the events do not log is ignored, and so is any answer after the first.
    """
    records: dict[str, ChangeRecord] = {}
    for event in sorted(events, key=lambda e: e.at):
        if event.type == LOGGED and event.change_id not in records:
            change = Change.model_validate({**event.data, "id": event.change_id, "at": event.at})
            records[event.change_id] = ChangeRecord(change)
        elif event.type == ANSWERED and event.change_id in records and records[event.change_id].answer is None:
            answer = Acknowledgement.model_validate({**event.data, "change_id": event.change_id,
                                                     "at": event.at, "by": event.actor})
            records[event.change_id] = ChangeRecord(records[event.change_id].change, answer)
    return list(records.values())


# --- who is asked, and how an answer is given ------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """The two owners of a domain or of a catalog asset, either of whom may be unknown."""

    product: str | None
    platform: str | None

    def owner(self, side: Side) -> str | None:
        return self.product if side == "product" else self.platform


def asked(change: Change, pair: Pair, *, lead: str | None) -> str | None:
    """Who is asked about `change`: the other side's owner in `pair` (the asset's pair when the change
    names one, else the domain's), else the domain lead; None when there is nobody to ask."""
    return pair.owner(other_side(change.side)) or lead


def ask_text(change: Change, *, asked_user: str | None) -> str:
    """The question put to the other side, in mrkdwn (the change's words escaped), e.g.
    "<@U0MLPM> Product shipped *express-refund intent* (intent, v2) in support (<@U0PPM>, CHG-7).
    Does the prompt/eval suite cover it?"."""
    to = f"<@{asked_user}> " if asked_user else ""
    return (f"{to}{change.side.capitalize()} shipped {describe(change)} in {escape(change.domain)} "
            f"({change.shipper()}, {change.id}). {_QUESTIONS[change.side]}")


def describe(change: Change) -> str:
    """"*express-refund intent* (intent, v2)": what shipped, bold and escaped, with its kind and version."""
    details = [kind_words(change.kind)] if change.kind else []
    details += [_version_words(change.version)] if change.version else []
    suffix = f" ({', '.join(details)})" if details else ""
    return f"*{escape(change.what)}*{suffix}"


def _version_words(version: str) -> str:
    """"v2" for a number like 2 or 2.1, else "version 3f2a9c1e"; escaped and cut to 40 characters."""
    text = escape(truncate(version, 40))
    return f"v{text}" if re.fullmatch(r"\d+(\.\d+)*", version) else f"version {text}"


def may_answer(user: str, *, asked_user: str | None, lead: str | None, admins: Collection[str]) -> bool:
    """The person asked, the domain lead and the admins may answer for a change."""
    return user in {asked_user, lead} or user in admins


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
    if record.answer is not None:
        raise Conflict(f"{change.id} was already answered by <@{record.answer.by}>: "
                       f"{record.answer.answer.replace('_', ' ')}.")
    if not may_answer(by, asked_user=asked_user, lead=lead, admins=admins):
        who = f"<@{asked_user}>, " if asked_user else ""
        raise NotAllowed(f"Only {who}the {escape(change.domain)} lead or an admin can answer for {change.id}.")
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


def eval_request_draft(change: Change, *, by: str, pair: Pair) -> EvalRequestDraft:
    """What the "needs work" answer of `by` files: an `eval` request in the change's domain, assigned to
    the platform owner of `pair` (None leaves it to triage), naming the change in its description."""
    title = truncate(f"Eval coverage for {change.what}", 150)
    version = f" (version {change.version})" if change.version else ""
    description = (f"{change.side.capitalize()} shipped {change.what}{version}, logged as {change.id}. "
                   f"The other side answered that the evals need work to cover it.")
    return EvalRequestDraft(title=title, description=description, domain=change.domain, links=tuple(change.links),
                            requester=by, assignee=pair.platform, change_id=change.id)


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
    is unanswered (0 once answered).
    """

    change: Change
    asked: str | None
    answer: Acknowledgement | None
    waiting_business_days: float

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None

    @property
    def unacknowledged_since(self) -> datetime | None:
        return None if self.acknowledged else self.change.at


def change_state(record: ChangeRecord, *, asked_user: str | None, calendar: BusinessCalendar, now: datetime) -> ChangeState:
    """The state of `record` as of `now` in its domain's `calendar`."""
    answer = record.answer_at(now)
    waited = 0.0 if answer is not None else business_days(calendar, record.change.at, now)
    return ChangeState(change=record.change, asked=asked_user, answer=answer, waiting_business_days=waited)


# --- suspects of a regression ----------------------------------------------------------------------


@dataclass(frozen=True)
class Suspect:
    """A change shipped on the regression's domain shortly before it was filed."""

    change: Change
    answer: Acknowledgement | None
    same_asset: bool

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None


def suspects(
    records: Iterable[ChangeRecord],
    *,
    domain: str | None,
    filed_at: datetime,
    now: datetime,
    days: int = DEFAULT_SUSPECT_DAYS,
    asset: str | None = None,
) -> list[Suspect]:
    """The changes of `domain`, from both sides, logged in the `days` days up to `filed_at` (both ends
    included), newest first, each with its answer as of `now`. An unrouted regression has none."""
    if domain is None:
        return []
    since = filed_at - timedelta(days=days)
    found = [Suspect(r.change, r.answer_at(now), same_asset=asset is not None and r.change.asset == asset)
             for r in records if r.change.domain == domain and since <= r.change.at <= filed_at]
    return sorted(found, key=lambda s: (_utc(s.change.at), _number(s.change.id)), reverse=True)


# --- closing a regression ---------------------------------------------------------------------------


class Closure(BaseModel):
    """Why a regression closed and what covers it now; stored with the event that resolved it.

    cause: "change:CHG-7", "product", "platform", "both" or "outside". eval_case: a link to the eval
    case that now covers it; no_eval_reason: why there is none.
    """

    model_config = ConfigDict(frozen=True)

    cause: str
    eval_case: str | None = None
    no_eval_reason: str | None = None

    @field_validator("cause")
    @classmethod
    def _known(cls, value: str) -> str:
        blamed = value.removeprefix("change:")
        if value not in CAUSES and not (value.startswith("change:") and parse_change_key(blamed) == blamed):
            raise ValueError(f"unknown cause {value!r}; a cause is change:CHG-<n>, {', '.join(CAUSES)}")
        return value

    @property
    def cause_change(self) -> str | None:
        """The change blamed, "CHG-7", or None when the cause is a side or outside."""
        return self.cause.removeprefix("change:") if self.cause.startswith("change:") else None

    @property
    def has_eval_case(self) -> bool:
        return self.eval_case is not None

    def event_data(self) -> dict[str, str]:
        """The keys to store in the data of the event that resolves the regression."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


def close_regression(
    *,
    cause: str | None,
    eval_case: str | None,
    no_eval_reason: str | None,
    suspect_ids: Collection[str],
) -> Closure:
    """The closure a person gives when resolving a regression; raises InvalidInput naming the field.

    `cause` is one of `suspect_ids` (as "change:CHG-7" or "CHG-7") or product, platform, both or
    outside (any case). The eval case must be an http(s) link; without one, the reason is required.
    """
    chosen = _cause(cause, suspect_ids)
    link = (eval_case or "").strip() or None
    why = (no_eval_reason or "").strip() or None
    if link is not None and not is_web_link(link):
        raise InvalidInput("The eval case must be a link (http or https) to the case that now covers this.", field="eval_case")
    if link is None and why is None:
        raise InvalidInput("Link the eval case that now covers this regression, or say why there is none.", field="eval_case")
    if why is not None and len(why) > REASON_LIMIT:
        raise InvalidInput(f"Keep the reason under {REASON_LIMIT} characters.", field="no_eval_reason")
    return Closure(cause=chosen, eval_case=link, no_eval_reason=why)


def _cause(text: str | None, suspect_ids: Collection[str]) -> str:
    word = (text or "").strip()
    if not word:
        raise InvalidInput(f"Say what caused the regression: {_cause_choices(suspect_ids)}.", field="cause")
    if word.lower() in CAUSES:
        return word.lower()
    key = parse_change_key(word[len("change:"):] if word.lower().startswith("change:") else word)
    if key is None:
        raise InvalidInput(f"{word!r} is not a cause; choose {_cause_choices(suspect_ids)}.", field="cause")
    if key not in {parse_change_key(s) for s in suspect_ids}:
        raise InvalidInput(f"{key} is not among this regression's suspects; choose {_cause_choices(suspect_ids)}.", field="cause")
    return f"change:{key}"


def _cause_choices(suspect_ids: Collection[str]) -> str:
    changes = f"one of its suspects ({', '.join(suspect_ids)}), " if suspect_ids else ""
    return f"{changes}product, platform, both or outside"


def closure_of(events: Sequence[Event]) -> Closure | None:
    """The closure stored with the latest resolution of a request (None when it has none or never resolved).

    A resolution is an event whose data sets status "resolved"; its data holds the closure's keys.
    """
    resolving = next((e for e in reversed(events) if e.data.get("status") == "resolved"), None)
    if resolving is None or "cause" not in resolving.data:
        return None
    try:
        return Closure.model_validate({k: resolving.data.get(k) for k in ("cause", "eval_case", "no_eval_reason")})
    except ValueError:
        return None


# --- digest figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoopFigures:
    """What the change log adds to a digest of the week (start, end].

    regressions_closed: regressions resolved in the week. closed_without_eval_case: those of them whose
    closure links no eval case (a closure without one, or none recorded), as (request id, key); counted
    always, listed only when listable. changes_logged: changes logged in the week.
    unacknowledged_this_week: ids of changes logged in the week and unanswered at its end.
    unacknowledged_open: (id, business days waiting) of every change unanswered at the week's end,
    longest waiting first.
    """

    regressions_closed: int
    closed_without_eval_case: int
    closed_without_eval_case_listed: list[tuple[int, str]]
    changes_logged: int
    unacknowledged_this_week: list[str]
    unacknowledged_open: list[tuple[str, float]]


def loop_figures(
    items: Iterable[tuple[Request, Sequence[Event]]],
    records: Iterable[ChangeRecord],
    *,
    start: datetime,
    end: datetime,
    scope: str | None,
    calendar_for: Callable[[str | None], BusinessCalendar],
    include_confidential: bool = False,
) -> LoopFigures:
    """The change-log figures of domain `scope` (None: the organisation) for the week (start, end]."""
    closed, listed = _closed_regressions(items, start=start, end=end, scope=scope, include_confidential=include_confidential)
    mine = [r for r in records if (scope is None or r.change.domain == scope) and r.change.at <= end]
    waiting = [r for r in mine if r.answer_at(end) is None]
    logged = [r for r in mine if start < r.change.at]
    return LoopFigures(
        regressions_closed=len(closed),
        closed_without_eval_case=sum(1 for has_case in closed if not has_case),
        closed_without_eval_case_listed=listed,
        changes_logged=len(logged),
        unacknowledged_this_week=[r.change.id for r in logged if r.answer_at(end) is None],
        unacknowledged_open=sorted(((r.change.id, round(business_days(calendar_for(r.change.domain), r.change.at, end), 1))
                                    for r in waiting), key=lambda w: (-w[1], _number(w[0]))),
    )


def _closed_regressions(items: Iterable[tuple[Request, Sequence[Event]]], *, start: datetime, end: datetime,
                        scope: str | None, include_confidential: bool) -> tuple[list[bool], list[tuple[int, str]]]:
    """Per regression resolved in the week: whether its closure has an eval case; and those without, listable."""
    closed: list[bool] = []
    listed: list[tuple[int, str]] = []
    for request, events in items:
        if not request.is_regression or (scope is not None and request.domain != scope):
            continue
        resolution = _last_resolution(events, start=start, end=end)
        if resolution is None:
            continue
        closure = closure_of(events[: resolution + 1])
        closed.append(closure is not None and closure.has_eval_case)
        if not closed[-1] and (include_confidential or not request.confidential):
            listed.append((request.id, request.key))
    return closed, listed


def _last_resolution(events: Sequence[Event], *, start: datetime, end: datetime) -> int | None:
    """The index of the last event in (start, end] that resolved the request from another status."""
    found, status = None, "open"
    for i, event in enumerate(events):
        new = event.data.get("status")
        if new == "resolved" and status != "resolved" and start < event.at <= end:
            found = i
        status = new or status
    return found


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
            f"({change.shipper()}, {local_when(change.at, tz=tz)}). {_QUESTIONS[change.side]}")
    return text + (f" Escalated to <@{lead}>." if lead else "")


def _number(change_id: str) -> int:
    key = parse_change_key(change_id)
    return int(key.removeprefix("CHG-")) if key else 0


def _utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc)

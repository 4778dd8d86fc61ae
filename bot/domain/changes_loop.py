"""Regressions and the change log: a regression's suspects (the changes just before it), why it closed
and what covers it now, the figures the digest shows about closing the loop, and an alert's life (what a
tool's later reports do to the regression its hook filed).

Pure: standard library and pydantic only; nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from bot.domain.business_hours import BusinessCalendar
from bot.domain.changes import (
    CAUSES,
    DEFAULT_SUSPECT_DAYS,
    REASON_LIMIT,
    Acknowledgement,
    ChangeRecord,
    ShippedChange,
    business_days,
    change_number,
    is_web_link,
    parse_change_key,
)
from bot.domain.errors import InvalidInput
from bot.domain.history import as_utc
from bot.domain.models import PRIORITIES, Event, Request

RECOVERED = "recovered"
REFIRED = "refired"
"""The events of what a hook reports about a regression it filed: it recovered, or it fires again after that."""

# --- suspects of a regression ----------------------------------------------------------------------


@dataclass(frozen=True)
class Suspect:
    """A change shipped on the regression's domain shortly before it was filed."""

    change: ShippedChange
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
    found = [
        Suspect(r.change, r.answer_at(now), same_asset=asset is not None and r.change.asset == asset)
        for r in records
        if r.change.domain == domain and since <= r.change.at <= filed_at
    ]
    return sorted(found, key=lambda s: (as_utc(s.change.at), change_number(s.change.id)), reverse=True)


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
        raise InvalidInput(
            "The eval case must be a link (http or https) to the case that now covers this.", field="eval_case"
        )
    if link is None and why is None:
        raise InvalidInput(
            "Link the eval case that now covers this regression, or say why there is none.", field="eval_case"
        )
    if why is not None and len(why) > REASON_LIMIT:
        raise InvalidInput(f"Keep the reason under {REASON_LIMIT} characters.", field="no_eval_reason")
    return Closure(cause=chosen, eval_case=link, no_eval_reason=why)


def _cause(text: str | None, suspect_ids: Collection[str]) -> str:
    word = (text or "").strip()
    if not word:
        raise InvalidInput(f"Say what caused the regression: {_cause_choices(suspect_ids)}.", field="cause")
    if word.lower() in CAUSES:
        return word.lower()
    key = parse_change_key(word[len("change:") :] if word.lower().startswith("change:") else word)
    if key is None:
        raise InvalidInput(f"{word!r} is not a cause; choose {_cause_choices(suspect_ids)}.", field="cause")
    if key not in {parse_change_key(s) for s in suspect_ids}:
        raise InvalidInput(
            f"{key} is not among this regression's suspects; choose {_cause_choices(suspect_ids)}.", field="cause"
        )
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
    """What the change log adds to a digest of the week (start, end]: closing the loop, apart from the digest's
    own figures (computed from the change log's tables and the regressions resolved in the week).

    regressions_closed: regressions resolved in the week. closed_without_eval_case: those of them whose
    closure links no eval case (a closure without one, or none recorded), counted always;
    closed_without_eval_case_listed: those of them the digest's audience may see named, as (request id, key).
    changes_logged: changes logged in the week. unacknowledged_this_week: ids of changes logged in the week
    and unanswered at its end. unacknowledged_open: (id, business days waiting) of every change unanswered
    at the week's end, longest waiting first. needs_answer: those of them that have waited `decide_after`
    business days or more (the nag's N), with their records, longest first: what needs a decision.
    """

    regressions_closed: int
    closed_without_eval_case: int
    closed_without_eval_case_listed: list[tuple[int, str]]
    changes_logged: int
    unacknowledged_this_week: list[str]
    unacknowledged_open: list[tuple[str, float]]
    needs_answer: list[tuple[ChangeRecord, float]] = field(default_factory=list)
    decide_after: float = 0.0
    end: datetime | None = None
    caused_after_not_relevant: list[str] = field(default_factory=list)
    """Changes answered "not relevant" that a regression was resolved as caused by, in the week."""

    @property
    def closed_without_eval_case_hidden(self) -> int:
        """Regressions closed without an eval case that the audience may not see named (confidential)."""
        return self.closed_without_eval_case - len(self.closed_without_eval_case_listed)

    @property
    def has_news(self) -> bool:
        """Whether the change log has anything to say this week (a regression closed, a change logged or unanswered)."""
        return bool(self.regressions_closed or self.changes_logged or self.unacknowledged_open)


def loop_figures(
    items: Iterable[tuple[Request, Sequence[Event]]],
    records: Iterable[ChangeRecord],
    *,
    start: datetime,
    end: datetime,
    scope: str | None,
    calendar_for: Callable[[str | None], BusinessCalendar],
    listable: Callable[[Request], bool] = lambda request: not request.confidential,
    decide_after: float = 0.0,
    named: Sequence[tuple[str, str | None, datetime, str | None]] = (),
) -> LoopFigures:
    """The change-log figures of domain `scope` (None: the organisation) for the week (start, end].

    `items`: requests with their events (those resolved in the week among them); `records`: the changes logged
    in the week and those unanswered at its end (any others are ignored). `listable(request)`: whether the
    digest's audience may see a request named; the others are counted only. `named`: (change id, its domain,
    when, the answer it had) of the changes named as a regression's cause after their answer."""
    closed, listed = _closed_regressions(items, start=start, end=end, scope=scope, listable=listable)
    mine = [r for r in records if (scope is None or r.change.domain == scope) and r.change.at <= end]
    waiting = [
        (r, round(business_days(calendar_for(r.change.domain), r.change.at, end), 1))
        for r in mine
        if r.answer_at(end) is None
    ]
    waiting.sort(key=lambda w: (-w[1], change_number(w[0].change.id)))
    logged = [r for r in mine if start < r.change.at]
    return LoopFigures(
        regressions_closed=len(closed),
        closed_without_eval_case=sum(1 for has_case in closed if not has_case),
        closed_without_eval_case_listed=listed,
        changes_logged=len(logged),
        unacknowledged_this_week=[r.change.id for r in logged if r.answer_at(end) is None],
        unacknowledged_open=[(r.change.id, days) for r, days in waiting],
        needs_answer=[(r, days) for r, days in waiting if days >= decide_after],
        decide_after=decide_after,
        caused_after_not_relevant=list(
            dict.fromkeys(
                change_id
                for change_id, domain, at, answer in named
                if answer == "not_relevant" and start < at <= end and (scope is None or domain == scope)
            )
        ),
        end=end,
    )


def loop_all(
    items: Sequence[tuple[Request, Sequence[Event]]],
    records: Sequence[ChangeRecord],
    *,
    start: datetime,
    end: datetime,
    scopes: Iterable[str | None],
    calendar_for: Callable[[str | None], BusinessCalendar],
    listable: Callable[[Request], bool],
    decide_after: float,
    named: Sequence[tuple[str, str | None, datetime, str | None]] = (),
) -> dict[str | None, LoopFigures]:
    """`loop_figures` of each scope (a domain's name, or None for the organisation)."""
    return {
        scope: loop_figures(
            items,
            records,
            start=start,
            end=end,
            scope=scope,
            calendar_for=calendar_for,
            listable=listable,
            decide_after=decide_after,
            named=named,
        )
        for scope in scopes
    }


def _closed_regressions(
    items: Iterable[tuple[Request, Sequence[Event]]],
    *,
    start: datetime,
    end: datetime,
    scope: str | None,
    listable: Callable[[Request], bool],
) -> tuple[list[bool], list[tuple[int, str]]]:
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
        if not closed[-1] and listable(request):
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


# --- an alert's life ------------------------------------------------------------------------------
# An alert's life is one request's life: what a tool's report about a regression its hook filed before does.
#
# A report is the tool saying the alert is firing (at some priority) or resolved. Against the request it
# filed before, the report is one of:
#
# - `repeat`: nothing new (firing while firing, resolved while recovered, resolved after the request closed);
# - `recovered` / `refired`: a change of state of an open request, told in its thread;
# - `reopen`: firing again within `REOPEN_WITHIN` of the request's close: the same request opens again;
# - `file_again`: firing again longer after the close: a new request, linked to the old one.
#
# A firing report at a higher priority than the request's raises it (`raise_to`), whatever else it does.
# A flapping alert is told in the thread once per change of state, up to `FLAP_LINES` changes in
# `FLAP_WINDOW`; the change after those says that further ones are only counted (on the card).

REOPENED = "reopened"
PRIORITY_RAISED = "priority_raised"
REOPEN_WITHIN = timedelta(days=7)
"""A firing alert whose request closed at most this long ago reopens it; later, it files a new linked one."""
FLAP_WINDOW = timedelta(hours=24)
FLAP_LINES = 3
"""Changes of state told in the thread, each with its own line, within FLAP_WINDOW; later ones are counted."""

AlertOutcome = Literal["repeat", "recovered", "refired", "reopen", "file_again"]


@dataclass(frozen=True)
class AlertReport:
    """What a tool's report does to the request it filed before.

    outcome: see the section above. raise_to: the higher priority the report asks for (None: keep it).
    changes: the changes of state of the request in FLAP_WINDOW, this one included (0 when it is none).
    told: whether this change of state gets a line in the thread (False once the alert flaps).
    """

    outcome: AlertOutcome
    raise_to: str | None = None
    changes: int = 0
    told: bool = True

    @property
    def counted_from_now(self) -> bool:
        """This is the last change of state told in the thread; later ones are only counted."""
        return self.told and self.changes == FLAP_LINES + 1


def alert_report(
    request: Request, events: Sequence[Event], *, recovered: bool, priority: str | None, now: datetime
) -> AlertReport:
    """What a report (resolved when `recovered`, else firing at `priority`) does to `request`, whose log is
    `events`, at `now`."""
    raise_to = None if recovered else higher_priority(priority, than=request.priority)
    if not request.is_open:
        if recovered:
            return AlertReport("repeat")
        closed_at = request.resolved_at or request.updated_at
        return (
            AlertReport("reopen", raise_to=raise_to) if now - closed_at <= REOPEN_WITHIN else AlertReport("file_again")
        )
    if recovered == is_recovered(events):
        return AlertReport("repeat", raise_to=raise_to)
    changes = 1 + sum(1 for e in events if e.type in (RECOVERED, REFIRED) and now - e.at <= FLAP_WINDOW)
    return AlertReport(
        RECOVERED if recovered else REFIRED, raise_to=raise_to, changes=changes, told=changes <= FLAP_LINES + 1
    )


def is_recovered(events: Sequence[Event]) -> bool:
    """Whether the tool last said the alert is over (and nothing opened it again since)."""
    last = next((e.type for e in reversed(events) if e.type in (RECOVERED, REFIRED, REOPENED)), None)
    return last == RECOVERED


def higher_priority(asked: str | None, *, than: str | None) -> str | None:
    """`asked` when it is more urgent than `than` (P1 is the most urgent), else None."""
    if asked not in PRIORITIES:
        return None
    return asked if than not in PRIORITIES or PRIORITIES.index(asked) < PRIORITIES.index(than) else None


def flap_count(events: Sequence[Event]) -> int:
    """How many times the alert changed state in the FLAP_WINDOW before its last change (0: never)."""
    changes = [e for e in events if e.type in (RECOVERED, REFIRED)]
    if not changes:
        return 0
    last = changes[-1].at
    return sum(1 for e in changes if last - e.at <= FLAP_WINDOW)


ALERTS = "alerts"
"""Event of a regression filed for several alerts of a group: data {"alerts": [{"id", "labels", "firing"}]}, the
group's alerts as they stand after a report."""
ALERTS_KEPT = 500


def latest_alerts(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The alerts a regression stands for, as the last report left them ([] for a regression of one alert)."""
    last = next((e for e in reversed(events) if e.type == ALERTS), None)
    return list(last.data.get("alerts", [])) if last is not None else []


def alerts_after(events: Sequence[Event], reported: Sequence[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The alerts after a report of `reported` ({"id", "labels", "firing"} each): those known, updated, and the new
    ones after them; an alert the report leaves out keeps its state. None when nothing changed, or when the
    regression stands for one alert only."""
    known = latest_alerts(events)
    merged = {a["id"]: a for a in known}
    merged.update((a["id"], a) for a in reported)
    after = list(merged.values())[:ALERTS_KEPT]
    return None if after == known or len(after) < 2 else after

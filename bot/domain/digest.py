"""The weekly digest's figures, for one domain or the whole organisation (docs/nags-and-digest.md).

Pure: `now` is passed in, requests and their events are passed in. One pass over the requests
computes this week's figures and last week's together, each request costing time linear in its own
events, so the digest scales with the number of requests fed to it. Last week's figures are the ones
the log shows as of a week ago (a request's state is replayed from its events when it changed since).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from bot.domain.history import is_unowned, request_sla, running_snooze, seconds_between, silent_since
from bot.domain.models import CLOSED_STATUSES, Event, Request
from bot.domain.policy import Config
from bot.domain.thresholds import RULE_STALE_REVIEW, ladder
from bot.domain.visibility import visible_to

WEEK = timedelta(days=7)
OLDEST_LIMIT = 5
_DAY = 86400.0


@dataclass(frozen=True)
class DigestFigures:
    """What one digest shows, for the week (week_start, week_end].

    Durations are business seconds of the request's domain calendar; sla_attainment is a percentage.
    Lists never hold a confidential request unless the figures were made with include_confidential:
    those are counted instead, `hidden_stalled` (how many stalled reviews, the longest silence in days)
    and `hidden_unowned` (how many unowned regressions, the longest in business hours). `top_rung`
    holds every stalled review at the top of the ladder, listed or not: (id, key, days silent, court,
    title — None when it may not be listed). `snoozed`: (id, key, until, who snoozed it).
    """

    scope: str | None
    week_start: datetime
    week_end: datetime
    opened: int
    resolved: int
    open_by_kind: dict[str, int]
    median_first_response_seconds: float | None
    median_resolution_seconds: float | None
    sla_attainment: float | None
    breaches: int
    stale_reviews: list[tuple[int, str, int]]
    unowned_regressions: list[tuple[int, str, float]]
    oldest_open: list[tuple[int, str, int]]
    snoozed: list[tuple[int, str, datetime, str]]
    confidential_open: int
    previous: DigestFigures | None
    hidden_stalled: tuple[int, int | None] = (0, None)
    hidden_unowned: tuple[int, float | None] = (0, None)
    top_rung: list[tuple[int, str, int, str, str | None]] = field(default_factory=list)

    @property
    def stalled_total(self) -> int:
        """Every stalled review, listed or not."""
        return len(self.stale_reviews) + self.hidden_stalled[0]

    @property
    def unowned_total(self) -> int:
        """Every unowned regression, listed or not."""
        return len(self.unowned_regressions) + self.hidden_unowned[0]


def digest_week(config: Config, *, now: datetime) -> tuple[datetime, datetime]:
    """The week a digest at `now` covers: the 7 days ending at `now`, as (start, end], start excluded.

    `config` is taken so that the period can follow the digest's cron later; it is unused today.
    """
    del config
    return now - WEEK, now


def digest_figures(
    items: Sequence[tuple[Request, Sequence[Event]]],
    config: Config,
    *,
    now: datetime,
    scope: str | None,
    include_confidential: bool,
    previous: bool = True,
) -> DigestFigures:
    """The figures of the week ending at `now` for domain `scope` (None: every request, unrouted too).

    `include_confidential` (the domain's private channel) lists confidential requests; otherwise they
    are listed only where `visible_to` shows them to anyone, and counted in `confidential_open`. With `previous`, the week before is computed in the same
    pass and attached as `.previous` (whose own `.previous` is None).
    """
    start, end = digest_week(config, now=now)
    tallies = [_Tally(start, end)] + ([_Tally(start - WEEK, start)] if previous else [])
    for request, events in items:
        if scope is not None and request.domain != scope:
            continue
        for tally in tallies:
            tally.add(request, events, config, listable=include_confidential or visible_to(config, request))
    earlier = tallies[1].figures(scope, previous=None) if previous else None
    return tallies[0].figures(scope, previous=earlier)


def digest_all(
    items: Iterable[tuple[Request, Sequence[Event]]],
    config: Config,
    *,
    now: datetime,
    listable: Callable[[Request], bool] | None = None,
) -> dict[str | None, DigestFigures]:
    """The figures of every domain (by name) and of the whole organisation (key None), in one pass.

    Each request is counted once, in its own domain's tally; the organisation's figures are those
    tallies merged (plus the unrouted requests), so the cost does not grow with the number of digests.
    `listable(request)` says whether the digests' audience may see a request named (default: anyone
    may, by `visible_to`); the others are only counted.
    """
    shown = listable or (lambda request: visible_to(config, request))
    start, end = digest_week(config, now=now)
    names = [d.name for d in config.domains]
    weeks = {scope: (_Tally(start, end), _Tally(start - WEEK, start)) for scope in [*names, None]}
    for request, events in items:
        for tally in weeks.get(request.domain, weeks[None]):
            tally.add(request, events, config, listable=shown(request))
    out: dict[str | None, DigestFigures] = {}
    for name in names:
        current, previous = weeks[name]
        out[name] = current.figures(name, previous=previous.figures(name, previous=None))
    org_current = _Tally.merged([weeks[k][0] for k in weeks], start, end)
    org_previous = _Tally.merged([weeks[k][1] for k in weeks], start - WEEK, start)
    out[None] = org_current.figures(None, previous=org_previous.figures(None, previous=None))
    return out


def change(current: float | int | None, previous: float | int | None, *, points: bool = False) -> str:
    """The change against last week, for people: counts as a difference ("+3", "-2", "±0"), other
    numbers (durations) relative in percent ("-12 %"), or with `points` as a difference in
    percentage points ("+4 pts"); "—" when either is unknown or a relative change has no base.
    """
    if current is None or previous is None:
        return "—"
    if points:
        return _signed(round(current - previous), unit=" pts")
    if isinstance(current, int) and isinstance(previous, int):
        return _signed(current - previous)
    if previous == 0:
        return "±0" if current == 0 else "—"
    return _signed(round((current - previous) / previous * 100), unit=" %")


def _signed(number: int, *, unit: str = "") -> str:
    if number == 0:
        return "±0"
    return f"{number:+d}{unit}"


@dataclass
class _Tally:
    """The running figures of one week while the requests go by."""

    start: datetime
    end: datetime
    opened: int = 0
    resolved: int = 0
    open_by_kind: Counter[str] = field(default_factory=Counter)
    first_responses: list[float] = field(default_factory=list)
    resolutions: list[float] = field(default_factory=list)
    met: int = 0
    missed: int = 0
    breaches: int = 0
    stale: list[tuple[int, str, int]] = field(default_factory=list)
    unowned: list[tuple[int, str, float]] = field(default_factory=list)
    oldest: list[tuple[float, int, int, str, int]] = field(default_factory=list)  # a bounded heap
    snoozed: list[tuple[int, str, datetime, str]] = field(default_factory=list)
    confidential_open: int = 0
    hidden_stalled: list[int] = field(default_factory=list)  # days silent of each
    hidden_unowned: list[float] = field(default_factory=list)  # business hours unowned of each
    top: list[tuple[int, str, int, str, str | None]] = field(default_factory=list)

    def in_week(self, at: datetime | None) -> bool:
        return at is not None and self.start < at <= self.end

    def add(self, request: Request, events: Sequence[Event], config: Config, *, listable: bool) -> None:
        """Count one request as the log shows it at the end of the week."""
        state = as_of(request, events, at=self.end)
        if state is None:
            return
        request, seen = state
        closed_before = not request.is_open and all(e.at <= self.start for e in seen)
        if closed_before and not self.in_week(request.created_at):
            return  # closed before the week began: it has nothing left to count
        self.opened += self.in_week(request.created_at)
        self.resolved += any(self.in_week(at) for at in _resolutions(seen))
        self._add_sla(request, seen, config)
        if request.is_open:
            self._add_open(request, seen, config, listable=listable)

    def _add_sla(self, request: Request, events: Sequence[Event], config: Config) -> None:
        sla = request_sla(request, events, config, now=self.end)
        for status, durations in ((sla.first_response, self.first_responses), (sla.resolution, self.resolutions)):
            if self.in_week(status.satisfied_at):
                durations.append(status.business_seconds_elapsed)
                self.met += status.state == "met"
                self.missed += status.state == "missed"
            became_breached = status.state == "missed" and self.in_week(status.due_at)
            self.breaches += status.state == "breached" or became_breached

    def _add_open(self, request: Request, events: Sequence[Event], config: Config, *, listable: bool) -> None:
        self.open_by_kind[request.kind] += 1
        self.confidential_open += request.confidential
        decision = needs_decision(request, events, config, at=self.end)
        if decision.stalled_days is not None and decision.top:
            self.top.append((request.id, request.key, decision.stalled_days, request.court, request.title if listable else None))
        if not listable:
            self.hidden_stalled += [decision.stalled_days] if decision.stalled_days is not None else []
            self.hidden_unowned += [decision.unowned_hours] if decision.unowned_hours is not None else []
            return
        if decision.stalled_days is not None:
            self.stale.append((request.id, request.key, decision.stalled_days))
        if decision.unowned_hours is not None:
            self.unowned.append((request.id, request.key, decision.unowned_hours))
        if decision.snoozed is not None:
            self.snoozed.append((request.id, request.key, *decision.snoozed))
        self._keep_oldest(request)

    def _keep_oldest(self, request: Request) -> None:
        age = int(seconds_between(request.created_at, self.end) // _DAY)
        entry = (-request.created_at.timestamp(), -request.id, request.id, request.key, age)
        if len(self.oldest) < OLDEST_LIMIT:
            heapq.heappush(self.oldest, entry)
        else:
            heapq.heappushpop(self.oldest, entry)  # drops the newest of the kept ones

    @classmethod
    def merged(cls, tallies: Sequence["_Tally"], start: datetime, end: datetime) -> "_Tally":
        """One tally counting everything the given tallies (of the same week) counted."""
        total = cls(start, end)
        for t in tallies:
            total.opened += t.opened
            total.resolved += t.resolved
            total.open_by_kind.update(t.open_by_kind)
            total.first_responses += t.first_responses
            total.resolutions += t.resolutions
            total.met += t.met
            total.missed += t.missed
            total.breaches += t.breaches
            total.stale += t.stale
            total.unowned += t.unowned
            total.snoozed += t.snoozed
            total.confidential_open += t.confidential_open
            total.hidden_stalled += t.hidden_stalled
            total.hidden_unowned += t.hidden_unowned
            total.top += t.top
            for entry in t.oldest:
                if len(total.oldest) < OLDEST_LIMIT:
                    heapq.heappush(total.oldest, entry)
                else:
                    heapq.heappushpop(total.oldest, entry)
        return total

    def figures(self, scope: str | None, *, previous: DigestFigures | None) -> DigestFigures:
        judged = self.met + self.missed
        return DigestFigures(
            scope=scope, week_start=self.start, week_end=self.end, opened=self.opened, resolved=self.resolved,
            open_by_kind=dict(sorted(self.open_by_kind.items())),
            median_first_response_seconds=median(self.first_responses) if self.first_responses else None,
            median_resolution_seconds=median(self.resolutions) if self.resolutions else None,
            sla_attainment=100.0 * self.met / judged if judged else None,
            breaches=self.breaches,
            stale_reviews=sorted(self.stale, key=lambda s: (-s[2], s[0])),
            unowned_regressions=sorted(self.unowned, key=lambda u: (-u[2], u[0])),
            oldest_open=[(i, key, age) for _, _, i, key, age in sorted(self.oldest, reverse=True)],
            snoozed=sorted(self.snoozed, key=lambda s: (s[2], s[0])),
            confidential_open=self.confidential_open, previous=previous,
            hidden_stalled=(len(self.hidden_stalled), max(self.hidden_stalled, default=None)),
            hidden_unowned=(len(self.hidden_unowned), max(self.hidden_unowned, default=None)),
            top_rung=sorted(self.top, key=lambda t: (-t[2], t[0])),
        )


# --- what needs a decision, per request ------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What a digest says of one open request at an instant: days its stalled review's ball holder has been
    silent (None: not stalled), business hours an unowned regression has had no owner (None: owned or not
    a regression), whether the review is at the top rung of the ladder, and its running snooze (until,
    who)."""

    stalled_days: int | None = None
    unowned_hours: float | None = None
    top: bool = False
    snoozed: tuple[datetime, str] | None = None


def needs_decision(request: Request, events: Sequence[Event], config: Config, *, at: datetime) -> Decision:
    """The `Decision` of an open request as of `at` (its events up to `at`)."""
    stalled = unowned = None
    top = False
    if request.is_security_review:
        silent = seconds_between(silent_since(request, events, config), at) / _DAY
        steps = ladder(config, request.domain, RULE_STALE_REVIEW)
        rung = steps.reached(silent)
        if rung is not None:
            stalled, top = int(silent), rung == steps.steps[-1]
    if is_unowned(request, events):
        unowned = round(config.calendar(request.domain).business_seconds(request.created_at, at) / 3600, 1)
    return Decision(stalled_days=stalled, unowned_hours=unowned, top=top, snoozed=running_snooze(events, config, now=at))


@dataclass(frozen=True)
class Listed:
    """One confidential request as a private digest lists it: the request and what needs deciding."""

    request: Request
    age_days: int
    decision: Decision


def confidential_open(items: Iterable[tuple[Request, Sequence[Event]]], config: Config, *, now: datetime,
                      scope: str | None, channel: str) -> list[Listed]:
    """Every open confidential request of domain `scope` (None: every domain) that `channel` may see, those
    needing a decision first (stalled longest, then unowned longest), then the oldest."""
    found = []
    for request, events in items:
        if not (request.is_open and request.confidential) or (scope is not None and request.domain != scope):
            continue
        if visible_to(config, request, channel=channel):
            age = int(seconds_between(request.created_at, now) // _DAY)
            found.append(Listed(request, age, needs_decision(request, events, config, at=now)))
    return sorted(found, key=lambda x: (-(x.decision.stalled_days if x.decision.stalled_days is not None else -1),
                                        -(x.decision.unowned_hours if x.decision.unowned_hours is not None else -1),
                                        -x.age_days, x.request.id))


# --- a request as the log shows it at some instant ---------------------------------------------


def as_of(request: Request, events: Sequence[Event], *, at: datetime) -> tuple[Request, list[Event]] | None:
    """The request and its events as they stood at `at`; None when it did not exist yet.

    When nothing happened after `at` the stored request is that state; otherwise status, court,
    assignee, owner, disclaimers, first response and resolution are replayed from the events up to `at`.
    """
    if request.created_at > at:
        return None
    seen = [e for e in events if e.at <= at]
    if len(seen) == len(events):
        return request, seen
    return _replay(request, seen, at=at), seen


def _replay(request: Request, events: Sequence[Event], *, at: datetime) -> Request:
    status, court, assignee, owner = "open", request.court, None, None
    resolved_at: datetime | None = None
    for event in events:
        data = event.data
        if event.type == "created" or "assignee" in data:
            assignee = data.get("assignee", assignee)
        elif event.type == "reassigned":
            assignee = data.get("to", assignee)
        elif event.type == "review_started":
            assignee = assignee or event.actor
        if "owner" in data:
            owner = data["owner"]
        elif event.type == "owned" or (event.type == "claimed" and request.is_regression and owner is None):
            owner = event.actor
        elif event.type == "disclaimed" and owner == event.actor:
            owner = None
        if "status" in data:
            closing = data["status"] in CLOSED_STATUSES
            resolved_at = (resolved_at if status in CLOSED_STATUSES else event.at) if closing else None
            status = data["status"]
        court = data.get("court", court)
    first = request.first_response_at if request.first_response_at and request.first_response_at <= at else None
    return request.model_copy(update={
        "status": status, "court": court, "assignee": assignee, "owner": owner, "resolved_at": resolved_at,
        "first_response_at": first, "disclaimers": [d for d in request.disclaimers if d.at <= at],
    })



def _resolutions(events: Sequence[Event]) -> list[datetime]:
    """When the request became resolved (from any other status), in order."""
    found: list[datetime] = []
    status = "open"
    for event in events:
        new = event.data.get("status")
        if new == "resolved" and status != "resolved":
            found.append(event.at)
        status = new or status
    return found

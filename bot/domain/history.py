"""What the event log says about a request: pauses, time in each court, its SLA clocks, when a person last
acted, whether it is unowned or snoozed. The nag rules and the digest both read these facts.

Every figure here is derived from the events and `now`; nothing is stored twice.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from bot.domain.courts import ball_holders
from bot.domain.models import CLOSED_STATUSES, NO_ANSWER, Event, Request
from bot.domain.policy import Config, Nags
from bot.domain.sla import Clock, Interval, SlaStatus, clock_of, sla_status

NAG_EVENTS = frozenset({"nag", "alert"})
SNOOZED = "snoozed"
"""Event type the service records for a snooze; data {"until": ISO time, "rule": optional rule or prefix}."""


@dataclass(frozen=True)
class RequestSla:
    first_response: SlaStatus
    resolution: SlaStatus


def seconds_between(earlier: datetime, later: datetime) -> float:
    """Real seconds between two aware instants (subtracted in UTC: in one zone it would be wall-clock time)."""
    return (later.astimezone(timezone.utc) - earlier.astimezone(timezone.utc)).total_seconds()


def pauses(events: Sequence[Event]) -> list[Interval]:
    """The spans during which the request was `waiting` on its requester (the SLA clock's pauses)."""
    return _stretches(events, lambda status: status == "waiting")


def waiting_since(events: Sequence[Event]) -> datetime | None:
    """When the current wait on the requester began; None when the request is not waiting."""
    found = pauses(events)
    return found[-1].start if found and found[-1].end is None else None


def clock_stops(events: Sequence[Event]) -> list[Interval]:
    """The spans during which the SLA clocks do not count: waiting on the requester, and closed (resolved or
    declined, until reopened): nobody owes a first response to a request that was withdrawn."""
    return _stretches(events, lambda status: status == "waiting" or status in CLOSED_STATUSES)


def _stretches(events: Sequence[Event], stopped: Callable[[str], bool]) -> list[Interval]:
    """The spans during which the request's status (as each event sets it) was one that `stopped` accepts."""
    out: list[Interval] = []
    started: datetime | None = None
    for event in events:
        status = event.data.get("status")
        if status is None:
            continue
        stops = stopped(status)
        if stops and started is None:
            started = event.at
        elif not stops and started is not None:
            out.append(Interval(started, event.at))
            started = None
    if started is not None:
        out.append(Interval(started, None))
    return out


@dataclass(frozen=True)
class CourtRecord:
    """Where the ball has been, without the time it is read at: the seconds of each stretch that ended, per court
    (in the order the courts first had it), and the court it is in now with when it went there."""

    closed: dict[str, float]
    court: str | None = None
    since: datetime | None = None


def court_record(events: Sequence[Event]) -> CourtRecord:
    """The `CourtRecord` of an event log (each event's `court` says where the ball went)."""
    totals: dict[str, float] = {}
    court: str | None = None
    since: datetime | None = None
    for event in events:
        new = event.data.get("court")
        if new is None:
            continue
        if court is not None and since is not None:
            totals[court] = totals.get(court, 0.0) + seconds_between(since, event.at)
        court, since = new, event.at
    return CourtRecord(totals, court, since)


def court_seconds_at(record: CourtRecord, *, now: datetime) -> dict[str, float]:
    """Wall-clock seconds the ball spent in each court by `now` (or its closing: "nobody" keeps no time)."""
    totals = dict(record.closed)
    if record.court is not None and record.since is not None and record.court != "nobody":
        totals[record.court] = totals.get(record.court, 0.0) + max(seconds_between(record.since, now), 0.0)
    return totals


def court_seconds(events: Sequence[Event], *, now: datetime) -> dict[str, float]:
    """Wall-clock seconds the ball spent in each court, from creation to `now` (or closing)."""
    return court_seconds_at(court_record(events), now=now)


@dataclass(frozen=True)
class Cycle:
    """One resolution cycle: from creation (or a reopening) to the closing that ended it (`end`, `ended_by` the
    status it closed with), None while it runs. A closing satisfies the resolution target (`satisfied`) unless the
    request was closed because its requester did not answer: then its clock stops where it was."""

    number: int
    start: datetime
    end: datetime | None = None
    ended_by: str | None = None
    satisfied: bool = False

    def clock_span(self, stops: Sequence[Interval]) -> tuple[datetime | None, list[Interval]]:
        """(when its target was satisfied, the stops of its clock): the stops that end after it began, and, once it
        ended without being satisfied, one that never ends."""
        kept = [p for p in stops if p.end is None or p.end > self.start]
        if self.end is not None and not self.satisfied:
            return None, [*kept, Interval(self.end, None)]
        return self.end, kept


def resolution_cycles(request: Request, events: Sequence[Event]) -> list[Cycle]:
    """Every resolution cycle, oldest first (1, plus one per reopening). The last one is the current one: it ends
    at the request's `resolved_at` when that is set, else at its closing when it is closed."""
    cycles = [Cycle(1, request.created_at)]
    status = "open"
    for event in events:
        if event.type == "reopened":
            if cycles[-1].end is None:
                cycles[-1] = replace(cycles[-1], end=event.at, satisfied=True)
            cycles.append(Cycle(len(cycles) + 1, event.at))
        new = event.data.get("status", status)
        if new in CLOSED_STATUSES and status not in CLOSED_STATUSES and cycles[-1].end is None:
            cycles[-1] = replace(
                cycles[-1], end=event.at, ended_by=new, satisfied=event.data.get("reason") != NO_ANSWER
            )
        status = new
    current = cycles[-1]
    if request.is_open:
        cycles[-1] = replace(current, end=None, ended_by=None, satisfied=False)
    elif request.resolved_at is not None:
        cycles[-1] = replace(
            current, end=request.resolved_at, ended_by=current.ended_by or request.status, satisfied=True
        )
    else:  # closed without a resolution time: as no answer (or, when no event says when, as of its last change)
        cycles[-1] = replace(
            current,
            end=current.end or request.updated_at,
            ended_by=current.ended_by or request.status,
            satisfied=request.closed_as != NO_ANSWER,
        )
    return cycles


def request_clocks(
    request: Request, events: Sequence[Event], config: Config
) -> tuple[Clock, list[tuple[Cycle, Clock]]]:
    """The first-response clock and each resolution cycle's clock, in the domain's business hours, as the log
    leaves them (read them at any later time with `sla.read_clock`)."""
    calendar = config.calendar(request.domain)
    policy = config.sla_policy(request.domain)
    target = policy.target(priority=request.priority, kind=request.kind)
    stops = clock_stops(events)
    first = clock_of(
        calendar,
        started_at=request.created_at,
        target_seconds=target.first_response * 3600,
        pauses=stops,
        satisfied_at=request.first_response_at,
        at_risk_ratio=policy.at_risk,
    )
    cycles = []
    for cycle in resolution_cycles(request, events):
        satisfied, pauses = cycle.clock_span(stops)
        cycles.append(
            (
                cycle,
                clock_of(
                    calendar,
                    started_at=cycle.start,
                    target_seconds=target.resolution * 3600,
                    pauses=pauses,
                    satisfied_at=satisfied,
                    at_risk_ratio=policy.at_risk,
                ),
            )
        )
    return first, cycles


def request_sla(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> RequestSla:
    """Both SLA clocks of a request as of `now`, in its domain's business hours: the first response, and the
    current resolution cycle (from creation or the last reopening to the request's closing). Neither counts while
    the request waits on its requester or is closed."""
    calendar = config.calendar(request.domain)
    policy = config.sla_policy(request.domain)
    target = policy.target(priority=request.priority, kind=request.kind)
    stops = clock_stops(events)
    first = sla_status(
        calendar,
        started_at=request.created_at,
        target_seconds=target.first_response * 3600,
        pauses=stops,
        satisfied_at=request.first_response_at,
        now=now,
        at_risk_ratio=policy.at_risk,
    )
    cycle = resolution_cycles(request, events)[-1]
    satisfied, pauses = cycle.clock_span(stops)
    resolution = sla_status(
        calendar,
        started_at=cycle.start,
        target_seconds=target.resolution * 3600,
        pauses=pauses,
        satisfied_at=satisfied,
        now=now,
        at_risk_ratio=policy.at_risk,
    )
    return RequestSla(first_response=first, resolution=resolution)


def worst_sla_state(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> str | None:
    """What a list shows of the SLA clocks: "breached" or "at_risk" when either clock is, else "on_track"
    for an open request and None for a closed one."""
    sla = request_sla(request, events, config, now=now)
    states = {sla.first_response.state, sla.resolution.state}
    return next((s for s in ("breached", "at_risk") if s in states), "on_track" if request.is_open else None)


def last_human_action(events: Sequence[Event]) -> datetime | None:
    """The time of the latest event a person caused (nags and alerts are not activity)."""
    human = [e.at for e in events if e.type not in NAG_EVENTS]
    return human[-1] if human else None


@dataclass(frozen=True)
class Silence:
    """The silence of whoever holds the ball: since when, and who spoke up meanwhile without holding it
    (`asks`: (person, when) of each thread reply by someone else, oldest first)."""

    since: datetime
    asks: tuple[tuple[str, datetime], ...] = ()


def ball_silence(request: Request, events: Sequence[Event], config: Config) -> Silence:
    """How long whoever holds the ball has been silent (docs/nags-and-digest.md, the stale review).

    The silence restarts when the ball moves (its court or its assignee changes: someone else holds it
    now) and when one of those holding it acts. Anyone else's words (the requester asking "any
    update?") do not restart it: they are kept as `asks`. Nags and alerts are not activity, and
    neither is a snooze: snoozing quiets the ladder for a few days but does not restart it.
    """
    since, asks = request.created_at, []
    court, assignee = request.court, request.assignee
    for event in events:
        if event.type in NAG_EVENTS or event.type == SNOOZED:
            continue
        data = event.data
        if event.type == "created":
            court, assignee, since = data.get("court", court), data.get("assignee", assignee), event.at
            continue
        holders = ball_holders(request.model_copy(update={"court": court, "assignee": assignee}), config)
        new_court, new_assignee = data.get("court", court), _assignee_after(event, assignee)
        if event.actor in holders or (new_court, new_assignee) != (court, assignee):
            since, asks = event.at, []
        elif event.type == "commented":
            asks.append((event.actor, event.at))
        court, assignee = new_court, new_assignee
    return Silence(since=since, asks=tuple(asks))


def _assignee_after(event: Event, assignee: str | None) -> str | None:
    """Who is assigned after `event`, as its data says (a reassignment's `to`, a review started by someone)."""
    if "assignee" in event.data:
        return event.data["assignee"]
    if event.type == "reassigned":
        return event.data.get("to", assignee)
    if event.type == "review_started":
        return assignee or event.actor
    return assignee


def silent_since(request: Request, events: Sequence[Event], config: Config) -> datetime:
    """When whoever holds the ball last acted, or took it (`ball_silence`)."""
    return ball_silence(request, events, config).since


def is_unowned(request: Request, events: Sequence[Event]) -> bool:
    """A regression nobody has accepted: no owner, and no "owned" event still standing.

    An "owned" event followed by a "disclaimed" one (the owner said "Not mine") no longer stands.
    """
    if not request.is_regression or request.owner is not None:
        return False
    last = next((e.type for e in reversed(events) if e.type in ("owned", "disclaimed")), None)
    return last != "owned"


def snoozes(events: Sequence[Event], settings: Nags) -> list[tuple[datetime, Event]]:
    """(when it ends, its event) of each snooze pressed, oldest first; a snooze lasts at most `snooze_max_days`."""
    cap = timedelta(days=settings.snooze_max_days)
    return [
        (min(until, as_utc(event.at) + cap), event)
        for event in events
        if event.type == SNOOZED and (until := instant(event.data.get("until"))) is not None
    ]


def active_snoozes(events: Sequence[Event], settings: Nags, *, now: datetime) -> list[tuple[datetime, str | None]]:
    """(until, rule) of each snooze running at `now`; a snooze lasts at most `snooze_max_days`."""
    return [(end, event.data.get("rule")) for end, event in snoozes(events, settings) if end > now]


def snoozed_until(events: Sequence[Event], config: Config, *, now: datetime) -> datetime | None:
    """The latest end of any snooze still running at `now` (each bounded by `snooze_max_days`)."""
    return max((until for until, _ in active_snoozes(events, config.nags, now=now)), default=None)


def instant(value: object) -> datetime | None:
    """An aware datetime from an ISO string or datetime (naive means UTC); None when unreadable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.utcoffset() is not None else value.replace(tzinfo=timezone.utc)


def as_utc(at: datetime) -> datetime:
    """`at` in UTC."""
    return at.astimezone(timezone.utc)

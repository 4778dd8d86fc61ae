"""What the event log says about a request: pauses, time in each court, and its SLA clocks.

Every figure here is derived from the events and `now`; nothing is stored twice.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.domain.models import Event, Request
from bot.domain.policy import Config
from bot.domain.sla import Interval, SlaStatus, sla_status

NAG_EVENTS = frozenset({"nag", "alert"})


@dataclass(frozen=True)
class RequestSla:
    first_response: SlaStatus
    resolution: SlaStatus


def seconds_between(earlier: datetime, later: datetime) -> float:
    """Real seconds between two aware instants (subtracted in UTC: in one zone it would be wall-clock time)."""
    return (later.astimezone(timezone.utc) - earlier.astimezone(timezone.utc)).total_seconds()


def pauses(events: Sequence[Event]) -> list[Interval]:
    """The spans during which the request was `waiting` on its requester (the SLA clock's pauses)."""
    out: list[Interval] = []
    started: datetime | None = None
    for event in events:
        status = event.data.get("status")
        if status is None:
            continue
        if status == "waiting" and started is None:
            started = event.at
        elif status != "waiting" and started is not None:
            out.append(Interval(started, event.at))
            started = None
    if started is not None:
        out.append(Interval(started, None))
    return out


def court_seconds(events: Sequence[Event], *, now: datetime) -> dict[str, float]:
    """Wall-clock seconds the ball spent in each court, from creation to `now` (or closing)."""
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
    if court is not None and since is not None and court != "nobody":
        totals[court] = totals.get(court, 0.0) + max(seconds_between(since, now), 0.0)
    return totals


def cycle_start(request: Request, events: Sequence[Event]) -> datetime:
    """When the current resolution cycle began: creation, or the last reopening."""
    reopened = [e.at for e in events if e.type == "reopened"]
    return reopened[-1] if reopened else request.created_at


def request_sla(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> RequestSla:
    """Both SLA clocks of a request as of `now`, in its domain's business hours."""
    calendar = config.calendar(request.domain)
    policy = config.sla_policy(request.domain)
    target = policy.target(priority=request.priority, kind=request.kind)
    paused = pauses(events)
    first = sla_status(calendar, started_at=request.created_at, target_seconds=target.first_response * 3600,
                       pauses=paused, satisfied_at=request.first_response_at, now=now, at_risk_ratio=policy.at_risk)
    start = cycle_start(request, events)
    resolution = sla_status(calendar, started_at=start, target_seconds=target.resolution * 3600,
                            pauses=[p for p in paused if p.end is None or p.end > start],
                            satisfied_at=request.resolved_at, now=now, at_risk_ratio=policy.at_risk)
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

"""The facts kept for each request as it changes: its SLA clocks (every resolution cycle), where the ball has been,
when its ball holder last acted, whether it waits on a decision (a stalled review, an unowned regression) and its
snooze. The digest and the export read these instead of replaying every event log (docs/storage.md).

Pure: `request_facts(request, events, config)` derives them from the request, its event log and the config, and
nothing else; a fact that moves with time is kept as a checkpoint (a `sla.Clock`, the court the ball went to and
when) that `sla_at` and `courts_at` carry forward to any later `now`. The same figures come out as from the log:
`history.request_sla` and `history.court_seconds` compute them that way. The event log stays the source of truth
(`ai-intake doctor` recomputes these from it and compares).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.domain.history import (
    CourtRecord,
    RequestSla,
    as_utc,
    court_record,
    court_seconds_at,
    is_unowned,
    last_human_action,
    request_clocks,
    silent_since,
    snoozes,
)
from bot.domain.models import Event, Request
from bot.domain.policy import Config
from bot.domain.sla import Clock, read_clock

FACTS_VERSION = 1
"""How the facts are computed. Raise it when that changes: facts of an older version are recomputed when the bot
starts (and `ai-intake doctor` reports them)."""

Target = Literal["first_response", "resolution"]
FIRST_RESPONSE: Target = "first_response"
RESOLUTION: Target = "resolution"


@dataclass(frozen=True)
class TargetClock:
    """One SLA target's clock in one cycle: the first response (cycle 1), or a resolution cycle (1, plus one per
    reopening) with the status that closed it (`ended_by`, None while it runs)."""

    target: Target
    cycle: int
    clock: Clock
    ended_by: str | None = None


@dataclass(frozen=True)
class RequestFacts:
    """What the log says of one request, kept with it (times UTC).

    `clocks`: the first response's, then each resolution cycle's, oldest first. `courts`: where the ball has been.
    `silent_since`: when whoever holds the ball last acted or took it. `stalled_since`: the same, for an open
    security review only; `unowned_since`: when an open regression nobody owns was filed; `snoozed_until` and
    `snoozed_by`: the snooze that ends last (each capped at `snooze_max_days`), whether or not it still runs.
    """

    request_id: int
    clocks: tuple[TargetClock, ...]
    courts: CourtRecord
    silent_since: datetime
    last_human_at: datetime | None = None
    stalled_since: datetime | None = None
    unowned_since: datetime | None = None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    version: int = field(default=FACTS_VERSION)

    def current(self, target: Target) -> Clock:
        """The clock of `target` in the current cycle."""
        return next(c.clock for c in reversed(self.clocks) if c.target == target)


def request_facts(request: Request, events: list[Event], config: Config) -> RequestFacts:
    """The facts of `request` from its events (oldest first) and the config."""
    first, cycles = request_clocks(request, events, config)
    clocks = (
        TargetClock(FIRST_RESPONSE, 1, first),
        *(TargetClock(RESOLUTION, cycle.number, clock, cycle.ended_by) for cycle, clock in cycles),
    )
    silent = as_utc(silent_since(request, events, config))
    until, by = _snooze(events, config)
    return RequestFacts(
        request_id=request.id,
        clocks=clocks,
        courts=_utc_record(court_record(events)),
        silent_since=silent,
        last_human_at=as_utc(at) if (at := last_human_action(events)) else None,
        stalled_since=silent if request.is_open and request.is_security_review else None,
        unowned_since=as_utc(request.created_at) if request.is_open and is_unowned(request, events) else None,
        snoozed_until=until,
        snoozed_by=by,
    )


def sla_at(facts: RequestFacts, config: Config, domain: str | None, *, now: datetime) -> RequestSla:
    """Both SLA clocks of the current cycle at `now` (no earlier than the facts' last change), in `domain`'s
    business hours: what `history.request_sla` says from the log."""
    calendar = config.calendar(domain)
    return RequestSla(
        first_response=read_clock(facts.current(FIRST_RESPONSE), calendar, now=now),
        resolution=read_clock(facts.current(RESOLUTION), calendar, now=now),
    )


def courts_at(facts: RequestFacts, *, now: datetime) -> dict[str, float]:
    """Wall-clock seconds the ball spent in each court by `now`: what `history.court_seconds` says from the log."""
    return court_seconds_at(facts.courts, now=now)


def snoozed_at(facts: RequestFacts, *, now: datetime) -> tuple[datetime, str] | None:
    """(until, who pressed it) of the snooze running at `now`, the one that ends last; None when none runs."""
    if facts.snoozed_until is None or facts.snoozed_by is None or facts.snoozed_until <= now:
        return None
    return facts.snoozed_until, facts.snoozed_by


def _snooze(events: list[Event], config: Config) -> tuple[datetime | None, str | None]:
    """(until, who) of the snooze that ends last (`history.snoozes` caps each at `snooze_max_days`)."""
    last = max(snoozes(events, config.nags), key=lambda snooze: snooze[0], default=None)
    return (as_utc(last[0]), last[1].actor) if last else (None, None)


def _utc_record(record: CourtRecord) -> CourtRecord:
    return CourtRecord(record.closed, record.court, as_utc(record.since) if record.since else None)

"""The SLA clock: business time spent on a request against a target, paused while the ball is with the
requester.

All datetimes are timezone-aware and treated as instants; datetimes returned are in UTC. Durations are
in seconds. Nothing here reads the clock: the caller passes `now`, and the status is the one as of
`now` (a satisfaction or pause recorded after `now` is not seen yet). How a clock reads to people is
`bot.blocks.words.sla_line`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Literal

from bot.domain.business_hours import BusinessCalendar

SlaState = Literal["on_track", "at_risk", "breached", "met", "missed"]
"""`met`: satisfied within the target; `missed`: satisfied after it."""


@dataclass(frozen=True)
class Interval:
    """A span of time between aware instants; `end` None means it is still going."""

    start: datetime
    end: datetime | None

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or (self.end is not None and self.end.utcoffset() is None):
            raise ValueError(f"interval {self} must use timezone-aware datetimes")
        if self.end is not None and _utc(self.end) < _utc(self.start):
            raise ValueError(f"interval ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})")


@dataclass(frozen=True)
class SlaStatus:
    """Where one SLA target stands as of some `now`.

    target_seconds: business seconds allowed.
    due_at: the instant (UTC) the clock reaches the target, given the pauses so far and no further
        pause; kept once met or missed (the due time the cycle had).
    business_seconds_elapsed: business seconds counted, pauses excluded, up to min(now, satisfied_at).
    paused_seconds: wall-clock seconds of pause between the start and min(now, satisfied_at).
    satisfied_at: when the target was satisfied (first response, resolution), None if not yet.
    """

    target_seconds: float
    due_at: datetime | None
    state: SlaState
    business_seconds_elapsed: float
    paused_seconds: float
    satisfied_at: datetime | None


def sla_status(
    calendar: BusinessCalendar,
    *,
    started_at: datetime,
    target_seconds: float,
    pauses: Sequence[Interval],
    satisfied_at: datetime | None,
    now: datetime,
    at_risk_ratio: float = 0.75,
) -> SlaStatus:
    """The status as of `now` of a clock counting `calendar` business seconds from `started_at`.

    `pauses` (e.g. waiting on the requester) may overlap each other or reach outside the cycle; an
    open pause (end None) lasts until `now`, and `due_at` is projected as if it ended at `now`.
    State: met/missed once satisfied (within the target or not), else breached when the elapsed time
    has reached the target, at_risk when it has reached `at_risk_ratio` of it, else on_track.
    Only pauses between `started_at` and min(now, satisfied_at) count, so a pause after satisfaction
    moves nothing. A `satisfied_at` after `now` is not yet known and ignored. Raises ValueError when
    the target is not positive or the ratio is outside (0, 1].

    It is `read_clock(clock_of(...), now=now)` over what is known at `now`: a pause or a satisfaction
    recorded after `now` is not seen, a pause that ends after `now` is still going on.
    """
    now = _utc(now)
    known = None if satisfied_at is None or _utc(satisfied_at) > now else satisfied_at
    seen = [
        Interval(p.start, None if p.end is None or _utc(p.end) > now else p.end) for p in pauses if _utc(p.start) < now
    ]
    clock = clock_of(
        calendar,
        started_at=started_at,
        target_seconds=target_seconds,
        pauses=seen,
        satisfied_at=known,
        at_risk_ratio=at_risk_ratio,
    )
    return read_clock(clock, calendar, now=now)


@dataclass(frozen=True)
class Clock:
    """One SLA clock as its pauses and its satisfaction leave it, whenever it is read: `read_clock` says where it
    stands at any later `now` without its history (what the facts kept for each request hold).

    The pauses are merged and clipped to the cycle (and to `satisfied_at`); the ones that ended are
    counted in: `counted` business seconds (not rounded) ran before `cursor` (the end of the last pause
    that ended, else the start), `paused` wall-clock seconds were paused. `remaining`: business seconds
    from `cursor` to the target, None once `due_at` fell before `cursor`. `paused_since`: the start of
    the pause still going on (never one of a satisfied clock). `due_at` is known unless a pause goes on
    (then it moves with the pause's end). A satisfied clock also holds its final `elapsed` (rounded to
    the microsecond) and `state` (met or missed). Times are UTC; seconds are floats.
    """

    started_at: datetime
    target_seconds: float
    at_risk_ratio: float
    cursor: datetime
    counted: float
    remaining: float | None
    paused: float
    paused_since: datetime | None = None
    due_at: datetime | None = None
    satisfied_at: datetime | None = None
    elapsed: float | None = None
    state: SlaState | None = None


def clock_of(
    calendar: BusinessCalendar,
    *,
    started_at: datetime,
    target_seconds: float,
    pauses: Sequence[Interval],
    satisfied_at: datetime | None,
    at_risk_ratio: float = 0.75,
) -> Clock:
    """The `Clock` of a cycle counting `calendar` business seconds from `started_at`, paused by `pauses` (at most
    one still open is expected: the latest), satisfied at `satisfied_at` (None: not yet). Raises ValueError when the
    target is not positive or the ratio is outside (0, 1]."""
    if not target_seconds > 0:
        raise ValueError(f"an SLA target must be a positive number of seconds, got {target_seconds}")
    if not 0 < at_risk_ratio <= 1:
        raise ValueError(f"at_risk_ratio must be in (0, 1], got {at_risk_ratio}")
    start = _utc(started_at)
    satisfied = None if satisfied_at is None else _utc(satisfied_at)
    merged = _merged_pauses(pauses, start=start, stop=satisfied)
    going_on = merged.pop()[0] if merged and merged[-1][1] is None else None
    cursor, counted, paused = start, 0.0, 0.0
    remaining: float | None = target_seconds
    due: datetime | None = None
    for begin, end in merged:
        available = calendar.business_seconds(cursor, begin)
        if remaining is not None and remaining <= available:
            due, remaining = calendar.add_business_seconds(cursor, remaining), None
        elif remaining is not None:
            remaining = round(remaining - available, 6)
        counted += available
        paused += (end - begin).total_seconds()  # type: ignore[operator]
        cursor = end  # type: ignore[assignment]
    if going_on is None and due is None and remaining is not None:
        due = calendar.add_business_seconds(cursor, remaining)
    clock = Clock(
        started_at=start,
        target_seconds=target_seconds,
        at_risk_ratio=at_risk_ratio,
        cursor=cursor,
        counted=counted,
        remaining=remaining,
        paused=paused,
        paused_since=going_on,
        due_at=due,
    )
    if satisfied is None:
        return clock
    elapsed = round(counted + calendar.business_seconds(cursor, satisfied), 6)
    state = _state(elapsed, target_seconds=target_seconds, at_risk_ratio=at_risk_ratio, done=True)
    return replace(clock, satisfied_at=satisfied, elapsed=elapsed, state=state)


def read_clock(clock: Clock, calendar: BusinessCalendar, *, now: datetime) -> SlaStatus:
    """Where `clock` stands at `now` (no earlier than the last pause or satisfaction it holds), in `calendar`."""
    now = _utc(now)
    if clock.satisfied_at is not None and clock.elapsed is not None and clock.state is not None:
        return SlaStatus(
            target_seconds=clock.target_seconds,
            due_at=clock.due_at,
            state=clock.state,
            business_seconds_elapsed=clock.elapsed,
            paused_seconds=clock.paused,
            satisfied_at=clock.satisfied_at,
        )
    due, paused = clock.due_at, clock.paused
    if clock.paused_since is not None and clock.paused_since < now:
        available = calendar.business_seconds(clock.cursor, clock.paused_since)
        elapsed = round(clock.counted + available, 6)
        paused += (now - clock.paused_since).total_seconds()
        if due is None and clock.remaining is not None:
            due = (
                calendar.add_business_seconds(clock.cursor, clock.remaining)
                if clock.remaining <= available
                else calendar.add_business_seconds(now, round(clock.remaining - available, 6))
            )
    else:
        elapsed = round(clock.counted + calendar.business_seconds(clock.cursor, now), 6)
        if due is None and clock.remaining is not None:
            due = calendar.add_business_seconds(clock.cursor, clock.remaining)
    return SlaStatus(
        target_seconds=clock.target_seconds,
        due_at=due,
        state=_state(elapsed, target_seconds=clock.target_seconds, at_risk_ratio=clock.at_risk_ratio, done=False),
        business_seconds_elapsed=elapsed,
        paused_seconds=paused,
        satisfied_at=None,
    )


def _utc(at: datetime) -> datetime:
    """`at` in UTC, so that comparisons never go by wall clock; ValueError when naive."""
    if at.utcoffset() is None:
        raise ValueError(f"datetime {at.isoformat()} must be timezone-aware")
    return at.astimezone(timezone.utc)


def _merged_pauses(
    pauses: Sequence[Interval], *, start: datetime, stop: datetime | None
) -> list[tuple[datetime, datetime | None]]:
    """Pauses clipped to [start, stop] (stop None: no end; an open pause then stays open, end None), merged and
    sorted, in UTC; empty ones dropped."""
    clipped: list[tuple[datetime, datetime | None]] = []
    for p in pauses:
        begin = max(_utc(p.start), start)
        end = None if p.end is None else _utc(p.end)
        if stop is not None:
            end = stop if end is None else min(end, stop)
        if end is None or end > begin:
            clipped.append((begin, end))
    merged: list[tuple[datetime, datetime | None]] = []
    for begin, end in sorted(clipped, key=lambda p: p[0]):
        last = merged[-1][1] if merged else None
        if merged and (last is None or begin <= last):
            merged[-1] = (merged[-1][0], None if last is None or end is None else max(last, end))
        else:
            merged.append((begin, end))
    return merged


def _state(elapsed: float, *, target_seconds: float, at_risk_ratio: float, done: bool) -> SlaState:
    if done:
        return "met" if elapsed < target_seconds else "missed"  # the same edge as "breached": due means late
    if elapsed >= target_seconds:
        return "breached"
    if elapsed >= at_risk_ratio * target_seconds:
        return "at_risk"
    return "on_track"

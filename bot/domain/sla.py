"""The SLA clock: business time spent on a request against a target, paused while the ball is with the
requester.

All datetimes are timezone-aware and treated as instants; datetimes returned are in UTC. Durations are
in seconds. Nothing here reads the clock: the caller passes `now`, and the status is the one as of
`now` (a satisfaction or pause recorded after `now` is not seen yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from bot.domain.business_hours import BusinessCalendar

SlaState = Literal["on_track", "at_risk", "breached", "met", "missed"]
"""`met`: satisfied within the target; `missed`: satisfied after it."""

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    """
    if not target_seconds > 0:
        raise ValueError(f"an SLA target must be a positive number of seconds, got {target_seconds}")
    if not 0 < at_risk_ratio <= 1:
        raise ValueError(f"at_risk_ratio must be in (0, 1], got {at_risk_ratio}")
    start, now = _utc(started_at), _utc(now)
    satisfied = None if satisfied_at is None else _utc(satisfied_at)
    done = satisfied is not None and satisfied <= now
    stop = now if satisfied is None else min(satisfied, now)
    paused = _merged_pauses(pauses, start=start, stop=stop, now=now)
    elapsed = _running_seconds(calendar, start=start, stop=stop, paused=paused)
    return SlaStatus(
        target_seconds=target_seconds,
        due_at=_due_at(calendar, start=start, target_seconds=target_seconds, paused=paused),
        state=_state(elapsed, target_seconds=target_seconds, at_risk_ratio=at_risk_ratio, done=done),
        business_seconds_elapsed=elapsed,
        paused_seconds=sum(((end - begin).total_seconds() for begin, end in paused), 0.0),
        satisfied_at=stop if done else None,
    )


def explain(status: SlaStatus, *, tz: ZoneInfo) -> str:
    """One line for people, times local to `tz`.

    E.g. "due Tue 3 Mar 14:00, 3 business hours elapsed of 4, paused 2 h",
    "breached: due Tue 3 Mar 14:00, 4.5 business hours elapsed of 4" or
    "met Tue 3 Mar 11:20, due Tue 3 Mar 14:00, 1.5 business hours elapsed of 4".
    """
    due = f"due {local_when(status.due_at, tz=tz)}"
    hours = hours_text(status.business_seconds_elapsed)
    unit = "hour" if hours == "1" else "hours"
    parts = [f"{due}, {hours} business {unit} elapsed of {hours_text(status.target_seconds)}"]
    if status.paused_seconds > 0:
        parts.append(f"paused {_duration(status.paused_seconds)}")
    line = ", ".join(parts)
    match status.state:
        case "at_risk" | "breached":
            return f"{status.state.replace('_', ' ')}: {line}"
        case "met" | "missed":
            return f"{status.state} {local_when(status.satisfied_at, tz=tz)}, {line}"
    return line


def _utc(at: datetime) -> datetime:
    """`at` in UTC, so that comparisons never go by wall clock; ValueError when naive."""
    if at.utcoffset() is None:
        raise ValueError(f"datetime {at.isoformat()} must be timezone-aware")
    return at.astimezone(timezone.utc)


def _merged_pauses(
    pauses: Sequence[Interval], *, start: datetime, stop: datetime, now: datetime
) -> list[tuple[datetime, datetime]]:
    """Pauses clipped to [start, stop] (open ones ending at `now`), merged and sorted, in UTC."""
    clipped = sorted(
        (max(_utc(p.start), start), min(now if p.end is None else _utc(p.end), stop)) for p in pauses
    )
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in clipped:
        if end <= begin:
            continue
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _running_seconds(
    calendar: BusinessCalendar, *, start: datetime, stop: datetime, paused: list[tuple[datetime, datetime]]
) -> float:
    """Business seconds in [start, stop) outside the (merged, clipped) pauses, to the microsecond."""
    total, cursor = 0.0, start
    for begin, end in paused:
        total += calendar.business_seconds(cursor, begin)
        cursor = end
    return round(total + calendar.business_seconds(cursor, stop), 6)


def _due_at(
    calendar: BusinessCalendar,
    *,
    start: datetime,
    target_seconds: float,
    paused: list[tuple[datetime, datetime]],
) -> datetime:
    """The instant the clock reaches the target, skipping the known pauses and no others."""
    cursor, remaining = start, target_seconds
    for begin, end in paused:
        available = calendar.business_seconds(cursor, begin)
        if remaining <= available:
            return calendar.add_business_seconds(cursor, remaining)
        remaining, cursor = round(remaining - available, 6), end
    return calendar.add_business_seconds(cursor, remaining)


def _state(elapsed: float, *, target_seconds: float, at_risk_ratio: float, done: bool) -> SlaState:
    if done:
        return "met" if elapsed < target_seconds else "missed"  # the same edge as "breached": due means late
    if elapsed >= target_seconds:
        return "breached"
    if elapsed >= at_risk_ratio * target_seconds:
        return "at_risk"
    return "on_track"


def local_when(at: datetime | None, *, tz: ZoneInfo) -> str:
    """"Tue 3 Mar 14:00" in `tz`, independent of the process locale."""
    if at is None:
        return "unknown"
    local = at.astimezone(tz)
    return f"{_DAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]} {local:%H:%M}"


def hours_text(seconds: float) -> str:
    """Hours with one decimal where needed: "4", "2.5"."""
    text = f"{seconds / 3600:.1f}"
    return text.removesuffix(".0")


def _duration(seconds: float) -> str:
    """A wall-clock duration: "45 min" under an hour, else hours like "2 h", "26.5 h"."""
    if seconds < 3570:
        return f"{max(1, round(seconds / 60))} min"
    return f"{hours_text(seconds)} h"

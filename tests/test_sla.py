"""The SLA clock: states, due times and pauses with explicit times, then properties."""

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.business_hours import BusinessCalendar
from bot.blocks.words import local_when, sla_line
from bot.domain.errors import moment
from bot.domain.sla import Interval, SlaStatus, clock_of, read_clock, sla_status
from tests.test_business_hours import BERLIN, BERLIN_TZ, NEW_YORK, PROPERTY, after, calendars, instants

HOUR = 3600.0
UTC = timezone.utc


def mon(hour: int, minute: int = 0) -> datetime:
    """Monday 2 March 2026 in Berlin (an ordinary working day)."""
    return datetime(2026, 3, 2, hour, minute, tzinfo=BERLIN_TZ)


def tue(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 3, hour, minute, tzinfo=BERLIN_TZ)


def status(
    *,
    now: datetime,
    pauses: Sequence[Interval] = (),
    satisfied_at: datetime | None = None,
    started_at: datetime = mon(10),
    hours: float = 4,
    calendar: BusinessCalendar = BERLIN,
) -> SlaStatus:
    return sla_status(
        calendar,
        started_at=started_at,
        target_seconds=hours * HOUR,
        pauses=pauses,
        satisfied_at=satisfied_at,
        now=now,
    )


# --- states ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "satisfied_at", "state", "elapsed_hours"),
    [
        (mon(11), None, "on_track", 1),
        (mon(12, 59), None, "on_track", 2 + 59 / 60),
        (mon(13), None, "at_risk", 3),  # 75 % of 4 hours
        (mon(14), None, "breached", 4),
        (tue(12), None, "breached", 10),
        (tue(10), mon(13, 30), "met", 3.5),
        (tue(10), mon(14), "missed", 4),  # on the dot is late: the clock said "breached" at that instant
        (tue(10), mon(15), "missed", 5),
        (mon(12), mon(15), "on_track", 2),  # satisfied after now: not known yet
    ],
)
def test_states(now: datetime, satisfied_at: datetime | None, state: str, elapsed_hours: float) -> None:
    result = status(now=now, satisfied_at=satisfied_at)
    assert result.state == state
    assert result.business_seconds_elapsed == pytest.approx(elapsed_hours * HOUR)
    assert result.due_at == mon(14)
    assert result.paused_seconds == 0


def test_satisfied_at_is_reported_only_once_it_happened() -> None:
    assert status(now=tue(10), satisfied_at=mon(13, 30)).satisfied_at == mon(13, 30)
    assert status(now=mon(12), satisfied_at=mon(13, 30)).satisfied_at is None


def test_before_the_start_nothing_has_elapsed() -> None:
    result = status(now=mon(9))
    assert (result.state, result.business_seconds_elapsed, result.due_at) == ("on_track", 0, mon(14))


def test_at_risk_ratio_is_configurable() -> None:
    result = sla_status(
        BERLIN,
        started_at=mon(10),
        target_seconds=4 * HOUR,
        pauses=(),
        satisfied_at=None,
        now=mon(12),
        at_risk_ratio=0.5,
    )
    assert result.state == "at_risk"


# --- due times ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "started_at", "hours", "due"),
    [
        (BERLIN, datetime(2026, 3, 6, 15, tzinfo=BERLIN_TZ), 4, datetime(2026, 3, 9, 11, tzinfo=BERLIN_TZ)),  # weekend
        (BERLIN, datetime(2026, 3, 27, 15, tzinfo=BERLIN_TZ), 4, datetime(2026, 3, 30, 9, tzinfo=UTC)),  # DST
        (
            BERLIN,
            datetime(2026, 12, 24, 16, tzinfo=BERLIN_TZ),
            8,
            datetime(2026, 12, 28, 16, tzinfo=BERLIN_TZ),
        ),  # holiday
        (
            NEW_YORK,
            datetime(2026, 10, 30, 15, tzinfo=ZoneInfo("America/New_York")),
            2,
            datetime(2026, 11, 2, 14, tzinfo=UTC),  # 09:00 EST
        ),
        (BERLIN, datetime(2026, 3, 7, 12, tzinfo=BERLIN_TZ), 1, datetime(2026, 3, 9, 10, tzinfo=BERLIN_TZ)),
    ],
)
def test_due_at_walks_business_time(
    calendar: BusinessCalendar, started_at: datetime, hours: float, due: datetime
) -> None:
    result = status(calendar=calendar, started_at=started_at, hours=hours, now=started_at)
    assert result.due_at == due
    assert result.due_at is not None and result.due_at.tzinfo is UTC


# --- pauses ------------------------------------------------------------------------------------


def test_a_pause_stops_the_clock_and_moves_the_due_time() -> None:
    result = status(now=mon(14), pauses=[Interval(mon(11), mon(13))])
    assert result.business_seconds_elapsed == 2 * HOUR
    assert result.paused_seconds == 2 * HOUR
    assert result.due_at == mon(16)
    assert result.state == "on_track"


def test_a_target_reached_as_a_pause_begins_is_due_then() -> None:
    result = status(now=mon(12), hours=1, pauses=[Interval(mon(11), mon(13))])
    assert (result.state, result.business_seconds_elapsed, result.due_at) == ("breached", HOUR, mon(11))


def test_overlapping_and_repeated_pauses_are_merged() -> None:
    pauses = [Interval(mon(12), mon(13)), Interval(mon(11), mon(12, 30)), Interval(mon(11, 30), mon(12))] * 2
    assert status(now=mon(14), pauses=pauses) == status(now=mon(14), pauses=[Interval(mon(11), mon(13))])


def test_only_the_part_of_a_pause_inside_the_cycle_counts() -> None:
    result = status(now=mon(12), pauses=[Interval(mon(8), mon(11))])
    assert (result.business_seconds_elapsed, result.paused_seconds, result.due_at) == (HOUR, HOUR, mon(15))


def test_an_open_pause_lasts_until_now_and_the_due_time_is_projected_from_now() -> None:
    pauses = [Interval(mon(12), None)]
    early = status(now=mon(13), pauses=pauses)
    assert (early.business_seconds_elapsed, early.paused_seconds, early.due_at) == (2 * HOUR, HOUR, mon(15))
    late = status(now=mon(16), pauses=pauses)
    assert (late.business_seconds_elapsed, late.paused_seconds, late.due_at) == (2 * HOUR, 4 * HOUR, tue(10))
    assert late.state == "on_track"


def test_paused_seconds_are_wall_clock_but_business_time_is_not() -> None:
    overnight = [Interval(mon(16, 30), tue(10))]
    result = status(started_at=mon(16), now=tue(12), pauses=overnight)
    assert result.business_seconds_elapsed == 2.5 * HOUR  # 16:00-16:30, then 10:00-12:00
    assert result.paused_seconds == 17.5 * HOUR
    assert result.due_at == tue(13, 30)


def test_pauses_after_satisfaction_change_nothing() -> None:
    result = status(now=tue(12), satisfied_at=mon(12), pauses=[Interval(mon(12, 30), mon(16))])
    assert (result.state, result.paused_seconds, result.due_at) == ("met", 0, mon(14))


def test_a_pause_can_turn_a_breach_into_a_met_target() -> None:
    assert status(now=tue(10), satisfied_at=mon(15)).state == "missed"
    assert status(now=tue(10), satisfied_at=mon(15), pauses=[Interval(mon(11), mon(12, 30))]).state == "met"


# --- the clock in one line (its words: bot/blocks/words.py) -------------------------------------


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (
            status(now=mon(14), pauses=[Interval(mon(11), mon(13))]),
            "due Mon 2 Mar 16:00, 2 business hours elapsed of 4, paused 2 h",
        ),
        (status(now=mon(13)), "at risk: due Mon 2 Mar 14:00, 3 business hours elapsed of 4"),
        (status(now=mon(14, 30)), "breached: due Mon 2 Mar 14:00, 4.5 business hours elapsed of 4"),
        (
            status(now=tue(9), satisfied_at=mon(11, 20)),
            "met Mon 2 Mar 11:20, due Mon 2 Mar 14:00, 1.3 business hours elapsed of 4",
        ),
        (
            status(now=tue(9), satisfied_at=mon(11), hours=0.5),
            "missed Mon 2 Mar 11:00, due Mon 2 Mar 10:30, 1 business hour elapsed of 0.5",
        ),
        (
            status(now=mon(12), pauses=[Interval(mon(10, 15), mon(11))]),
            "due Mon 2 Mar 14:45, 1.2 business hours elapsed of 4, paused 45 min",
        ),
    ],
)
def test_sla_line(result: SlaStatus, line: str) -> None:
    assert sla_line(result, tz=BERLIN_TZ) == line


def test_sla_line_speaks_the_given_time_zone() -> None:
    assert sla_line(status(now=mon(11)), tz=ZoneInfo("America/New_York")).startswith("due Mon 2 Mar 08:00,")


@given(instants)
def test_a_refusal_names_a_moment_as_messages_do(at: datetime) -> None:
    """The domain's refusals cannot import bot/blocks/; the moment they name reads as in every message."""
    for tz in (BERLIN_TZ, ZoneInfo("America/New_York"), UTC):
        assert moment(at, tz=tz) == local_when(at, tz=tz)


# --- bad input ---------------------------------------------------------------------------------


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        status(now=mon(11), hours=0)
    with pytest.raises(ValueError, match="at_risk_ratio"):
        sla_status(
            BERLIN, started_at=mon(10), target_seconds=60, pauses=(), satisfied_at=None, now=mon(11), at_risk_ratio=0
        )
    with pytest.raises(ValueError, match="before it starts"):
        Interval(mon(12), mon(11))
    with pytest.raises(ValueError, match="timezone-aware"):
        status(now=datetime(2026, 3, 2, 11))


# --- properties --------------------------------------------------------------------------------

_US = timedelta(microseconds=1)
_HOUR_US = 3600 * 10**6


_pause_offsets = st.lists(
    st.tuples(st.integers(-48 * _HOUR_US, 400 * _HOUR_US), st.none() | st.integers(0, 120 * _HOUR_US)), max_size=5
)
"""Pauses as (start, length or None for open) in microseconds after the cycle starts."""


def _pauses(started_at: datetime, offsets: list[tuple[int, int | None]]) -> list[Interval]:
    """Pauses near the cycle: some before its start, some overlapping, some still going."""
    result = []
    for offset, length in offsets:
        start = after(started_at, offset * _US)
        result.append(Interval(start, None if length is None else after(start, length * _US)))
    return result


@st.composite
def cycles(draw: st.DrawFn) -> dict:
    """Keyword arguments of `sla_status`: a calendar, a start, a target, pauses, maybe a satisfaction, now."""
    started_at = draw(instants)
    satisfied = draw(st.none() | st.integers(0, 500 * _HOUR_US))
    return {
        "calendar": draw(calendars()),
        "started_at": started_at,
        "target_seconds": draw(st.integers(1, 80 * _HOUR_US)) / 1e6,
        "pauses": _pauses(started_at, draw(_pause_offsets)),
        "satisfied_at": None if satisfied is None else after(started_at, satisfied * _US),
        "now": after(started_at, draw(st.integers(-24 * _HOUR_US, 500 * _HOUR_US)) * _US),
    }


def _run(cycle: dict) -> SlaStatus:
    calendar = cycle.pop("calendar")
    return sla_status(calendar, **cycle)


@PROPERTY
@given(cycles(), _pause_offsets)
def test_a_pause_never_adds_time(cycle: dict, extra_offsets: list[tuple[int, int | None]]) -> None:
    before = _run(dict(cycle))
    extra = _pauses(cycle["started_at"], extra_offsets)
    more = _run(dict(cycle, pauses=[*cycle["pauses"], *extra]))
    assert more.business_seconds_elapsed <= before.business_seconds_elapsed
    assert more.paused_seconds >= before.paused_seconds
    assert more.due_at is not None and before.due_at is not None and more.due_at >= before.due_at
    assert _run(dict(cycle, pauses=cycle["pauses"][::-1])) == before  # order does not matter


@PROPERTY
@given(cycles())
def test_the_status_agrees_with_the_calendar(cycle: dict) -> None:
    calendar, start, now, target = cycle["calendar"], cycle["started_at"], cycle["now"], cycle["target_seconds"]
    result = _run(dict(cycle))
    stop = min(result.satisfied_at or now, now)
    assert 0 <= result.business_seconds_elapsed <= calendar.business_seconds(start, stop)
    assert 0 <= result.paused_seconds <= max(0.0, (stop - start).total_seconds())
    assert result.due_at is not None and result.due_at > start
    if result.satisfied_at is not None:
        assert result.state == ("met" if result.business_seconds_elapsed <= target else "missed")
    else:
        assert (result.state == "breached") is (result.due_at <= now)
    unpaused = _run(dict(cycle, pauses=[]))
    assert unpaused.business_seconds_elapsed == round(calendar.business_seconds(start, stop), 6)
    assert unpaused.due_at == calendar.add_business_seconds(start, target)


@PROPERTY
@given(cycles(), st.integers(0, 300 * _HOUR_US))
def test_a_clock_kept_reads_later_as_the_status_from_its_pauses(cycle: dict, later: int) -> None:
    """What the facts keep of a clock (`clock_of`, computed once its pauses and satisfaction are known) reads at any
    later instant (`read_clock`) exactly as `sla_status` computes from the pauses then: equal to the microsecond."""
    calendar, start = cycle["calendar"], cycle["started_at"]
    known = [p for p in cycle["pauses"]]  # the log's pauses: the open one (if any) is the latest
    open_ones = [p for p in known if p.end is None]
    known = [p for p in known if p.end is not None] + open_ones[:1]
    boundaries = [start, *(p.start for p in known), *(p.end for p in known if p.end is not None)]
    if cycle["satisfied_at"] is not None:
        boundaries.append(cycle["satisfied_at"])
    if open_ones and any(p.end is not None and p.end > open_ones[0].start for p in known):
        return  # an open pause is the log's latest: nothing of the log ends after it began
    now = after(max(boundaries, key=lambda at: at.astimezone(UTC)), later * _US)
    kept = clock_of(
        calendar,
        started_at=start,
        target_seconds=cycle["target_seconds"],
        pauses=known,
        satisfied_at=cycle["satisfied_at"],
    )
    expected = sla_status(
        calendar,
        started_at=start,
        target_seconds=cycle["target_seconds"],
        pauses=known,
        satisfied_at=cycle["satisfied_at"],
        now=now,
    )
    assert read_clock(kept, calendar, now=now) == expected

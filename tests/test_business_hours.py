"""The business-hours clock: examples with explicit times, then properties checked by hypothesis."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.business_hours import BusinessCalendar

UTC = timezone.utc
BERLIN_TZ = ZoneInfo("Europe/Berlin")
NEW_YORK_TZ = ZoneInfo("America/New_York")
HOUR = 3600.0
MICROSECOND = timedelta(microseconds=1)

BERLIN = BusinessCalendar.parse(
    tz="Europe/Berlin", days="mon-fri", start="09:00", end="17:00", holidays=["2026-12-25", "2027-01-01"]
)
NEW_YORK = BusinessCalendar.parse(tz="America/New_York", days="mon-fri", start="08:00", end="16:00")
BERLIN_EVERY_DAY = replace(BERLIN, days=frozenset(range(7)))


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN_TZ, fold=fold)  # type: ignore[misc]


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK_TZ)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- parse -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("mon-wed,fri", {0, 1, 2, 4}),
        (" Mon - Fri ", {0, 1, 2, 3, 4}),
        ("saturday,sunday", {5, 6}),
        ("fri-mon", {4, 5, 6, 0}),
        ("wed", {2}),
    ],
)
def test_parse_days(text: str, days: set[int]) -> None:
    calendar = BusinessCalendar.parse(tz="UTC", days=text, start="09:00", end="17:00")
    assert calendar.days == frozenset(days)


def test_parse_builds_the_calendar() -> None:
    assert BERLIN.tz == BERLIN_TZ
    assert (BERLIN.start, BERLIN.end) == (time(9), time(17))
    assert BERLIN.holidays == {date(2026, 12, 25), date(2027, 1, 1)}
    same = BusinessCalendar.parse(
        tz="Europe/Berlin", days="mon-fri", start="9:00", end="17:00", holidays=[date(2026, 12, 25), "2027-01-01"]
    )
    assert same == BERLIN and hash(same) == hash(BERLIN)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("days", "mun-fri", "unknown weekday 'mun'"),
        ("days", "", "business days are empty"),
        ("days", "mon-", "unknown weekday ''"),
        ("start", "9am", "start '9am' is not a time"),
        ("end", "25:00", "end '25:00' is not a time"),
        ("end", "08:00", "end 08:00 must be after start 09:00"),
        ("end", "09:00", "must be after start"),
        ("tz", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("tz", "", "unknown time zone"),
        ("holidays", ["2026-13-01"], "holiday '2026-13-01' is not a date"),
    ],
)
def test_parse_rejects_bad_input_with_a_clear_message(field: str, value: object, message: str) -> None:
    args: dict[str, object] = {"tz": "Europe/Berlin", "days": "mon-fri", "start": "09:00", "end": "17:00"}
    args[field] = value
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.parse(**args)  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        BERLIN.is_open(datetime(2026, 3, 2, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        BERLIN.business_seconds(berlin(2026, 3, 2, 10), datetime(2026, 3, 2, 12))


# --- is_open and next_opening ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        (berlin(2026, 3, 2, 9), True),  # opening instant is open
        (berlin(2026, 3, 2, 16, 59, 59), True),
        (berlin(2026, 3, 2, 17), False),  # closing instant is closed
        (berlin(2026, 3, 2, 8, 59), False),
        (utc(2026, 3, 2, 8, 30), True),  # 09:30 in Berlin, given in UTC
        (berlin(2026, 3, 7, 12), False),  # Saturday
        (berlin(2026, 12, 25, 12), False),  # holiday
    ],
)
def test_is_open(at: datetime, is_open: bool) -> None:
    assert BERLIN.is_open(at) is is_open


@pytest.mark.parametrize(
    ("at", "opening"),
    [
        (berlin(2026, 3, 2, 10), berlin(2026, 3, 2, 10)),  # open: itself
        (berlin(2026, 3, 2, 7), berlin(2026, 3, 2, 9)),  # early morning
        (berlin(2026, 3, 6, 17), berlin(2026, 3, 9, 9)),  # Friday closing -> Monday
        (berlin(2026, 3, 7, 12), berlin(2026, 3, 9, 9)),  # Saturday
        (berlin(2026, 12, 24, 18), berlin(2026, 12, 28, 9)),  # holiday Friday, then weekend
        (berlin(2026, 12, 31, 18), berlin(2027, 1, 4, 9)),  # across the new year and a holiday
    ],
)
def test_next_opening(at: datetime, opening: datetime) -> None:
    found = BERLIN.next_opening(at)
    assert found == opening
    assert found.tzinfo is UTC


def test_a_calendar_that_never_opens_says_so() -> None:
    year = [date(2026, 1, 1) + timedelta(days=n) for n in range(365 * 12)]
    closed = BusinessCalendar.parse(tz="UTC", days="mon", start="09:00", end="17:00", holidays=[d for d in year])
    with pytest.raises(ValueError, match="no business hours within"):
        closed.next_opening(utc(2026, 1, 1))


# --- business_seconds --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (berlin(2026, 3, 2, 10), berlin(2026, 3, 2, 15, 30), 5.5),  # within a weekday
        (berlin(2026, 3, 2, 7), berlin(2026, 3, 2, 20), 8),  # opening and closing outside hours
        (berlin(2026, 3, 2, 7), berlin(2026, 3, 2, 8), 0),  # before opening
        (berlin(2026, 3, 6, 15), berlin(2026, 3, 9, 10), 3),  # across a weekend
        (berlin(2026, 3, 7, 1), berlin(2026, 3, 8, 23), 0),  # all on a weekend
        (berlin(2026, 12, 24, 16), berlin(2026, 12, 28, 10), 2),  # across a holiday and a weekend
        (berlin(2026, 12, 31, 16), berlin(2027, 1, 4, 10), 2),  # across the new year
        (berlin(2026, 3, 2, 15), berlin(2026, 3, 2, 10), 0),  # end before start
        (berlin(2026, 1, 1), berlin(2027, 1, 1), 260 * 8),  # 2026: 261 weekdays, one holiday
        (berlin(2025, 1, 1), berlin(2028, 1, 1), (261 + 260 + 260) * 8),  # three years, a holiday in two
    ],
)
def test_business_seconds(start: datetime, end: datetime, hours: float) -> None:
    assert BERLIN.business_seconds(start, end) == hours * HOUR


def test_business_seconds_takes_instants_in_any_zone() -> None:
    assert BERLIN.business_seconds(utc(2026, 3, 2, 8), new_york(2026, 3, 2, 4)) == 1 * HOUR  # 09:00-10:00 Berlin


@pytest.mark.parametrize(
    ("calendar", "start", "end", "hours"),
    [
        # Berlin spring forward, Sunday 2026-03-29 02:00 -> 03:00: the day has 23 hours, 8 of them open
        (BERLIN, berlin(2026, 3, 27, 16), berlin(2026, 3, 30, 10), 2),
        (BERLIN_EVERY_DAY, berlin(2026, 3, 29), berlin(2026, 3, 30), 8),
        # Berlin fall back, Sunday 2026-10-25 03:00 -> 02:00: the day has 25 hours, 8 of them open
        (BERLIN, berlin(2026, 10, 23, 16), berlin(2026, 10, 26, 10), 2),
        (BERLIN_EVERY_DAY, berlin(2026, 10, 25), berlin(2026, 10, 26), 8),
        # New York spring forward 2026-03-08 and fall back 2026-11-01
        (NEW_YORK, new_york(2026, 3, 6, 15), new_york(2026, 3, 9, 9), 2),
        (NEW_YORK, new_york(2026, 10, 30, 15), new_york(2026, 11, 2, 9), 2),
        (NEW_YORK, new_york(2026, 3, 2), new_york(2026, 3, 16), 80),
    ],
)
def test_business_seconds_across_dst_changes(
    calendar: BusinessCalendar, start: datetime, end: datetime, hours: float
) -> None:
    assert calendar.business_seconds(start, end) == hours * HOUR


def test_hours_that_span_a_dst_change_count_real_time() -> None:
    night = BusinessCalendar.parse(tz="Europe/Berlin", days="mon-sun", start="01:00", end="05:00")
    assert night.business_seconds(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 3 * HOUR
    assert night.business_seconds(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 5 * HOUR


def test_an_opening_time_skipped_or_repeated_by_dst_uses_fold_0() -> None:
    calendar = BusinessCalendar.parse(tz="Europe/Berlin", days="sun", start="02:30", end="04:00")
    # 02:30 does not exist on 2026-03-29: read with the old offset (+01:00), it is 01:30 UTC = 03:30 CEST
    assert calendar.next_opening(berlin(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)
    assert calendar.business_seconds(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 0.5 * HOUR
    # 02:30 happens twice on 2026-10-25: the first one (CEST, 00:30 UTC) opens
    assert calendar.next_opening(berlin(2026, 10, 25)) == utc(2026, 10, 25, 0, 30)
    assert calendar.business_seconds(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 2.5 * HOUR


def test_opening_hours_swallowed_by_a_dst_gap_are_closed() -> None:
    # 02:30 is read as 01:30 UTC, but 03:00 already is CEST (01:00 UTC): nothing is open that day
    calendar = BusinessCalendar.parse(tz="Europe/Berlin", days="sun", start="02:30", end="03:00")
    assert calendar.business_seconds(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 0
    assert calendar.business_seconds(berlin(2026, 3, 22), berlin(2026, 4, 6)) == 2 * 0.5 * HOUR
    assert calendar.next_opening(berlin(2026, 3, 29)) == berlin(2026, 4, 5, 2, 30)


# --- add_business_seconds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "hours", "due"),
    [
        (BERLIN, berlin(2026, 3, 2, 10), 4, berlin(2026, 3, 2, 14)),
        (BERLIN, berlin(2026, 3, 2, 9), 8, berlin(2026, 3, 2, 17)),  # ends exactly at closing
        (BERLIN, berlin(2026, 3, 2, 7), 1, berlin(2026, 3, 2, 10)),  # starts counting at opening
        (BERLIN, berlin(2026, 3, 6, 15), 4, berlin(2026, 3, 9, 11)),  # across a weekend
        (BERLIN, berlin(2026, 3, 7, 12), 0.5, berlin(2026, 3, 9, 9, 30)),  # from a Saturday
        (BERLIN, berlin(2026, 12, 24, 16), 2, berlin(2026, 12, 28, 10)),  # across a holiday
        (BERLIN, berlin(2026, 3, 27, 15), 4, berlin(2026, 3, 30, 11)),  # across spring forward
        (BERLIN, berlin(2026, 10, 23, 15), 4, berlin(2026, 10, 26, 11)),  # across fall back
        (NEW_YORK, new_york(2026, 3, 6, 15), 2, new_york(2026, 3, 9, 9)),
        (NEW_YORK, new_york(2026, 10, 30, 15), 2, new_york(2026, 11, 2, 9)),
        (BERLIN, berlin(2026, 1, 1), 2080, berlin(2026, 12, 31, 17)),  # a year of business hours
    ],
)
def test_add_business_seconds(calendar: BusinessCalendar, start: datetime, hours: float, due: datetime) -> None:
    found = calendar.add_business_seconds(start, hours * HOUR)
    assert found == due
    assert found.tzinfo is UTC
    assert calendar.business_seconds(start, found) == hours * HOUR


def test_adding_zero_gives_the_start_or_the_next_opening() -> None:
    assert BERLIN.add_business_seconds(berlin(2026, 3, 2, 10), 0) == berlin(2026, 3, 2, 10)
    assert BERLIN.add_business_seconds(berlin(2026, 3, 2, 17), 0) == berlin(2026, 3, 3, 9)


def test_adding_negative_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        BERLIN.add_business_seconds(berlin(2026, 3, 2, 10), -1)


# --- properties --------------------------------------------------------------------------------

ZONES = [ZoneInfo(name) for name in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")]
DST_DAYS = [
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)


FIRST_DAY = date(2025, 12, 1)


_minutes = st.integers(0, 24 * 60 - 1)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """Any opening hours in one of a few zones, with holidays around 2026."""
    opening, closing = sorted((draw(_minutes), draw(_minutes)))
    if opening == closing:
        opening, closing = (opening - 1, closing) if closing else (0, 1)
    weekdays = draw(st.integers(1, 127))  # a bit per weekday
    holidays = draw(st.lists(st.integers(0, 420), max_size=12))
    return BusinessCalendar(
        tz=draw(st.sampled_from(ZONES)),
        days=frozenset(n for n in range(7) if weekdays >> n & 1),
        start=time(*divmod(opening, 60)),
        end=time(*divmod(closing, 60)),
        holidays=frozenset(FIRST_DAY + timedelta(days=n) for n in holidays),
    )


def _instant(base: datetime, microseconds: int, zone: ZoneInfo) -> datetime:
    return (base + timedelta(microseconds=microseconds)).astimezone(zone)


_DAY_US = 86_400 * 10**6
instants = st.one_of(
    st.builds(
        _instant, st.just(datetime(2025, 11, 1, tzinfo=UTC)), st.integers(0, 460 * _DAY_US), st.sampled_from(ZONES)
    ),
    st.builds(_instant, st.sampled_from(DST_DAYS), st.integers(-2 * _DAY_US, 2 * _DAY_US), st.sampled_from(ZONES)),
)
"""Aware instants in one of ZONES, often within two days of a DST change."""

durations = st.builds(
    lambda microseconds: timedelta(microseconds=microseconds),
    st.one_of(st.integers(0, 30 * 3600 * 10**6), st.integers(0, 20 * _DAY_US), st.integers(0, 420 * _DAY_US)),
)
"""Spans from microseconds to over a year, most of them short."""


def after(at: datetime, span: timedelta) -> datetime:
    """The instant `span` of real time after `at`, in `at`'s zone.

    (Plain `at + span` adds wall-clock time to a local datetime, which is not `span` across DST.)
    """
    return (at.astimezone(UTC) + span).astimezone(at.tzinfo)


def same_instant(a: datetime, b: datetime) -> bool:
    """Whether `a` and `b` are one instant; `==` across zones is always False for a repeated wall time."""
    return a.astimezone(UTC) == b.astimezone(UTC)


def _us(at: datetime) -> int:
    return (at - EPOCH) // MICROSECOND


def _oracle_us(calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Open microseconds in [start, end), found the slow way: every local day, one by one."""
    a, b = _us(start), _us(end)
    day = start.astimezone(calendar.tz).date() - timedelta(days=1)
    total = 0
    while day <= end.astimezone(calendar.tz).date():
        if day.weekday() in calendar.days and day not in calendar.holidays:
            opening = _us(datetime.combine(day, calendar.start, calendar.tz))
            closing = _us(datetime.combine(day, calendar.end, calendar.tz))
            total += max(0, min(closing, b) - max(opening, a))
        day += timedelta(days=1)
    return total


@PROPERTY
@given(calendars(), instants, durations)
def test_the_clock_counts_exactly_the_open_time(calendar: BusinessCalendar, start: datetime, length: timedelta) -> None:
    end = after(start, length)
    counted = calendar.business_seconds(start, end)
    assert round(counted * 1e6) == _oracle_us(calendar, start, end)
    assert 0 <= counted <= length.total_seconds()


@PROPERTY
@given(calendars(), instants, durations, durations)
def test_the_clock_is_additive_and_never_runs_backwards(
    calendar: BusinessCalendar, a: datetime, ab: timedelta, bc: timedelta
) -> None:
    b = after(a, ab)
    c = after(b, bc)
    first, second, whole = (calendar.business_seconds(*span) for span in ((a, b), (b, c), (a, c)))
    assert 0 <= first <= whole and 0 <= second <= whole
    assert whole == pytest.approx(first + second, abs=1e-6)
    assert calendar.business_seconds(c, a) == 0


@PROPERTY
@given(calendars(), instants, st.floats(0, 1))
def test_the_clock_runs_only_while_open(calendar: BusinessCalendar, at: datetime, share: float) -> None:
    assert calendar.is_open(at) is (calendar.business_seconds(at, after(at, MICROSECOND)) > 0)
    opening = calendar.next_opening(at)
    assert opening >= at and calendar.is_open(opening)
    assert calendar.business_seconds(at, opening) == 0
    between = after(at, (opening - at) * share)
    assert same_instant(between, opening) or not calendar.is_open(between)


@PROPERTY
@given(calendars(), st.integers(0, 420).map(lambda n: FIRST_DAY + timedelta(days=n)), st.booleans())
def test_closed_days_and_nights_count_nothing(calendar: BusinessCalendar, day: date, holiday: bool) -> None:
    if holiday or calendar.days == {day.weekday()}:
        calendar = replace(calendar, holidays=calendar.holidays | {day})
    else:
        calendar = replace(calendar, days=calendar.days - {day.weekday()})
    midnight = datetime.combine(day, time(0), calendar.tz)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), calendar.tz)
    assert calendar.business_seconds(midnight, next_midnight) == 0
    closing = datetime.combine(day - timedelta(days=1), calendar.end, calendar.tz)
    next_opening = datetime.combine(day, calendar.start, calendar.tz)
    assert calendar.business_seconds(closing, next_opening) == 0  # the night before


@PROPERTY
@given(calendars(), instants, durations)
def test_adding_the_count_lands_on_or_before_the_end(
    calendar: BusinessCalendar, start: datetime, length: timedelta
) -> None:
    end = after(start, length)
    counted = calendar.business_seconds(start, end)
    landed = calendar.add_business_seconds(start, counted)
    if counted == 0:
        assert landed == calendar.next_opening(start)
    else:
        assert start < landed <= end
        assert calendar.business_seconds(start, landed) == counted
        assert calendar.business_seconds(start, landed - MICROSECOND) < counted  # the earliest such instant

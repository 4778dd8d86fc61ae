"""Business hours: when a domain's team is at work, and how much working time lies between instants.

A `BusinessCalendar` opens on some weekdays from a local wall-clock `start` to a local `end`, except
on holidays. Every datetime passed in must be timezone-aware and is treated as an instant (whatever
its zone); every datetime returned is in UTC. Durations are in seconds and count real elapsed time,
so an opening that spans a DST change is an hour shorter or longer. Opening hours that are skipped
or repeated by a DST change resolve the way zoneinfo does with ``fold=0``: a skipped 02:30 means the
instant 02:30 would be under the old offset (03:30 new time), a repeated 02:30 means the first one.

Nothing here reads the clock or does I/O. The open intervals of each local month a calendar is asked
about are built once (two zoneinfo lookups per open day) and cached, shared by equal calendars; after
that a span costs two binary searches plus one addition per month it covers.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NUMBERS = {name: n for n, name in enumerate(_DAY_NAMES)} | {
    name: n for n, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_MAX_CLOSED_YEARS = 10
"""How many years without an opening a search goes through before it gives up."""


@dataclass(frozen=True)
class _MonthTable:
    """The open intervals of one local month, as UTC microseconds since the Unix epoch.

    ``opens[i] < closes[i] <= opens[i + 1]``; ``elapsed[i]`` is the open time, in microseconds, of
    the intervals before interval ``i`` (one more entry than there are intervals).
    """

    opens: tuple[int, ...]
    closes: tuple[int, ...]
    elapsed: tuple[int, ...]

    @property
    def total(self) -> int:
        """Open microseconds in the whole month."""
        return self.elapsed[-1]

    def open_before(self, t: int) -> int:
        """Open microseconds of this month before the instant `t` (UTC microseconds)."""
        i = bisect_right(self.opens, t)
        if i == 0:
            return 0
        return self.elapsed[i - 1] + min(t, self.closes[i - 1]) - self.opens[i - 1]

    def instant_after(self, open_us: int) -> int:
        """The earliest instant with `open_us` open microseconds of this month before it.

        Requires ``0 < open_us <= total``.
        """
        i = bisect_left(self.elapsed, open_us) - 1
        return self.opens[i] + open_us - self.elapsed[i]

    def is_open(self, t: int) -> bool:
        """Whether the instant `t` lies in an open interval (open at opening, closed at closing)."""
        i = bisect_right(self.opens, t)
        return i > 0 and t < self.closes[i - 1]

    def next_opening(self, t: int) -> int | None:
        """`t` when open, else the next opening of this month after `t`, else None."""
        if self.is_open(t):
            return t
        i = bisect_right(self.opens, t)
        return self.opens[i] if i < len(self.opens) else None


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in local wall-clock time of `tz`: `days` (Monday = 0) from `start` to `end`.

    `holidays` are local dates closed all day. Build one from config text with `parse`.
    """

    tz: ZoneInfo
    days: frozenset[int]
    start: time
    end: time
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", frozenset(self.days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "start", self.start.replace(fold=0))  # DST rule: always fold=0
        object.__setattr__(self, "end", self.end.replace(fold=0))
        if not isinstance(self.tz, ZoneInfo):
            raise ValueError(f"time zone must be a ZoneInfo, got {self.tz!r}")
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(f"business days must be weekday numbers 0-6 (Monday = 0), got {set(self.days)}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("business hours start and end are local wall-clock times without a zone")
        if self.end <= self.start:
            raise ValueError(f"business hours end {self.end:%H:%M} must be after start {self.start:%H:%M}")

    @classmethod
    def parse(
        cls,
        *,
        tz: str,
        days: str,
        start: str,
        end: str,
        holidays: Iterable[str | date] = (),
    ) -> BusinessCalendar:
        """Build a calendar from config text.

        `tz` is an IANA name ("Europe/Berlin"); `days` a list of weekdays and ranges ("mon-fri",
        "mon,wed,fri", "sun-thu", "mon-wed,fri"); `start` and `end` are "HH:MM"; `holidays` are
        ISO dates ("2026-12-25") or `date`s. Raises ValueError naming the bad value.
        """
        return cls(
            tz=_parse_zone(tz),
            days=_parse_days(days),
            start=_parse_time(start, what="start"),
            end=_parse_time(end, what="end"),
            holidays=frozenset(_parse_holiday(h) for h in holidays),
        )

    def is_open(self, at: datetime) -> bool:
        """Whether the instant `at` (aware) is in opening hours; open at `start`, closed at `end`."""
        t, month = self._locate(at)
        return self._table(month).is_open(t)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Open seconds in the half-open span [start, end) of aware instants; 0 when end <= start."""
        a, first = self._locate(start)
        b, last = self._locate(end)
        if b <= a:
            return 0.0
        open_us = sum(self._table(month).total for month in range(first, last))
        return (open_us + self._table(last).open_before(b) - self._table(first).open_before(a)) / 1e6

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant (UTC) by which `seconds` open seconds have passed since `start`.

        Counting begins at `start`, or at the next opening when `start` is closed. With
        ``seconds == 0`` this is `next_opening(start)`; a positive count can end exactly at a
        closing time. Resolution is one microsecond. Raises ValueError when `seconds` is negative.
        """
        if seconds < 0:
            raise ValueError(f"cannot add a negative number of business seconds ({seconds})")
        need = round(seconds * 1e6)
        if need == 0:
            return self.next_opening(start)
        t, month = self._locate(start)
        need += self._table(month).open_before(t)
        for table in self._tables_from(month, after=start):
            if need <= table.total:
                return _from_us(table.instant_after(need))
            need -= table.total
        raise AssertionError("unreachable: _tables_from never ends without raising")

    def next_opening(self, at: datetime) -> datetime:
        """`at` (as UTC) when open, else the next opening after it, in UTC.

        Raises ValueError when the calendar has no opening for years (every day a holiday).
        """
        t, month = self._locate(at)
        for table in self._tables_from(month, after=at):
            found = table.next_opening(t)
            if found is not None:
                return _from_us(found)
        raise AssertionError("unreachable: _tables_from never ends without raising")

    def _is_open_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def _locate(self, at: datetime) -> tuple[int, int]:
        """The instant `at` as UTC microseconds since the epoch, and its local month in `tz`."""
        local = at.astimezone(self.tz)
        return _to_us(at), local.year * 12 + local.month - 1

    def _table(self, month: int) -> _MonthTable:
        """The table of a local month, numbered ``year * 12 + month - 1``."""
        return _month_table(self, month)

    def _tables_from(self, month: int, *, after: datetime) -> Iterator[_MonthTable]:
        """Tables of `month` and the months after it; raises after years in a row with no opening."""
        closed = 0
        while closed <= 12 * _MAX_CLOSED_YEARS:
            table = self._table(month)
            closed = closed + 1 if table.total == 0 else 0
            yield table
            month += 1
        raise ValueError(f"no business hours within {_MAX_CLOSED_YEARS} years after {after.isoformat()}")


@lru_cache(maxsize=2048)
def _month_table(calendar: BusinessCalendar, month: int) -> _MonthTable:
    """The open intervals of `calendar` in a local month, numbered ``year * 12 + month - 1``.

    Cached, so equal calendars share them.
    """
    opens: list[int] = []
    closes: list[int] = []
    day = date(month // 12, month % 12 + 1, 1)
    while day.month == month % 12 + 1:
        if calendar._is_open_day(day):
            opening = _to_us(datetime.combine(day, calendar.start, calendar.tz))
            closing = _to_us(datetime.combine(day, calendar.end, calendar.tz))
            if closing > opening:  # fails only when a DST gap swallows the opening hours
                opens.append(opening)
                closes.append(closing)
        day += _ONE_DAY
    elapsed = accumulate((c - o for o, c in zip(opens, closes)), initial=0)
    return _MonthTable(tuple(opens), tuple(closes), tuple(elapsed))


def _to_us(at: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime; ValueError when it is naive."""
    if at.utcoffset() is None:
        raise ValueError(f"datetime {at.isoformat()} must be timezone-aware")
    return (at - _EPOCH) // _MICROSECOND


def _from_us(t: int) -> datetime:
    return _EPOCH + timedelta(microseconds=t)


def _parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'") from None


def _parse_days(text: str) -> frozenset[int]:
    """Weekday numbers (Monday = 0) from "mon-fri", "mon,wed,fri", "sun-thu" (ranges wrap)."""
    if not text.strip():
        raise ValueError("business days are empty; write e.g. 'mon-fri' or 'mon,wed,fri'")
    days: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.partition("-")
        a = _parse_day(first, text=text)
        b = _parse_day(last, text=text) if dash else a
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    return frozenset(days)


def _parse_day(name: str, *, text: str) -> int:
    number = _DAY_NUMBERS.get(name.strip().lower())
    if number is None:
        raise ValueError(
            f"unknown weekday {name.strip()!r} in business days {text!r}; "
            f"use {', '.join(_DAY_NAMES)}, e.g. 'mon-fri' or 'mon,wed,fri'"
        )
    return number


def _parse_time(text: str, *, what: str) -> time:
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"business hours {what} {text!r} is not a time of day; write HH:MM, e.g. '09:00'")
    return time(int(match[1]), int(match[2]))


def _parse_holiday(value: str | date) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"holiday {value!r} is not a date; write YYYY-MM-DD, e.g. '2026-12-25'") from None

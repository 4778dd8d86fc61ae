"""The weekly digest's figures, for each domain and the whole organisation (docs/nags-and-digest.md).

Pure: the store aggregates the facts kept for each request (`bot.domain.facts`) in SQL — a week's counts, medians
and breaches (`Week`), the open requests by kind, those waiting on a decision, snoozed, or the oldest (`Pending`) —
and this module turns them into each digest's `DigestFigures` at `now`: days of silence, business hours unowned,
the review ladder, ages, what each channel may list. The week before is counted the same way from the same facts:
what it counts (targets satisfied or due, requests filed or resolved, in a week that has ended) no later event
changes, so the change against last week compares with what last week's digest said.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from bot.domain.business_hours import BusinessCalendar
from bot.domain.facts import RequestFacts, snoozed_at
from bot.domain.history import seconds_between
from bot.domain.models import Request, request_key
from bot.domain.policy import Config
from bot.domain.thresholds import RULE_STALE_REVIEW, RULE_UNOWNED, ladder
from bot.domain.visibility import channel_sees_confidential, visible_to

WEEK = timedelta(days=7)
OLDEST_LIMIT = 5
_DAY = 86400.0


@dataclass(frozen=True)
class Week:
    """What the kept facts say of the week (start, end]: requests filed (`opened`) and resolved, SLA targets
    satisfied in it within their target (`met`) or after it (`missed`), targets due in it and not met (`breaches`:
    missed, or not satisfied by then), and the median business seconds to the targets satisfied in it."""

    start: datetime
    end: datetime
    opened: int = 0
    resolved: int = 0
    met: int = 0
    missed: int = 0
    breaches: int = 0
    median_first_response_seconds: float | None = None
    median_resolution_seconds: float | None = None

    @property
    def sla_attainment(self) -> float | None:
        """Targets met, in percent of those satisfied in the week (None: none was)."""
        judged = self.met + self.missed
        return 100.0 * self.met / judged if judged else None


class Weeks(NamedTuple):
    """One week's figures per domain (None: unrouted), and for every request together (`whole`)."""

    by_domain: dict[str | None, Week]
    whole: Week


class OpenCount(NamedTuple):
    """How many requests of a domain and kind are open, and how many of them are confidential."""

    domain: str | None
    kind: str
    count: int
    confidential: int


class ConfidentialRef(NamedTuple):
    """Where an open confidential request was filed: what decides which channels may list it."""

    id: int
    domain: str | None
    origin_channel: str | None
    origin_private: bool


class Pending(NamedTuple):
    """An open request a digest may name, as the store reads it: `since` is when its ball holder fell silent (a
    stalled review), when it was filed (an unowned regression, the oldest open), or until when it is snoozed (and
    `by` whom)."""

    id: int
    domain: str | None
    since: datetime
    confidential: bool
    origin_channel: str | None
    origin_private: bool
    court: str
    title: str
    by: str | None = None

    @property
    def key(self) -> str:
        return request_key(self.id)


class OpenPicture(NamedTuple):
    """The open requests as the digests show them (see `Pending`): counts per domain and kind, the stalled reviews,
    the unowned regressions, the snoozed requests and the oldest open of each domain."""

    counts: list[OpenCount]
    stalled: list[Pending]
    unowned: list[Pending]
    snoozed: list[Pending]
    oldest: list[Pending]


@dataclass(frozen=True)
class DigestFigures:
    """What one digest shows, for the week (week_start, week_end].

    Durations are business seconds of the request's domain calendar; sla_attainment is a percentage.
    Lists never hold a request the digest's channels may not see: those are counted instead,
    `hidden_stalled` (how many stalled reviews, the longest silence in days) and `hidden_unowned` (how
    many unowned regressions, the longest in business hours). `top_rung` holds every stalled review at the
    top of the ladder, listed or not: (id, key, days silent, court, title — None when it may not be listed).
    `snoozed`: (id, key, until, who snoozed it). `previous`: the week before.
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
    previous: Week | None
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


def digest_on(calendar: BusinessCalendar, fire: datetime) -> date:
    """The day the digest due at `fire` goes out, in the calendar's zone: that day, unless it is a holiday; then the
    business day before it (a digest due on a holiday Friday goes on Thursday). A weekend is no holiday: a cron that
    names a Sunday means a Sunday."""
    day = fire.astimezone(calendar.tz).date()
    if day not in calendar.holidays:
        return day
    before = day - timedelta(days=1)
    while before.weekday() not in calendar.days or before in calendar.holidays:
        before -= timedelta(days=1)
    return before


def stalled_from(config: Config) -> float:
    """The fewest days of silence at which any domain's review counts as stalled (the store reads the reviews
    silent at least that long; `needs_decision` judges each by its own domain's ladder)."""
    domains = [None, *(d.name for d in config.domains)]
    return min(_stall_start(config, domain) for domain in domains)


def _stall_start(config: Config, domain: str | None) -> float:
    steps = ladder(config, domain, RULE_STALE_REVIEW)
    return max(steps.begins, steps.steps[0].at) if steps.steps else float("inf")


def digest_all(
    weeks: Weeks,
    previous: Weeks,
    picture: OpenPicture,
    config: Config,
    *,
    now: datetime,
    listable: Callable[[Pending], bool],
) -> dict[str | None, DigestFigures]:
    """The figures of every domain (by name) and of the whole organisation (key None; unrouted requests and those
    of a domain no longer in the config count there only), at `now`. `listable(pending)` says whether the digests'
    channels may see a request named; the others are only counted."""
    names: list[str | None] = [d.name for d in config.domains]
    out: dict[str | None, DigestFigures] = {}
    judged = _judged(picture, config, now=now, listable=listable)
    for scope in [*names, None]:

        def mine(domain: str | None, scope: str | None = scope) -> bool:
            return scope is None or domain == scope

        week = weeks.whole if scope is None else weeks.by_domain.get(scope, Week(weeks.whole.start, weeks.whole.end))
        before = (
            previous.whole
            if scope is None
            else previous.by_domain.get(scope, Week(previous.whole.start, previous.whole.end))
        )
        out[scope] = _figures(scope, week, before, _scoped(picture, mine), judged, now=now)
    return out


class _Judged(NamedTuple):
    """Each waiting request judged once, for every scope it counts in: days stalled (with whether at the top of the
    ladder), business hours unowned, and whether the digests' channels may see it named; by request id."""

    stalled: dict[int, tuple[int | None, bool]]
    unowned: dict[int, float | None]
    listable: dict[int, bool]


def _judged(picture: OpenPicture, config: Config, *, now: datetime, listable: Callable[[Pending], bool]) -> _Judged:
    return _Judged(
        stalled={p.id: stalled_days(p.since, p.domain, config, at=now) for p in picture.stalled},
        unowned={p.id: asked_unowned_hours(p.since, p.domain, config, at=now) for p in picture.unowned},
        listable={
            p.id: listable(p)
            for rows in (picture.stalled, picture.unowned, picture.snoozed, picture.oldest)
            for p in rows
        },
    )


def _scoped(picture: OpenPicture, mine: Callable[[str | None], bool]) -> OpenPicture:
    return OpenPicture(*([row for row in rows if mine(row.domain)] for rows in picture))


def _figures(
    scope: str | None, week: Week, previous: Week, picture: OpenPicture, judged: _Judged, *, now: datetime
) -> DigestFigures:
    kinds: dict[str, int] = {}
    for row in picture.counts:
        kinds[row.kind] = kinds.get(row.kind, 0) + row.count
    stale, hidden_stalled, top = [], [], []
    for p in picture.stalled:
        days, at_top = judged.stalled[p.id]
        if days is None:
            continue
        shown = judged.listable[p.id]
        if at_top:
            top.append((p.id, p.key, days, p.court, p.title if shown else None))
        if shown:
            stale.append((p.id, p.key, days))
        else:
            hidden_stalled.append(days)
    unowned, hidden_unowned = [], []
    for p in picture.unowned:
        hours = judged.unowned[p.id]
        if hours is None:
            continue  # the unowned rule has not asked its owners yet: nothing to decide
        if judged.listable[p.id]:
            unowned.append((p.id, p.key, hours))
        else:
            hidden_unowned.append(hours)
    oldest = sorted((p for p in picture.oldest if judged.listable[p.id]), key=lambda p: (p.since, p.id))[:OLDEST_LIMIT]
    return DigestFigures(
        scope=scope,
        week_start=week.start,
        week_end=week.end,
        opened=week.opened,
        resolved=week.resolved,
        open_by_kind=dict(sorted(kinds.items())),
        median_first_response_seconds=week.median_first_response_seconds,
        median_resolution_seconds=week.median_resolution_seconds,
        sla_attainment=week.sla_attainment,
        breaches=week.breaches,
        stale_reviews=sorted(stale, key=lambda s: (-s[2], s[0])),
        unowned_regressions=sorted(unowned, key=lambda u: (-u[2], u[0])),
        oldest_open=[(p.id, p.key, age_days(p.since, at=now)) for p in oldest],
        snoozed=sorted(
            ((p.id, p.key, p.since, p.by or "") for p in picture.snoozed if judged.listable[p.id]),
            key=lambda s: (s[2], s[0]),
        ),
        confidential_open=sum(row.confidential for row in picture.counts),
        previous=previous,
        hidden_stalled=(len(hidden_stalled), max(hidden_stalled, default=None)),
        hidden_unowned=(len(hidden_unowned), max(hidden_unowned, default=None)),
        top_rung=sorted(top, key=lambda t: (-t[2], t[0])),
    )


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


# --- what needs a decision, per request ------------------------------------------------------------


def age_days(created_at: datetime, *, at: datetime) -> int:
    """Whole days from `created_at` to `at`."""
    return int(seconds_between(created_at, at) // _DAY)


def stalled_days(
    silent_since: datetime | None, domain: str | None, config: Config, *, at: datetime
) -> tuple[int | None, bool]:
    """(whole days of silence, at the top of the ladder) of a security review whose ball holder has been silent
    since `silent_since`, when that silence reaches the review ladder of `domain`; (None, False) when it does not."""
    if silent_since is None:
        return None, False
    silent = seconds_between(silent_since, at) / _DAY
    steps = ladder(config, domain, RULE_STALE_REVIEW)
    rung = steps.reached(silent)
    return (int(silent), rung == steps.steps[-1]) if rung is not None else (None, False)


def unowned_hours(since: datetime, domain: str | None, config: Config, *, at: datetime) -> float:
    """Business hours (of `domain`'s calendar, one decimal) a regression filed at `since` has had no owner by `at`."""
    return round(config.calendar(domain).business_seconds(since, at) / 3600, 1)


def asked_unowned_hours(since: datetime, domain: str | None, config: Config, *, at: datetime) -> float | None:
    """`unowned_hours`, once the unowned rule has asked the regression's owners (its first step, in business hours);
    None before: a regression filed an hour ago needs no decision yet."""
    first = ladder(config, domain, RULE_UNOWNED).steps[0].at
    if config.calendar(domain).business_seconds(since, at) < first:
        return None
    return unowned_hours(since, domain, config, at=at)


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


def needs_decision(request: Request, facts: RequestFacts, config: Config, *, at: datetime) -> Decision:
    """The `Decision` of an open request as of `at` (no earlier than its facts' last change)."""
    stalled, top = stalled_days(facts.stalled_since, request.domain, config, at=at)
    unowned = (
        None if facts.unowned_since is None else asked_unowned_hours(facts.unowned_since, request.domain, config, at=at)
    )
    return Decision(stalled_days=stalled, unowned_hours=unowned, top=top, snoozed=snoozed_at(facts, now=at))


@dataclass(frozen=True)
class PrivateDigestEntry:
    """One confidential request as a private digest lists it: the request and what needs deciding."""

    request: Request
    age_days: int
    decision: Decision


def confidential_open(
    items: Iterable[tuple[Request, RequestFacts]], config: Config, *, now: datetime, scope: str | None, channel: str
) -> list[PrivateDigestEntry]:
    """Every open confidential request of domain `scope` (None: every domain) that `channel` may see, those
    needing a decision first (stalled longest, then unowned longest), then the oldest."""
    found = []
    for request, facts in items:
        if not (request.is_open and request.confidential) or (scope is not None and request.domain != scope):
            continue
        if visible_to(config, request, channel=channel):
            found.append(
                PrivateDigestEntry(
                    request, age_days(request.created_at, at=now), needs_decision(request, facts, config, at=now)
                )
            )
    return sorted(
        found,
        key=lambda x: (
            -(x.decision.stalled_days if x.decision.stalled_days is not None else -1),
            -(x.decision.unowned_hours if x.decision.unowned_hours is not None else -1),
            -x.age_days,
            x.request.id,
        ),
    )


def listed_everywhere(config: Config, channels: Sequence[str]) -> Callable[[Pending | ConfidentialRef], bool]:
    """Whether a request may be named in every one of `channels` (a confidential one only where each may see it,
    by the one visibility rule)."""

    def listable(row: Pending | ConfidentialRef) -> bool:
        if isinstance(row, Pending) and not row.confidential:
            return True
        return all(
            channel_sees_confidential(
                config, c, domain=row.domain, origin_channel=row.origin_channel, origin_private=row.origin_private
            )
            for c in channels
        )

    return listable

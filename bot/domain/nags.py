"""Which nags are due: SLA at risk or breached, stale security reviews and unowned regressions, and when the
next one can fall due (`next_check_at`). Each rule is in `bot.domain.nag_rules`, its thresholds in
`bot.domain.thresholds`, who is told in `bot.domain.courts`; what a nag says is `bot/blocks/nag_rules/`'s.

Pure: every function takes `now` (an aware datetime) and the request's events; nothing here reads the
clock, the database or Slack. The jobs ask `nags_due`, send the result (one message per person,
`batch`), then record each nag as an event and a (request, rule, step) notification, so that the
same run repeated sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from bot.domain.changes_nag import ChangeNag
from bot.domain.courts import escalation, unique
from bot.domain.history import (
    active_snoozes,
    is_unowned,
    request_sla,
    seconds_between,
    silent_since,
    waiting_since,
)
from bot.domain.models import NO_ANSWER, Away, Event, Request
from bot.domain.nag_facts import DAY, Cover, Offer
from bot.domain.nag_rules import CLOSE_STEP, Nag, candidates, quieted, repeat_not_before
from bot.domain.policy import Config
from bot.domain.thresholds import (
    ALL_RULES,
    REQUEST_RULES,
    RULE_AT_RISK,
    RULE_BREACHED,
    RULE_NO_ANSWER,
    RULE_STALE_REVIEW,
    RULE_UNOWNED,
    Ladder,
    thresholds,
)


def nags_due(
    items: Iterable[tuple[Request, Sequence[Event]]],
    config: Config,
    *,
    now: datetime,
    sent: Set[tuple[int, str, str]],
    rules: Set[str] = REQUEST_RULES,
) -> list[Nag]:
    """Every nag of `rules` due at `now` that is not in `sent` ((request id, rule, step) already recorded).

    Only open requests are considered; events after `now` are ignored. Per request and rule at most
    one step is returned: when several are due, the highest, naming everyone the lower ones would
    have named. A request snoozed past `now` gets none but P1 breaches. Most urgent first.
    """
    due: list[Nag] = []
    for request, events in items:
        if not request.is_open:
            continue
        seen = [e for e in events if e.at <= now]
        snoozes = active_snoozes(seen, config.nags, now=now)
        for nag in candidates(request, seen, config, now=now, rules=rules):
            if nag.sent_key not in sent and not quieted(nag, snoozes):
                due.append(nag)
    return _most_urgent_first(due)


def next_check_at(
    request: Request, events: Sequence[Event], config: Config, *, now: datetime, sent: Set[tuple[int, str, str]]
) -> datetime | None:
    """The earliest instant at which a nag not yet in `sent` could fall due for `request`.

    None when none can until the request changes (closed, paused, or every step sent). It is a lower
    bound: the jobs only look at requests whose instant has come, so checking early costs a little
    and missing is impossible — as long as every change of the request recomputes it.
    """
    if not request.is_open:
        return None
    seen = [e for e in events if e.at <= now]
    snoozes = active_snoozes(seen, config.nags, now=now)
    unsent = [n for n in candidates(request, seen, config, now=now, rules=REQUEST_RULES) if n.sent_key not in sent]
    if any(not quieted(n, snoozes) for n in unsent):
        return now
    ladders = thresholds(config, request.domain)
    later = [until for until, _ in snoozes] if unsent else []
    later += [
        at
        for at in (
            _next_sla_change(request, seen, config, ladders, now=now),
            _next_stale_change(request, seen, config, ladders, now=now),
            _next_unowned_change(request, seen, config, ladders, now=now),
            _next_waiting_change(request, seen, config, ladders, now=now),
        )
        if at is not None
    ]
    return min(later) if later else None


def _next_sla_change(
    request: Request, events: Sequence[Event], config: Config, ladders: dict[str, Ladder], *, now: datetime
) -> datetime | None:
    """When an unsatisfied target's clock next reaches a threshold (at risk, then breached), running."""
    if request.status == "waiting":
        return None  # the clock stands still until the requester answers (an event, which recomputes)
    sla = request_sla(request, events, config, now=now)
    calendar = config.calendar(request.domain)
    found = []
    for status in (sla.first_response, sla.resolution):
        elapsed, target = status.business_seconds_elapsed, status.target_seconds
        if status.satisfied_at is not None or ladders[RULE_BREACHED].reached(elapsed, scale=target):
            continue
        at = min(
            t
            for t in (ladders[r].next_after(elapsed, scale=target) for r in (RULE_AT_RISK, RULE_BREACHED))
            if t is not None
        )
        found.append(calendar.add_business_seconds(now, max(at - elapsed, 0.0)))
    return min(found) if found else None


def _next_stale_change(
    request: Request, events: Sequence[Event], config: Config, ladders: dict[str, Ladder], *, now: datetime
) -> datetime | None:
    """When the days of silence of a security review next reach a rung or a repeat."""
    if not request.is_security_review:
        return None
    since = silent_since(request, events, config)
    ladder = ladders[RULE_STALE_REVIEW]
    at = ladder.next_after(seconds_between(since, now) / DAY)
    if at is None:
        return None
    due = since + timedelta(days=at)
    after = repeat_not_before(events, config, request, ladder, since=since)
    return min(due, after) if after is not None and after > now else due  # a repeat held back falls due at `after`


def _next_unowned_change(
    request: Request, events: Sequence[Event], config: Config, ladders: dict[str, Ladder], *, now: datetime
) -> datetime | None:
    """When an unowned regression reaches its next step (the owners, then the lead) in business hours."""
    if not is_unowned(request, events):
        return None
    calendar = config.calendar(request.domain)
    at = ladders[RULE_UNOWNED].next_after(calendar.business_seconds(request.created_at, now))
    return calendar.add_business_seconds(request.created_at, at) if at is not None else None


def _next_waiting_change(
    request: Request, events: Sequence[Event], config: Config, ladders: dict[str, Ladder], *, now: datetime
) -> datetime | None:
    """When a request waiting on its requester reaches its next step (the reminder, then closing)."""
    since = waiting_since(events) if request.status == "waiting" else None
    if since is None:
        return None
    calendar = config.calendar(request.domain)
    at = ladders[RULE_NO_ANSWER].next_after(calendar.business_seconds(since, now))
    return calendar.add_business_seconds(since, at) if at is not None else None


def covered(
    nags: Sequence[Nag], away: Mapping[str, Away], requests: Mapping[int, Request], config: Config
) -> list[Nag]:
    """`nags` with each recipient who is away (`away`, by user) replaced by who covers for them: the stand-in they
    named, else the request's escalation (its lead); the nag's `away` says who is away and who covers. The requester
    is left as she is (she is told of her own request)."""
    out = []
    for nag in nags:
        request = requests.get(nag.request_id)
        gone = [u for u in nag.recipients if u in away and (request is None or u != request.requester)]
        if not gone or request is None:
            out.append(nag)
            continue
        stand_in = {
            u: ((away[u].cover,) if away[u].cover and away[u].cover not in away else escalation(request, config))
            for u in gone
        }
        people = unique(p for u in nag.recipients for p in (stand_in.get(u) or (u,)))
        away_now = tuple(Cover(u, away[u].until, tuple(stand_in[u])) for u in gone)
        out.append(replace(nag, recipients=people, away=away_now))
    return out


def still_applies(rule: str, step: str, request: Request | None) -> bool:
    """Whether a nag queued earlier (and held for working hours) is still worth sending: its request is
    open (an unowned regression's still has no owner; a reminder's still waits on its requester), or, for
    the news that it closed as no answer, still closed so."""
    if request is None:
        return False
    if rule == RULE_NO_ANSWER:
        closed = request.closed_as == NO_ANSWER and not request.is_open
        return closed if step.startswith(CLOSE_STEP) else request.status == "waiting"
    if not request.is_open:
        return False
    return not (rule == RULE_UNOWNED and request.owner is not None)


AnyNag = Nag | ChangeNag
"""A nag about a request, or about a change of the change log: both go in a person's one message of a run."""


def batch(nags: Sequence[AnyNag]) -> dict[str, list[AnyNag]]:
    """Recipient -> their nags (about requests and changes alike), most urgent first: one message per person per
    run (no nag storms).

    Recipients come in sorted order so that a run sends in the same order every time.
    """
    mine: dict[str, list[AnyNag]] = {}
    for nag in nags:
        for user in nag.recipients:
            mine.setdefault(user, []).append(nag)
    return {user: _most_urgent_first(mine[user]) for user in sorted(mine)}


N = TypeVar("N", Nag, ChangeNag, AnyNag)


def _most_urgent_first(nags: Iterable[N]) -> list[N]:
    return sorted(nags, key=lambda n: n.order)


__all__ = [
    "Nag",
    "AnyNag",
    "Offer",
    "nags_due",
    "next_check_at",
    "still_applies",
    "batch",
    "RULE_AT_RISK",
    "RULE_BREACHED",
    "RULE_STALE_REVIEW",
    "RULE_UNOWNED",
    "RULE_NO_ANSWER",
    "ALL_RULES",
    "REQUEST_RULES",
    "CLOSE_STEP",
]

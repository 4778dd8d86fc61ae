"""Which nags are due: SLA at risk or breached, stale security reviews and unowned regressions, and when the
next one can fall due (`next_check_at`). The rules decide; their thresholds are in `bot.domain.thresholds`,
who is told in `bot.domain.courts`, and what a nag says in `bot.domain.nag_text`.

Pure: every function takes `now` (an aware datetime) and the request's events; nothing here reads the
clock, the database or Slack. The jobs ask `nags_due`, send the result (one message per person,
`batch`), then record each nag as an event and a (request, rule, step) notification, so that the
same run repeated sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from bot.domain.changes_nag import ChangeNag
from bot.domain.courts import escalation, owners, review_audience, unique
from bot.domain.history import (
    active_snoozes,
    ball_silence,
    is_unowned,
    request_sla,
    seconds_between,
    silent_since,
    waiting_since,
)
from bot.domain.models import NO_ANSWER, PRIORITY_WEIGHT, Away, Event, Request
from bot.domain.nag_text import DAY, no_answer_text, review_text, sla_text, unowned_text
from bot.domain.policy import Config
from bot.domain.sla import SlaStatus
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

# Buttons a nag offers, as action ids (the same spelling as bot/blocks/ids.py).
OWN = "request.own"
DISCLAIM = "request.disclaim"
SNOOZE = "request.snooze"
HAND = "request.hand"
REOPEN = "request.reopen"
CLOSE_STEP = "close"
"""The step of requester.no_answer that closes the request (the jobs apply it, then tell)."""

_RULE_WEIGHT = {RULE_BREACHED: 4, RULE_UNOWNED: 3, RULE_AT_RISK: 2, RULE_STALE_REVIEW: 1, RULE_NO_ANSWER: 0}


@dataclass(frozen=True)
class Nag:
    """One reminder about one request, under one rule and step (sent once per request, rule and step).

    recipients: Slack user ids, de-duplicated, in a stable order (most directly concerned first).
    in_thread: also post in the request's card thread. urgency: sort key, higher first. urgent: a P1
    breach, which may go out outside working hours and which no snooze quiets. buttons: action ids to
    offer in a direct message (`OWN`, `DISCLAIM`, `SNOOZE`); deciders: the recipients who may also hand
    the request to someone (`HAND`: the lead, else the admins); thread_buttons: what the thread's copy
    offers.
    """

    request_id: int
    key: str
    rule: str
    step: str
    recipients: tuple[str, ...]
    in_thread: bool
    text: str
    urgency: int
    buttons: tuple[str, ...]
    urgent: bool
    deciders: tuple[str, ...] = ()
    thread_buttons: tuple[str, ...] = ()

    def buttons_for(self, user: str) -> tuple[str, ...]:
        """The buttons of `user`'s copy: a decider may also hand the request to someone."""
        return (*self.buttons, HAND) if user in self.deciders else self.buttons

    @property
    def sent_key(self) -> tuple[int, str, str]:
        """The (request id, rule, step) triple the jobs record once the nag is sent."""
        return (self.request_id, self.rule, self.step)

    @property
    def ref(self) -> str:
        """ "12/regression.unowned/owners": the nag in outbox keys."""
        return f"{self.request_id}/{self.rule}/{self.step}"

    @property
    def order(self) -> tuple[int, int, int, str, str]:
        """Most urgent first, then by request (before a change's nag of equal urgency), rule and step."""
        return (-self.urgency, 0, self.request_id, self.rule, self.step)

    @property
    def closes(self) -> bool:
        """Whether sending this nag closes its request (requester.no_answer's last step): the jobs close it first."""
        return self.rule == RULE_NO_ANSWER and self.step.startswith(CLOSE_STEP)


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
        for nag in _candidates(request, seen, config, now=now, rules=rules):
            if nag.sent_key not in sent and not _quieted(nag, snoozes):
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
    unsent = [n for n in _candidates(request, seen, config, now=now, rules=REQUEST_RULES) if n.sent_key not in sent]
    if any(not _quieted(n, snoozes) for n in unsent):
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
    after = _repeat_not_before(events, config, request, ladder, since=since)
    return min(due, after) if after is not None and after > now else due  # a repeat held back falls due at `after`


def _repeat_not_before(
    events: Sequence[Event], config: Config, request: Request, ladder: Ladder, *, since: datetime
) -> datetime | None:
    """A repeat of the stale-review nag comes no sooner than `repeat` days after the last one of the same silence was
    read: a nag recorded while the domain was closed (a Saturday) is read at its next opening (Monday), so the next
    repeat is counted from then, not from the Saturday (Monday, then Tuesday, would be two nags in two days)."""
    last = max(
        (
            e.at
            for e in events
            if e.type == "nag"
            and e.data.get("rule") == RULE_STALE_REVIEW
            and str(e.data.get("step", "")).endswith(f"@{_stamp(since)}")
        ),
        default=None,
    )
    if last is None or not ladder.repeat:
        return None
    calendar = config.calendar(request.domain)
    read = last if calendar.is_open(last) else calendar.next_opening(last)
    return read + timedelta(days=ladder.repeat)


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
    named, else the request's escalation (its lead). The text says who is away and who covers; the requester is
    left as she is (she is told of her own request)."""
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
        said = "; ".join(
            f"<@{u}> is away{_back(away[u])}: {' and '.join(f'<@{p}>' for p in stand_in[u])} covers" for u in gone
        )
        out.append(replace(nag, recipients=people, text=f"{nag.text} ({said})"))
    return out


def _back(away: Away) -> str:
    return f", back {away.until:%a %d %b}" if away.until else ""


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


def explain_batch(user: str, nags: Sequence[AnyNag]) -> str:
    """The plain (mrkdwn) text of `user`'s batched message; nags not addressed to `user` are left out."""
    ordered = _most_urgent_first([n for n in nags if user in n.recipients])
    if len(ordered) <= 1:
        return ordered[0].text if ordered else ""
    lines = [f"{len(ordered)} reminders, most urgent first:"]
    lines += [f"• {'URGENT ' if n.urgent else ''}{n.text}" for n in ordered]
    return "\n".join(lines)


# --- candidates per rule -----------------------------------------------------------------------


def _candidates(
    request: Request, events: Sequence[Event], config: Config, *, now: datetime, rules: Set[str]
) -> list[Nag]:
    """The nags each rule asks for; a rule is only evaluated when asked for (the SLA clock is the costly one)."""
    ladders = thresholds(config, request.domain)
    found = [*_sla_nags(request, events, config, ladders, now=now)] if rules & {RULE_AT_RISK, RULE_BREACHED} else []
    if RULE_STALE_REVIEW in rules and request.is_security_review:
        found.append(_stale_review_nag(request, events, config, ladders[RULE_STALE_REVIEW], now=now))
    if RULE_UNOWNED in rules and request.is_regression:
        found.append(_unowned_nag(request, events, config, ladders[RULE_UNOWNED], now=now))
    if RULE_NO_ANSWER in rules and request.status == "waiting":
        found.append(_no_answer_nag(request, events, config, ladders[RULE_NO_ANSWER], now=now))
    return [n for n in found if n is not None and n.rule in rules]


def _sla_nags(
    request: Request, events: Sequence[Event], config: Config, ladders: dict[str, Ladder], *, now: datetime
) -> list[Nag]:
    """sla.at_risk / sla.breached per target; first response has one cycle, resolution one per reopening."""
    sla = request_sla(request, events, config, now=now)
    cycle = 1 + sum(1 for e in events if e.type == "reopened")
    targets = (("first_response", sla.first_response, 1), ("resolution", sla.resolution, cycle))
    found = (_sla_nag(request, config, ladders, target=t, status=s, cycle=c, now=now) for t, s, c in targets)
    return [n for n in found if n is not None]


def _sla_nag(
    request: Request,
    config: Config,
    ladders: dict[str, Ladder],
    *,
    target: str,
    status: SlaStatus,
    cycle: int,
    now: datetime,
) -> Nag | None:
    if status.satisfied_at is not None:
        return None
    elapsed, scale = status.business_seconds_elapsed, status.target_seconds
    # whoever holds the ball: its assignee while the ball is with them, else (with the lead after a "Not mine",
    # nobody assigned) the escalation; a breach also tells the owner, who answers for it, and the escalation
    holds = request.assignee and request.court in ("assignee", "reviewer", "requester")
    at_risk_people = (request.assignee,) if holds else escalation(request, config)
    if ladders[RULE_BREACHED].reached(elapsed, scale=scale):
        rule, people = RULE_BREACHED, (*at_risk_people, request.owner, *escalation(request, config))
    elif ladders[RULE_AT_RISK].reached(elapsed, scale=scale) and request.status != "waiting":
        rule, people = RULE_AT_RISK, at_risk_people
    else:
        return None
    urgent = rule == RULE_BREACHED and request.priority == "P1"
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=rule,
        step=f"{target}/c{cycle}",
        recipients=unique(people),
        in_thread=True,
        text=sla_text(request, target=target, status=status, cycle=cycle, tz=config.calendar(request.domain).tz),
        urgency=_urgency(rule, request.priority, age_seconds=seconds_between(request.created_at, now)),
        buttons=() if urgent else (SNOOZE,),
        urgent=urgent,
    )


def _stale_review_nag(
    request: Request, events: Sequence[Event], config: Config, ladder: Ladder, *, now: datetime
) -> Nag | None:
    """review.stale: the highest ladder rung and repeat reached by the days the ball holder has been silent."""
    silence = ball_silence(request, events, config)
    since = silence.since
    silent_days = seconds_between(since, now) / DAY
    rung = ladder.reached(silent_days)
    if rung is None:
        return None
    number = ladder.steps.index(rung) + 1
    top = number == len(ladder.steps)
    repeat = ladder.repeats(silent_days, rung)
    if repeat and (after := _repeat_not_before(events, config, request, ladder, since=since)) and now < after:
        return None
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=RULE_STALE_REVIEW,
        step=f"{rung.name}/r{repeat}@{_stamp(since)}",
        recipients=review_audience(request, config, rung=number),
        in_thread=False,
        text=review_text(request, events, config, silence=silence, now=now, top=top),
        urgency=_urgency(RULE_STALE_REVIEW, request.priority, age_seconds=silent_days * DAY),
        buttons=(SNOOZE,),
        urgent=False,
    )


def _unowned_nag(
    request: Request, events: Sequence[Event], config: Config, ladder: Ladder, *, now: datetime
) -> Nag | None:
    """regression.unowned: both owners after H business hours, the lead too after 2H (at H once disclaimed)."""
    if not is_unowned(request, events):
        return None
    calendar = config.calendar(request.domain)
    elapsed = calendar.business_seconds(request.created_at, now)
    reached = ladder.reached(elapsed)
    if reached is None:
        return None
    disclaimed = bool(request.disclaimers) or any(e.type == "disclaimed" for e in events)
    deciders = escalation(request, config)
    if disclaimed:
        step, people, buttons, in_thread = "lead", deciders, (OWN, SNOOZE), (OWN, HAND)
    elif reached.name == "lead":
        step, people, buttons, in_thread = (
            "lead",
            (*owners(request, config), *deciders),
            (OWN, DISCLAIM, SNOOZE),
            (OWN, DISCLAIM, HAND),
        )
    else:
        step, people, buttons, in_thread = (
            "owners",
            owners(request, config) or deciders,
            (OWN, DISCLAIM, SNOOZE),
            (OWN, DISCLAIM),
        )
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=RULE_UNOWNED,
        step=step,
        recipients=unique(people),
        in_thread=True,
        text=unowned_text(request, events, config, step=step, disclaimed=disclaimed, elapsed=elapsed, tz=calendar.tz),
        urgency=_urgency(RULE_UNOWNED, request.priority, age_seconds=elapsed),
        buttons=buttons,
        urgent=False,
        deciders=deciders if step == "lead" else (),
        thread_buttons=in_thread,
    )


def _no_answer_nag(
    request: Request, events: Sequence[Event], config: Config, ladder: Ladder, *, now: datetime
) -> Nag | None:
    """requester.no_answer: the requester reminded after N business days of waiting; closed at 2N."""
    since = waiting_since(events)
    if since is None:
        return None
    calendar = config.calendar(request.domain)
    waited = calendar.business_seconds(since, now)
    reached = ladder.reached(waited)
    if reached is None:
        return None
    closing = calendar.add_business_seconds(since, ladder.steps[-1].at)
    stamp = f"{reached.name}@{_stamp(since)}"
    closes = reached.name == CLOSE_STEP
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=RULE_NO_ANSWER,
        step=stamp,
        recipients=(request.requester,),
        in_thread=True,
        text=no_answer_text(request, since=since, closing=closing, closed=closes, tz=calendar.tz),
        urgency=_urgency(RULE_NO_ANSWER, request.priority, age_seconds=waited),
        buttons=(REOPEN,) if closes else (),
        urgent=False,
        thread_buttons=(REOPEN,) if closes else (),
    )


# --- snoozes and ordering ------------------------------------------------------------------------


def _quieted(nag: Nag, snoozes: Sequence[tuple[datetime, str | None]]) -> bool:
    """Whether a running snooze covers the nag: all rules, its rule, or a prefix ("sla"). P1 breaches never."""
    if nag.urgent:
        return False
    return any(rule is None or nag.rule == rule or nag.rule.startswith(f"{rule}.") for _, rule in snoozes)


def _stamp(at: datetime) -> str:
    """`at` in UTC to the second, in a step's name: the silence or the wait the step belongs to."""
    return f"{at.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def _urgency(rule: str, priority: str, *, age_seconds: float) -> int:
    """Rule first (breach > unowned regression > at risk > stale review), then priority, then age in minutes."""
    minutes = min(max(int(age_seconds // 60), 0), 10**10 - 1)
    return _RULE_WEIGHT[rule] * 10**12 + PRIORITY_WEIGHT.get(priority, 1) * 10**10 + minutes


N = TypeVar("N", Nag, ChangeNag, AnyNag)


def _most_urgent_first(nags: Iterable[N]) -> list[N]:
    return sorted(nags, key=lambda n: n.order)


__all__ = [
    "Nag",
    "AnyNag",
    "nags_due",
    "next_check_at",
    "still_applies",
    "batch",
    "explain_batch",
    "OWN",
    "DISCLAIM",
    "SNOOZE",
    "HAND",
    "RULE_AT_RISK",
    "RULE_BREACHED",
    "RULE_STALE_REVIEW",
    "RULE_UNOWNED",
    "RULE_NO_ANSWER",
    "ALL_RULES",
    "REQUEST_RULES",
    "REOPEN",
    "CLOSE_STEP",
]

"""Each request nag rule on its own: what it finds due for one request at `now` — a `Nag`, with the facts its
words are made of (`bot.domain.nag_facts`) and what it offers. `bot.domain.nags` asks every rule, drops what was
sent or is snoozed, and schedules the next look.

Pure: every function takes `now` (an aware datetime) and the request's events.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.domain.courts import COURTS, ball_holders, escalation, owners, review_audience, unique
from bot.domain.history import ball_silence, court_seconds, is_unowned, request_sla, seconds_between, waiting_since
from bot.domain.models import PRIORITY_WEIGHT, Event, Request
from bot.domain.nag_facts import (
    DAY,
    Ask,
    Cover,
    NagFacts,
    NoAnswerFacts,
    Offer,
    ReviewFacts,
    SlaFacts,
    UnownedFacts,
)
from bot.domain.policy import Config
from bot.domain.sla import SlaStatus
from bot.domain.thresholds import (
    RULE_AT_RISK,
    RULE_BREACHED,
    RULE_NO_ANSWER,
    RULE_STALE_REVIEW,
    RULE_UNOWNED,
    Ladder,
    thresholds,
)

CLOSE_STEP = "close"
"""The step of requester.no_answer that closes the request (the jobs apply it, then tell)."""

_RULE_WEIGHT = {RULE_BREACHED: 4, RULE_UNOWNED: 3, RULE_AT_RISK: 2, RULE_STALE_REVIEW: 1, RULE_NO_ANSWER: 0}


@dataclass(frozen=True)
class Nag:
    """One reminder about one request, under one rule and step (sent once per request, rule and step).

    recipients: Slack user ids, de-duplicated, in a stable order (most directly concerned first).
    in_thread: also post in the request's card thread. facts: what it says, as data. urgency: sort key, higher
    first. urgent: a P1 breach, which may go out outside working hours and which no snooze quiets. offers: what a
    direct message offers (`Offer.TAKE`, `Offer.NOT_MINE`, `Offer.SNOOZE`); deciders: the recipients who may also
    hand the request to someone (`Offer.HAND`: the lead, else the admins); thread_offers: what the thread's copy
    offers. away: the recipients who are away, and who covers for them (`covered`).
    """

    request_id: int
    key: str
    rule: str
    step: str
    recipients: tuple[str, ...]
    in_thread: bool
    facts: NagFacts
    urgency: int
    offers: tuple[Offer, ...]
    urgent: bool
    deciders: tuple[str, ...] = ()
    thread_offers: tuple[Offer, ...] = ()
    away: tuple[Cover, ...] = ()

    def offers_for(self, user: str) -> tuple[Offer, ...]:
        """What `user`'s copy offers: a decider may also hand the request to someone."""
        return (*self.offers, Offer.HAND) if user in self.deciders else self.offers

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


def candidates(
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
    tz = config.calendar(request.domain).tz
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=rule,
        step=f"{target}/c{cycle}",
        recipients=unique(people),
        in_thread=True,
        facts=SlaFacts(request.key, target, cycle, status, unassigned=request.assignee is None, tz=tz.key),
        urgency=urgency(rule, request.priority, age_seconds=seconds_between(request.created_at, now)),
        offers=() if urgent else (Offer.SNOOZE,),
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
    repeat = ladder.repeats(silent_days, rung)
    if repeat and (after := repeat_not_before(events, config, request, ladder, since=since)) and now < after:
        return None
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=RULE_STALE_REVIEW,
        step=f"{rung.name}/r{repeat}@{stamp(since)}",
        recipients=review_audience(request, config, rung=number),
        in_thread=False,
        facts=_review_facts(
            request, events, config, silence.since, silence.asks, now=now, top=number == len(ladder.steps)
        ),
        urgency=urgency(RULE_STALE_REVIEW, request.priority, age_seconds=silent_days * DAY),
        offers=(Offer.SNOOZE,),
        urgent=False,
    )


def _review_facts(
    request: Request,
    events: Sequence[Event],
    config: Config,
    since: datetime,
    asks: Sequence[tuple[str, datetime]],
    *,
    now: datetime,
    top: bool,
) -> ReviewFacts:
    """The review's days open, the whole days it waited on each court (a day or more; most first), who holds the
    ball and is silent since `since`, and who asked meanwhile (latest first, with the requester's last words)."""
    courts = sorted(
        ((s, c) for c, s in court_seconds(events, now=now).items() if c in COURTS and c != "nobody" and s >= DAY),
        key=lambda sc: (-sc[0], sc[1]),
    )
    latest: dict[str, tuple[datetime, int]] = {}
    for who, at in asks:
        latest[who] = (at, latest.get(who, (at, 0))[1] + 1)
    told = tuple(
        Ask(who, seconds_between(at, now), times, requester=who == request.requester)
        for who, (at, times) in sorted(latest.items(), key=lambda item: item[1][0], reverse=True)
    )
    said = [
        e
        for e in events
        if e.type in ("commented", "replied")
        and e.actor in (request.requester, request.reporter)
        and e.at >= since
        and e.data.get("text")
    ]  # what she asked, in her words (every reader of the ladder's direct messages may see the request)
    return ReviewFacts(
        request.key,
        open_seconds=seconds_between(request.created_at, now),
        courts=tuple((c, s) for s, c in courts),
        holders=tuple(ball_holders(request, config)),
        silent_seconds=seconds_between(since, now),
        asks=told,
        last_said=str(said[-1].data["text"]) if told and said else None,
        top=top,
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
    said = [(d.by, d.reason) for d in request.disclaimers] or [
        (e.actor, str(e.data.get("reason", ""))) for e in events if e.type == "disclaimed"
    ]
    disclaimed = bool(request.disclaimers) or any(e.type == "disclaimed" for e in events)
    deciders = escalation(request, config)
    take, not_mine, snooze, hand = Offer.TAKE, Offer.NOT_MINE, Offer.SNOOZE, Offer.HAND
    if disclaimed:
        step, people, offers, in_thread = "lead", deciders, (take, snooze), (take, hand)
    elif reached.name == "lead":
        step, people = "lead", (*owners(request, config), *deciders)
        offers, in_thread = (take, not_mine, snooze), (take, not_mine, hand)
    else:
        step, people = "owners", owners(request, config) or deciders
        offers, in_thread = (take, not_mine, snooze), (take, not_mine)
    facts = UnownedFacts(
        request.key,
        elapsed=elapsed,
        filed=request.created_at,
        tz=calendar.tz.key,
        step=step,
        owners=tuple(owners(request, config)),
        lead=tuple(deciders),
        disclaimers=tuple(said) if disclaimed else (),
    )
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=RULE_UNOWNED,
        step=step,
        recipients=unique(people),
        in_thread=True,
        facts=facts,
        urgency=urgency(RULE_UNOWNED, request.priority, age_seconds=elapsed),
        offers=offers,
        urgent=False,
        deciders=deciders if step == "lead" else (),
        thread_offers=in_thread,
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
    closes = reached.name == CLOSE_STEP
    return Nag(
        request_id=request.id,
        key=request.key,
        rule=RULE_NO_ANSWER,
        step=f"{reached.name}@{stamp(since)}",
        recipients=(request.requester,),
        in_thread=True,
        facts=NoAnswerFacts(request.key, request.requester, since, closing, closed=closes, tz=calendar.tz.key),
        urgency=urgency(RULE_NO_ANSWER, request.priority, age_seconds=waited),
        offers=(Offer.REOPEN,) if closes else (),
        urgent=False,
        thread_offers=(Offer.REOPEN,) if closes else (),
    )


def repeat_not_before(
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
            and str(e.data.get("step", "")).endswith(f"@{stamp(since)}")
        ),
        default=None,
    )
    if last is None or not ladder.repeat:
        return None
    calendar = config.calendar(request.domain)
    read = last if calendar.is_open(last) else calendar.next_opening(last)
    return read + timedelta(days=ladder.repeat)


def quieted(nag: Nag, snoozes: Sequence[tuple[datetime, str | None]]) -> bool:
    """Whether a running snooze covers the nag: all rules, its rule, or a prefix ("sla"). P1 breaches never."""
    if nag.urgent:
        return False
    return any(rule is None or nag.rule == rule or nag.rule.startswith(f"{rule}.") for _, rule in snoozes)


def stamp(at: datetime) -> str:
    """`at` in UTC to the second, in a step's name: the silence or the wait the step belongs to."""
    return f"{at.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def urgency(rule: str, priority: str, *, age_seconds: float) -> int:
    """Rule first (breach > unowned regression > at risk > stale review), then priority, then age in minutes."""
    minutes = min(max(int(age_seconds // 60), 0), 10**10 - 1)
    return _RULE_WEIGHT[rule] * 10**12 + PRIORITY_WEIGHT.get(priority, 1) * 10**10 + minutes

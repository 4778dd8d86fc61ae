"""Which nags are due, to whom, and what they say: SLA at risk or breached, stale security reviews and
unowned regressions (DESIGN.md "Nags").

Pure: every function takes `now` (an aware datetime) and the request's events; nothing here reads the
clock, the database or Slack. The service asks `nags_due`, sends the result (one message per person,
`batch`), then records each nag as an event and a (request, rule, step) notification, so that the
same run repeated sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from math import floor
from zoneinfo import ZoneInfo

from bot.domain.history import court_seconds, last_human_action, request_sla, seconds_between
from bot.domain.models import PRIORITY_WEIGHT, Event, Request
from bot.domain.policy import Config, Nags
from bot.domain.sla import SlaStatus, explain, hours_text, local_when
from bot.domain.text import escape, truncate

RULE_AT_RISK = "sla.at_risk"
RULE_BREACHED = "sla.breached"
RULE_STALE_REVIEW = "review.stale"
RULE_UNOWNED = "regression.unowned"

# Buttons a nag offers, as action ids (the same spelling as bot/blocks/ids.py).
OWN = "request.own"
DISCLAIM = "request.disclaim"
SNOOZE = "request.snooze"

SNOOZED = "snoozed"
"""Event type the service records for a snooze; data {"until": ISO time, "rule": optional rule or prefix}."""

_DAY = 86400.0
_RULE_WEIGHT = {RULE_BREACHED: 4, RULE_UNOWNED: 3, RULE_AT_RISK: 2, RULE_STALE_REVIEW: 1}
_COURT_WORDS = {"requester": "the requester", "assignee": "the assignee", "reviewer": "security",
                "owners": "the owners", "lead": "the lead", "triage": "triage"}


@dataclass(frozen=True)
class Nag:
    """One reminder about one request, under one rule and step (sent once per request, rule and step).

    recipients: Slack user ids, de-duplicated, in a stable order (most directly concerned first).
    in_thread: also post in the request's card thread. to_digest: shown in the org digest (top review
    rung). urgency: sort key, higher first. urgent: a P1 breach, which may go out outside working hours
    and which no snooze quiets. buttons: action ids to offer (`OWN`, `DISCLAIM`, `SNOOZE`).
    """

    request_id: int
    key: str
    rule: str
    step: str
    recipients: tuple[str, ...]
    in_thread: bool
    to_digest: bool
    text: str
    urgency: int
    buttons: tuple[str, ...]
    urgent: bool

    @property
    def sent_key(self) -> tuple[int, str, str]:
        """The (request id, rule, step) triple the service records once the nag is sent."""
        return (self.request_id, self.rule, self.step)


def nags_due(
    items: Iterable[tuple[Request, Sequence[Event]]],
    config: Config,
    *,
    now: datetime,
    sent: Set[tuple[int, str, str]],
    rules: Set[str] = frozenset({RULE_AT_RISK, RULE_BREACHED, RULE_STALE_REVIEW, RULE_UNOWNED}),
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
        snoozes = _active_snoozes(seen, config.nags, now=now)
        for nag in _candidates(request, seen, config, now=now, rules=rules):
            if nag.sent_key not in sent and not _quieted(nag, snoozes):
                due.append(nag)
    return _most_urgent_first(due)


ALL_RULES = frozenset({RULE_AT_RISK, RULE_BREACHED, RULE_STALE_REVIEW, RULE_UNOWNED})


def next_check_at(request: Request, events: Sequence[Event], config: Config, *, now: datetime,
                  sent: Set[tuple[int, str, str]]) -> datetime | None:
    """The earliest instant at which a nag not yet in `sent` could fall due for `request`.

    None when none can until the request changes (closed, paused, or every step sent). It is a lower
    bound: the jobs only look at requests whose instant has come, so checking early costs a little
    and missing is impossible — as long as every change of the request recomputes it.
    """
    if not request.is_open:
        return None
    seen = [e for e in events if e.at <= now]
    snoozes = _active_snoozes(seen, config.nags, now=now)
    unsent = [n for n in _candidates(request, seen, config, now=now, rules=ALL_RULES) if n.sent_key not in sent]
    if any(not _quieted(n, snoozes) for n in unsent):
        return now
    later = [until for until, _ in snoozes] if unsent else []
    later += [at for at in (_next_sla_change(request, seen, config, now=now), _next_stale_change(request, seen, config, now=now),
                            _next_unowned_change(request, seen, config, now=now)) if at is not None]
    return min(later) if later else None


def _next_sla_change(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> datetime | None:
    """When the next SLA threshold (at risk, then breached) of an unsatisfied target is reached, clock running."""
    if request.status == "waiting":
        return None  # the clock stands still until the requester answers (an event, which recomputes)
    sla = request_sla(request, events, config, now=now)
    ratio = config.sla_policy(request.domain).at_risk
    calendar = config.calendar(request.domain)
    found = []
    for status in (sla.first_response, sla.resolution):
        if status.satisfied_at is not None or status.state == "breached":
            continue
        threshold = status.target_seconds * (ratio if status.state == "on_track" else 1.0)
        found.append(calendar.add_business_seconds(now, max(threshold - status.business_seconds_elapsed, 0.0)))
    return min(found) if found else None


def _next_stale_change(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> datetime | None:
    """When the days of silence of a security review next reach a rung or a repeat."""
    if not request.is_security_review:
        return None
    since = silent_since(request, events)
    silent = seconds_between(since, now) / _DAY
    starts, repeat = _rung_starts(config.nags), config.nags.review_repeat_days
    offsets = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else float("inf")
        first = start if silent < start else start + (floor((silent - start) / repeat) + 1) * repeat
        if first < end:
            offsets.append(first)
    return since + timedelta(days=min(offsets)) if offsets else None


def _next_unowned_change(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> datetime | None:
    """When an unowned regression reaches H, then 2H, business hours."""
    if not request.is_regression or not is_unowned(request, events):
        return None
    calendar = config.calendar(request.domain)
    elapsed = calendar.business_seconds(request.created_at, now)
    threshold = config.nags.regression_unowned_hours * 3600
    for step in (threshold, 2 * threshold):
        if elapsed < step:
            return calendar.add_business_seconds(request.created_at, step)
    return None


def batch(nags: Sequence[Nag]) -> dict[str, list[Nag]]:
    """Recipient -> their nags, most urgent first: one message per person per run (no nag storms).

    Recipients come in sorted order so that a run sends in the same order every time.
    """
    mine: dict[str, list[Nag]] = {}
    for nag in nags:
        for user in nag.recipients:
            mine.setdefault(user, []).append(nag)
    return {user: _most_urgent_first(mine[user]) for user in sorted(mine)}


def explain_batch(user: str, nags: Sequence[Nag]) -> str:
    """The plain (mrkdwn) text of `user`'s batched message; nags not addressed to `user` are left out."""
    ordered = _most_urgent_first([n for n in nags if user in n.recipients])
    if len(ordered) <= 1:
        return ordered[0].text if ordered else ""
    lines = [f"{len(ordered)} reminders, most urgent first:"]
    lines += [f"• {'URGENT ' if n.urgent else ''}{n.text}" for n in ordered]
    return "\n".join(lines)


# --- facts the digest shares -------------------------------------------------------------------


def silent_since(request: Request, events: Sequence[Event]) -> datetime:
    """When a person last worked on the request (its creation when the log is empty).

    Nags and alerts are not activity, and neither is a snooze: snoozing quiets the ladder for a few
    days but does not restart it.
    """
    return last_human_action([e for e in events if e.type != SNOOZED]) or request.created_at


def is_unowned(request: Request, events: Sequence[Event]) -> bool:
    """A regression nobody has accepted: no owner, and no "owned" event still standing.

    An "owned" event followed by a "disclaimed" one (the owner said "Not mine") no longer stands.
    """
    if not request.is_regression or request.owner is not None:
        return False
    last = next((e.type for e in reversed(events) if e.type in ("owned", "disclaimed")), None)
    return last != "owned"


def snoozed_until(events: Sequence[Event], config: Config, *, now: datetime) -> datetime | None:
    """The latest end of any snooze still running at `now` (each bounded by `snooze_max_days`)."""
    return max((until for until, _ in _active_snoozes(events, config.nags, now=now)), default=None)


# --- candidates per rule -----------------------------------------------------------------------


def _candidates(request: Request, events: Sequence[Event], config: Config, *, now: datetime, rules: Set[str]) -> list[Nag]:
    """The nags each rule asks for; a rule is only evaluated when asked for (the SLA clock is the costly one)."""
    found = [*_sla_nags(request, events, config, now=now)] if rules & {RULE_AT_RISK, RULE_BREACHED} else []
    if RULE_STALE_REVIEW in rules and request.is_security_review:
        found.append(_stale_review_nag(request, events, config, now=now))
    if RULE_UNOWNED in rules and request.is_regression:
        found.append(_unowned_nag(request, events, config, now=now))
    return [n for n in found if n is not None and n.rule in rules]


def _sla_nags(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> list[Nag]:
    """sla.at_risk / sla.breached per target; first response has one cycle, resolution one per reopening."""
    sla = request_sla(request, events, config, now=now)
    cycle = 1 + sum(1 for e in events if e.type == "reopened")
    tz = config.calendar(request.domain).tz
    targets = (("first_response", sla.first_response, 1), ("resolution", sla.resolution, cycle))
    found = (_sla_nag(request, config, target=t, status=s, cycle=c, tz=tz, now=now) for t, s, c in targets)
    return [n for n in found if n is not None]


def _sla_nag(request: Request, config: Config, *, target: str, status: SlaStatus, cycle: int,
             tz: ZoneInfo, now: datetime) -> Nag | None:
    at_risk_people = (request.assignee,) if request.assignee else _escalation(request, config)
    if status.state == "breached":
        rule, people = RULE_BREACHED, (*at_risk_people, request.assignee, *_escalation(request, config))
    elif status.state == "at_risk" and request.status != "waiting":
        rule, people = RULE_AT_RISK, at_risk_people
    else:
        return None
    urgent = rule == RULE_BREACHED and request.priority == "P1"
    return Nag(
        request_id=request.id, key=request.key, rule=rule, step=f"{target}/c{cycle}",
        recipients=_unique(people), in_thread=True, to_digest=False,
        text=_sla_text(request, target=target, status=status, cycle=cycle, tz=tz),
        urgency=_urgency(rule, request.priority, age_seconds=seconds_between(request.created_at, now)),
        buttons=() if urgent else (SNOOZE,), urgent=urgent,
    )


def _sla_text(request: Request, *, target: str, status: SlaStatus, cycle: int, tz: ZoneInfo) -> str:
    """E.g. "AIR-12 first response at risk: due Tue 24 Nov 14:00, 3 business hours elapsed of 4, paused
    2 h waiting on the requester"."""
    label = target.replace("_", " ") + (f" (cycle {cycle}, after reopening)" if cycle > 1 else "")
    text = f"{request.key} {label} {explain(status, tz=tz)}"
    if status.paused_seconds > 0:
        text += " waiting on the requester"
    if request.assignee is None:
        text += "; nobody is assigned"
    return text


def _stale_review_nag(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> Nag | None:
    """review.stale: the highest ladder rung and repeat reached by the days of silence."""
    if not request.is_security_review:
        return None
    since = silent_since(request, events)
    silent_days = seconds_between(since, now) / _DAY
    if silent_days < config.nags.review_stale_days:
        return None
    starts = _rung_starts(config.nags)
    rung = max(n for n, start in enumerate(starts, 1) if start <= silent_days)
    repeat = floor((silent_days - starts[rung - 1]) / config.nags.review_repeat_days)
    top = rung == len(starts)
    text = _review_text(request, events, config, since=since, now=now)
    return Nag(
        request_id=request.id, key=request.key, rule=RULE_STALE_REVIEW,
        step=f"rung{rung}/r{repeat}@{since.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
        recipients=_review_audience(request, config, rung=rung), in_thread=False, to_digest=top,
        text=text + ("; shown in the org digest" if top else ""),
        urgency=_urgency(RULE_STALE_REVIEW, request.priority, age_seconds=silent_days * _DAY),
        buttons=(SNOOZE,), urgent=False,
    )


def _rung_starts(settings: Nags) -> list[float]:
    """Days of silence at which each rung begins; rung 1 begins by `review_stale_days` at the latest."""
    starts: list[float] = sorted(settings.review_ladder_days) or [settings.review_stale_days]
    starts[0] = min(starts[0], settings.review_stale_days)
    return starts


def _review_audience(request: Request, config: Config, *, rung: int) -> tuple[str, ...]:
    """Rung 1: the ball-holder and the reviewers; 2: + requester and assignee; 3+: + lead and both owners."""
    domain = config.domain(request.domain)
    people = [*ball_holders(request, config), *(domain.reviewers if domain else ())]
    if rung >= 2:
        people += [request.requester, request.assignee]
    if rung >= 3:
        people += [*_escalation(request, config), *_owners(request, config)]
    return _unique(people)


def _review_text(request: Request, events: Sequence[Event], config: Config, *, since: datetime, now: datetime) -> str:
    """E.g. "AIR-7 security review: 63 days open: 51 waiting on security, 9 on the requester; last human
    action 19 days ago; ball with <@U0SEC1>"."""
    age = _days(seconds_between(request.created_at, now))
    courts = sorted(((s, c) for c, s in court_seconds(events, now=now).items() if c in _COURT_WORDS and s >= _DAY),
                    key=lambda sc: (-sc[0], sc[1]))
    spent = ", ".join(f"{int(s // _DAY)} {'waiting ' if i == 0 else ''}on {_COURT_WORDS[c]}"
                      for i, (s, c) in enumerate(courts))
    holders = " ".join(f"<@{u}>" for u in ball_holders(request, config)) or "nobody"
    silent = _days(seconds_between(since, now))
    return (f"{request.key} security review: {age} open" + (f": {spent}" if spent else "")
            + f"; last human action {silent} ago; ball with {holders}")


def _unowned_nag(request: Request, events: Sequence[Event], config: Config, *, now: datetime) -> Nag | None:
    """regression.unowned: both owners after H business hours, the lead too after 2H (at H once disclaimed)."""
    if not is_unowned(request, events):
        return None
    calendar = config.calendar(request.domain)
    elapsed = calendar.business_seconds(request.created_at, now)
    threshold = config.nags.regression_unowned_hours * 3600
    if elapsed < threshold:
        return None
    disclaimed = bool(request.disclaimers) or any(e.type == "disclaimed" for e in events)
    if disclaimed:
        step, people, buttons = "lead", _escalation(request, config), (OWN, SNOOZE)
    elif elapsed >= 2 * threshold:
        step, people, buttons = "lead", (*_owners(request, config), *_escalation(request, config)), (OWN, DISCLAIM, SNOOZE)
    else:
        step, people, buttons = "owners", _owners(request, config) or _escalation(request, config), (OWN, DISCLAIM, SNOOZE)
    return Nag(
        request_id=request.id, key=request.key, rule=RULE_UNOWNED, step=step, recipients=_unique(people),
        in_thread=True, to_digest=False,
        text=_unowned_text(request, events, config, step=step, disclaimed=disclaimed, elapsed=elapsed, tz=calendar.tz),
        urgency=_urgency(RULE_UNOWNED, request.priority, age_seconds=elapsed), buttons=buttons, urgent=False,
    )


def _unowned_text(request: Request, events: Sequence[Event], config: Config, *, step: str, disclaimed: bool,
                  elapsed: float, tz: ZoneInfo) -> str:
    """E.g. "AIR-5 regression has no owner after 4 business hours (filed Mon 23 Nov 10:00): take
    ownership, or say why it is not yours"."""
    head = f"{request.key} regression has no owner after {hours_text(elapsed)} business hours (filed {local_when(request.created_at, tz=tz)})"
    lead = " ".join(f"<@{u}>" for u in _escalation(request, config))
    if disclaimed:
        return f"{head}; {_disclaimers(request, events)}; {lead} decides who owns it"
    if step == "lead":
        return f"{head}: take ownership, or say why it is not yours; escalated to {lead}"
    return f"{head}: take ownership, or say why it is not yours"


def _disclaimers(request: Request, events: Sequence[Event]) -> str:
    """"<@U0PPM> says it is not theirs: “reason”", the reasons escaped (they are user text)."""
    said = [(d.by, d.reason) for d in request.disclaimers] or [
        (e.actor, str(e.data.get("reason", ""))) for e in events if e.type == "disclaimed"]
    return "; ".join(f"<@{by}> says it is not theirs: “{escape(truncate(reason, 200))}”" for by, reason in said)


# --- people --------------------------------------------------------------------------------------


def ball_holders(request: Request, config: Config) -> tuple[str, ...]:
    """Who holds the ball of an open request, by its court (DESIGN "Ball in court").

    requester -> the requester; reviewer/assignee -> the assignee, else the domain's reviewers
    (security reviews) or engineers; lead -> the lead; owners -> product and platform owner;
    triage -> the admins. An empty answer falls back to the escalation (lead, else admins).
    """
    domain = config.domain(request.domain)
    match request.court:
        case "requester":
            people: tuple[str, ...] = (request.requester,)
        case "lead":
            people = _escalation(request, config)
        case "owners":
            people = _owners(request, config)
        case "triage":
            people = tuple(config.admins)
        case _:
            pool = (domain.reviewers if request.is_security_review else domain.engineers) if domain else []
            people = (request.assignee,) if request.assignee else tuple(pool)
    return _unique(people) or _escalation(request, config)


def _escalation(request: Request, config: Config) -> tuple[str, ...]:
    """The domain lead, else the org admins (unrouted requests, or a domain without a lead)."""
    domain = config.domain(request.domain)
    return (domain.lead,) if domain and domain.lead else tuple(config.admins)


def _owners(request: Request, config: Config) -> tuple[str, ...]:
    domain = config.domain(request.domain)
    return _unique((domain.product_owner, domain.platform_owner)) if domain else ()


def _unique(people: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty ids, first occurrence kept."""
    return tuple(dict.fromkeys(p for p in people if p))


# --- snoozes, ordering, wording ------------------------------------------------------------------


def _active_snoozes(events: Sequence[Event], settings: Nags, *, now: datetime) -> list[tuple[datetime, str | None]]:
    """(until, rule) of each snooze running at `now`; a snooze lasts at most `snooze_max_days`."""
    cap = timedelta(days=settings.snooze_max_days)
    active: list[tuple[datetime, str | None]] = []
    for event in events:
        until = _instant(event.data.get("until")) if event.type == SNOOZED else None
        if until is not None and min(until, _utc(event.at) + cap) > now:
            active.append((min(until, _utc(event.at) + cap), event.data.get("rule")))
    return active


def _quieted(nag: Nag, snoozes: Sequence[tuple[datetime, str | None]]) -> bool:
    """Whether a running snooze covers the nag: all rules, its rule, or a prefix ("sla"). P1 breaches never."""
    if nag.urgent:
        return False
    return any(rule is None or nag.rule == rule or nag.rule.startswith(f"{rule}.") for _, rule in snoozes)


def _instant(value: object) -> datetime | None:
    """An aware datetime from an ISO string or datetime (naive means UTC); None when unreadable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.utcoffset() is not None else value.replace(tzinfo=timezone.utc)


def _urgency(rule: str, priority: str, *, age_seconds: float) -> int:
    """Rule first (breach > unowned regression > at risk > stale review), then priority, then age in minutes."""
    minutes = min(max(int(age_seconds // 60), 0), 10**10 - 1)
    return _RULE_WEIGHT[rule] * 10**12 + PRIORITY_WEIGHT.get(priority, 1) * 10**10 + minutes


def _most_urgent_first(nags: Iterable[Nag]) -> list[Nag]:
    return sorted(nags, key=lambda n: (-n.urgency, n.request_id, n.rule, n.step))


def _utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc)



def _days(seconds: float) -> str:
    days = int(seconds // _DAY)
    return "1 day" if days == 1 else f"{days} days"



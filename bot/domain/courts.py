"""Whose court the ball is in, and who is told: the courts, the ball holders, the escalation, the
owners, the stale-review ladder's audiences and who hears of an unanswered change. The card's "Ball in court" and the nags share these.

Pure: the request and the config decide.
"""

from collections.abc import Iterable
from typing import get_args

from bot.domain.models import Court, Request
from bot.domain.owners import lead_of, owners_of
from bot.domain.policy import Config

COURTS: tuple[Court, ...] = get_args(Court)
"""Every court the ball can be in (how each reads to people: `bot.blocks.words.COURT_LABEL`)."""


def ball_holders(request: Request, config: Config) -> tuple[str, ...]:
    """Who holds the ball of an open request, by its court.

    requester -> the requester; reviewer/assignee -> the assignee, else the domain's reviewers
    (security reviews) or engineers; lead -> the lead; owners -> product and platform owner;
    triage -> the admins. An empty answer falls back to the escalation (lead, else admins).
    """
    domain = config.domain(request.domain)
    match request.court:
        case "requester":
            people: tuple[str, ...] = (request.requester,)
        case "lead":
            people = escalation(request, config)
        case "owners":
            people = owners(request, config)
        case "triage":
            people = tuple(config.admins)
        case _:
            pool = (domain.reviewers if request.is_security_review else domain.engineers) if domain else []
            people = (request.assignee,) if request.assignee else tuple(pool)
    return unique(people) or escalation(request, config)


def escalation(request: Request, config: Config) -> tuple[str, ...]:
    """The domain lead, else the org admins (unrouted requests, or a domain without a lead)."""
    return change_escalation(config, request.domain)


def owners(request: Request, config: Config) -> tuple[str, ...]:
    """The request's product owner and platform owner: its asset's pair when it names a catalog asset (each
    owner the asset leaves out is the domain's), else the domain's (`owners_of`)."""
    pair = owners_of(request, config)
    return unique((pair.product, pair.platform))


def change_escalation(config: Config, domain: str | None) -> tuple[str, ...]:
    """Who an unanswered change of `domain` escalates to, as a request of it does: its lead, else the org admins."""
    lead = lead_of(config, domain)
    return (lead,) if lead else tuple(config.admins)


def change_audience(asked: str | None, escalated: tuple[str, ...], *, step: str) -> tuple[str, ...]:
    """Who a `change.unacknowledged` step names: `asked` (the person asked about the change, the asset's owner
    of the other side when it names one); at the `lead` step, the escalation too."""
    return unique((asked, *(escalated if step == "lead" else ())))


def review_audience(request: Request, config: Config, *, rung: int) -> tuple[str, ...]:
    """Who a stale review's rung names. Rung 1: the ball holder and the reviewers; 2: + the requester and
    the assignee; 3 and up: + the lead and both owners."""
    domain = config.domain(request.domain)
    people = [*ball_holders(request, config), *(domain.reviewers if domain else ())]
    if rung >= 2:
        people += [request.requester, request.assignee]
    if rung >= 3:
        people += [*escalation(request, config), *owners(request, config)]
    return unique(people)


def unique(people: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty ids, first occurrence kept."""
    return tuple(dict.fromkeys(p for p in people if p))

"""How each action changes a request: pure transitions that say what changes, the event, and what the thread is told.

A transition raises Conflict when the request's state does not allow it; the service authorizes,
applies the change with a version check and records the event. What the thread is told is facts (which
line, and what it names); `bot.blocks.lines` words them when the line is sent.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import Conflict, InvalidInput
from bot.domain.history import SNOOZED, ball_silence, snoozed_until
from bot.domain.models import NO_ANSWER, Disclaimer, Event, Reason, Request
from bot.domain.policy import Config
from bot.domain.errors import moment

REASON_LIMIT = 500
# Actions by a domain member that count as the first response (docs/concepts.md, SLA: claim, status change, thread reply).
NOTIFY_LEVELS = ("all", "important", "none")
TOLD_REQUESTER = {
    "claimed": "all",
    "reassigned": "all",
    "moved": "all",
    "handed": "all",
    "reopened": "all",
    "review_started": "all",
    "waiting": "important",
    "review_changes_requested": "important",
    "resolved": "important",
    "review_approved": "important",
    "withdrawn": "important",
    "duplicate": "important",
}
"""What the requester is told of, by direct message, at each level of `notify` (`all` also hears who works it and
where it went; `important` only what asks something of her or ends it; `none` nothing)."""


def tells_requester(event: str, level: str) -> bool:
    """Whether the requester, at `level` ("all", "important", "none"), is told of an `event` someone else caused."""
    told = TOLD_REQUESTER.get(event)
    return told is not None and (level == "all" or level == told == "important")


FIRST_RESPONSE_ACTIONS = frozenset(
    {"claim", "wait", "resolve", "review", "comment", "own", "disclaim", "hand", "reassign"}
)
"""What a person of the request's side (or one of its owners) does that is its first response: claim, wait on the
requester, resolve, a review step, a thread reply, take ownership, "Not mine", hand it over or reassign it."""


@dataclass(frozen=True)
class Transition:
    """What an action does to a request: the fields it changes (`updates`), the event it records (with its `data`),
    and the line its thread is told: `line` names it (None: the thread is told nothing) and `said` holds the
    facts it names besides who acted (`bot.blocks.lines` words them)."""

    updates: dict[str, Any]
    event: str
    data: dict[str, Any] = field(default_factory=dict)
    line: str | None = None
    said: dict[str, Any] = field(default_factory=dict)


def working_court(request: Request) -> str:
    """Whose court an open request is in when nobody is waiting on the requester."""
    if request.assignee is None:
        return "triage" if request.domain is None else "lead"
    return "reviewer" if request.is_security_review else "assignee"


def _require_open(request: Request, verb: str) -> None:
    if not request.is_open:
        raise Conflict(f"{request.key} is {request.status}; reopen it before you {verb} it.")


def claim(request: Request, actor: str) -> Transition:
    _require_open(request, "claim")
    if request.status == "claimed" and request.assignee == actor:
        raise Conflict(f"You have already claimed {request.key}.")
    if request.status == "claimed":
        raise Conflict(f"{request.key} was already claimed by <@{request.assignee}>.")
    updates: dict[str, Any] = {"status": "claimed", "assignee": actor}
    if request.is_regression and request.owner is None:
        updates["owner"] = actor
    updates["court"] = working_court(request.model_copy(update=updates))
    data = {"assignee": actor, "previous": request.assignee}
    return Transition(updates, "claimed", data, line="claimed", said={"owns": "owner" in updates})


def reassign(request: Request, actor: str, to: str) -> Transition:
    _require_open(request, "reassign")
    if to == request.assignee:
        raise Conflict(f"{request.key} is already assigned to <@{to}>.")
    updates: dict[str, Any] = {"assignee": to}
    if request.status != "waiting":
        updates["court"] = working_court(request.model_copy(update=updates))
    return Transition(updates, "reassigned", {"from": request.assignee, "to": to}, line="reassigned", said={"to": to})


def wait(request: Request, actor: str) -> Transition:
    _require_open(request, "pause")
    if request.status == "waiting":
        raise Conflict(f"{request.key} is already waiting on <@{request.requester}>.")
    return Transition(
        {"status": "waiting", "court": "requester"}, "waiting", line="waiting", said={"requester": request.requester}
    )


def resolve(request: Request, actor: str, now: datetime) -> Transition:
    _require_open(request, "resolve")
    return Transition({"status": "resolved", "court": "nobody", "resolved_at": now}, "resolved", line="resolved")


def withdraw(request: Request, actor: str, now: datetime) -> Transition:
    """The requester no longer needs it: declined, nobody's court."""
    _require_open(request, "withdraw")
    return Transition({"status": "declined", "court": "nobody", "resolved_at": now}, "withdrawn", line="withdrawn")


def snooze(
    request: Request, actor: str, events: Sequence[Event], config: Config, *, now: datetime, days: float
) -> Transition:
    """Quiet this request's nags (P1 breaches still go out) for `days` more: from the end of the snooze
    still running, else from `now`; never past `snooze_max_days` from the first press in the ball
    holder's current silence. Only the first press of a silence is told in the thread; pressing again
    extends quietly. Conflict when the snooze already lasts as long as it may."""
    _require_open(request, "snooze")
    settings, tz = config.nags, config.calendar(request.domain).tz
    silence = ball_silence(request, events, config).since
    presses = [e.at for e in events if e.type == SNOOZED and e.at >= silence]
    first = presses[0] if presses else now
    cap = first + timedelta(days=settings.snooze_max_days)
    running = snoozed_until(events, config, now=now)
    until = min(max(running or now, now) + timedelta(days=days), cap)
    if until <= (running or now):
        raise Conflict(
            f"{request.key} cannot be snoozed any longer: a snooze lasts at most {settings.snooze_max_days} days "
            f"from the first press (<@{_presser(events, first)}>, {moment(first, tz=tz)}). "
            "Act on it, or hand it on."
        )
    data = {"until": until.isoformat(), "first": first.isoformat()}
    if presses:  # pressed again in this silence: extended quietly
        return Transition({}, "snoozed", data)
    return Transition({}, "snoozed", data, line="snoozed", said={"until": until.isoformat(), "tz": tz.key})


def _presser(events: Sequence[Event], at: datetime) -> str:
    return next((e.actor for e in events if e.type == SNOOZED and e.at == at), "you")


def close_unanswered(request: Request) -> Transition:
    """Waiting on the requester for too long: closed (declined) as no answer; the requester may reopen it."""
    if request.status != "waiting":
        raise Conflict(f"{request.key} is {request.status}, not waiting on its requester.")
    return Transition(
        {"status": "declined", "court": "nobody", "closed_as": NO_ANSWER}, "closed", {"reason": NO_ANSWER}
    )


def reopen(request: Request, actor: str) -> Transition:
    if request.is_open:
        raise Conflict(f"{request.key} is still {request.status}.")
    status = "claimed" if request.assignee else "open"
    updates: dict[str, Any] = {"status": status, "resolved_at": None, "closed_as": None}
    if request.is_security_review and request.stage in ("approved", "changes_requested"):
        updates["stage"] = "in_review"
    updates["court"] = working_court(request.model_copy(update=updates))
    return Transition(updates, "reopened", line="reopened")


def own(request: Request, actor: str) -> Transition:
    """The actor accepts the request. When nobody works it (nobody is assigned, or triage's pick never claimed it),
    or the ball was with the lead after a "Not mine", the owner becomes its assignee too: the ball is with them, not
    the lead nor someone merely suggested."""
    _require_open(request, "take ownership of")
    if request.owner == actor:
        raise Conflict(f"You already own {request.key}.")
    updates: dict[str, Any] = {"owner": actor}
    data: dict[str, Any] = {"previous": request.owner, "owner": actor}
    if request.assignee is None or request.court == "lead" or (request.status == "open" and request.assignee != actor):
        updates["assignee"] = data["assignee"] = actor
        if request.status != "waiting":
            updates["court"] = working_court(request.model_copy(update=updates))
    return Transition(updates, "owned", data, line="owned")


def hand(request: Request, actor: str, to: str) -> Transition:
    """The lead decides who owns a regression nobody would take: `to` becomes its owner and its assignee."""
    _require_open(request, "hand")
    if not request.is_regression:
        raise Conflict(f"{request.key} is not a regression; reassign it instead.")
    if request.owner == to and request.assignee == to:
        raise Conflict(f"<@{to}> already owns {request.key}.")
    updates: dict[str, Any] = {"owner": to, "assignee": to}
    if request.status != "waiting":
        updates["court"] = working_court(request.model_copy(update=updates))
    data = {
        "to": to,
        "owner": to,
        "assignee": to,
        "previous_owner": request.owner,
        "previous_assignee": request.assignee,
    }
    return Transition(updates, "handed", data, line="handed", said={"to": to})


def disclaim(request: Request, actor: str, reason: str, now: datetime) -> Transition:
    _require_open(request, 'answer "Not mine" for')
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why it is not yours, so the lead can decide.", field="reason")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(f"Keep the reason under {REASON_LIMIT} characters.", field="reason")
    disclaimers = [*request.disclaimers, Disclaimer(by=actor, reason=reason, at=now)]
    updates: dict[str, Any] = {"disclaimers": disclaimers, "court": "lead"}
    if request.owner == actor:
        updates["owner"] = None
    return Transition(updates, "disclaimed", {"reason": reason}, line="disclaimed")


REVIEW_STEPS = {
    # action: (allowed from stages, new stage, event, what it cannot be when refused)
    "start": (("requested", "changes_requested"), "in_review", "review_started", "started"),
    "approve": (("requested", "in_review"), "approved", "review_approved", "approved"),
    "changes": (("requested", "in_review"), "changes_requested", "review_changes_requested", "requested"),
}


def review(request: Request, actor: str, step: str, now: datetime) -> Transition:
    if not request.is_security_review:
        raise Conflict(f"{request.key} is not a security review.")
    _require_open(request, "review")
    allowed, stage, event, verb = REVIEW_STEPS[step]
    if request.stage not in allowed:
        raise Conflict(f"{request.key} is {str(request.stage).replace('_', ' ')}; it cannot be {verb} now.")
    updates: dict[str, Any] = {"stage": stage}
    if stage == "approved":
        updates.update(status="resolved", resolved_at=now, court="nobody")
    elif stage == "changes_requested":
        updates.update(status="waiting", court="requester")
    else:
        updates.update(status="claimed", assignee=request.assignee or actor, court="reviewer")
    return Transition(updates, event, line=event)


def comment(request: Request, actor: str, *, member: bool) -> Transition:
    """A thread reply. The requester answering while `waiting` hands the ball back."""
    updates: dict[str, Any] = {}
    if actor == request.requester and request.closed_as == NO_ANSWER and not request.is_open:
        reopened = reopen(request, actor)
        return Transition(reopened.updates, "reopened", {"by": "requester", "answered": True}, line="answered_reopened")
    if actor == request.requester and request.status == "waiting":
        updates["status"] = "claimed" if request.assignee else "open"
        updates["court"] = working_court(request.model_copy(update=updates))
        if request.is_security_review and request.stage == "changes_requested":
            updates["stage"] = "in_review"
        return Transition(updates, "replied", {"by": "requester"}, line="replied")
    by = (
        "member"
        if member
        else "requester"
        if actor == request.requester
        else "reporter"
        if actor == request.reporter
        else "other"
    )
    return Transition(updates, "commented", {"by": by})


def move(
    request: Request, actor: str, *, to: str, assignee: str | None, channel: str, reasons: list[Reason], told: list[str]
) -> Transition:
    """Move the request to the domain `to`: its assignee (None: everyone there is away), its card's channel (the
    card is posted there again: no ts yet) and triage's reasons change; status, priority, owner and the SLA
    clock carry on. The thread line, under the new card, names `told` (the new domain's engineers)."""
    _require_open(request, "move")
    if to == request.domain:
        raise Conflict(f"{request.key} is already in {to}.")
    updates: dict[str, Any] = {
        "domain": to,
        "assignee": assignee,
        "card_channel": channel,
        "card_ts": None,
        "card_permalink": None,
        "route_reasons": reasons,
    }
    if request.status != "waiting":
        updates["court"] = working_court(request.model_copy(update=updates))
    if request.status == "claimed" and assignee != request.assignee:
        updates["status"] = "open"  # the new assignee has not claimed it
    data = {"from": request.domain, "to": to, "assignee": assignee, "previous": request.assignee}
    said = {"from": request.domain, "told": list(told), "assignee": assignee}
    return Transition(updates, "moved", data, line="moved", said=said)


def set_kind(request: Request, actor: str, kind: str) -> Transition:
    """A member corrects the kind triage read (open or closed: the history and what triage learns stay true). A
    security review starts at `requested`; another kind has no review stage. The court follows while it is open."""
    if kind == request.kind:
        raise Conflict(f"{request.key} is a {kind.replace('_', ' ')} already.")
    updates: dict[str, Any] = {"kind": kind, "stage": "requested" if kind == "security_review" else None}
    if request.is_open and request.status != "waiting":
        updates["court"] = working_court(request.model_copy(update=updates))
    data = {"from": request.kind, "to": kind}
    return Transition(updates, "kind_changed", data, line="kind_changed", said=data)


def set_priority(request: Request, actor: str, priority: str) -> Transition:
    """A member corrects the priority (the SLA targets follow it from now on)."""
    if priority == request.priority:
        raise Conflict(f"{request.key} is {priority} already.")
    data = {"from": request.priority, "to": priority}
    return Transition({"priority": priority}, "priority_changed", data, line="priority_changed", said=data)

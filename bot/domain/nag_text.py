"""What nags say: each rule's explanation of one nag, in words people read. Wording only: which nags are
due, and to whom, is decided in `bot.domain.nags`.

User text (a "Not mine" reason) is escaped here; ids are mentions; times are local to the domain's zone.
"""

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.blocks.change_text import QUESTIONS, describe, shipper
from bot.domain.changes import ChangeState
from bot.domain.courts import COURT_LABEL, ball_holders, escalation, owners
from bot.domain.history import Silence, court_seconds, seconds_between
from bot.domain.models import Event, Request
from bot.domain.policy import Config
from bot.domain.sla import SlaStatus, explain, hours_text, local_when
from bot.domain.text import escape, truncate

DAY = 86400.0


def sla_text(request: Request, *, target: str, status: SlaStatus, cycle: int, tz: ZoneInfo) -> str:
    """E.g. "AIR-12 first response at risk: due Tue 24 Nov 14:00, 3 business hours elapsed of 4, paused
    2 h waiting on the requester"."""
    label = target.replace("_", " ") + (f" (cycle {cycle}, after reopening)" if cycle > 1 else "")
    text = f"{request.key} {label} {explain(status, tz=tz)}"
    if status.paused_seconds > 0:
        text += " waiting on the requester"
    if request.assignee is None:
        text += "; nobody is assigned"
    return text


def review_text(
    request: Request, events: Sequence[Event], config: Config, *, silence: Silence, now: datetime, top: bool
) -> str:
    """E.g. "AIR-7 security review: 63 days open: 51 waiting on security, 9 on the requester; ball with
    <@U0SEC1>, silent for 19 days; <@U0ANA> asked for an update 2 days ago"; the ladder's `top` rung says
    it is in the org digest."""
    opened = days(seconds_between(request.created_at, now))
    courts = sorted(
        ((s, c) for c, s in court_seconds(events, now=now).items() if c in COURT_LABEL and c != "nobody" and s >= DAY),
        key=lambda sc: (-sc[0], sc[1]),
    )
    spent = ", ".join(
        f"{int(s // DAY)} {'waiting ' if i == 0 else ''}on {COURT_LABEL[c]}" for i, (s, c) in enumerate(courts)
    )
    holders = " ".join(f"<@{u}>" for u in ball_holders(request, config)) or "nobody"
    silent = days(seconds_between(silence.since, now))
    text = (
        f"{request.key} security review: {opened} open"
        + (f": {spent}" if spent else "")
        + f"; ball with {holders}, silent for {silent}"
    )
    if silence.asks:
        text += "; " + asked(request, silence.asks, now=now)
        said = [
            e
            for e in events
            if e.type in ("commented", "replied")
            and e.actor in (request.requester, request.reporter)
            and e.at >= silence.since
            and e.data.get("text")
        ]
        if said:  # what she asked, in her words (every reader of the ladder's direct messages may see the request)
            text += f"; last asked: “{escape(truncate(' '.join(str(said[-1].data['text']).split()), 200))}”"
    return text + ("; shown in the org digest" if top else "")


def asked(request: Request, asks: Sequence[tuple[str, datetime]], *, now: datetime) -> str:
    """Who spoke up while the ball holder was silent, latest first: "<@U0ANA> asked for an update 2 days ago
    (3 times)"; the requester asks for an update, anyone else wrote in the thread."""
    latest: dict[str, tuple[datetime, int]] = {}
    for who, at in asks:
        latest[who] = (at, latest.get(who, (at, 0))[1] + 1)
    parts = []
    for who, (at, times) in sorted(latest.items(), key=lambda item: item[1][0], reverse=True):
        verb = "asked for an update" if who == request.requester else "wrote in the thread"
        parts.append(
            f"<@{who}> {verb} {age(seconds_between(at, now))} ago" + (f" ({times} times)" if times > 1 else "")
        )
    return "; ".join(parts)


def unowned_text(
    request: Request,
    events: Sequence[Event],
    config: Config,
    *,
    step: str,
    disclaimed: bool,
    elapsed: float,
    tz: ZoneInfo,
) -> str:
    """E.g. "AIR-5 regression has had no owner for 4 business hours (filed Mon 23 Nov 10:00): <@U0PPM> or
    <@U0MLPM>, take ownership, or say why it is not yours". Both owners are named in every copy (the
    thread's and each direct message), so each sees that the other was asked too."""
    head = f"{request.key} regression has had no owner for {hours_text(elapsed)} business hours (filed {local_when(request.created_at, tz=tz)})"
    lead = " or ".join(f"<@{u}>" for u in escalation(request, config))
    if disclaimed:
        return f"{head}; {disclaimers(request, events)}; {lead}: take it, or hand it to someone"
    asked = " or ".join(f"<@{u}>" for u in owners(request, config)) or lead
    if step == "lead":
        return f"{head}: {asked}, take ownership, or say why it is not yours; escalated to {lead}"
    return f"{head}: {asked}, take ownership, or say why it is not yours"


def no_answer_text(request: Request, *, since: datetime, closing: datetime, closed: bool, tz: ZoneInfo) -> str:
    """The reminder, e.g. "AIR-3 has waited on <@U0ANA> since Mon 23 Nov 10:00: answer in the thread, or it
    closes as no answer on Thu 26 Nov 10:00"; and, once that came, "AIR-3 closed as no answer …"."""
    if closed:
        return (
            f"{request.key} closed as no answer: it waited on <@{request.requester}> since {local_when(since, tz=tz)}. "
            "Answer in the thread, or reopen it, to pick it up again"
        )
    return (
        f"{request.key} has waited on <@{request.requester}> since {local_when(since, tz=tz)}: answer in the thread, "
        f"or it closes as no answer on {local_when(closing, tz=tz)}"
    )


def unacknowledged_text(state: ChangeState, *, escalated_to: Sequence[str], tz: ZoneInfo) -> str:
    """E.g. "CHG-7 has waited 2 business days for an answer from <@U0MLPM>: Product shipped *express-refund
    intent* (intent) in support (<@U0PPM>, Mon 23 Nov 10:00). Does the prompt/eval suite cover it?", and at
    the lead's step " Escalated to <@U0LEAD>."."""
    change = state.change
    n = int(state.waiting_business_days)
    text = (
        f"{change.id} has waited {n} business day{'' if n == 1 else 's'} for an answer from <@{state.asked}>: "
        f"{change.side.capitalize()} shipped {describe(change)} in {escape(change.domain)} "
        f"({shipper(change)}, {local_when(change.at, tz=tz)}). {QUESTIONS[change.side]}"
    )
    return text + (f" Escalated to {' and '.join(f'<@{u}>' for u in escalated_to)}." if escalated_to else "")


def disclaimers(request: Request, events: Sequence[Event]) -> str:
    """ "<@U0PPM> says it is not theirs: “reason”", the reasons escaped (they are user text)."""
    said = [(d.by, d.reason) for d in request.disclaimers] or [
        (e.actor, str(e.data.get("reason", ""))) for e in events if e.type == "disclaimed"
    ]
    return "; ".join(f"<@{by}> says it is not theirs: “{escape(truncate(reason, 200))}”" for by, reason in said)


def age(seconds: float) -> str:
    """How old something is, for people: "40 minutes", "5 hours", "1 day", "19 days"."""
    if seconds < 3600:
        n = max(int(seconds // 60), 0)
        return "1 minute" if n == 1 else f"{n} minutes"
    if seconds < DAY:
        n = int(seconds // 3600)
        return "1 hour" if n == 1 else f"{n} hours"
    return days(seconds)


def days(seconds: float) -> str:
    """Whole days for people: "1 day", "19 days"."""
    n = int(seconds // DAY)
    return "1 day" if n == 1 else f"{n} days"

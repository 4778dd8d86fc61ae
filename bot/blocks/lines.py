"""What the use cases queue as facts, worded when it is sent: the lines in a request's thread that say what someone
did to it, and the messages to people about requests (the requester's news, "noted", "which one?", a cover's list).

A transition (`bot.domain.workflow.Transition`) names its line and the facts it names (`said`); the use case
queues them (`storage.outbox.Told`) and the sender words them here (`told_text`), at the moment they go out.
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import changes as alerts
from bot.blocks import messages
from bot.blocks.change_text import closure_text
from bot.domain.changes_loop import AlertReport, Closure
from bot.domain.models import Away, Request
from bot.domain.policy import Config
from bot.blocks.words import local_when
from storage.outbox import Told

Facts = Mapping[str, Any]


def _claimed(by: str, f: Facts) -> str:
    return f"<@{by}> claimed this" + (" and owns it" if f.get("owns") else "") + "."


def _moved(by: str, f: Facts) -> str:
    whom = " ".join(f"<@{p}>" for p in f.get("told", []))
    assignee = f.get("assignee")
    held = (
        f"assigned to <@{assignee}>" if assignee else "nobody is assigned: everyone is away, so it waits for the lead"
    )
    return f"<@{by}> moved this here from {f.get('from') or 'triage'}. {whom}: it is yours now ({held})."


def _resolved(by: str, f: Facts) -> str:
    closure = f.get("closure")
    said = f" Closed with {closure_text(Closure.model_validate(closure))}." if closure else ""
    return f"<@{by}> resolved this.{said}"


def _snoozed(by: str, f: Facts) -> str:
    until = local_when(datetime.fromisoformat(f["until"]), tz=ZoneInfo(f["tz"]))
    return f"<@{by}> snoozed reminders until {until}."


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _spaced(value: Any) -> str:
    return str(value).replace("_", " ")


LINES: dict[str, Callable[[str, Facts], str]] = {
    "claimed": _claimed,
    "reassigned": lambda by, f: f"<@{by}> reassigned this to <@{f['to']}>.",
    "waiting": lambda by, f: f"<@{by}> is waiting on <@{f['requester']}>; the SLA clock is paused.",
    "resolved": _resolved,
    "withdrawn": lambda by, f: f"<@{by}> withdrew this request.",
    "snoozed": _snoozed,
    "reopened": lambda by, f: f"<@{by}> reopened this.",
    "owned": lambda by, f: f"<@{by}> took ownership.",
    "handed": lambda by, f: f"<@{by}> handed this to <@{f['to']}>, who owns it now.",
    "disclaimed": lambda by, f: f"<@{by}> says this is not theirs; the lead decides.",
    "review_started": lambda by, f: f"<@{by}> started the security review.",
    "review_approved": lambda by, f: f"<@{by}> approved the security review.",
    "review_changes_requested": lambda by, f: f"<@{by}> requested changes.",
    "answered_reopened": lambda by, f: f"<@{by}> answered; reopened and back with the team.",
    "replied": lambda by, f: f"<@{by}> answered; back with the team.",
    "moved": _moved,
    "kind_changed": lambda by, f: f"<@{by}> changed the kind from {_spaced(f['from'])} to {_spaced(f['to'])}.",
    "priority_changed": lambda by, f: f"<@{by}> changed the priority from {f['from']} to {f['to']}.",
    "triage_confirmed": lambda by, f: f"<@{by}> confirmed triage's {f['what']}: {_spaced(f['value'])}.",
    "edited": lambda by, f: f"<@{by}> edited {', '.join(f.get('fields', [])) or 'nothing'}.",
    "duplicate": lambda by, f: f"<@{by}> closed this as a duplicate of {f['of']}.",
    "duplicate_linked": lambda by, f: f"{f['duplicate']} was closed as a duplicate of this.",
    # what a monitoring tool (`by`: the hook source) reports of the regression it filed (`bot.blocks.changes`)
    "alert_state": lambda by, f: alerts.state_line(by, AlertReport(f["outcome"], changes=f["changes"])),
    "alert_reopened": lambda by, f: alerts.reopened_line(
        by, closed_at=_when(f["closed_at"]), now=datetime.fromisoformat(f["at"])
    ),
    "alert_filed_again": lambda by, f: alerts.filed_again_line(
        by, key=f["key"], closed_at=_when(f["closed_at"]), now=datetime.fromisoformat(f["at"])
    ),
    "alert_raised": lambda by, f: alerts.raised_line(by, before=f["before"], after=f["after"]),
}
"""Each thread line by name: who did it (`by`) and the facts it names, in words (mrkdwn)."""


def thread_line(what: str, by: str, facts: Facts) -> str:
    """The line `what` (a key of `LINES`) that `by` caused, naming `facts`."""
    return LINES[what](by, facts)


def _cover(told: Told, request: Request | None, config: Config, others: list[Request]) -> str:
    f = told.facts
    until = date.fromisoformat(f["until"]) if f.get("until") else None
    return messages.cover_text(Away(f["user"], until, cover=f.get("cover")), others, config, to=f["to"])


def _news(told: Told, request: Request | None, config: Config, others: list[Request]) -> str:
    assert request is not None, "the requester's news is queued with its request"
    f = told.facts
    original = others[0] if others else None
    return messages.requester_news(request, f["event"], f["data"], config, actor=told.by, original=original)


MESSAGES: dict[str, Callable[[Told, Request | None, Config, list[Request]], str]] = {
    "news": _news,
    "everyone_away": lambda t, r, c, o: messages.everyone_away(
        r or o[0], c, domain=t.facts["domain"], who=t.facts["who"], to=t.facts["to"]
    ),
    "noted": lambda t, r, c, o: messages.noted(o[0], c, user=t.by, channel=t.facts.get("channel")),
    "which": lambda t, r, c, o: messages.which(o, c, user=t.by, channel=t.facts.get("channel")),
    "asked": lambda t, r, c, o: messages.asked_line(
        r or o[0], t.by, t.facts["text"], quoted=t.facts["quoted"], direct=t.facts["direct"]
    ),
    "cover": _cover,
    "reply_cut": lambda t, r, c, o: messages.reply_cut(t.facts["key"], limit=t.facts["limit"]),
    "saved_cut": lambda t, r, c, o: messages.saved_cut(t.facts["key"], t.facts["cut"]),
    "card_not_posted": lambda t, r, c, o: messages.card_not_posted(
        t.facts["key"], channel=t.facts["channel"], error=t.facts["error"]
    ),
}
"""Each message to a person (or line) that needs more than who did it: the facts, the item's request (`r`) and the
other requests it names (`o`, in the order queued), in words."""


def told_text(
    told: Told, *, request: Request | None, config: Config, others: Callable[[list[int]], Mapping[int, Request]]
) -> str:
    """What `told` says, worded now: `request` is the item's, `others` reads the requests it names (by id)."""
    if told.what in LINES:
        return thread_line(told.what, told.by, told.facts)
    found = others(told.requests) if told.requests else {}
    named = [found[i] for i in told.requests if i in found]
    return MESSAGES[told.what](told, request, config, named)


__all__ = ["LINES", "MESSAGES", "thread_line", "told_text"]

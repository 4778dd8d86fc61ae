"""The lines in a request's thread that say what someone did to it, worded from their facts when they are sent.

A transition (`bot.domain.workflow.Transition`) names its line and the facts it names (`said`); the use case
queues them (`storage.outbox.Told`) and the sender words them here, at the moment the line goes out.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.changes_loop import Closure, closure_text
from bot.domain.sla import local_when

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
}
"""Each thread line by name: who did it (`by`) and the facts it names, in words (mrkdwn)."""


def thread_line(what: str, by: str, facts: Facts) -> str:
    """The line `what` (a key of `LINES`) that `by` caused, naming `facts`."""
    return LINES[what](by, facts)


__all__ = ["LINES", "thread_line"]

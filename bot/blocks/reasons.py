"""Why a request is where it is, in words: the reasons triage and the moves give as facts (`models.Reason`), worded
for the card's routing line and the filed reply. "routed to support (mentions refund)", "assigned to <@U0ENG1>
(fewest open: 0)", "priority P2 (regression default)". The phrases a reason quotes are the request's own words:
escaped here.
"""

from collections.abc import Sequence

from bot.domain.models import Reason, Request
from bot.domain.text import escape_within

CHOSEN_BY = {
    "form": "chosen in the form",
    "hook": "named by the hook that filed it",
    "change": "the domain of the change it is about",
}
"""Who named the domain of a request routed where it was told to."""
TIE = {"least_recent": "assigned least recently", "first_listed": "first listed"}
"""How a tie between the lightest loads was broken."""


def quoted(fragments: Sequence[str], limit: int = 2) -> str:
    """'stopped answering … since this morning': the fragments found, escaped."""
    return "'" + " … ".join(escape_within(f, 40) for f in fragments[:limit]) + "'"


def _like(reason: Reason) -> str:
    """ "like AIR-12 and AIR-40" (requests the team settled), else "like 'refund bot is telling…'" (a seed example),
    else "like past requests"."""
    if reason.keys:
        return "like " + " and ".join(reason.keys)
    return f"like '{escape_within(reason.example, 50)}'" if reason.example else "like past requests"


def _kind_why(reason: Reason) -> str:
    if reason.how == "cues":
        return quoted(reason.terms)
    if reason.how == "examples":
        return _like(reason)
    return "nothing in the words said otherwise"


def _routed_why(reason: Reason) -> str:
    if reason.how == "channel":
        return f"filed in <#{reason.channel}>"
    if reason.how == "keywords":
        return f"mentions {', '.join(reason.terms)}"
    if reason.how == "examples":
        return _like(reason)
    if reason.how == "vocabulary":
        return f"like past {reason.domain} requests: {', '.join(reason.terms)}"
    return CHOSEN_BY.get(reason.how or "form", CHOSEN_BY["form"])


def _assigned_why(reason: Reason) -> str | None:
    if reason.how == "load":
        why = (
            f"fewest open: {reason.count}"
            if not reason.load
            else f"lightest load: {reason.count} open, weighted {reason.load}"
        )
        return f"{why}; {TIE[reason.tie]}" if reason.tie in TIE else why
    if reason.how == "picked":
        return f"picked by <@{reason.by}>"
    if reason.how == "platform_owner":
        return f"the platform owner, for {reason.change}"
    return None


def _priority_why(reason: Reason) -> str:
    if reason.how == "urgent":
        return f"urgent: {quoted(reason.terms)}"
    if reason.how == "raised":
        return f"raised from {reason.default}: mentions {', '.join(reason.terms)}"
    if reason.how == "default":
        return f"{(reason.of or '').replace('_', ' ')} default"
    return reason.how or "chosen"  # "chosen", "kept"


def reason_text(reason: Reason) -> str:
    """One reason in words; one an earlier version stored as a sentence, as it is."""
    if reason.text is not None:
        return reason.text
    if reason.kind == "kind":
        return f"{(reason.of or '').replace('_', ' ')}: {_kind_why(reason)}"
    if reason.kind == "routed":
        return f"routed to {reason.domain} ({_routed_why(reason)})"
    if reason.kind == "unrouted":
        return "unrouted: no domain matched, so it waits in triage"
    if reason.kind == "assigned":
        why = _assigned_why(reason)
        return f"assigned to <@{reason.user}>" + (f" ({why})" if why else "")
    if reason.kind == "unassigned":
        if reason.how == "filer":
            return f"filed by {reason.domain}'s only {reason.role} at hand, so it waits for the lead"
        return f"every {reason.domain} {reason.role} is away, so it waits for the lead"
    if reason.kind == "moved":
        return f"moved to {reason.domain} by <@{reason.by}> (from {reason.source or 'triage'})"
    if reason.kind == "priority":
        return f"priority {reason.priority} ({_priority_why(reason)})"
    return ""


def routing_line(request: Request) -> str:
    """ ":compass: routed to support (…); assigned to <@U0ENG2> (…)": the reasons, as long as they are true. Once
    someone else holds the request (reassigned, handed over, taken), the reason that assigned another person gives
    way to who is assigned now."""
    assigned = [r for r in request.route_reasons if r.kind == "assigned"]
    stale = [r for r in assigned if r.user and r.user != request.assignee]
    shown = [reason_text(r) for r in request.route_reasons if r not in stale]
    if stale or (request.assignee and not assigned):
        shown.append(f"now assigned to <@{request.assignee}>" if request.assignee else "nobody is assigned now")
    return ":compass: " + "; ".join(shown)

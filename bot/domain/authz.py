"""Who may do what to a request. Pure: the policy and the request decide."""

from bot.domain.errors import NotAllowed
from bot.domain.models import NO_ANSWER, Request
from bot.domain.owners import lead_of, owners_of
from bot.domain.policy import Config

# Actions a domain member (engineer, reviewer, owner, lead) or an admin may take.
MEMBER_ACTIONS = frozenset(
    {
        "claim",
        "reassign",
        "wait",
        "resolve",
        "reopen",
        "own",
        "disclaim",
        "review",
        "edit",
        "comment",
        "view",
        "snooze",
        "duplicate",
        "set_kind",
        "set_priority",
    }
)
# Actions only the domain's lead (or an admin) may take: deciding who owns a regression nobody would take.
LEAD_ACTIONS = frozenset({"hand"})
# Actions the owners of the catalog asset a request names may take, though they belong to no domain: what its
# nags ask of them (take ownership, or say why it is not theirs; a snooze), and to see and comment on it.
ASSET_OWNER_ACTIONS = frozenset({"own", "disclaim", "snooze", "comment", "view"})
# Actions the requester (and the reporter, who filed someone else's message) may take on their own request.
REQUESTER_ACTIONS = frozenset({"comment", "resolve", "edit", "view", "withdraw", "duplicate"})

VERBS = {
    "claim": "claim",
    "reassign": "reassign",
    "wait": "mark as waiting",
    "resolve": "resolve",
    "reopen": "reopen",
    "own": "take ownership of",
    "disclaim": 'answer "Not mine" for',
    "review": "review",
    "edit": "edit",
    "withdraw": "withdraw",
    "snooze": "snooze",
    "comment": "comment on",
    "view": "see",
    "hand": "hand over",
    "duplicate": "close as a duplicate",
    "set_kind": "change the kind of",
    "set_priority": "change the priority of",
}


def is_member(config: Config, request: Request, user: str) -> bool:
    """A member of the request's domain; for an unrouted request, a member of any domain."""
    if request.domain is None:
        return bool(config.member_domains(user))
    domain = config.domain(request.domain)
    return bool(domain and user in domain.members)


def is_asset_owner(config: Config, request: Request, user: str) -> bool:
    """An owner of the catalog asset the request names (its own, or its domain's where the asset leaves one out)."""
    if request.asset is None or config.catalog.asset(request.asset) is None:
        return False
    pair = owners_of(request, config)
    return user in (pair.product, pair.platform)


def is_lead(config: Config, request: Request, user: str) -> bool:
    """The lead of the request's domain (an unrouted request has none)."""
    return user is not None and lead_of(config, request.domain) == user


def can(config: Config, request: Request, user: str, action: str) -> bool:
    if config.is_admin(user):
        return True
    if action in LEAD_ACTIONS:
        return is_lead(config, request, user)
    if action in MEMBER_ACTIONS and is_member(config, request, user):
        return True
    if action in ASSET_OWNER_ACTIONS and is_asset_owner(config, request, user):
        return True
    if action == "reopen" and request.closed_as == NO_ANSWER:
        return user == request.requester  # closed because they did not answer: theirs to pick up again
    return action in REQUESTER_ACTIONS and user in (request.requester, request.reporter)


def authorize(config: Config, request: Request, user: str, action: str) -> None:
    """Raise NotAllowed, with the sentence to show, unless `user` may take `action` on `request`."""
    if not can(config, request, user, action):
        raise refusal(request, action)


def refusal(request: Request, action: str) -> NotAllowed:
    """The refusal of `action` on `request`, naming who may take it."""
    members = f"members of {request.domain}" if request.domain else "members of a domain"
    if action in LEAD_ACTIONS:
        who = f"the lead of {request.domain} (or admins)" if request.domain else "admins"
        return NotAllowed(f"Only {who} can {VERBS.get(action, action)} {request.key}.")
    if action == "reopen" and request.closed_as == NO_ANSWER:
        return NotAllowed(f"Only {members} and the requester (or admins) can reopen {request.key}.")
    if action not in MEMBER_ACTIONS:
        who = "the requester"
    elif action in REQUESTER_ACTIONS:
        who = f"{members} and the requester"
    else:
        who = members
    return NotAllowed(f"Only {who} (or admins) can {VERBS.get(action, action)} {request.key}.")


def can_move(config: Config, request: Request, user: str, to: str) -> bool:
    """Who may move a request to the domain `to`: an admin, a member of its domain (of any domain while it is
    unrouted), or a member of `to`. A confidential request moves only for those who may already see it: an admin
    or a member of its domain (its engineers, reviewers, owners, lead); a member of `to` alone may not pull it in,
    or the move would show them what it hides."""
    if config.is_admin(user) or is_member(config, request, user):
        return True
    destination = config.domain(to)
    return not request.confidential and bool(destination and user in destination.members)


def move_refusal(request: Request, to: str) -> NotAllowed:
    if request.confidential:
        here = f"members of {request.domain}" if request.domain else "members of a domain"
        return NotAllowed(f"{request.key} is confidential: only {here} (or admins) can move it.")
    here = f"members of {request.domain} or of {to}" if request.domain else "members of a domain"
    return NotAllowed(f"Only {here} (or admins) can move {request.key}.")

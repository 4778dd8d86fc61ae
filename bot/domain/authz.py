"""Who may do what to a request. Pure: the policy and the request decide."""

from bot.domain.errors import NotAllowed
from bot.domain.models import Request
from bot.domain.policy import Config

# Actions a domain member (engineer, reviewer, owner, lead) or an admin may take.
MEMBER_ACTIONS = frozenset(
    {"claim", "reassign", "wait", "resolve", "reopen", "own", "disclaim", "review", "edit", "comment", "view", "snooze",
     "duplicate"}
)
# Actions the requester may take on their own request.
REQUESTER_ACTIONS = frozenset({"comment", "resolve", "edit", "view", "withdraw", "duplicate"})

VERBS = {
    "claim": "claim", "reassign": "reassign", "wait": "mark as waiting", "resolve": "resolve",
    "reopen": "reopen", "own": "take ownership of", "disclaim": "answer \"Not mine\" for",
    "review": "review", "edit": "edit", "withdraw": "withdraw", "snooze": "snooze", "comment": "comment on", "view": "see",
    "duplicate": "close as a duplicate",
}


def is_member(config: Config, request: Request, user: str) -> bool:
    """A member of the request's domain; for an unrouted request, a member of any domain."""
    if request.domain is None:
        return bool(config.member_domains(user))
    domain = config.domain(request.domain)
    return bool(domain and user in domain.members)


def can(config: Config, request: Request, user: str, action: str) -> bool:
    if config.is_admin(user) or (action in MEMBER_ACTIONS and is_member(config, request, user)):
        return True
    return action in REQUESTER_ACTIONS and user == request.requester


def authorize(config: Config, request: Request, user: str, action: str) -> None:
    """Raise NotAllowed, with the sentence to show, unless `user` may take `action` on `request`."""
    if not can(config, request, user, action):
        raise refusal(request, action)


def refusal(request: Request, action: str) -> NotAllowed:
    """The refusal of `action` on `request`, naming who may take it."""
    members = f"members of {request.domain}" if request.domain else "members of a domain"
    if action not in MEMBER_ACTIONS:
        who = "the requester"
    elif action in REQUESTER_ACTIONS:
        who = f"{members} and the requester"
    else:
        who = members
    return NotAllowed(f"Only {who} (or admins) can {VERBS.get(action, action)} {request.key}.")

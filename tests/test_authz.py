"""Who may do what to a request: every action against every role, and the refusal sentence."""

from datetime import datetime, timezone
from typing import Any

import pytest

from bot.runtime.config import parse_config
from bot.domain.authz import authorize, can
from bot.domain.errors import NotAllowed
from bot.domain.models import Request
from tests.harness import CONFIG

CONFIGURED = parse_config(CONFIG)
AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

ACTIONS = ("claim", "reassign", "wait", "resolve", "reopen", "own", "disclaim", "review", "edit", "comment", "view")
ROLES = {
    "requester": "U0REQ",
    "assignee engineer": "U0ENG1",
    "other engineer of the domain": "U0ENG2",
    "engineer of another domain": "U0ENG3",
    "product owner": "U0PPM",
    "platform owner": "U0MLPM",
    "reviewer": "U0SEC1",
    "lead": "U0LEAD",
    "admin": "U0ADMIN",
    "outsider": "U0OUTSIDE",
}
# docs/concepts.md (Authorization): domain members (engineers, owners, lead, reviewers) and admins work requests; the requester
# may comment on, resolve (and edit, and see) their own; anyone else is refused.
EVERYTHING = frozenset(ACTIONS)
REQUESTER = frozenset({"comment", "resolve", "edit", "view"})
ALLOWED = {
    "requester": REQUESTER,
    "assignee engineer": EVERYTHING,
    "other engineer of the domain": EVERYTHING,
    "engineer of another domain": frozenset(),
    "product owner": EVERYTHING,
    "platform owner": EVERYTHING,
    "reviewer": EVERYTHING,
    "lead": EVERYTHING,
    "admin": EVERYTHING,
    "outsider": frozenset(),
}
TABLE = [(role, action, action in ALLOWED[role]) for role in ROLES for action in ACTIONS]


def request(**overrides: Any) -> Request:
    base: dict[str, Any] = dict(
        id=12,
        kind="regression",
        domain="support",
        title="refund bot quotes the wrong window",
        description="",
        priority="P2",
        status="claimed",
        requester="U0REQ",
        assignee="U0ENG1",
        source="command",
        created_at=AT,
        updated_at=AT,
    )
    return Request(**{**base, **overrides})


REQUESTS = {
    "regression": request(),
    "confidential review": request(kind="security_review", stage="in_review", confidential=True, assignee="U0SEC1"),
}


@pytest.mark.parametrize("kind", REQUESTS)
@pytest.mark.parametrize(("role", "action", "allowed"), TABLE, ids=[f"{r}-{a}" for r, a, _ in TABLE])
def test_who_may_do_what(kind: str, role: str, action: str, allowed: bool) -> None:
    req = REQUESTS[kind]
    user = ROLES[role]
    assert can(CONFIGURED, req, user, action) is allowed
    if allowed:
        assert authorize(CONFIGURED, req, user, action) is None
    else:
        with pytest.raises(NotAllowed) as refused:
            authorize(CONFIGURED, req, user, action)
        sentence = refused.value.message
        assert "AIR-12" in sentence
        assert sentence[0].isupper() and sentence.endswith(".")
        assert "members of support" in sentence


def test_the_refusal_sentences() -> None:
    with pytest.raises(NotAllowed, match=r"^Only members of support \(or admins\) can claim AIR-12\.$"):
        authorize(CONFIGURED, request(), "U0OUTSIDE", "claim")
    with pytest.raises(
        NotAllowed, match=r"^Only members of support and the requester \(or admins\) can resolve AIR-12\.$"
    ):
        authorize(CONFIGURED, request(), "U0ENG3", "resolve")
    with pytest.raises(NotAllowed, match=r"^Only members of support \(or admins\) can take ownership of AIR-12\.$"):
        authorize(CONFIGURED, request(), "U0REQ", "own")


def test_the_requester_is_not_a_member_of_someone_elses_request() -> None:
    other = request(requester="U0OTHER")
    assert not can(CONFIGURED, other, "U0REQ", "comment")
    assert not can(CONFIGURED, other, "U0REQ", "resolve")


def test_a_member_who_filed_the_request_keeps_a_members_rights() -> None:
    own = request(requester="U0ENG2")
    assert all(can(CONFIGURED, own, "U0ENG2", action) for action in ACTIONS)


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("U0ENG1", True), ("U0ENG3", True), ("U0SEC2", True), ("U0LEAD2", True), ("U0ADMIN", True), ("U0OUTSIDE", False)],
)
def test_any_domains_member_may_work_an_unrouted_request(user: str, allowed: bool) -> None:
    unrouted = request(domain=None, assignee=None, status="open", court="triage")
    assert can(CONFIGURED, unrouted, user, "claim") is allowed


def test_the_refusal_for_an_unrouted_request_names_its_key() -> None:
    unrouted = request(id=3, domain=None, assignee=None, status="open")
    with pytest.raises(NotAllowed, match=r"^Only members of a domain \(or admins\) can claim AIR-3\.$"):
        authorize(CONFIGURED, unrouted, "U0OUTSIDE", "claim")


def test_a_request_of_a_domain_no_longer_configured_is_left_to_admins_and_the_requester() -> None:
    orphan = request(domain="retired")
    assert not can(CONFIGURED, orphan, "U0ENG1", "claim")
    assert can(CONFIGURED, orphan, "U0ADMIN", "claim")
    assert can(CONFIGURED, orphan, "U0REQ", "comment")


def test_the_requester_may_withdraw_their_request() -> None:
    assert can(CONFIGURED, request(), "U0REQ", "withdraw")

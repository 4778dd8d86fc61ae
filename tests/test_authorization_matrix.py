"""Who may do what, through the real app: every action × every role, as signed Slack requests.

The table below is the rule of docs/concepts.md (Authorization) written out (and checked against `bot/domain/authz.py`):
members of the request's domain (engineers, reviewers, both owners, the lead) and admins may claim,
reassign, wait, resolve, reopen, take ownership, answer "Not mine", snooze, edit and review; only the
lead (or an admin) may hand a regression to a named person; the requester may comment on, edit,
resolve, withdraw and see their own request; anyone else is refused.

Each allowed cell shows the action's effect. Each refused cell shows that the person got an
ephemeral refusal and that nothing changed: the request, its events, no modal opened.
Tampered button values (another domain's key, a key that does not exist, garbage) are refused too.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.blocks import ids
from bot.blocks.modal import disclaim_modal, request_modal
from bot.domain import authz
from bot.domain.models import Request
from tests.harness import Harness, Reply

ROLES = (
    "requester",
    "assignee",
    "domain engineer",
    "other domain's engineer",
    "product owner",
    "platform owner",
    "reviewer",
    "lead",
    "admin",
    "outsider",
)
MEMBERS = {"assignee", "domain engineer", "product owner", "platform owner", "reviewer", "lead", "admin"}
WITH_REQUESTER = MEMBERS | {"requester"}
FIXED = {
    "requester": "U0REQ",
    "other domain's engineer": "U0ENG3",
    "product owner": "U0PPM",
    "platform owner": "U0MLPM",
    "reviewer": "U0SEC1",
    "lead": "U0LEAD",
    "admin": "U0ADMIN",
    "outsider": "U0OUTSIDER",
}


def person(role: str, request: Request) -> str:
    """The user id playing `role` for `request` (triage picks the assignee; the domain engineer is another one)."""
    if role == "assignee":
        return request.assignee or "U0ENG1"
    if role == "domain engineer":
        return next(u for u in ("U0ENG1", "U0ENG2") if u != request.assignee)
    return FIXED[role]


# -- the actions ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    name: str
    authz_name: str  # the action's name in bot/domain/authz.py
    allowed: frozenset[str]
    act: Callable[[Harness, str, str], Reply | None]
    done: Callable[[Harness, Request, Request, str], bool]  # (harness, before, after, user): did it take effect?
    kind: str = "question"  # what to file for it
    prepare: Callable[[Harness, str], None] | None = None  # bring a fresh request into a state the action needs
    refused_in_ack: bool = False  # the refusal comes in the HTTP answer (a command, a modal submission), not later


def click(action_id: str) -> Callable[[Harness, str, str], Reply]:
    return lambda h, key, user: h.click(action_id, key, user=user)


def reassign(h: Harness, key: str, user: str) -> Reply:
    request = h.bot.queries.get(int(key.split("-")[1]))
    to = "U0ENG2" if request.assignee != "U0ENG2" else "U0ENG1"
    return h.reassign(key, user=user, to=to)


def hand_to(h: Harness, key: str, user: str) -> Reply:
    """The lead's "Hand to…" select on the card: U0ENG2 is to own and work it."""
    request = h.bot.queries.get(int(key.split("-")[1]))
    return h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": request.card_channel, "name": "x"},
            "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
            "message": h.card(key),
            "actions": [
                {
                    "action_id": ids.HAND,
                    "block_id": "card.actions",
                    "type": "users_select",
                    "selected_user": "U0ENG2",
                    "action_ts": "1.1",
                }
            ],
        }
    )


def submit_edit(h: Harness, key: str, user: str) -> Reply:
    request = h.bot.queries.get(int(key.split("-")[1]))
    view = request_modal(h.bot.config, request=request).to_dict()
    values = {
        ids.TITLE: {"type": "plain_text_input", "value": f"Edited by {user}"},
        ids.KIND: {"type": "static_select", "selected_option": {"value": request.kind}},
        ids.PRIORITY: {"type": "static_select", "selected_option": None},
        ids.DESCRIPTION: {"type": "plain_text_input", "value": None},
        ids.CONFIDENTIAL: {
            "type": "checkboxes",
            "selected_options": [{"value": "yes"}] if request.confidential else [],
        },
    }
    return h.submit(view, values, user=user)


def submit_disclaim(h: Harness, key: str, user: str) -> Reply:
    return h.submit(
        disclaim_modal(key).to_dict(),
        {ids.REASON: {"type": "plain_text_input", "value": f"not ours, says {user}"}},
        user=user,
    )


def duplicate_of_the_first(h: Harness, key: str, user: str) -> Reply:
    """Pick "Duplicate of…" AIR-1 on `key`'s card (AIR-1 is the first request of the run, a public question)."""
    request = h.bot.queries.get(int(key.split("-")[1]))
    return h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": request.card_channel, "name": "x"},
            "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
            "message": h.card(key),
            "actions": [
                {
                    "action_id": ids.DUPLICATE,
                    "block_id": "card.actions",
                    "type": "static_select",
                    "action_ts": "1.1",
                    "selected_option": {"value": f"{key}>AIR-1"},
                }
            ],
        }
    )


def pick_in(action_id: str, choice: str) -> Callable[[Harness, str, str], Reply]:
    """Pick "<key>><choice>" in the card's select `action_id` (Kind…, Priority…)."""

    def act(h: Harness, key: str, user: str) -> Reply:
        request = h.bot.queries.get(int(key.split("-")[1]))
        return h.interact(
            {
                "type": "block_actions",
                "user": {"id": user, "name": user.lower(), "team_id": "T0TEAM"},
                "trigger_id": h.fake.new_trigger_id(),
                "response_url": h.fake.response_url(),
                "channel": {"id": request.card_channel, "name": "x"},
                "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
                "message": h.card(key),
                "actions": [
                    {
                        "action_id": action_id,
                        "block_id": "card.actions",
                        "type": "static_select",
                        "action_ts": "1.1",
                        "selected_option": {"value": f"{key}>{choice}"},
                    }
                ],
            }
        )

    return act


def status(h: Harness, key: str, user: str) -> Reply:
    return h.command(f"status {key}", user=user)


def opened(callback_id: str) -> Callable[[Harness, Request, Request, str], bool]:
    def check(h: Harness, before: Request, after: Request, user: str) -> bool:
        views = h.fake.calls_to("views.open")
        return (
            bool(views)
            and views[-1]["view"]["callback_id"] == callback_id
            and before.key in views[-1]["view"]["private_metadata"]
        )

    return check


def admin_resolves(h: Harness, key: str) -> None:
    h.click(ids.RESOLVE, key, user="U0ADMIN")


ACTIONS = [
    Action(
        "claim",
        "claim",
        frozenset(MEMBERS),
        click(ids.CLAIM),
        lambda h, b, a, u: a.status == "claimed" and a.assignee == u,
    ),
    Action("reassign", "reassign", frozenset(MEMBERS), reassign, lambda h, b, a, u: a.assignee != b.assignee),
    Action("wait", "wait", frozenset(MEMBERS), click(ids.WAIT), lambda h, b, a, u: a.status == "waiting"),
    Action(
        "resolve", "resolve", frozenset(WITH_REQUESTER), click(ids.RESOLVE), lambda h, b, a, u: a.status == "resolved"
    ),
    Action(
        "reopen",
        "reopen",
        frozenset(MEMBERS),
        click(ids.REOPEN),
        lambda h, b, a, u: a.status in ("open", "claimed"),
        prepare=admin_resolves,
    ),
    Action("own", "own", frozenset(MEMBERS), click(ids.OWN), lambda h, b, a, u: a.owner == u, kind="regression"),
    Action(
        "Not mine (button)",
        "disclaim",
        frozenset(MEMBERS),
        click(ids.DISCLAIM),
        opened(ids.DISCLAIM_MODAL),
        kind="regression",
    ),
    Action(
        "Not mine (reason submitted)",
        "disclaim",
        frozenset(MEMBERS),
        submit_disclaim,
        lambda h, b, a, u: [d.by for d in a.disclaimers] == [u],
        kind="regression",
        refused_in_ack=True,
    ),
    Action(
        "hand to someone",
        "hand",
        frozenset({"lead", "admin"}),
        hand_to,
        lambda h, b, a, u: (a.owner, a.assignee, a.court) == ("U0ENG2", "U0ENG2", "assignee"),
        kind="regression",
    ),
    Action(
        "snooze",
        "snooze",
        frozenset(MEMBERS),
        click(ids.SNOOZE),
        lambda h, b, a, u: [e.type for e in h.bot.queries.status(a.key, "U0ADMIN")[1]][-1] == "snoozed",
    ),
    Action("Edit details (button)", "edit", frozenset(WITH_REQUESTER), click(ids.EDIT), opened(ids.REQUEST_MODAL)),
    Action(
        "Edit details (form submitted)",
        "edit",
        frozenset(WITH_REQUESTER),
        submit_edit,
        lambda h, b, a, u: a.title == f"Edited by {u}",
        refused_in_ack=True,
    ),
    Action(
        "withdraw",
        "withdraw",
        frozenset({"requester", "admin"}),
        click(ids.WITHDRAW),
        lambda h, b, a, u: a.status == "declined",
    ),
    Action(
        "start review",
        "review",
        frozenset(MEMBERS),
        click(ids.REVIEW_START),
        lambda h, b, a, u: a.stage == "in_review",
        kind="security review",
    ),
    Action(
        "approve review",
        "review",
        frozenset(MEMBERS),
        click(ids.REVIEW_APPROVE),
        lambda h, b, a, u: a.stage == "approved",
        kind="security review",
    ),
    Action(
        "request changes",
        "review",
        frozenset(MEMBERS),
        click(ids.REVIEW_CHANGES),
        lambda h, b, a, u: a.stage == "changes_requested",
        kind="security review",
    ),
    Action(
        "Duplicate of…",
        "duplicate",
        frozenset(WITH_REQUESTER),
        duplicate_of_the_first,
        lambda h, b, a, u: a.status == "declined",
    ),
    Action(
        "Kind… (a correction)",
        "set_kind",
        frozenset(MEMBERS),
        pick_in(ids.SET_KIND, "eval"),
        lambda h, b, a, u: a.kind == "eval",
    ),
    Action(
        "Priority… (a correction)",
        "set_priority",
        frozenset(MEMBERS),
        pick_in(ids.SET_PRIORITY, "P1"),
        lambda h, b, a, u: a.priority == "P1",
    ),
    Action(
        "status of a confidential request",
        "view",
        frozenset(WITH_REQUESTER),
        status,
        lambda h, b, a, u: True,
        kind="security review",
        refused_in_ack=True,
    ),
]


# -- running the table ------------------------------------------------------------------------------
def file(h: Harness, kind: str, serial: list[int]) -> str:
    serial[0] += 1
    reply = h.command(f"{kind}: matrix request {serial[0]} about refunds", user="U0REQ")
    assert reply.status == 200, reply.body
    h.settle()
    return f"AIR-{serial[0]}"


def what_people_were_told(h: Harness) -> list[str]:
    """Every ephemeral text so far: chat.postEphemeral and response_url posts (notices and refusals)."""
    return [c["text"] for c in h.fake.calls_to("chat.postEphemeral")] + [
        r["body"].get("text", "") for r in h.fake.responses
    ]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_every_action_by_every_role(harness: Harness, action: Action) -> None:
    """One action by each of the ten roles (an action a test, so the workers share the some 250 cells)."""
    h, serial, key = harness, [0], None
    file(h, "question", serial)  # AIR-1, the public question "Duplicate of…" points at
    cells = 0
    for role in ROLES:
        if key is None:  # the last cell changed it: a fresh request for the next
            key = file(h, action.kind, serial)
            if action.prepare:
                action.prepare(h, key)
                h.settle()
        before = h.bot.queries.get(int(key.split("-")[1]))
        events = h.bot.queries.status(key, "U0ADMIN")[1]
        user = person(role, before)
        allowed = role in action.allowed
        assert authz.can(h.bot.config, before, user, action.authz_name) == allowed, (action.name, role)
        told, views = len(what_people_were_told(h)), len(h.fake.calls_to("views.open"))
        reply = action.act(h, key, user)
        assert reply is not None and reply.status == 200
        h.settle()
        after = h.bot.queries.get(int(key.split("-")[1]))
        cell = f"{action.name} by the {role} ({user}) on {key}"
        if allowed:
            assert action.done(h, before, after, user), f"{cell}: allowed, but it did not happen"
            assert "Only members" not in reply.body, cell
            key = None
        else:
            assert after == before, f"{cell}: refused, but the request changed"
            assert h.bot.queries.status(key, "U0ADMIN")[1] == events, f"{cell}: refused, but an event was written"
            assert len(h.fake.calls_to("views.open")) == views, f"{cell}: refused, but a modal opened"
            refusal = reply.body if action.refused_in_ack else " ".join(what_people_were_told(h)[told:])
            assert (
                any(
                    who in refusal
                    for who in ("Only members of support", "Only the requester", "Only the lead of support")
                )
                and key in refusal
            ), f"{cell}: no refusal in {refusal[:200]!r}"
        cells += 1
    assert cells == len(ROLES)


def test_thread_replies_by_the_requester_and_members_are_recorded(harness: Harness) -> None:
    harness.command("question: which eval covers refunds?")
    harness.settle()
    request = harness.bot.queries.get(1)
    for role in sorted(WITH_REQUESTER):
        harness.reply_in_thread(
            request.card_channel, request.card_ts, f"a word from the {role}", user=person(role, request)
        )
    harness.settle()
    commenters = [e.actor for e in harness.bot.queries.status("AIR-1", "U0ADMIN")[1] if e.type == "commented"]
    assert sorted(commenters) == sorted(person(role, request) for role in WITH_REQUESTER)


def test_thread_replies_by_anyone_else_change_nothing(harness: Harness) -> None:
    harness.command("security review: vendor LLM for refund emails")
    harness.settle()
    before = harness.bot.queries.get(1)
    for role in ("other domain's engineer", "outsider"):
        harness.reply_in_thread(before.card_channel, before.card_ts, "let me weigh in", user=person(role, before))
    harness.settle()
    assert harness.bot.queries.get(1) == before
    assert [e.type for e in harness.bot.queries.status("AIR-1", "U0ADMIN")[1]] == ["created"]


# -- tampered values ----------------------------------------------------------------------------
def raw_click(h: Harness, action_id: str, value: str, *, user: str, on: Request) -> Reply:
    """A click on `on`'s card whose button carries `value` (harness.click would look `value` up itself)."""
    return h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": on.card_channel, "name": "x"},
            "container": {"type": "message", "message_ts": on.card_ts, "channel_id": on.card_channel},
            "message": {"ts": on.card_ts, "type": "message", "text": "", "blocks": []},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "card.actions",
                    "type": "button",
                    "value": value,
                    "action_ts": "1.1",
                }
            ],
        }
    )


def test_tampered_button_values_are_refused_and_change_nothing(harness: Harness) -> None:
    harness.command("question: which eval covers refunds?")  # AIR-1, support
    harness.command("question: is the ranking query eval flaky?", channel="C0SEARCH")  # AIR-2, search
    harness.settle()
    support, search = harness.bot.queries.get(1), harness.bot.queries.get(2)
    assert (support.domain, search.domain) == ("support", "search")
    cases = [
        ("another domain's key", "AIR-2", "Only members of search"),
        ("a key that does not exist", "AIR-999", "There is no request"),
        ("a key too big for SQLite", "AIR-99999999999999999999", "There is no request"),
        ("garbage", "'; DROP TABLE requests; --", "There is no request"),
        ("a mention", "<!channel>", "There is no request"),
    ]
    for what, value, expected in cases:
        told = len(what_people_were_told(harness))
        for action_id in (ids.CLAIM, ids.RESOLVE, ids.REVIEW_APPROVE, ids.DISCLAIM, ids.EDIT):
            reply = raw_click(harness, action_id, value, user="U0ENG1", on=support)
            assert reply.status == 200, (what, action_id)
        harness.settle()
        refusals = what_people_were_told(harness)[told:]
        assert len(refusals) == 5 and all(expected in t for t in refusals), (what, refusals)
        assert all("<!channel>" not in t for t in refusals)
    # the "Reassign…" select names no key: it is read from the card it sits on — here another domain's card, and
    # someone of that domain picked (picking a colleague of one's own domain would move the request: see test_moves)
    tampered = harness.card("AIR-2")
    harness.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0ENG1", "name": "eng1", "team_id": "T0TEAM"},
            "trigger_id": harness.fake.new_trigger_id(),
            "response_url": harness.fake.response_url(),
            "channel": {"id": support.card_channel, "name": "x"},
            "container": {"type": "message", "message_ts": support.card_ts, "channel_id": support.card_channel},
            "message": tampered,
            "actions": [
                {
                    "action_id": ids.REASSIGN,
                    "block_id": "card.actions",
                    "type": "users_select",
                    "selected_user": "U0LEAD2",
                    "action_ts": "1.1",
                }
            ],
        }
    )
    harness.settle()
    assert "Only members of search" in what_people_were_told(harness)[-1]
    assert (harness.bot.queries.get(1), harness.bot.queries.get(2)) == (support, search)
    assert harness.fake.calls_to("views.open") == []
    with harness.bot.db.read() as db:
        assert [r["n"] for r in db.query("SELECT count(*) AS n FROM events")] == [2]


def test_the_table_is_the_design(harness: Harness) -> None:
    """The expectations above and authz.py agree on a request of each kind, for people outside the table too."""
    config = harness.bot.config
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    request = harness.bot.queries.get(1)
    for action in ACTIONS:
        for role in ROLES:
            assert authz.can(config, request, person(role, request), action.authz_name) == (role in action.allowed), (
                action.name,
                role,
            )
    assert json.dumps(sorted(authz.MEMBER_ACTIONS | authz.REQUESTER_ACTIONS | authz.LEAD_ACTIONS)) == json.dumps(
        sorted({a.authz_name for a in ACTIONS} | {"comment"})
    )


def test_a_refusal_names_who_may_do_it(harness: Harness) -> None:
    harness.command("question: which eval covers refunds?", user="U0REQ")
    harness.settle()
    harness.click(ids.WITHDRAW, "AIR-1", user="U0ENG1")
    harness.settle()
    [refusal] = [t for t in what_people_were_told(harness) if "withdraw" in t]
    assert refusal == "Only the requester (or admins) can withdraw AIR-1."

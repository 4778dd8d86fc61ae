"""A confidential request can be neither read nor pulled away by someone who may not see it.

Two confidential requests: one of support (which keeps its confidential cards in its private review
channel, G0SUPSEC) and one of search (which has no review channel: its card sits redacted in the public
#search, where everyone sees its controls). People of the other domain, and someone of no domain, then
press every control its card offers (each button, "Reassign…" to themselves and to a colleague, "Move
to…" to each domain), the controls a card may offer at other times (Edit, Snooze, Not mine, Hand to…,
Withdraw, Reopen, Duplicate of…), submit the edit form with their own domain picked, and read every way
there is: `status`, `queue`, `mine`, `search`, their App Home and its page buttons. Nothing they receive
carries the request's words, and the request is exactly as it was. Its own people can still move it.
(`ai-intake export` is not a Slack surface: it is the operator's, who reads the database file anyway.)
"""

import json
import re
from typing import Any

from bot.blocks import ids
from bot.blocks.modal import request_modal
from tests.harness import TEAM, Harness
from tests.test_moves import move

SECRET = re.compile(r"SECRET-[A-Z]+")
WORDS = {"AIR-1": ("SECRET-ALPHA", "vendor LLM"), "AIR-2": ("SECRET-BRAVO", "SECRET-DELTA", "contract is unsigned")}
OUTSIDERS = {  # request key -> people of the other domain (engineer, reviewer, lead, product owner), and nobody's
    "AIR-1": ("U0ENG3", "U0SEC2", "U0LEAD2", "U0PPM2", "U0OUTSIDER"),  # support's request; search's people
    "AIR-2": ("U0ENG1", "U0SEC1", "U0LEAD", "U0PPM", "U0OUTSIDER"),  # search's request; support's people
}
COLLEAGUE = {
    "U0ENG3": "U0SEC2",
    "U0SEC2": "U0ENG3",
    "U0LEAD2": "U0ENG3",
    "U0PPM2": "U0ENG3",
    "U0ENG1": "U0ENG2",
    "U0SEC1": "U0ENG1",
    "U0LEAD": "U0ENG1",
    "U0PPM": "U0ENG1",
    "U0OUTSIDER": "U0REQ7",
}


def actions_on(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in card.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def pick(h: Harness, key: str, element: dict[str, Any], *, user: str, **chosen: Any) -> None:
    """Use a select of the card as Slack sends it: the card's message, the chosen user or option."""
    request = h.bot.queries.get(int(key.split("-")[1]))
    reply = h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": TEAM},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": request.card_channel, "name": "x"},
            "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
            "message": h.card(key),
            "actions": [
                {
                    "action_id": element["action_id"],
                    "block_id": "card.actions",
                    "type": element["type"],
                    "action_ts": "1.1",
                    **chosen,
                }
            ],
        }
    )
    assert reply.status == 200


def press_everything(h: Harness, key: str, *, user: str) -> None:
    """Every control the card offers now, and those a card offers at other times, pressed by `user`."""
    card = h.card(key)
    for element in actions_on(card):
        if element["type"] == "button":
            assert h.click(element["action_id"], element["value"], user=user).status == 200
        elif element["type"] == "users_select":
            for chosen in (user, COLLEAGUE[user]):
                pick(h, key, element, user=user, selected_user=chosen)
        elif element["type"] == "static_select":
            for option in element["options"]:
                pick(h, key, element, user=user, selected_option=option)
    for action_id in (ids.EDIT, ids.SNOOZE, ids.DISCLAIM, ids.WITHDRAW, ids.REOPEN, ids.CLAIM, ids.RESOLVE_REGRESSION):
        assert h.click(action_id, key, user=user).status == 200
    pick(h, key, {"action_id": ids.HAND, "type": "users_select"}, user=user, selected_user=user)
    request = h.bot.queries.get(int(key.split("-")[1]))
    domain = h.bot.config.home_domain(user)
    view = request_modal(h.bot.config, request=request).to_dict()
    values = {
        ids.TITLE: {"type": "plain_text_input", "value": "mine now"},
        ids.KIND: {"type": "static_select", "selected_option": {"value": request.kind}},
        ids.DOMAIN: {"type": "static_select", "selected_option": {"value": domain.name if domain else "search"}},
        ids.PRIORITY: {"type": "static_select", "selected_option": None},
        ids.DESCRIPTION: {"type": "plain_text_input", "value": "x"},
        ids.CONFIDENTIAL: {"type": "checkboxes", "selected_options": []},
    }
    refused = h.submit(view, values, user=user)
    assert refused.status == 200 and refused.json()["response_action"] == "errors", refused.body
    h.settle()


def read_everything(h: Harness, key: str, *, user: str) -> list[str]:
    """Every read path a person has in Slack; returns the acks' bodies."""
    bodies = []
    for words in (
        f"status {key}",
        "queue",
        "queue support",
        "queue search",
        "queue triage",
        "mine",
        "search SECRET",
        "search vendor",
        "search embeddings",
        f"search {key}",
    ):
        reply = h.command(words, user=user, channel="C0SEARCH")
        assert reply.status == 200
        bodies.append(reply.body)
    h.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D0HOME", "event_ts": "1.1"})
    for value in ("assigned 2", "support 1", "search 1", "triage 1"):
        h.click(ids.HOME_PAGE, value, user=user)
    h.click(ids.LIST_PAGE, f"status {key}", user=user)
    h.settle()
    return bodies


def test_people_of_another_domain_can_neither_read_nor_pull_a_confidential_request(harness: Harness) -> None:
    h = harness
    h.command("security review: SECRET-ALPHA vendor LLM reads refund emails", user="U0REQ", channel="C0SUPPORT")
    h.mention(
        "<@U0BOT> security review: SECRET-BRAVO ranking embeddings vendor\nSECRET-DELTA the contract is unsigned",
        user="U0REQ4",
        channel="C0SEARCH",
    )
    h.settle()
    support, search = h.bot.queries.get(1), h.bot.queries.get(2)
    assert (support.confidential, support.domain, support.card_channel) == (True, "support", "G0SUPSEC")
    assert (search.confidential, search.domain, search.card_channel) == (True, "search", "C0SEARCH")
    offered = {e["action_id"] for e in actions_on(h.card("AIR-2"))}
    assert {ids.REASSIGN, ids.MOVE} <= offered, "search's own people work it from the public card"
    assert not SECRET.search(json.dumps(h.card("AIR-2"))), "the public card is redacted"

    before = {key: h.bot.queries.get(int(key[-1])) for key in OUTSIDERS}
    leaks: list[str] = []
    for key, people in OUTSIDERS.items():
        calls, responses = len(h.fake.calls), len(h.fake.responses)
        acks: list[str] = []
        for person in people:
            press_everything(h, key, user=person)
            acks += read_everything(h, key, user=person)
        # Everything Slack was asked to show while they did, and every answer: none of this request's words.
        seen = [json.dumps(c.args, ensure_ascii=False) for c in h.fake.calls[calls:]]
        seen += [json.dumps(r["body"], ensure_ascii=False) for r in h.fake.responses[responses:]]
        leaks += [f"{key}: {text[:200]}" for text in seen + acks if any(w in text for w in WORDS[key])]
    assert leaks == [], leaks

    for key, was in before.items():
        assert h.bot.queries.get(int(key[-1])) == was, f"{key} changed: nothing an outsider pressed may touch it"
    told = h.ephemerals("U0ENG3") + h.ephemerals("U0ENG1")
    assert any("AIR-1 is confidential: only members of support (or admins) can move it." in t for t in told), told
    assert any("AIR-2 is confidential: only members of search (or admins) can move it." in t for t in told), told
    assert not h.fake.calls_to("views.open"), "no form opened for an outsider"

    # Its own people may still move it, where they see it: search's reviewer hands it to support.
    move(h, "AIR-2", user="U0SEC2", to="support")
    moved = h.bot.queries.get(2)
    assert (moved.domain, moved.card_channel) == ("support", "G0SUPSEC")
    move(h, "AIR-2", user="U0ADMIN", to="search")
    assert h.bot.queries.get(2).domain == "search"


def test_reassigning_a_confidential_request_to_oneself_from_another_domain_is_refused(harness: Harness) -> None:
    """The story as it was found: search's card has no private channel; an engineer of support picks himself."""
    h = harness
    h.command("security review: SECRET-ECHO ranking vendor embeddings", user="U0REQ4", channel="C0SEARCH")
    h.settle()
    h.reassign("AIR-1", user="U0ENG1", to="U0ENG1")
    h.settle()
    request = h.bot.queries.get(1)
    assert (request.domain, request.assignee) == ("search", "U0SEC2")  # search's reviewer
    assert any(
        "AIR-1 is confidential: only members of search (or admins) can move it." in t for t in h.ephemerals("U0ENG1")
    )
    reply = h.command("status AIR-1", user="U0ENG1", channel="C0SUPPORT")
    assert "SECRET-ECHO" not in reply.body
    h.reassign("AIR-1", user="U0ENG3", to="U0ENG1")  # search's engineer may hand it to support: he sees it already
    h.settle()
    assert h.bot.queries.get(1).domain == "support"


def test_a_request_that_is_not_confidential_may_still_be_pulled_in(harness: Harness) -> None:
    harness.command("question: ranking query misses synonyms", channel="C0SUPPORT")
    harness.settle()
    harness.reassign("AIR-1", user="U0ENG3", to="U0ENG3")
    harness.settle()
    assert harness.bot.queries.get(1).domain == "search"

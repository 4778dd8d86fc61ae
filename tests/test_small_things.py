"""Small things people trip on, each through the real app: what the card says after a hand-over, a "Not mine"
beside a message link, a closed duplicate, the shortcut on a message that is a request already, a requester
who is also an engineer, and a requester's own reply in the thread."""

import json

from bot.blocks import ids
from bot.blocks.reasons import reason_text
from tests.harness import Harness
from tests.test_authorization_matrix import hand_to, submit_disclaim


def context_texts(card: dict) -> list[str]:
    return [e["text"] for b in card["blocks"] if b["type"] == "context" for e in b["elements"]]


def test_after_a_hand_over_the_routing_line_names_who_holds_it_now(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot answers with the wrong window", user="U0REQ")
    h.settle()
    assert "assigned to <@U0ENG1>" in h.card_text("AIR-1")
    submit_disclaim(h, "AIR-1", "U0ENG1")
    h.settle()
    hand_to(h, "AIR-1", "U0LEAD")
    h.settle()
    assert h.bot.queries.get(1).assignee == "U0ENG2"
    [routing] = [t for t in context_texts(h.card("AIR-1")) if t.startswith(":compass:")]
    assert "assigned to <@U0ENG1>" not in routing and "now assigned to <@U0ENG2>" in routing
    assert "routed to support" in routing


def test_not_mine_reasons_stand_apart_from_the_original_message_link(harness: Harness) -> None:
    h = harness
    h.mention("<@U0BOT> regression: refund bot answers with the wrong window", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    submit_disclaim(h, "AIR-1", "U0ENG1")
    h.settle()
    card = h.card("AIR-1")
    linked = next(b for b in card["blocks"] if b["type"] == "context" and "original message" in json.dumps(b))
    assert "Not mine" not in json.dumps(linked)
    reasons = next(b for b in card["blocks"] if b["type"] == "context" and "Not mine" in json.dumps(b))
    assert all("original message" not in e["text"] for e in reasons["elements"])


def test_a_closed_duplicate_is_not_shown_as_unowned(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot answers with the wrong window", user="U0REQ")
    h.command("regression: refund bot answers with the wrong refund window", user="U0REQ2")
    h.settle()
    assert ":warning: unowned" in h.card_text("AIR-2")
    card = h.card("AIR-2")
    duplicate = next(
        e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ids.DUPLICATE
    )
    option = duplicate["options"][0]
    h.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0ENG1", "name": "u0eng1", "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": "C0SUPPORT", "name": "x"},
            "container": {"type": "message", "message_ts": card["ts"], "channel_id": "C0SUPPORT"},
            "message": card,
            "actions": [
                {
                    "action_id": ids.DUPLICATE,
                    "block_id": "card.actions",
                    "type": "static_select",
                    "selected_option": option,
                    "action_ts": "1.1",
                }
            ],
        }
    )
    h.settle()
    assert h.bot.queries.get(2).status == "declined"
    assert ":warning: unowned" not in h.card_text("AIR-2")
    assert ":warning: unowned" in h.card_text("AIR-1"), "the original is still open and unowned"


def test_the_shortcut_on_a_message_filed_already_answers_with_that_request(harness: Harness) -> None:
    h = harness
    h.mention("<@U0BOT> the refund bot quotes a 14 day window, policy says 30", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    [(message_ts, _)] = [
        (m["ts"], m)
        for m in h.fake.messages("C0SUPPORT")
        if "14 day window" in m.get("text", "") and not m.get("bot_id")
    ]
    filed = h.bot.queries.get(1)
    h.interact(
        {
            "type": "message_action",
            "callback_id": ids.FROM_MESSAGE,
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "user": {"id": "U0ENG1", "name": "u0eng1", "team_id": "T0TEAM"},
            "channel": {"id": "C0SUPPORT", "name": "support"},
            "message_ts": filed.origin_ts,
            "message": {
                "type": "message",
                "user": "U0REQ",
                "text": "<@U0BOT> the refund bot quotes a 14 day window, policy says 30",
                "ts": filed.origin_ts,
            },
        }
    )
    h.settle()
    assert h.bot.queries.get(2) is None
    told = [t for t in h.ephemerals("U0ENG1") if "AIR-1" in t]
    assert told and told[-1].startswith("Already filed as") and "status AIR-1" in told[-1], h.ephemerals("U0ENG1")


def test_a_requester_is_never_assigned_their_own_request(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0ENG1")
    h.command("question: does the refund agent keep the order number?", user="U0ENG1")
    h.settle()
    assert h.bot.queries.get(1).assignee == "U0ENG2" and h.bot.queries.get(2).assignee == "U0ENG2"
    h.command("query: ranking drops German results", user="U0ENG3")  # search's only engineer files in search
    h.command("question: the ranking of the search index drops German results", user="U0ENG3", channel="C0SEARCH")
    h.settle()
    search = h.bot.queries.get(4)
    assert search.domain == "search" and search.assignee is None and search.court == "lead"
    assert any("filed by search's only engineer at hand" in reason_text(r) for r in search.route_reasons)


def test_a_requesters_reply_in_the_thread_is_recorded_as_hers(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.settle()
    request = h.bot.queries.get(1)
    h.reply_in_thread(request.card_channel, request.card_ts, "any news? we launch Friday", user="U0REQ")
    h.settle()
    with h.bot.store.reading() as tx:
        [comment] = [e for e in tx.events(1) if e.type == "commented"]
    assert comment.actor == "U0REQ" and comment.data["by"] == "requester"

"""Requests go where they belong: a request's domain changes after filing, through the real app.

"Move to…" on the card, "Reassign…" to someone of another domain, and "Edit details" move a request
(from triage too); the move is an event, the SLA clock carries on, the card is posted again in the new
domain's channel and the old one says where it went, and the new domain's engineers are named.
"""

import json

from bot.blocks import ids
from tests.harness import TEAM, Harness


def move(h: Harness, key: str, *, user: str, to: str) -> None:
    """Pick `to` in the card's "Move to…" select (the select carries no value: the card names the key)."""
    request = h.bot.queries.get(int(key.split("-")[1]))
    h.interact(
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
                    "action_id": ids.MOVE,
                    "block_id": "card.actions",
                    "type": "static_select",
                    "action_ts": "1.1",
                    "selected_option": {"value": to, "text": {"type": "plain_text", "text": to}},
                }
            ],
        }
    )
    h.settle()


def old_card(h: Harness, channel: str, ts: str) -> dict:
    return next(m for m in h.fake.messages(channel) if m["ts"] == ts)


def actions_of(message: dict) -> list[str]:
    return [e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def test_a_misrouted_request_is_moved_from_its_card(harness: Harness) -> None:
    h = harness
    h.command("question: ranking query misses synonyms", channel="C0SUPPORT")  # filed in #support: routed there
    h.settle()
    before = h.bot.queries.get(1)
    assert (before.domain, before.assignee, before.card_channel) == ("support", "U0ENG1", "C0SUPPORT")
    assert ids.MOVE in actions_of(h.card("AIR-1"))
    h.clock.advance(hours=1)
    move(h, "AIR-1", user="U0ENG1", to="search")
    after = h.bot.queries.get(1)
    assert (after.domain, after.assignee, after.card_channel, after.status) == ("search", "U0ENG3", "C0SEARCH", "open")
    assert after.created_at == before.created_at and after.court == "assignee"
    [*_, moved] = h.bot.queries.status("AIR-1", "U0ENG1")[1]
    assert (moved.type, moved.data["from"], moved.data["to"], moved.data["assignee"]) == (
        "moved",
        "support",
        "search",
        "U0ENG3",
    )
    stub = old_card(h, "C0SUPPORT", before.card_ts)
    assert actions_of(stub) == [] and "moved to *search* by <@U0ENG1>" in json.dumps(stub["blocks"])
    assert f"/archives/C0SEARCH/p{after.card_ts.replace('.', '')}" in json.dumps(stub["blocks"]), (
        "links to the new card"
    )
    card = h.card_text("AIR-1")
    assert "moved to search by <@U0ENG1> (from support)" in card
    told = [m["text"] for m in h.fake.thread("C0SEARCH", after.card_ts) if m["ts"] != after.card_ts]
    assert any("<@U0ENG3>: it is yours now (assigned to <@U0ENG3>)" in t for t in told), told
    h.reply_in_thread("C0SEARCH", after.card_ts, "looking", user="U0ENG3")
    h.settle()
    assert h.bot.queries.get(1).first_response_at is not None, "the new card's thread is the request's thread"


def test_the_sla_clock_carries_on_through_a_move(harness: Harness) -> None:
    harness.command("eval: ranking query eval is thin", channel="C0SUPPORT")
    harness.settle()
    due = json.dumps(harness.card("AIR-1"), ensure_ascii=False)
    harness.clock.advance(hours=3)
    move(harness, "AIR-1", user="U0ENG1", to="search")
    moved = json.dumps(harness.card("AIR-1"), ensure_ascii=False)
    first_due = lambda text: text.split("First response: ")[1].split(",")[0]  # noqa: E731
    assert first_due(moved) == first_due(due), "the same due time: nothing restarted"
    assert "3 business hours elapsed" in moved


def test_who_may_move(harness: Harness) -> None:
    harness.command("question: refund window wrong", channel="C0SUPPORT")
    harness.settle()
    move(harness, "AIR-1", user="U0OUTSIDER", to="search")
    assert harness.bot.queries.get(1).domain == "support"
    assert any(
        "Only members of support or of search (or admins) can move AIR-1." in t
        for t in harness.ephemerals("U0OUTSIDER")
    )
    move(harness, "AIR-1", user="U0PPM2", to="search")  # search's product owner pulls it in
    assert harness.bot.queries.get(1).domain == "search"
    move(harness, "AIR-1", user="U0ADMIN", to="support")
    assert harness.bot.queries.get(1).domain == "support"


def test_reassigning_to_someone_of_another_domain_moves_it_there(harness: Harness) -> None:
    harness.command("question: ranking query misses synonyms", channel="C0SUPPORT")
    harness.settle()
    harness.reassign("AIR-1", user="U0ENG1", to="U0ENG3")
    harness.settle()
    request = harness.bot.queries.get(1)
    assert (request.domain, request.assignee, request.card_channel) == ("search", "U0ENG3", "C0SEARCH")
    assert "assigned to <@U0ENG3> (picked by <@U0ENG1>)" in harness.card_text("AIR-1")


def test_an_unrouted_request_is_routed_from_triage(harness: Harness) -> None:
    harness.command("question: something about the quarterly offsite", channel="C0RANDOM")
    harness.settle()
    request = harness.bot.queries.get(1)
    assert (request.domain, request.card_channel) == (None, "C0TRIAGE")
    move(harness, "AIR-1", user="U0ENG3", to="search")
    request = harness.bot.queries.get(1)
    assert (request.domain, request.assignee, request.card_channel) == ("search", "U0ENG3", "C0SEARCH")
    assert "moved to *search*" in json.dumps(old_card(harness, "C0TRIAGE", harness.fake.messages("C0TRIAGE")[0]["ts"]))


def edit_to(h: Harness, key: str, *, user: str, domain: str):
    h.click("request.edit", key, user=user)
    h.settle()
    view = h.fake.calls_to("views.open")[-1]["view"]
    request = h.bot.queries.get(int(key.split("-")[1]))
    values = {
        ids.TITLE: {"type": "plain_text_input", "value": request.title},
        ids.KIND: {"type": "static_select", "selected_option": {"value": request.kind}},
        ids.DOMAIN: {"type": "static_select", "selected_option": {"value": domain}},
        ids.PRIORITY: {"type": "static_select", "selected_option": None},
        ids.DESCRIPTION: {"type": "plain_text_input", "value": request.description},
        ids.CONFIDENTIAL: {
            "type": "checkboxes",
            "selected_options": [{"value": "yes"}] if request.confidential else [],
        },
    }
    return h.submit(view, values, user=user)


def test_edit_details_moves_it_and_refuses_who_may_not(harness: Harness) -> None:
    harness.command("question: ranking query misses synonyms", channel="C0SUPPORT")
    harness.settle()
    refused = edit_to(harness, "AIR-1", user="U0REQ", domain="search")
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"domain": "Only members of support or of search (or admins) can move AIR-1."},
    }
    assert harness.bot.queries.get(1).domain == "support"
    assert edit_to(harness, "AIR-1", user="U0ENG2", domain="search").status == 200
    harness.settle()
    assert harness.bot.queries.get(1).domain == "search"


def test_a_confidential_review_moved_keeps_its_words_out_of_public_channels(harness: Harness) -> None:
    harness.command("security review: SECRET-VENDOR ranking embeddings vendor", channel="C0SUPPORT")
    harness.settle()
    before = harness.bot.queries.get(1)
    assert before.card_channel == "G0SUPSEC"
    move(harness, "AIR-1", user="U0SEC1", to="search")
    after = harness.bot.queries.get(1)
    assert (after.domain, after.assignee, after.card_channel) == ("search", "U0SEC2", "C0SEARCH"), "search's reviewer"
    public = json.dumps(
        [
            c
            for c in harness.fake.calls_to("chat.postMessage") + harness.fake.calls_to("chat.update")
            if c["channel"].startswith("C")
        ]
    )
    assert "SECRET-VENDOR" not in public
    assert "moved to *search*" in json.dumps(old_card(harness, "G0SUPSEC", before.card_ts))


def test_nags_after_a_move_link_to_the_new_card(harness: Harness) -> None:
    harness.command("regression: ranking query misses synonyms", channel="C0SUPPORT")
    harness.settle()
    harness.clock.advance(hours=5)
    harness.bot.jobs.run_nags(job="nags", now=harness.clock())  # the owners are nagged: the old card's link is kept
    harness.settle()
    move(harness, "AIR-1", user="U0ENG1", to="search")
    harness.clock.advance(days=1)
    harness.bot.jobs.run_nags(job="nags", now=harness.clock())
    harness.settle()
    card = harness.bot.queries.get(1)
    latest = [c for c in harness.fake.calls_to("chat.postMessage") if c["channel"].startswith("U")][-1]
    assert f"/archives/C0SEARCH/p{card.card_ts.replace('.', '')}" in json.dumps(latest["blocks"])
    assert "/archives/C0SUPPORT/" not in json.dumps(latest["blocks"])

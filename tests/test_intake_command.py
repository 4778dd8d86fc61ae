"""`/ai-request` through the real Bolt app: quick-create, subcommands, the modal."""

import json

from tests.harness import Harness


def test_quick_create_files_routes_and_posts_the_card(harness: Harness) -> None:
    reply = harness.command("regression: refund intent answers with the wrong window")
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "AIR-1" in body["text"]
    assert any(
        e["action_id"] == "request.edit" for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.kind == "regression" and request.domain == "support" and request.assignee == "U0ENG1"
    assert request.priority == "P2"
    card = harness.card("AIR-1")
    assert "refund intent answers with the wrong window" in json.dumps(card["blocks"])
    assert "filed in <#C0SUPPORT>" in json.dumps(card["blocks"])


def test_help_mine_queue_status(harness: Harness) -> None:
    help_answer = harness.command("help").json()
    assert help_answer["response_type"] == "ephemeral"
    assert "• `/ai-request queue [domain]` — a domain's open requests (support, search)" in help_answer["text"]
    assert help_answer["blocks"][0]["text"]["text"] == help_answer["text"]
    harness.command("question: how do I evaluate the ranking model", channel="C0RANDOM")
    harness.settle()
    assert "AIR-1" in json.dumps(harness.command("mine").json())
    assert "AIR-1" in json.dumps(harness.command("queue search").json())
    assert "no domain called" in json.dumps(harness.command("queue nowhere").json())
    status = harness.command("status AIR-1").json()
    assert "AIR-1" in json.dumps(status)
    assert "no request" in json.dumps(harness.command("status AIR-99").json()).lower()


def test_empty_command_opens_the_modal(harness: Harness) -> None:
    reply = harness.command("")
    assert reply.status == 200
    harness.settle()
    opened = harness.fake.calls_to("views.open")
    assert opened and opened[0]["view"]["callback_id"] == "ai_request.submit"


def test_queue_shows_sla_state_and_hides_confidential_titles_from_outsiders(harness: Harness) -> None:
    harness.command("eval: outage of refund answers for customers")  # P2: first response due in 4 business hours
    harness.command("security review: vendor model for refunds")
    harness.settle()
    harness.clock.advance(hours=5)
    member = json.dumps(harness.command("queue support", user="U0ENG1").json())
    assert "SLA breached" in member and "vendor model for refunds" in member
    outsider = json.dumps(harness.command("queue support", user="U0OUTSIDER").json())
    assert "vendor model" not in outsider and "Confidential security review" in outsider


def test_a_subcommand_word_with_more_text_gets_the_usage_and_files_nothing(harness: Harness) -> None:
    for text in ("mine please", "queue search results are stale", "status AIR-1 why"):
        answer = harness.command(text).json()
        assert answer["response_type"] == "ephemeral"
        assert answer["text"].startswith("Nothing was filed"), answer["text"]
        assert "/ai-request question:" in answer["text"]
    harness.settle()
    assert harness.bot.queries.get(1) is None
    assert harness.fake.calls_to("chat.postMessage") == []


def test_help_followed_by_words_files_a_request_and_help_alone_is_help(harness: Harness) -> None:
    assert harness.command("help", user="U0REQ").json()["text"].startswith("*ai-intake* routes requests")
    answer = harness.command("help me with the refund bot's tone in German", user="U0REQ").json()
    assert answer["response_type"] == "ephemeral" and "AIR-1" in answer["text"], answer["text"]
    harness.settle()
    assert harness.bot.queries.get(1).title == "help me with the refund bot's tone in German"


def test_keys_match_in_any_case(harness: Harness) -> None:
    harness.command("question: refund eval for German?", user="U0REQ")
    harness.settle()
    for key in ("air-1", "Air-1", "AIR-1", "1"):
        assert harness.command(f"status {key}", user="U0REQ").json()["text"].startswith("AIR-1"), key

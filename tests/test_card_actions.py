"""Working a request from its card: every button through the real app, cards updated in place."""

import json
import threading

from tests.harness import Harness


def file(h: Harness, text: str = "regression: refund intent answers with the wrong window", **kw) -> str:
    reply = h.command(text, **kw)
    assert reply.status == 200, reply.body
    h.settle()
    return f"AIR-{len(h.fake.calls_to('chat.postMessage'))}"


def test_claim_updates_card_in_place_and_threads_a_line(harness: Harness) -> None:
    key = file(harness)
    harness.clock.advance(minutes=30)
    assert harness.click("request.claim", key, user="U0ENG2").status == 200
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.status == "claimed" and request.assignee == "U0ENG2" and request.owner == "U0ENG2"
    assert request.first_response_at == harness.clock()
    updates = harness.fake.calls_to("chat.update")
    assert updates and updates[-1]["ts"] == request.card_ts
    assert "Claimed" in harness.card_text(key)
    thread = harness.fake.thread(request.card_channel, request.card_ts)
    assert any("claimed this" in m["text"] for m in thread)
    types = [e.type for e in harness.bot.queries.status(key, "U0ENG2")[1]]
    assert types == ["created", "claimed"]


def test_full_lifecycle_wait_reply_resolve_reopen(harness: Harness) -> None:
    key = file(harness, "question: which eval covers refunds?")
    harness.click("request.claim", key, user="U0ENG1")
    harness.settle()
    harness.click("request.wait", key, user="U0ENG1")
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.status == "waiting" and request.court == "requester"
    harness.reply_in_thread(request.card_channel, request.card_ts, "here are the details", user="U0REQ")
    harness.settle()
    assert harness.bot.queries.get(1).status == "claimed"
    assert harness.bot.queries.get(1).court == "assignee"
    harness.click("request.resolve", key, user="U0REQ")
    harness.settle()
    assert harness.bot.queries.get(1).status == "resolved"
    assert "Reopen" in harness.card_text(key) and "Claim" not in harness.card_text(key)
    harness.click("request.reopen", key, user="U0ENG1")
    harness.settle()
    assert harness.bot.queries.get(1).status == "claimed"


def test_reassign_with_the_user_select(harness: Harness) -> None:
    key = file(harness)
    assert harness.reassign(key, user="U0LEAD", to="U0ENG2").status == 200
    harness.settle()
    assert harness.bot.queries.get(1).assignee == "U0ENG2"


def test_outsider_is_refused_ephemerally_and_nothing_changes(harness: Harness) -> None:
    key = file(harness)
    before = harness.bot.queries.get(1)
    harness.click("request.resolve", key, user="U0ENG3")  # an engineer of another domain
    harness.settle()
    after = harness.bot.queries.get(1)
    assert after == before
    assert any("Only members of support" in t for t in harness.ephemerals("U0ENG3"))


def test_tampered_button_values_are_refused(harness: Harness) -> None:
    file(harness)
    for value in ("AIR-999", "garbage", "<!channel>"):
        harness.click("request.claim", value, user="U0ENG1", channel="C0SUPPORT", ts="1.2")
    harness.settle()
    texts = harness.ephemerals("U0ENG1")
    assert sum("no request" in t.lower() for t in texts) == 3
    assert all("<!channel>" not in t for t in texts)


def test_two_people_claiming_at_the_same_moment_exactly_one_wins(harness: Harness) -> None:
    key = file(harness)
    barrier = threading.Barrier(2)

    def claim(user: str) -> None:
        barrier.wait()
        harness.click("request.claim", key, user=user)

    threads = [threading.Thread(target=claim, args=(u,)) for u in ("U0ENG1", "U0ENG2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    events = [e for e in harness.bot.queries.status(key, "U0ENG1")[1] if e.type == "claimed"]
    assert len(events) == 1
    loser = "U0ENG2" if events[0].actor == "U0ENG1" else "U0ENG1"
    assert any("already claimed" in t for t in harness.ephemerals(loser))


def test_regression_take_ownership_and_not_mine(harness: Harness) -> None:
    key = file(harness)
    assert "Take ownership" in harness.card_text(key)
    harness.click("request.disclaim", key, user="U0MLPM")
    harness.settle()
    opened = harness.fake.calls_to("views.open")[-1]["view"]
    assert opened["callback_id"] == "request.disclaim_reason"
    empty = harness.submit(opened, {"reason": {"type": "plain_text_input", "value": "  "}}, user="U0MLPM")
    assert empty.json()["response_action"] == "errors"
    harness.submit(
        opened,
        {"reason": {"type": "plain_text_input", "value": "prompt unchanged; retrieval <!here> index rebuilt"}},
        user="U0MLPM",
    )
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.court == "lead" and request.disclaimers[0].by == "U0MLPM"
    card = harness.card_text(key)
    assert "Not mine" in card and "&lt;!here&gt;" in card and "<!here>" not in card
    harness.click("request.own", key, user="U0PPM")
    harness.settle()
    assert harness.bot.queries.get(1).owner == "U0PPM"
    assert "Take ownership" not in harness.card_text(key)


def test_security_review_stages(harness: Harness) -> None:
    harness.command("security review: new vendor LLM for refund emails")
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.confidential and request.assignee == "U0SEC1" and request.card_channel == "G0SUPSEC"
    assert request.stage == "requested"
    harness.click("review.start", "AIR-1", user="U0SEC1")
    harness.settle()
    assert harness.bot.queries.get(1).stage == "in_review"
    harness.click("review.changes", "AIR-1", user="U0SEC1")
    harness.settle()
    assert harness.bot.queries.get(1).status == "waiting"
    harness.reply_in_thread("G0SUPSEC", request.card_ts, "fixed the data retention", user="U0REQ")
    harness.settle()
    assert harness.bot.queries.get(1).stage == "in_review"
    harness.click("review.approve", "AIR-1", user="U0SEC1")
    harness.settle()
    done = harness.bot.queries.get(1)
    assert done.stage == "approved" and done.status == "resolved"


def test_edit_details_opens_the_prefilled_form_and_saves(harness: Harness) -> None:
    reply = harness.command("question: how do we eval the refund bot")
    assert "request.edit" in reply.body
    harness.settle()
    harness.click("request.edit", "AIR-1", user="U0REQ")
    harness.settle()
    view = harness.fake.calls_to("views.open")[-1]["view"]
    assert json.loads(view["private_metadata"])["key"] == "AIR-1"
    values = {
        "title": {"type": "plain_text_input", "value": "Eval coverage for refund answers"},
        "kind": {"type": "static_select", "selected_option": {"value": "eval"}},
        "priority": {"type": "static_select", "selected_option": None},
        "description": {"type": "plain_text_input", "value": "We have no eval for the refund window."},
        "links.0": {"type": "url_text_input", "value": "https://wiki.example.com/refunds"},
        "links.1": {"type": "url_text_input", "value": None},
        "confidential": {"type": "checkboxes", "selected_options": []},
    }
    assert harness.submit(view, values, user="U0REQ").status == 200
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.title == "Eval coverage for refund answers" and request.kind == "eval"
    assert request.links == ["https://wiki.example.com/refunds"]
    assert "Eval coverage for refund answers" in harness.card_text("AIR-1")


def test_reassigning_to_someone_outside_the_domain_is_refused(harness: Harness) -> None:
    key = file(harness)
    harness.reassign(key, user="U0LEAD", to="U0OUTSIDER")
    harness.settle()
    assert harness.bot.queries.get(1).assignee == "U0ENG1"
    assert any("not a member of support" in t for t in harness.ephemerals("U0LEAD"))


def test_the_requester_withdraws_from_the_confirmation(harness: Harness) -> None:
    reply = harness.command("question: do we have a refund eval?", user="U0REQ")
    assert "request.withdraw" in reply.body
    harness.settle()
    harness.click("request.withdraw", "AIR-1", user="U0ENG3")
    harness.settle()
    assert harness.bot.queries.get(1).status == "open"
    harness.click("request.withdraw", "AIR-1", user="U0REQ")
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.status == "declined" and request.court == "nobody"
    assert "Reopen" in harness.card_text("AIR-1")

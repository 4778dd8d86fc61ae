"""Mentions, thread replies, the message shortcut and :ticket: reactions, with Slack's at-least-once delivery."""

import threading

from tests.harness import Harness


def test_mention_files_a_request_and_replies_in_its_thread(harness: Harness) -> None:
    reply, ts = harness.mention("<@U0BOT> regression: the ranking query returns stale results")
    assert reply.status == 200
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.source == "mention" and request.kind == "regression" and request.domain == "support"
    assert request.title == "the ranking query returns stale results"
    replies = [c for c in harness.fake.calls_to("chat.postMessage") if c.get("thread_ts") == ts]
    assert len(replies) == 1 and "AIR-1" in replies[0]["text"]


def test_mention_help_explains(harness: Harness) -> None:
    harness.mention("<@U0BOT> help")
    harness.settle()
    assert harness.bot.queries.get(1) is None
    assert "/ai-request" in harness.fake.calls_to("chat.postMessage")[0]["text"]


def test_mention_inside_a_request_thread_is_a_comment(harness: Harness) -> None:
    _, ts = harness.mention("<@U0BOT> the refund agent loops")
    harness.settle()
    harness.mention("<@U0BOT> more detail: only for EU customers", user="U0ENG1", thread_ts=ts)
    harness.settle()
    assert harness.bot.queries.get(2) is None
    request = harness.bot.queries.get(1)
    assert request.first_response_at is not None
    assert [e.type for e in harness.bot.queries.status("AIR-1", "U0ENG1")[1]] == ["created", "commented"]


def test_the_same_event_retried_creates_one_request_and_one_reply(harness: Harness) -> None:
    ts = harness.fake.add_message("C0SUPPORT", "<@U0BOT> refund bot is wrong", user="U0REQ")
    event = {
        "type": "app_mention",
        "user": "U0REQ",
        "text": "<@U0BOT> refund bot is wrong",
        "ts": ts,
        "channel": "C0SUPPORT",
        "event_ts": ts,
    }
    harness.event(event, event_id="Ev0RETRY")
    harness.event(
        event, event_id="Ev0RETRY", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    threads = [threading.Thread(target=harness.event, args=(event,), kwargs={"event_id": "Ev0RETRY"}) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The same message also arrives as a plain `message` event.
    harness.event(
        {"type": "message", "user": "U0REQ", "text": event["text"], "ts": ts, "channel": "C0SUPPORT", "event_ts": ts}
    )
    harness.settle()
    assert harness.bot.queries.get(2) is None
    replies = [c for c in harness.fake.calls_to("chat.postMessage") if c.get("thread_ts") == ts]
    assert len(replies) == 1


def test_a_thread_reply_delivered_twice_is_one_comment(harness: Harness) -> None:
    harness.command("question: refund eval?")
    harness.settle()
    request = harness.bot.queries.get(1)
    ts = harness.fake.add_message(request.card_channel, "looking", user="U0ENG1", thread_ts=request.card_ts)
    message = {
        "type": "message",
        "channel": request.card_channel,
        "user": "U0ENG1",
        "text": "looking",
        "ts": ts,
        "thread_ts": request.card_ts,
        "event_ts": ts,
        "channel_type": "channel",
    }
    harness.event(message, event_id="Ev1")
    harness.event({**message, "type": "app_mention"}, event_id="Ev2")
    harness.event(message, event_id="Ev1")
    harness.settle()
    events = harness.bot.queries.status("AIR-1", "U0ENG1")[1]
    assert [e.type for e in events] == ["created", "commented"]
    assert harness.bot.queries.get(1).first_response_at == harness.clock()


def test_the_bot_ignores_its_own_messages(harness: Harness) -> None:
    harness.command("question: refund eval?")
    harness.settle()
    request = harness.bot.queries.get(1)
    harness.event(
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B0BOT",
            "channel": request.card_channel,
            "text": "x",
            "ts": "1800000000.000001",
            "thread_ts": request.card_ts,
        }
    )
    harness.event(
        {
            "type": "message",
            "user": "U0BOT",
            "bot_id": "B0BOT",
            "channel": request.card_channel,
            "text": "x",
            "ts": "1800000000.000002",
            "thread_ts": request.card_ts,
        }
    )
    harness.settle()
    assert [e.type for e in harness.bot.queries.status("AIR-1", "U0ENG1")[1]] == ["created"]


def test_message_shortcut_turns_a_message_into_a_request(harness: Harness) -> None:
    ts = harness.fake.add_message(
        "C0RANDOM", "the helpdesk agent tells customers refunds take 90 days", user="U0AUTHOR"
    )
    reply = harness.interact(
        {
            "type": "message_action",
            "callback_id": "ai_request.from_message",
            "trigger_id": harness.fake.new_trigger_id(),
            "response_url": harness.fake.response_url(),
            "user": {"id": "U0REQ", "name": "req", "team_id": "T0TEAM"},
            "channel": {"id": "C0RANDOM", "name": "random"},
            "message_ts": ts,
            "action_ts": "1.1",
            "message": {
                "type": "message",
                "user": "U0AUTHOR",
                "ts": ts,
                "text": "the helpdesk agent tells customers refunds take 90 days",
            },
        }
    )
    assert reply.status == 200
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.source == "shortcut" and request.origin_ts == ts and request.domain == "support"
    assert (request.requester, request.reporter) == ("U0AUTHOR", "U0REQ"), "the author asks; who pressed reported it"
    assert request.permalink and request.permalink.endswith(f"/archives/C0RANDOM/p{ts.replace('.', '')}")
    assert [e.data.get("reporter") for e in harness.bot.queries.status("AIR-1", "U0REQ")[1]] == ["U0REQ"]
    card = harness.card_text("AIR-1")
    assert "*Reported by*\\n<@U0REQ>" in card and "original message" in card
    assert any(c.get("thread_ts") == ts for c in harness.fake.calls_to("chat.postMessage"))


def test_ticket_reaction_in_a_domain_channel_files_the_message(harness: Harness) -> None:
    ts = harness.fake.add_message("C0SEARCH", "search results ignore synonyms since Monday", user="U0AUTHOR")
    reaction = {
        "type": "reaction_added",
        "user": "U0REQ",
        "reaction": "ticket",
        "item_user": "U0AUTHOR",
        "item": {"type": "message", "channel": "C0SEARCH", "ts": ts},
        "event_ts": "1.1",
    }
    harness.event(reaction)
    harness.event({**reaction, "user": "U0OTHER"})  # a second :ticket: on the same message
    harness.event({**reaction, "reaction": "eyes"})
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.source == "reaction" and request.domain == "search" and request.origin_ts == ts
    assert harness.bot.queries.get(2) is None
    harness.fake.add_message("C0RANDOM", "not a domain channel", user="U0AUTHOR")
    harness.event({**reaction, "item": {"type": "message", "channel": "C0RANDOM", "ts": "1.5"}})
    harness.settle()
    assert harness.bot.queries.get(2) is None


def test_app_home_shows_mine_and_my_domains(harness: Harness) -> None:
    harness.command("regression: refund intent wrong", user="U0REQ")
    harness.settle()
    harness.event({"type": "app_home_opened", "user": "U0ENG1", "channel": "D0HOME", "tab": "home", "event_ts": "1.1"})
    harness.settle()
    published = harness.fake.calls_to("views.publish")
    assert published and published[-1]["user_id"] == "U0ENG1"
    text = str(published[-1]["view"])
    assert "Assigned to you" in text and "AIR-1" in text and "Queue: support" in text


def test_message_markup_is_stored_as_readable_text_and_never_comes_back_live(harness: Harness) -> None:
    text = "<@U0BOT> regression: refunds &amp; returns wrong for <@U0KIM> in <#C0SEARCH|search>, see <https://x.example/a|the doc> <!here>"
    harness.mention(text)
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.title == "refunds & returns wrong for @U0KIM in #search, see the doc (https://x.example/a) @here"
    card = harness.card_text("AIR-1")
    assert "<@U0KIM>" not in card and "<!here>" not in card and "&amp; returns" in card


def test_app_home_follows_changes_for_those_who_use_it(harness: Harness) -> None:
    harness.event({"type": "app_home_opened", "user": "U0ENG1", "channel": "D0HOME", "tab": "home", "event_ts": "1.1"})
    harness.settle()
    assert len(harness.fake.calls_to("views.publish")) == 1
    harness.command("regression: refund intent wrong", user="U0REQ")  # assigned to U0ENG1
    harness.settle()
    published = harness.fake.calls_to("views.publish")
    assert [p["user_id"] for p in published] == ["U0ENG1", "U0ENG1"]  # the requester never opened it
    assert "AIR-1" in str(published[-1]["view"])
    harness.click("request.resolve", "AIR-1", user="U0ENG1")
    harness.settle()
    assert len(harness.fake.calls_to("views.publish")) == 3
    assert "AIR-1" not in str(harness.fake.calls_to("views.publish")[-1]["view"]).split("Queue")[0]

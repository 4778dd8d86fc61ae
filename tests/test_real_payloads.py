"""What real workspaces send, through the real app: messages with subtypes, other apps, Slack's own notices.

The payloads have the shapes Slack documents and real recordings show (a broadcast reply carries
`subtype: thread_broadcast` and a `root`; a reply with a screenshot `subtype: file_share` and `files`;
another app's message `bot_id` and `bot_profile`; `app_rate_limited` comes outside an event envelope).
"""

import json
import logging
import time

from tests.harness import TEAM, Harness


def card_thread_reply(h: Harness, key: str, *, user: str, text: str, **extra: object) -> str:
    request = h.bot.queries.get(int(key.split("-")[1]))
    ts = h.fake.add_message(request.card_channel, text, user=user, thread_ts=request.card_ts)
    h.event(
        {
            "type": "message",
            "channel": request.card_channel,
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": request.card_ts,
            "event_ts": ts,
            "channel_type": "channel",
            **extra,
        }
    )
    return ts


def test_a_broadcast_reply_by_an_engineer_is_the_first_response(harness: Harness) -> None:
    harness.command("question: refund eval?")
    harness.settle()
    request = harness.bot.queries.get(1)
    card_thread_reply(
        harness,
        "AIR-1",
        user="U0ENG1",
        text="on it, looking at the eval set",
        subtype="thread_broadcast",
        root={
            "type": "message",
            "ts": request.card_ts,
            "text": "card",
            "bot_id": "B0BOT",
            "thread_ts": request.card_ts,
        },
    )
    harness.settle()
    assert harness.bot.queries.get(1).first_response_at == harness.clock()
    [*_, event] = harness.bot.queries.status("AIR-1", "U0ENG1")[1]
    assert event.type == "commented" and event.data["first_response"] is True


def test_a_screenshot_from_the_requester_hands_the_ball_back(harness: Harness) -> None:
    harness.command("regression: refund bot quotes the wrong window")
    harness.settle()
    harness.click("request.wait", "AIR-1", user="U0ENG1")
    harness.settle()
    assert harness.bot.queries.get(1).status == "waiting"
    card_thread_reply(
        harness,
        "AIR-1",
        user="U0REQ",
        text="",
        subtype="file_share",
        upload=False,
        display_as_bot=False,
        files=[{"id": "F0SHOT", "name": "refund-answer.png", "title": "refund answer", "mimetype": "image/png"}],
    )
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.status == "claimed" and request.court == "assignee"
    [*_, event] = harness.bot.queries.status("AIR-1", "U0ENG1")[1]
    assert event.type == "replied" and "File: refund answer" in event.data["text"]


def test_other_subtypes_and_other_apps_in_a_thread_change_nothing(harness: Harness) -> None:
    harness.command("question: refund eval?")
    harness.settle()
    card_thread_reply(harness, "AIR-1", user="U0ENG1", text="edited", subtype="message_changed")
    card_thread_reply(
        harness,
        "AIR-1",
        user="U0ALERTBOT",
        text="build green",
        bot_id="B0CI",
        bot_profile={"id": "B0CI", "name": "ci", "app_id": "A0CI", "team_id": TEAM},
    )
    harness.settle()
    assert [e.type for e in harness.bot.queries.status("AIR-1", "U0ENG1")[1]] == ["created"]


def bot_mention(h: Harness, bot_id: str, text: str) -> None:
    ts = h.fake.add_message("C0SUPPORT", text, user="U0ALERTBOT")
    h.event(
        {
            "type": "app_mention",
            "user": "U0ALERTBOT",
            "bot_id": bot_id,
            "app_id": "A0ALERTS",
            "text": text,
            "ts": ts,
            "channel": "C0SUPPORT",
            "event_ts": ts,
            "bot_profile": {"id": bot_id, "name": "alerts", "app_id": "A0ALERTS", "team_id": TEAM, "deleted": False},
        }
    )


def test_mentions_by_other_apps_are_ignored_unless_the_config_allows_them(tmp_path, fake_slack) -> None:
    from tests.harness import CONFIG, start_harness

    h = start_harness(tmp_path, fake_slack, config={**CONFIG, "allowed_bots": ["B0ALERTS"]})
    try:
        bot_mention(h, "B0CHATTY", "<@U0BOT> refund agent latency over 3 s")
        h.settle()
        assert h.bot.queries.get(1) is None and fake_slack.calls_to("chat.postMessage") == []
        bot_mention(h, "B0ALERTS", "<@U0BOT> regression: refund agent latency over 3 s")
        h.settle()
        request = h.bot.queries.get(1)
        assert request is not None and request.kind == "regression" and request.source == "mention"
    finally:
        h.stop()


def test_app_rate_limited_is_answered_200_and_logged(harness: Harness, caplog) -> None:
    notice = {
        "token": "legacy",
        "type": "app_rate_limited",
        "team_id": TEAM,
        "minute_rate_limited": 1518467820,
        "api_app_id": "A0APP",
    }
    with caplog.at_level(logging.WARNING, logger="bot.listeners.events"):
        reply = harness.post(json.dumps(notice).encode(), "application/json")
        harness.settle()
    assert reply.status == 200
    assert "rate-limited this app's events (minute 1518467820)" in caplog.text
    wrapped = harness.event(
        {"type": "app_rate_limited", "team_id": TEAM, "minute_rate_limited": int(time.time()), "api_app_id": "A0APP"}
    )
    assert wrapped.status == 200


def ticket(h: Harness, channel: str, ts: str, *, user: str = "U0REQ") -> None:
    h.event(
        {
            "type": "reaction_added",
            "user": user,
            "reaction": "ticket",
            "item_user": "U0AUTHOR",
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": h.fake.add_message("C0ELSE", "-"),
        }
    )


def test_a_ticket_on_a_reply_inside_a_thread_files_that_reply(harness: Harness) -> None:
    parent = harness.fake.add_message("C0SEARCH", "weekly ranking sync notes", user="U0AUTHOR")
    harness.fake.add_message("C0SEARCH", "first: dashboards look fine", user="U0AUTHOR", thread_ts=parent)
    reply = harness.fake.add_message(
        "C0SEARCH", "regression: synonyms are ignored since Monday", user="U0AUTHOR", thread_ts=parent
    )
    harness.fake.add_message("C0SEARCH", "later reply", user="U0AUTHOR", thread_ts=parent)
    ticket(harness, "C0SEARCH", reply)
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request is not None, "a :ticket: on a reply files it"
    assert (request.title, request.kind, request.origin_ts) == (
        "synonyms are ignored since Monday",
        "regression",
        reply,
    )
    answers = [
        c
        for c in harness.fake.calls_to("chat.postMessage")
        if c["channel"] == "C0SEARCH" and c["text"].startswith("Filed")
    ]
    assert [a.get("thread_ts") for a in answers] == [parent], "answered in the thread the reply is in"


def test_a_ticket_on_a_message_that_is_gone_says_so(harness: Harness) -> None:
    ticket(harness, "C0SEARCH", "1700000000.000100")
    harness.settle()
    assert harness.bot.queries.get(1) is None
    [told] = [c for c in harness.fake.calls_to("chat.postEphemeral") if c["user"] == "U0REQ"]
    assert told["channel"] == "C0SEARCH" and "the message you marked with :ticket: is gone" in told["text"]
    assert "Something went wrong" not in json.dumps(harness.fake.calls_to("chat.postEphemeral"))


def test_a_ticket_where_the_bot_cannot_read_says_how_to_fix_it(harness: Harness) -> None:
    ts = harness.fake.add_message("C0SEARCH", "ranking broke", user="U0AUTHOR")
    harness.fake.not_in_channels.add("C0SEARCH")
    ticket(harness, "C0SEARCH", ts)
    harness.settle()
    assert harness.bot.queries.get(1) is None
    [dm] = [c for c in harness.fake.calls_to("chat.postMessage") if c["channel"] == "U0REQ"]
    assert "/invite @ai-intake" in dm["text"]


def alert(h: Harness, channel: str) -> str:
    """A monitoring app's alert: no text, one attachment, as such apps post it."""
    with h.fake._lock:
        message = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B0GRAFANA",
            "username": "grafana",
            "text": "",
            "attachments": [
                {
                    "fallback": "[FIRING] refund-agent p95 latency",
                    "title": "[FIRING] refund-agent p95 latency",
                    "text": "p95 over 3 s for 10 min",
                    "fields": [{"title": "env", "value": "prod", "short": True}],
                }
            ],
        }
        return h.fake._keep(channel, message, thread_ts=None)["ts"]


def test_a_ticket_on_an_apps_alert_files_its_attachment_and_links_back(harness: Harness) -> None:
    ts = alert(harness, "C0SUPPORT")
    ticket(harness, "C0SUPPORT", ts, user="U0ENG2")
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.title == "[FIRING] refund-agent p95 latency"
    assert "p95 over 3 s for 10 min" in request.description and "env: prod" in request.description
    assert (request.requester, request.reporter) == ("U0ENG2", None), (
        "an app cannot answer questions: who filed it asks"
    )
    assert "original message" in harness.card_text("AIR-1") and request.permalink


def test_a_shortcut_on_a_file_only_message_keeps_the_file_names(harness: Harness) -> None:
    with harness.fake._lock:
        ts = harness.fake._keep(
            "C0SUPPORT",
            {
                "type": "message",
                "subtype": "file_share",
                "user": "U0AUTHOR",
                "text": "",
                "files": [{"id": "F1", "name": "refund-chat.png", "title": "refund chat"}],
            },
            thread_ts=None,
        )["ts"]
    message = next(m for m in harness.fake.messages("C0SUPPORT") if m["ts"] == ts)
    harness.interact(
        {
            "type": "message_action",
            "callback_id": "ai_request.from_message",
            "trigger_id": harness.fake.new_trigger_id(),
            "response_url": harness.fake.response_url(),
            "user": {"id": "U0REQ", "name": "req", "team_id": TEAM},
            "channel": {"id": "C0SUPPORT", "name": "support"},
            "message_ts": ts,
            "message": message,
        }
    )
    harness.settle()
    request = harness.bot.queries.get(1)
    assert request.title == "File: refund chat" and (request.requester, request.reporter) == ("U0AUTHOR", "U0REQ")


def test_a_ticket_names_the_author_as_requester_and_takes_the_kind_from_the_words(harness: Harness) -> None:
    ts = harness.fake.add_message("C0SUPPORT", "bug: the refund agent answers in German", user="U0AUTHOR")
    ticket(harness, "C0SUPPORT", ts, user="U0ENG1")
    harness.settle()
    request = harness.bot.queries.get(1)
    assert (request.kind, request.requester, request.reporter) == ("regression", "U0AUTHOR", "U0ENG1")
    harness.click("request.withdraw", "AIR-1", user="U0ENG1")  # the reporter may take back what they filed
    harness.settle()
    assert harness.bot.queries.get(1).status == "declined"


def test_a_ticket_on_the_bots_own_card_files_nothing(harness: Harness) -> None:
    harness.command("question: refund eval?")
    harness.settle()
    ticket(harness, "C0SUPPORT", harness.bot.queries.get(1).card_ts)
    harness.settle()
    assert harness.bot.queries.get(2) is None
    assert any("ai-intake's own message" in c["text"] for c in harness.fake.calls_to("chat.postEphemeral"))

"""A Slack Web API outage loses nothing a person sent: each surface is stored first, its Slack side done once
Slack is back.

Slack's Web API drops every connection for a minute (the fake Slack resets them, as a dead load balancer
does: the client sees a URLError or a reset, retries, gives up). Meanwhile, as Slack still delivers its
events and interactivity to the bot: a quick-create command, a mention, the message shortcut, a click, the
form, and a :ticket:. Then Slack is back; the outbox sends what waited.

Every request is filed, its card posted and its person answered; the click's change is on the card. The
:ticket: is the one surface whose words are not in what Slack delivers (the bot must read the message
from the Web API): its event is answered 503, so Slack delivers it again (as Slack does, a minute later,
with `X-Slack-Retry-Num`), and that delivery, once Slack is back, files it.
"""

from bot.blocks import ids
from bot.blocks.modal import request_modal
from tests.harness import Harness


def form_values(title: str) -> dict:
    return {
        ids.TITLE: {"type": "plain_text_input", "value": title},
        ids.KIND: {"type": "static_select", "selected_option": {"value": "eval"}},
        ids.DOMAIN: {"type": "static_select", "selected_option": None},
        ids.PRIORITY: {"type": "static_select", "selected_option": None},
        ids.DESCRIPTION: {"type": "plain_text_input", "value": "we have no eval for refunds abroad"},
        ids.CONFIDENTIAL: {"type": "checkboxes", "selected_options": []},
    }


def test_every_surface_used_during_a_web_api_outage_is_filed_and_answered_once_slack_is_back(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot quotes the wrong window", user="U0REQ")
    h.settle()
    view = request_modal(h.bot.config, channel="C0SUPPORT").to_dict()
    ticketed = h.fake.add_message("C0SEARCH", "search results ignore synonyms since monday", user="U0AUTHOR")
    before = len(h.fake.calls)

    h.fake.reset("*", times=100_000)  # the Web API is down
    reply = h.command("question: does the refund eval cover orders shipped abroad?", user="U0REQ2")
    assert reply.status == 200 and "Filed AIR-2" in reply.json()["text"]
    h.mention("<@U0BOT> the helpdesk agent answers french customers in german", user="U0REQ3", channel="C0SUPPORT")
    h.interact(
        {
            "type": "message_action",
            "callback_id": ids.FROM_MESSAGE,
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "user": {"id": "U0REQ5", "name": "u0req5", "team_id": "T0TEAM"},
            "channel": {"id": "C0SUPPORT", "name": "support"},
            "message_ts": "1700000100.000100",
            "message": {
                "type": "message",
                "user": "U0REQ6",
                "text": "refund agent loops on partial refunds",
                "ts": "1700000100.000100",
            },
        }
    )
    assert h.click(ids.CLAIM, "AIR-1", user="U0ENG1").status == 200
    assert h.submit(view, form_values("eval gap: refunds abroad"), user="U0REQ4").status == 200
    ticket = {
        "type": "reaction_added",
        "user": "U0REQ7",
        "reaction": "ticket",
        "item_user": "U0AUTHOR",
        "item": {"type": "message", "channel": "C0SEARCH", "ts": ticketed},
        "event_ts": "1.2",
    }
    assert h.event(ticket, event_id="Ev0TICKET").status == 503, "Slack is to deliver it again"
    assert h.bot.pool.wait_idle(timeout=60)
    assert not [c for c in h.fake.calls[before:] if c.status == 200 and c.method.startswith(("chat.", "views."))]

    h.clock.advance(minutes=1)
    h.fake.recover()  # Slack is back
    again = h.event(
        ticket, event_id="Ev0TICKET", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    )
    assert again.status == 200
    for _ in range(8):
        h.settle()
        h.clock.advance(minutes=2)
    h.settle()

    filed = {r.source: r for r in (h.bot.queries.get(n) for n in range(1, 8)) if r}
    assert set(filed) == {"command", "mention", "shortcut", "modal", "reaction"}, filed
    assert len([r for r in (h.bot.queries.get(n) for n in range(1, 9)) if r]) == 6
    assert h.bot.queries.get(1).status == "claimed" and "Claimed" in h.card_text("AIR-1")
    for request in (h.bot.queries.get(n) for n in range(2, 7)):
        assert request.card_ts, f"{request.key} has its card once Slack is back"
    mention, shortcut, ticketed_request = filed["mention"], filed["shortcut"], filed["reaction"]
    assert (ticketed_request.requester, ticketed_request.reporter, ticketed_request.domain) == (
        "U0AUTHOR",
        "U0REQ7",
        "search",
    )
    assert "synonyms" in ticketed_request.title
    assert any(
        m.get("thread_ts") == mention.origin_ts and mention.key in m["text"] for m in h.fake.messages("C0SUPPORT")
    )
    assert any(
        m.get("thread_ts") == shortcut.origin_ts and shortcut.key in m["text"] for m in h.fake.messages("C0SUPPORT")
    )
    told = {c["user"]: c["text"] for c in h.fake.calls_to("chat.postEphemeral")}
    assert filed["modal"].key in told["U0REQ4"], "the form's person is answered"
    assert any(
        m.get("thread_ts") == ticketed and ticketed_request.key in m["text"] for m in h.fake.messages("C0SEARCH")
    )

"""What is filed in a private conversation stays private: confidential by default, its card kept there.

Support has a private review channel (G0SUPSEC); search has none. C0PRIVATE and C0SEARCHPRIV are private
channels the config does not name (Slack gives new private channels C… ids too: only Slack knows, through
the payload's hints or conversations.info). Every surface that files is used: the slash command, the form,
a mention, the message shortcut and a :ticket:. Afterwards no public channel carries a word of them.
"""

import json

from bot.blocks import ids
from bot.blocks.modal import request_modal
from tests.harness import Harness
from tests.stories import message_shortcut

PUBLIC = ("C0SUPPORT", "C0SEARCH", "C0TRIAGE", "C0DIGEST")


def words_in_public(h: Harness, *words: str) -> list[str]:
    """Every word of `words` that a post or update in a public channel carried."""
    calls = h.fake.calls_to("chat.postMessage") + h.fake.calls_to("chat.update")
    public = json.dumps([c for c in calls if c.get("channel") in PUBLIC])
    return [w for w in words if w in public]


def mention(h: Harness, channel: str, text: str, *, user: str = "U0REQ") -> str:
    """Mention the bot and wait for it (events are handled after their ack: settling keeps the keys in order)."""
    ts = h.fake.add_message(channel, text, user=user)
    h.event({"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts})
    h.settle()
    return ts


def test_the_review_channel_keeps_what_is_filed_in_it(harness: Harness) -> None:
    """The leak: a request filed in support's private review channel went, in full, to the public one."""
    h = harness
    h.fake.private_channels.add("G0SUPSEC")
    h.command("regression: SECRET-ALPHA refund bot leaks card numbers", channel="G0SUPSEC", channel_name="privategroup")
    mention(h, "G0SUPSEC", "<@U0BOT> SECRET-BRAVO the refund agent reads other tickets")
    ts = h.fake.add_message("G0SUPSEC", "SECRET-CHARLIE helpdesk transcripts in the eval set", user="U0AUTHOR")
    h.event(
        {
            "type": "reaction_added",
            "user": "U0SEC1",
            "reaction": "ticket",
            "item_user": "U0AUTHOR",
            "item": {"type": "message", "channel": "G0SUPSEC", "ts": ts},
            "event_ts": ts,
        }
    )
    h.settle()
    requests = [h.bot.queries.get(i) for i in (1, 2, 3)]
    assert [(r.domain, r.confidential, r.card_channel) for r in requests] == [("support", True, "G0SUPSEC")] * 3
    assert words_in_public(h, "SECRET-ALPHA", "SECRET-BRAVO", "SECRET-CHARLIE") == []
    assert "SECRET-ALPHA" in h.card_text("AIR-1"), "the private channel sees its own request in full"
    assert all(c["channel"] != "C0SUPPORT" for c in h.fake.calls_to("chat.postMessage"))


def test_a_private_channel_the_config_does_not_name_counts_too(harness: Harness) -> None:
    h = harness
    h.fake.private_channels.update({"C0PRIVATE", "C0SEARCHPRIV"})
    mention(h, "C0PRIVATE", "<@U0BOT> SECRET-DELTA refund agent quotes the wrong window")  # support by keyword
    mention(h, "C0SEARCHPRIV", "<@U0BOT> SECRET-ECHO ranking query misses synonyms")  # search: no review channel
    message_shortcut(
        h,
        ids.FROM_MESSAGE,
        user="U0REQ",
        author="U0AUTHOR",
        channel="C0PRIVATE",
        channel_name="refund-war-room",
        text="SECRET-FOXTROT refund eval has no German cases",
    )
    delta, echo, foxtrot = (h.bot.queries.get(i) for i in (1, 2, 3))
    assert (delta.confidential, delta.card_channel) == (True, "G0SUPSEC"), "to support's private review channel"
    assert (echo.confidential, echo.card_channel) == (True, "C0SEARCHPRIV"), (
        "search has none: the card stays where it was filed"
    )
    assert (foxtrot.confidential, foxtrot.card_channel) == (True, "G0SUPSEC")
    assert words_in_public(h, "SECRET-DELTA", "SECRET-ECHO", "SECRET-FOXTROT") == []
    assert "SECRET-ECHO" in h.card_text("AIR-2")
    filed = [
        c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == "C0PRIVATE" and c["text"].startswith("Filed")
    ]
    assert filed and "SECRET-DELTA" in json.dumps(filed[0]["blocks"]), (
        "the thread it was filed in may read its own words"
    )
    assert len(h.fake.calls_to("conversations.info")) == 2, "each channel is asked about once"


def test_a_public_channel_is_not_made_private(harness: Harness) -> None:
    harness.command("regression: refund window wrong", channel="C0SUPPORT", channel_name="support")
    mention(harness, "C0SEARCH", "<@U0BOT> ranking query misses synonyms")
    harness.settle()
    assert [(r.confidential, r.card_channel) for r in map(harness.bot.queries.get, (1, 2))] == [
        (False, "C0SUPPORT"),
        (False, "C0SEARCH"),
    ]


def test_the_form_opened_in_a_private_channel_starts_ticked_and_unticking_is_a_choice(harness: Harness) -> None:
    h = harness
    h.command("", channel="C0PRIVATE", channel_name="privategroup")
    h.settle()
    [opened] = h.fake.calls_to("views.open")
    view = opened["view"]
    box = next(b for b in view["blocks"] if b["block_id"] == ids.CONFIDENTIAL)
    assert box["element"]["initial_options"], "ticked: filed in a private channel"
    values = {
        ids.TITLE: {"type": "plain_text_input", "value": "refund agent eval for German"},
        ids.KIND: {"type": "static_select", "selected_option": {"value": "eval"}},
        ids.CONFIDENTIAL: {"type": "checkboxes", "selected_options": [{"value": "yes"}]},
    }
    assert h.submit(view, values, user="U0REQ").status == 200
    h.submit(
        {**request_modal(h.bot.config, channel="C0PRIVATE", private=True).to_dict()},
        {**values, ids.CONFIDENTIAL: {"type": "checkboxes", "selected_options": []}},
        user="U0REQ",
    )
    h.settle()
    ticked, unticked = h.bot.queries.get(1), h.bot.queries.get(2)
    assert (ticked.confidential, ticked.card_channel) == (True, "G0SUPSEC")
    assert (unticked.confidential, unticked.card_channel) == (False, "C0SUPPORT")

"""The requester has a voice: what she writes about a request she filed — a mention naming its key, "any update?",
a direct message to the bot — is recorded on that request as hers and files nothing new; the ladder quotes her;
a confidential request's words never reach a public place. Through the real app."""

import json
import re

from tests.harness import Harness
from tests.stories import buttons, dms, leaks, shown, thread_posts

TITLE = "Acme vendor LLM reads refund emails"
SECRET = re.compile(r"Acme|Zephyr", re.IGNORECASE)
SUPPORT_PEOPLE = {"U0ENG1", "U0ENG2", "U0SEC1", "U0LEAD", "U0PPM", "U0MLPM", "U0ADMIN", "U0REQ"}


def dm_event(h: Harness, text: str, *, user: str = "U0REQ", channel: str = "D0REQ") -> None:
    """`user` writes to the bot in its Messages tab, as Slack delivers it (message.im)."""
    ts = h.fake.add_message(channel, text, user=user)
    h.event(
        {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "im",
        }
    )
    h.settle()


def test_a_requester_asking_about_her_confidential_review_files_nothing_and_leaks_nothing(harness: Harness) -> None:
    h = harness
    _, filed_in = h.mention(f"<@U0BOT> security review: {TITLE}", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    review = h.bot.queries.get(1)
    assert (review.confidential, review.card_channel) == (True, "G0SUPSEC")

    h.mention("<@U0BOT> any update on air-1?", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    h.mention("<@U0BOT> AIR-1: Zephyr legal needs an answer by Friday", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    assert h.bot.queries.get(2) is None, "nothing new was filed"
    with h.bot.store.reading() as tx:
        asks = [e for e in tx.events(1) if e.type == "commented"]
    assert [(e.actor, e.data["by"]) for e in asks] == [("U0REQ", "requester")] * 2
    assert asks[1].data["text"].startswith("AIR-1: Zephyr legal needs an answer")

    answers = [
        c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == "C0SUPPORT" and "Noted on" in c["text"]
    ]
    assert len(answers) == 2 and all(c.get("thread_ts") for c in answers)
    assert "Confidential security review" in answers[0]["text"] and "<@U0SEC1>" in answers[0]["text"]
    in_review_thread = [m["text"] for m in thread_posts(h, "AIR-1")]
    assert any("<@U0REQ> asked: “AIR-1: Zephyr legal needs an answer by Friday”" in t for t in in_review_thread)

    dm_event(h, "hi, any news on my review?")
    with h.bot.store.reading() as tx:
        assert len([e for e in tx.events(1) if e.type == "commented"]) == 3
    noted = [m for m in dms(h, "U0REQ") if "Noted on" in m["text"]]
    assert len(noted) == 3, "each ask in #support is followed up in her direct messages, and so is her DM"
    assert all(TITLE in m["text"] for m in noted), "her own direct messages may show her request's title"

    for _ in range(8):  # the reviewer stays silent: the ladder quotes what she asked
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()
    [nag] = [m for m in dms(h, "U0SEC1") if "security review:" in m["text"]]
    assert "<@U0REQ> asked for an update" in nag["text"] and "last asked: “hi, any news on my review?”" in nag["text"]
    assert leaks(h, SECRET, people=SUPPORT_PEOPLE, channels={"G0SUPSEC"}) == []
    assert shown(nag)


def test_a_requester_with_several_requests_is_asked_which_and_a_direct_message_about_none_is_answered(
    harness: Harness,
) -> None:
    h = harness
    dm_event(h, "hello?")
    assert "You have no open request" in dms(h, "U0REQ")[-1]["text"]
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.command("question: does the ranking index drop German results?", user="U0REQ", channel="C0SEARCH")
    h.settle()
    h.mention("<@U0BOT> any update?", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    assert h.bot.queries.get(3) is None
    [which] = [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c["channel"] == "C0SUPPORT" and "You have 2 open requests" in c["text"]
    ]
    assert "*AIR-1*" in which["text"] and "*AIR-2*" in which["text"]
    h.mention("<@U0BOT> the refund bot quotes the wrong window again", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    assert h.bot.queries.get(3) is not None, "words that ask for no update are a new request"
    h.mention("<@U0BOT> AIR-1 is like the refund agent tone problem", user="U0ENG1", channel="C0SUPPORT")
    h.settle()
    assert h.bot.queries.get(4) is not None, "naming someone else's request files a new one"


def test_every_link_and_button_a_requester_gets_works_for_her(harness: Harness) -> None:
    h = harness
    answer = h.command(f"security review: {TITLE}", user="U0REQ").json()  # its card goes to the private review channel
    assert "G0SUPSEC" not in answer["text"] and "private review channel" in answer["text"]
    h.settle()
    for _ in range(23):  # the reviewer never answers: the ladder climbs to its second rung, which names her
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()
    mine = [m for m in dms(h, "U0REQ") if "security review:" in m["text"]]
    assert mine, "rung 2 names the requester"
    for message in mine:
        assert "G0SUPSEC" not in shown(message) and "/ai-request status AIR-1" in shown(message)
        assert not any(label.startswith("Snooze") for label in buttons(message)), "a button that would refuse her"
    reviewer = [m for m in dms(h, "U0SEC1") if "security review:" in m["text"]][-1]
    assert "Snooze AIR-1" in buttons(reviewer) and "open the card" in shown(reviewer) or "G0SUPSEC" in shown(reviewer)


def test_mine_and_the_app_home_show_whose_court_each_filed_request_is_in_and_how_to_follow_up(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.command(f"security review: {TITLE}", user="U0REQ")
    h.settle()
    h.click("request.wait", "AIR-1", user="U0ENG1")
    h.settle()
    mine = json.dumps(h.command("mine", user="U0REQ").json(), ensure_ascii=False)
    assert "the ball is with you (it waits on your answer)" in mine and "the ball is with <@U0SEC1>" in mine
    assert "any update on AIR-5?" in mine
    h.event({"type": "app_home_opened", "user": "U0REQ", "channel": "D0REQ", "tab": "home", "event_ts": "1.1"})
    h.settle()
    home = json.dumps(h.fake.calls_to("views.publish")[-1]["view"], ensure_ascii=False)
    assert "the ball is with <@U0SEC1>" in home and TITLE in home and "any update on AIR-5?" in home

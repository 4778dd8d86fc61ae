"""The requester is told what became of her request, by direct message, as much as she chose: claimed, moved
(the follow-up to "Filed AIR-2 → #support"), waiting on her, resolved with how, closed as a duplicate with the
request to follow. `/ai-request notify all|important|none`, and the organisation's default. Through the real app."""

import copy
import json
from collections.abc import Iterator

import pytest

from bot.blocks import ids
from tests.harness import CONFIG, Harness, start_harness
from tests.stories import news_to


def told(h: Harness, user: str = "U0REQ") -> list[str]:
    return news_to(h, user)


def move(h: Harness, key: str, to: str, *, user: str) -> None:
    card = h.card(key)
    h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": "C0SUPPORT", "name": "x"},
            "container": {"type": "message", "message_ts": card["ts"], "channel_id": "C0SUPPORT"},
            "message": card,
            "actions": [
                {
                    "action_id": ids.MOVE,
                    "block_id": "card.actions",
                    "type": "static_select",
                    "selected_option": {"text": {"type": "plain_text", "text": to}, "value": to},
                    "action_ts": "1.1",
                }
            ],
        }
    )
    h.settle()


def test_the_requester_hears_what_became_of_her_request(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.settle()
    assert told(h) == []
    h.click(ids.CLAIM, "AIR-1", user="U0ENG1")
    h.settle()
    assert told(h)[-1].startswith("*AIR-1* (which eval covers the refund window?): <@U0ENG1> is working on it now.")
    h.click(ids.WAIT, "AIR-1", user="U0ENG1")
    h.settle()
    assert (
        "it waits on you: <@U0ENG1> asked you something in its thread" in told(h)[-1] and "<#C0SUPPORT>" in told(h)[-1]
    )
    request = h.bot.queries.get(1)
    h.reply_in_thread(request.card_channel, request.card_ts, "the German one, please", user="U0REQ")
    h.settle()
    assert len(told(h)) == 2, "her own answer tells her nothing"
    h.click(ids.RESOLVE, "AIR-1", user="U0ENG1")
    h.settle()
    assert "<@U0ENG1> resolved it." in told(h)[-1]

    filed = h.command("question: the ranking index drops German results", user="U0REQ").json()  # lands in support
    assert "Filed AIR-2" in filed["text"] and "<#C0SUPPORT>" in filed["text"]
    h.settle()
    move(h, "AIR-2", "search", user="U0ENG1")
    assert told(h)[-1].startswith(
        "*AIR-2* (the ranking index drops German results): it moved from support to search: "
        "<@U0ENG3> has it now (its card is now in <#C0SEARCH>)."
    )

    h.command("question: the ranking index drops German results again", user="U0REQ2")
    h.settle()
    card = h.card("AIR-3")
    duplicate = next(
        e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ids.DUPLICATE
    )
    h.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0ENG1", "name": "u0eng1", "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": card_channel(h, "AIR-3"), "name": "x"},
            "container": {"type": "message", "message_ts": card["ts"], "channel_id": card_channel(h, "AIR-3")},
            "message": card,
            "actions": [
                {
                    "action_id": ids.DUPLICATE,
                    "block_id": "card.actions",
                    "type": "static_select",
                    "selected_option": duplicate["options"][0],
                    "action_ts": "1.1",
                }
            ],
        }
    )
    h.settle()
    [news] = told(h, "U0REQ2")
    assert (
        "<@U0ENG1> closed it as a duplicate of *AIR-2* (the ranking index drops German results): follow that one"
        in news
    )


def card_channel(h: Harness, key: str) -> str:
    return h.bot.queries.get(int(key.split("-")[1])).card_channel


def test_notify_chooses_how_much_and_the_org_sets_the_default(harness: Harness) -> None:
    h = harness
    answer = h.command("notify", user="U0REQ").json()["text"]
    assert answer.startswith("You are told who works it") and "the organisation's default" in answer
    assert (
        h.command("notify important", user="U0REQ")
        .json()["text"]
        .startswith("From now on you are told only when it waits on you")
    )
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.settle()
    h.click(ids.CLAIM, "AIR-1", user="U0ENG1")
    h.click(ids.WAIT, "AIR-1", user="U0ENG1")
    h.settle()
    assert [t.split(": ", 1)[1][:30] for t in told(h)] == ["it waits on you: <@U0ENG1> ask"]
    h.command("notify none", user="U0REQ")
    h.click(ids.RESOLVE, "AIR-1", user="U0ENG1")
    h.settle()
    assert len(told(h)) == 1
    assert h.command("notify loudly", user="U0REQ").json()["text"].startswith("Nothing was filed")


@pytest.fixture
def quiet_org(tmp_path, fake_slack) -> Iterator[Harness]:
    config = copy.deepcopy(CONFIG)
    config["nags"] = {"requester_updates": "none"}
    h = start_harness(tmp_path, fake_slack, config=config)
    yield h
    h.stop()


def test_the_organisations_default_is_what_people_get_until_they_choose(quiet_org: Harness) -> None:
    h = quiet_org
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.settle()
    h.click(ids.CLAIM, "AIR-1", user="U0ENG1")
    h.settle()
    assert told(h) == []
    assert "nothing" in h.command("notify", user="U0REQ").json()["text"]
    h.command("notify all", user="U0REQ")
    h.click(ids.RESOLVE, "AIR-1", user="U0ENG1")
    h.settle()
    assert "<@U0ENG1> resolved it." in json.dumps(told(h))

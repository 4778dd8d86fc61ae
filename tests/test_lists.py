"""Nothing is cut off silently: `queue`, `mine`, `status` and the App Home page through long lists.

Every list shows one page, says how many more there are and how to see them (`page 2`, a "Next page"
button), and stays inside Block Kit's limits (the fake Slack fails the test on any breach) however
long the titles are.
"""

import json
import re

from tests.harness import Harness

KEY = re.compile(r"\*(AIR-\d+)\*")


def dump(blob: object) -> str:
    return json.dumps(blob, ensure_ascii=False)


def keys(blob: object) -> list[str]:
    return KEY.findall(dump(blob))


def file_many(h: Harness, count: int, *, user: str = "U0REQ", long: bool = False) -> None:
    for i in range(count):
        title = f"refund case {i:02d} " + ("with a very long explanation of what went wrong " * 6 if long else "")
        assert h.command(f"question: {title}", user=user, channel="C0SUPPORT").status == 200
    h.settle()


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_long_queue_pages_and_says_how_many_more(harness: Harness) -> None:
    file_many(harness, 40, long=True)
    first = harness.command("queue support", user="U0ENG1").json()
    assert keys(first) == [f"AIR-{i}" for i in range(1, 16)]
    text = dump(first["blocks"])
    assert "1–15 of 40" in text and "+25 more: `/ai-request queue support page 2`" in text
    [next_page] = buttons(first["blocks"])
    assert (next_page["action_id"], next_page["value"]) == ("list.page", "queue support page 2")
    harness.click("list.page", next_page["value"], user="U0ENG1")
    harness.settle()
    [answer] = [r["body"] for r in harness.fake.responses if r["body"].get("replace_original") is True]
    assert answer["response_type"] == "ephemeral"
    assert keys(answer["blocks"]) == [f"AIR-{i}" for i in range(16, 31)] and "+10 more" in dump(answer["blocks"])
    last = harness.command("queue support page 3", user="U0ENG1").json()
    assert keys(last) == [f"AIR-{i}" for i in range(31, 41)] and "more" not in dump(last["blocks"])
    assert "none here, 40 in all" in dump(harness.command("queue support page 9", user="U0ENG1").json())


def test_mine_pages_both_lists(harness: Harness) -> None:
    file_many(harness, 20)
    answer = harness.command("mine").json()
    text = dump(answer["blocks"])
    assert "*Filed by you* (1–15 of 20)" in text and "+5 more: `/ai-request mine page 2`" in text
    assert keys(harness.command("mine page 2").json()) == [f"AIR-{i}" for i in range(16, 21)]


def test_the_app_home_pages_each_list(harness: Harness) -> None:
    file_many(harness, 36)  # U0ENG1 and U0ENG2 take turns: 18 each
    harness.event({"type": "app_home_opened", "user": "U0ENG1", "channel": "D0HOME", "tab": "home", "event_ts": "1.1"})
    harness.settle()
    view = harness.fake.calls_to("views.publish")[-1]["view"]
    text = dump(view)
    assert "*Assigned to you* (1–15 of 18)" in text and "*Queue: support* (1–15 of 36)" in text
    assert "+3 more" in text and "+21 more" in text
    pages = {b["value"]: b for b in buttons(view["blocks"])}
    assert set(pages) == {"assigned 2", "support 2"}
    harness.click("home.page", "support 2", user="U0ENG1")
    harness.settle()
    view = harness.fake.calls_to("views.publish")[-1]["view"]
    text = dump(view)
    assert "*Queue: support* (16–30 of 36)" in text and "*Assigned to you* (1–15 of 18)" in text
    assert {b["value"] for b in buttons(view["blocks"])} == {"assigned 2", "support 3", "support 1"}


def test_status_shows_the_whole_history_in_pages(harness: Harness) -> None:
    harness.command("question: refund eval?")
    harness.settle()
    request = harness.bot.queries.get(1)
    for i in range(56):
        harness.reply_in_thread(request.card_channel, request.card_ts, f"note {i}", user="U0ENG1")
    harness.settle()
    first = harness.command("status AIR-1").json()
    text = dump(first["blocks"])
    assert "events 38–57 of 57" in text and "+37 earlier: `/ai-request status AIR-1 page 2`" in text
    assert "ai-intake export" in text
    assert [b["value"] for b in buttons(first["blocks"])] == ["status AIR-1 page 2"]
    last = dump(harness.command("status AIR-1 page 3").json()["blocks"])
    assert "events 1–17 of 57" in last and "created" in last and "earlier" not in last

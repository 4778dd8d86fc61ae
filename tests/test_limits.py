"""Length caps on what is stored, through the real app: nothing is kept past its limit, and the person is told.

Slack's clients keep a form within its `max_length`s, but a message can hold 40,000 characters and a
forged submission anything: the server caps (or refuses) whatever reaches it, and never renders an
element's value over the element's own limit.
"""

import json

from bot.domain.models import Request
from bot.domain.parsing import COMMENT_LIMIT, DESCRIPTION_LIMIT, TITLE_LIMIT
from tests.harness import START, Harness
from tests.test_modal import open_form, values

LONG = "the refund agent loops " * 5_000  # about 115,000 characters


def edit_form(h: Harness, key: str, *, user: str) -> dict:
    h.click("request.edit", key, user=user)
    h.settle()
    return h.fake.calls_to("views.open")[-1]["view"]


def element(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b["block_id"] == block_id)["element"]


def test_a_huge_mention_is_stored_cut_and_the_thread_is_told(harness: Harness) -> None:
    _, ts = harness.mention("<@U0BOT> regression: " + LONG)
    harness.settle()
    request = harness.bot.queries.get(1)
    assert len(request.title) <= TITLE_LIMIT and len(request.description) == DESCRIPTION_LIMIT
    assert request.description.endswith("…")
    [reply] = [c for c in harness.fake.calls_to("chat.postMessage") if c.get("thread_ts") == ts]
    note = json.dumps(reply["blocks"])
    assert "Cut to fit: the description keeps its first 3,000 characters" in note
    assert "the whole text is in the original message" in note
    view = edit_form(harness, "AIR-1", user="U0REQ")
    for block_id in ("title", "description"):
        field = element(view, block_id)
        assert len(field.get("initial_value") or "") <= field["max_length"], block_id


def test_a_long_quick_create_says_what_was_cut(harness: Harness) -> None:
    answer = harness.command("question: " + "x" * 40 + "\n" + LONG).json()
    assert "Cut to fit: the description keeps its first 3,000 characters" in json.dumps(answer["blocks"])
    assert len(harness.bot.queries.get(1).description) == DESCRIPTION_LIMIT


def test_a_forged_form_over_its_limits_is_stored_cut_and_the_person_told(harness: Harness) -> None:
    view = open_form(harness)
    forged = values(
        title={"type": "plain_text_input", "value": "t" * 400},
        description={"type": "plain_text_input", "value": LONG},
        **{"links.0": {"type": "url_text_input", "value": "https://x.example/" + "a" * 4000}},
    )
    assert harness.submit(view, forged, user="U0REQ").status == 200
    harness.settle()
    request = harness.bot.queries.get(1)
    assert (len(request.title), len(request.description), request.links) == (TITLE_LIMIT, DESCRIPTION_LIMIT, [])
    [answer] = [c for c in harness.fake.calls_to("chat.postEphemeral") if c["user"] == "U0REQ"]
    note = json.dumps(answer["blocks"])
    assert "the title keeps its first 150 characters" in note and "links over 3,000 characters" in note
    edit = edit_form(harness, "AIR-1", user="U0REQ")
    assert (
        harness.submit(
            edit, {**forged, "description": {"type": "plain_text_input", "value": "y" * 5000}}, user="U0REQ"
        ).status
        == 200
    )
    harness.settle()
    assert len(harness.bot.queries.get(1).description) == DESCRIPTION_LIMIT
    assert any("AIR-1 is saved. Cut to fit: the title keeps" in t for t in dms(harness, "U0REQ"))


def dms(h: Harness, user: str) -> list[str]:
    return [c["text"] for c in h.fake.calls_to("chat.postMessage") if c["channel"] == user]


def test_an_old_long_description_is_shown_cut_and_kept_whole_unless_changed(harness: Harness) -> None:
    """A description stored before the caps: the Edit form shows what fits, and saving it unchanged loses nothing."""
    old = Request(
        id=0,
        kind="question",
        domain="support",
        title="old one",
        description=LONG,
        priority="P4",
        status="open",
        requester="U0REQ",
        source="mention",
        card_channel="C0SUPPORT",
        court="assignee",
        assignee="U0ENG1",
        created_at=START,
        updated_at=START,
    )
    with harness.bot.store.transaction() as tx:
        tx.insert_request(old, origin_key=None)
    view = edit_form(harness, "AIR-1", user="U0REQ")
    shown = element(view, "description")
    assert len(shown["initial_value"]) == shown["max_length"] == DESCRIPTION_LIMIT
    assert (
        "Longer than the form holds"
        in next(b for b in view["blocks"] if b["block_id"] == "description")["hint"]["text"]
    )
    same = values(
        title={"type": "plain_text_input", "value": "old one, renamed"},
        kind={"type": "static_select", "selected_option": {"value": "question"}},
        description={"type": "plain_text_input", "value": shown["initial_value"]},
        priority={"type": "static_select", "selected_option": None},
        **{"links.0": {"type": "url_text_input", "value": None}},
    )
    assert harness.submit(view, same, user="U0REQ").status == 200
    assert harness.bot.queries.get(1).description == LONG
    view = edit_form(harness, "AIR-1", user="U0REQ")
    assert (
        harness.submit(
            view, {**same, "description": {"type": "plain_text_input", "value": "short now"}}, user="U0REQ"
        ).status
        == 200
    )
    assert harness.bot.queries.get(1).description == "short now"


def test_a_long_thread_reply_is_recorded_cut_and_its_author_told(harness: Harness) -> None:
    harness.command("question: refund eval?")
    harness.settle()
    request = harness.bot.queries.get(1)
    harness.reply_in_thread(request.card_channel, request.card_ts, LONG, user="U0ENG1")
    harness.settle()
    [*_, event] = harness.bot.queries.status("AIR-1", "U0ENG1")[1]
    assert len(event.data["text"]) == COMMENT_LIMIT and event.data["text"].endswith("…")
    assert any("up to its first 2,000 characters; the thread keeps it whole" in t for t in harness.ephemerals("U0ENG1"))


def test_a_forged_not_mine_reason_over_its_limit_is_refused(harness: Harness) -> None:
    harness.command("regression: refund window wrong")
    harness.settle()
    harness.click("request.disclaim", "AIR-1", user="U0PPM")
    harness.settle()
    view = harness.fake.calls_to("views.open")[-1]["view"]
    reply = harness.submit(view, {"reason": {"type": "plain_text_input", "value": "no " * 1000}}, user="U0PPM")
    assert reply.json()["errors"] == {"reason": "Keep the reason under 500 characters."}
    assert harness.bot.queries.get(1).disclaimers == []

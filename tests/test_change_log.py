"""The change log through the real app: a change logged by command, form or message shortcut; the other side
asked once, in the domain's channel, with three answers; each answer's effect; the lists, the App Home and
the query the `change.unacknowledged` nag will read."""

import copy
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.changes import change_modal
from bot.blocks.reasons import reason_text
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, signed_headers, start_harness
from tests.stories import last_view, message_shortcut

CATALOG: dict[str, Any] = {
    "assets": [
        {"name": "refund-answer", "kind": "prompt", "domain": "support", "platform_owner": "U0PROMPT"},
        {"name": "refund-intent", "kind": "intent", "domain": "support", "product_owner": "U0PPMX"},
    ],
}


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **CATALOG})
    yield harness
    harness.stop()


def questions(h: Harness, channel: str = "C0SUPPORT") -> list[dict[str, Any]]:
    """The change questions the bot posted in `channel`, as they stand now."""
    return [
        m for m in h.fake.messages(channel) if any(b.get("block_id") == "change.question" for b in m.get("blocks", []))
    ]


def question_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"])


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def ship(h: Harness, text: str, *, user: str = "U0PPM", channel: str = "C0SUPPORT") -> str:
    reply = h.command(f"shipped {text}", user=user, channel=channel)
    assert reply.status == 200
    h.settle()
    return json.dumps(reply.json()) if reply.body.startswith("{") else reply.body


def submit_view(h: Harness, callback: str, values: dict[str, Any], *, user: str) -> Any:
    """Submit the last form opened with `callback` with `values` (block id -> element state)."""
    view = next(
        c["view"]
        for c in reversed(h.fake.calls_to("views.open"))
        if json.loads(json.dumps(c["view"]))["callback_id"] == callback
    )
    view = json.loads(view) if isinstance(view, str) else view
    return h.submit(view, values, user=user)


def test_a_product_change_asks_the_platform_owner_once_in_the_domain_channel(h: Harness) -> None:
    said = ship(h, "intent: express-refund intent")
    assert "Logged CHG-1" in said and "<@U0MLPM> is asked in <#C0SUPPORT>" in said
    [question] = questions(h)
    text = question_text(question)
    assert "<@U0MLPM> Product shipped *express-refund intent* (intent) in support (<@U0PPM>, CHG-1)" in text
    assert "Does the prompt/eval suite cover it?" in text
    assert buttons(question) == [ids.CHANGE_COVERED, ids.CHANGE_NEEDS_WORK, ids.CHANGE_NOT_RELEVANT]
    assert [b["value"] for b in question["blocks"][-1]["elements"]] == ["CHG-1"] * 3
    h.settle()
    assert len(questions(h)) == 1  # asked once


def test_a_platform_change_asks_the_product_owner(h: Harness) -> None:
    said = ship(h, "platform: prompt: refund answers cite the policy", user="U0MLPM")
    assert "<@U0PPM> is asked" in said
    assert "Does the product side need to act" in question_text(questions(h)[0])


def test_an_asset_names_the_pair_asked(h: Harness) -> None:
    h.command("shipped", user="U0PPM", channel="C0SUPPORT")
    h.settle()
    values = {
        ids.DOMAIN: {"type": "static_select", "selected_option": {"value": "support"}},
        ids.SIDE: {"type": "static_select", "selected_option": {"value": "product"}},
        ids.CHANGE_KIND: {"type": "static_select", "selected_option": {"value": "intent"}},
        ids.WHAT: {"type": "plain_text_input", "value": "refund answers now quote the order date"},
        ids.ASSET: {"type": "static_select", "selected_option": {"value": "refund-answer"}},
        ids.VERSION: {"type": "plain_text_input", "value": "7"},
        f"{ids.LINKS}.0": {"type": "url_text_input", "value": "https://docs.example.com/refunds"},
    }
    assert submit_view(h, ids.CHANGE_MODAL, values, user="U0PPM").status == 200
    h.settle()
    [question] = questions(h)
    assert "<@U0PROMPT> Product shipped *refund answers now quote the order date* (intent, v7)" in question_text(
        question
    )
    assert "asset `refund-answer`" in question_text(question)
    assert any("Logged CHG-1" in t for t in h.ephemerals("U0PPM"))
    record = h.bot.changelog.get("CHG-1")
    assert (record.change.asset, record.change.asked, record.change.links) == (
        "refund-answer",
        "U0PROMPT",
        ["https://docs.example.com/refunds"],
    )


def test_the_form_names_the_field_to_fix(h: Harness) -> None:
    view = change_modal(h.bot.config, channel="C0SUPPORT").to_dict()
    values = {
        ids.DOMAIN: {"type": "static_select", "selected_option": {"value": "support"}},
        ids.SIDE: {"type": "static_select", "selected_option": {"value": "product"}},
        ids.CHANGE_KIND: {"type": "static_select", "selected_option": {"value": "prompt"}},
        ids.WHAT: {"type": "plain_text_input", "value": "x"},
    }
    reply = h.submit(view, values, user="U0PPM")
    assert reply.json()["response_action"] == "errors"
    assert "A product change cannot be a prompt" in reply.json()["errors"][ids.CHANGE_KIND]
    values[ids.CHANGE_KIND] = {"type": "static_select", "selected_option": None}
    values[ids.ASSET] = {"type": "static_select", "selected_option": {"value": "refund-answer"}}
    values[ids.DOMAIN] = {"type": "static_select", "selected_option": {"value": "search"}}
    reply = h.submit(view, values, user="U0PPM")
    assert reply.json()["errors"] == {ids.ASSET: "asset 'refund-answer' belongs to support, not search"}
    h.settle()
    assert questions(h) == [] and questions(h, "C0SEARCH") == []


def test_shipped_without_a_side_it_can_tell_asks_for_one(h: Harness) -> None:
    said = ship(h, "refund answers are shorter", user="U0ENG1")
    assert "Say which side shipped it" in said
    assert questions(h) == []
    assert "Logged CHG-1" in ship(h, "refund answers are shorter", user="U0MLPM")  # the platform owner's own side


def test_covered_asks_for_the_eval_case_and_shows_the_answer(h: Harness) -> None:
    ship(h, "intent: express-refund intent")
    h.click(ids.CHANGE_COVERED, "CHG-1", user="U0MLPM")
    h.settle()
    assert h.fake.calls_to("views.open")[-1]["view"]
    bad = submit_view(
        h, ids.COVERED_MODAL, {ids.EVAL_LINK: {"type": "url_text_input", "value": "not a link"}}, user="U0MLPM"
    )
    assert ids.EVAL_LINK in bad.json()["errors"]
    good = submit_view(
        h,
        ids.COVERED_MODAL,
        {ids.EVAL_LINK: {"type": "url_text_input", "value": "https://evals.example.com/41"}},
        user="U0MLPM",
    )
    assert good.status == 200 and good.body == ""
    h.settle()
    [question] = questions(h)
    assert buttons(question) == []  # updated in place: no more answers
    assert "<@U0MLPM> answered" in question_text(question) and "https://evals.example.com/41" in question_text(question)
    [line] = [m for m in h.fake.thread("C0SUPPORT", question["ts"]) if m["ts"] != question["ts"]]
    assert line["text"].startswith("<@U0MLPM> answered: covered; the eval case: <https://evals.example.com/41|")
    again = h.click(ids.CHANGE_NOT_RELEVANT, "CHG-1", user="U0MLPM")
    assert again.status == 200
    h.settle()
    assert any("CHG-1 was already answered by <@U0MLPM>: covered." in t for t in h.ephemerals("U0MLPM"))


def test_only_the_person_asked_the_lead_or_an_admin_may_answer(h: Harness) -> None:
    ship(h, "intent: express-refund intent")
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0ENG1")
    h.click(ids.CHANGE_COVERED, "CHG-1", user="U0OUTSIDER")
    h.settle()
    refusals = h.told()  # each to the response_url of the click
    assert refusals == ["Only <@U0MLPM>, the support lead or an admin can answer for CHG-1."] * 2
    assert h.bot.changelog.get("CHG-1").answer is None and h.bot.queries.get(1) is None
    h.click(ids.CHANGE_NOT_RELEVANT, "CHG-1", user="U0LEAD")
    h.settle()
    empty = submit_view(
        h, ids.NOT_RELEVANT_MODAL, {ids.REASON: {"type": "plain_text_input", "value": " "}}, user="U0LEAD"
    )
    assert empty.json()["errors"] == {ids.REASON: "Say why the change is not relevant to your side."}
    submit_view(
        h,
        ids.NOT_RELEVANT_MODAL,
        {ids.REASON: {"type": "plain_text_input", "value": "<!channel> no prompt change"}},
        user="U0LEAD",
    )
    h.settle()
    answer = h.bot.changelog.get("CHG-1").answer
    assert (answer.answer, answer.by, answer.reason) == ("not_relevant", "U0LEAD", "<!channel> no prompt change")
    assert "not relevant: &lt;!channel&gt; no prompt change" in question_text(questions(h)[0])


def test_needs_work_files_an_eval_request_for_the_platform_side(h: Harness) -> None:
    ship(h, "intent: express-refund intent")
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0MLPM")
    h.settle()
    request = h.bot.queries.get(1)
    assert (request.kind, request.domain, request.assignee, request.source, request.requester) == (
        "eval",
        "support",
        "U0MLPM",
        "change",
        "U0MLPM",
    )
    assert request.title == "Eval coverage for express-refund intent" and "CHG-1" in request.description
    assert "assigned to <@U0MLPM> (the platform owner, for CHG-1)" in map(reason_text, request.route_reasons)
    assert request.card_channel == "C0SUPPORT" and "Eval coverage for express-refund intent" in h.card_text("AIR-1")
    assert "needs work; AIR-1 asks for it" in question_text(questions(h)[0])
    assert h.bot.changelog.get("CHG-1").answer.eval_request == "AIR-1"
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0MLPM")  # a second press files nothing
    h.settle()
    assert h.bot.queries.get(2) is None


def test_the_message_shortcut_opens_the_form_with_the_message(h: Harness) -> None:
    message_shortcut(
        h,
        ids.CHANGE_FROM_MESSAGE,
        user="U0PPM",
        channel="C0SUPPORT",
        channel_name="support",
        text="Shipped: the express-refund intent is live for EU customers\nmore details",
    )
    view = last_view(h)
    assert view["callback_id"] == ids.CHANGE_MODAL
    what = next(b for b in view["blocks"] if b["block_id"] == ids.WHAT)
    assert what["element"]["initial_value"] == "Shipped: the express-refund intent is live for EU customers"
    domain = next(b for b in view["blocks"] if b["block_id"] == ids.DOMAIN)
    assert domain["element"]["initial_option"]["value"] == "support"


def test_changes_lists_the_latest_with_their_answers(h: Harness) -> None:
    ship(h, "intent: express-refund intent")
    ship(h, "platform: prompt: refund answer v8", user="U0MLPM")
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-2", user="U0PPM")
    h.settle()
    reply = h.command("changes", user="U0OUTSIDER", channel="C0SUPPORT")
    text = json.dumps(reply.json())
    assert "Latest changes in support" in text
    assert text.index("*CHG-2*") < text.index("*CHG-1*")
    assert "asked <@U0MLPM>, unanswered for 0.0 business days" in text
    assert "needs work; AIR-1 asks for it" in text
    assert "no changes logged yet" in json.dumps(h.command("changes search", user="U0OUTSIDER").json())
    assert "There is no domain called “billing”" in h.command("changes billing", user="U0OUTSIDER").json()["text"]


def test_the_unanswered_changes_are_queryable_for_the_nag(h: Harness) -> None:
    ship(h, "intent: express-refund intent")
    ship(h, "platform: prompt: refund answer v8", user="U0MLPM")
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-2", user="U0PPM")
    h.settle()
    later = h.clock.advance(days=3)  # Monday 10:00 Berlin to Thursday 10:00: three business days
    [state] = h.bot.changelog.unanswered(now=later)
    assert (state.change.id, state.asked, state.waiting_business_days) == ("CHG-1", "U0MLPM", 3.0)


def test_the_app_home_shows_what_waits_for_your_answer(h: Harness) -> None:
    ship(h, "intent: express-refund intent")
    h.event({"type": "app_home_opened", "user": "U0MLPM", "tab": "home", "channel": "D0HOME", "event_ts": "1.1"})
    h.settle()
    home = json.dumps(h.fake.calls_to("views.publish")[-1]["view"])
    assert "Changes waiting for your answer* (1)" in home and "*CHG-1*" in home
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0MLPM")
    h.settle()
    home = json.dumps(h.fake.calls_to("views.publish")[-1]["view"])
    assert "Changes waiting for your answer* (0)" in home and "Latest changes in your domains" in home


def test_the_change_export_is_its_own_and_documented(h: Harness) -> None:
    import csv
    import io
    import re

    from bot.usecases.export import CHANGE_CSV_COLUMNS, CHANGE_FIELDS, export

    ship(h, "intent: express-refund intent")
    ship(h, "platform: prompt: =refund answer v8", user="U0MLPM")
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-2", user="U0PPM")
    h.settle()
    out = io.StringIO()
    assert export(h.bot.store, h.bot.config, now=h.clock(), fmt="json", out=out, changes=True) == 2
    first, second = json.loads(out.getvalue())
    assert list(first) == list(CHANGE_FIELDS)
    assert (first["id"], first["side"], first["kind"], first["asked"], first["answer"], first["hook"]) == (
        "CHG-1",
        "product",
        "intent",
        "U0MLPM",
        None,
        None,
    )
    assert second["answer"]["answer"] == "needs_work" and second["answer"]["eval_request"] == "AIR-1"
    assert [e["type"] for e in second["events"]] == ["change.logged", "change.answered"]
    out = io.StringIO()
    export(h.bot.store, h.bot.config, now=h.clock(), fmt="csv", out=out, changes=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == CHANGE_CSV_COLUMNS and rows[1]["what"] == "'=refund answer v8"
    docs = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text().split("## Changes", 1)[1]
    table = docs.split("```", 1)[0]
    assert [n for n in re.findall(r"^\| ([^|]+) \|", table, re.M) for n in re.findall(r"`([^`]+)`", n)] == list(
        CHANGE_FIELDS
    )
    header = docs.split("```\n", 1)[1].split("```", 1)[0]
    assert [c.strip() for c in header.replace("\n", " ").split(",")] == CHANGE_CSV_COLUMNS
    requests = io.StringIO()
    export(h.bot.store, h.bot.config, now=h.clock(), fmt="json", out=requests)
    assert [r["key"] for r in json.loads(requests.getvalue())] == ["AIR-1"]  # the requests' export is as it was


def test_a_replayed_shipped_command_logs_the_change_once_and_asks_once(h: Harness) -> None:
    form = {
        "team_id": "T0TEAM",
        "channel_id": "C0SUPPORT",
        "user_id": "U0PPM",
        "command": "/ai-request",
        "text": "shipped intent: express-refund intent",
        "response_url": h.fake.response_url(),
        "trigger_id": h.fake.new_trigger_id(),
    }
    body = urllib.parse.urlencode(form).encode()
    headers = signed_headers(body)  # the same signed bytes, delivered twice (Slack's retry, or someone replaying them)
    first = h.post(body, "application/x-www-form-urlencoded", sign=False, headers=headers)
    again = h.post(body, "application/x-www-form-urlencoded", sign=False, headers=headers)
    assert first.status == again.status == 200
    assert "Logged CHG-1" in first.body and "CHG-2" not in again.body
    h.settle()
    assert [r.change.id for r in h.bot.changelog.latest(None)] == ["CHG-1"]
    [question] = questions(h)
    assert "CHG-1" in question_text(question)
    assert len(h.fake.messages("C0SUPPORT")) == 1  # the question alone: nobody is asked twice


def test_a_replayed_snooze_of_a_change_is_pressed_once(h: Harness) -> None:
    ship(h, "intent: express-refund intent")
    payload = {
        "type": "block_actions",
        "team": {"id": "T0TEAM", "domain": "acme"},
        "api_app_id": "A0APP",
        "user": {"id": "U0MLPM", "name": "u0mlpm", "team_id": "T0TEAM"},
        "trigger_id": h.fake.new_trigger_id(),
        "response_url": h.fake.response_url(),
        "channel": {"id": "U0MLPM", "name": "x"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "U0MLPM"},
        "message": {"ts": "1700000000.000001", "type": "message", "text": "", "blocks": []},
        "actions": [
            {
                "action_id": ids.CHANGE_SNOOZE,
                "block_id": "card.actions",
                "type": "button",
                "value": "CHG-1",
                "action_ts": "1700000000.1",
            }
        ],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = signed_headers(body)
    assert h.post(body, "application/x-www-form-urlencoded", sign=False, headers=headers).status == 200
    h.settle()
    assert h.post(body, "application/x-www-form-urlencoded", sign=False, headers=headers).status == 200
    h.settle()
    assert len(h.bot.changelog.get("CHG-1").snoozes) == 1
    thread = [m for m in h.fake.messages("C0SUPPORT") if "snoozed reminders about CHG-1" in m.get("text", "")]
    assert len(thread) == 1

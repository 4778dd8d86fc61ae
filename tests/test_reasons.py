"""Why a request is where it is: triage's and the moves' reasons are stored as facts (`models.Reason`) and worded
by `bot.blocks.reasons`; a request an earlier version stored keeps its sentences, shown as they were."""

import json
from datetime import datetime, timezone
from typing import Any

from bot.blocks.reasons import reason_text, routing_line
from bot.domain.models import Reason, Request
from storage.rows import request_from_row, row_of_request
from tests.harness import Harness
from tests.test_moves import move

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def request(**fields: Any) -> Request:
    return Request(
        id=1,
        kind="regression",
        domain="support",
        title="refund bot answers with the wrong window",
        description="",
        priority="P2",
        status="open",
        requester="U0REQ",
        source="command",
        created_at=T0,
        updated_at=T0,
        **fields,
    )


def stored_reasons(h: Harness, request_id: int) -> list[Any]:
    with h.bot.db.read() as db:
        [row] = db.query("SELECT route_reasons FROM requests WHERE id = ?", [request_id])
    return json.loads(row["route_reasons"])


def test_triage_stores_its_reasons_as_facts_and_the_card_words_them(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot answers with the wrong window", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    stored = stored_reasons(h, 1)
    assert stored[0] == {"kind": "routed", "how": "channel", "domain": "support", "channel": "C0SUPPORT"}
    assert stored[1]["kind"] == "assigned" and stored[1]["user"] == "U0ENG1" and stored[1]["how"] == "load"
    assert stored[2] == {"kind": "priority", "how": "default", "priority": "P2", "of": "regression"}
    assert not any("text" in r for r in stored)  # no sentence is stored
    request = h.bot.queries.get(1)
    assert [reason_text(r) for r in request.route_reasons][::2] == [
        "routed to support (filed in <#C0SUPPORT>)",
        "priority P2 (regression default)",
    ]
    assert routing_line(request) in h.card_text("AIR-1")


def test_a_move_stores_who_moved_it_and_from_where_as_facts(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot answers with the wrong window", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    move(h, "AIR-1", user="U0ENG1", to="search")
    h.settle()
    moved = h.bot.queries.get(1)
    assert moved.route_reasons[0] == Reason(kind="moved", domain="search", by="U0ENG1", source="support")
    assert moved.route_reasons[-1] == Reason(kind="priority", priority="P2", how="kept")
    assert stored_reasons(h, 1)[0] == {"kind": "moved", "domain": "search", "by": "U0ENG1", "source": "support"}
    assert reason_text(moved.route_reasons[0]) == "moved to search by <@U0ENG1> (from support)"


def test_an_earlier_versions_sentences_still_show_as_they_did() -> None:
    said = ["routed to support (keywords)", "assigned to <@U0ENG1> (fewest open)", "priority P2 (regression default)"]
    row = row_of_request(request(assignee="U0ENG1"))
    row["route_reasons"] = json.dumps(said)  # as a row of an earlier version holds them
    old = request_from_row(row)
    assert routing_line(old) == ":compass: " + "; ".join(said)
    again = request_from_row(row_of_request(old))  # written back (any change to the request) and read again
    assert routing_line(again) == routing_line(old)
    # reassigned since: the sentence that named who triage assigned gives way, as it always did
    taken = old.model_copy(update={"assignee": "U0ENG2"})
    assert routing_line(taken) == (
        ":compass: routed to support (keywords); priority P2 (regression default); now assigned to <@U0ENG2>"
    )


def test_a_reassignment_drops_the_stale_assigned_reason_by_its_facts() -> None:
    reasons = [
        Reason(kind="routed", domain="support", how="keywords", terms=("refund",)),
        Reason(kind="assigned", user="U0ENG1", how="load", count=0, load=0),
        Reason(kind="priority", priority="P2", how="default", of="regression"),
    ]
    held = request(assignee="U0ENG1", route_reasons=reasons)
    assert routing_line(held) == (
        ":compass: routed to support (mentions refund); assigned to <@U0ENG1> (fewest open: 0); "
        "priority P2 (regression default)"
    )
    taken = held.model_copy(update={"assignee": "U0ENG2"})
    assert routing_line(taken) == (
        ":compass: routed to support (mentions refund); priority P2 (regression default); now assigned to <@U0ENG2>"
    )
    nobody = held.model_copy(update={"assignee": None})
    assert routing_line(nobody).endswith("; nobody is assigned now")


def test_a_reassignment_on_the_card_drops_the_stale_reason(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot answers with the wrong window", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    h.reassign("AIR-1", user="U0LEAD", to="U0ENG2")
    h.settle()
    assert h.bot.queries.get(1).assignee == "U0ENG2"
    assert any(r["kind"] == "assigned" and r["user"] == "U0ENG1" for r in stored_reasons(h, 1))  # the facts stay
    text = h.card_text("AIR-1")
    assert "assigned to <@U0ENG1>" not in text and "now assigned to <@U0ENG2>" in text

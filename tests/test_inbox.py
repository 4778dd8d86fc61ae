"""Ack at once, work after: a command, a click or a shortcut is kept in the inbox and acked with an empty 200; the
inbox worker files it and posts the answer to its response_url; nothing kept is lost to a crash, nothing is
applied twice."""

import json
import sqlite3
from pathlib import Path

from tests.fake_slack import FakeSlack
from tests.harness import FORM, Harness, signed_headers, start_harness

FILE = "regression: refund intent answers with the wrong window"


def signed(body: bytes) -> dict[str, str]:
    return {"Content-Type": FORM, **signed_headers(body)}


def response_url_of(body: bytes) -> str:
    from urllib.parse import parse_qs

    return parse_qs(body.decode())["response_url"][0]


def test_a_command_is_acked_before_it_is_filed_and_answered_through_its_response_url(harness: Harness) -> None:
    harness.bot.inbox.stop()  # nothing is worked: what the HTTP side does alone
    body = harness.command_body(FILE)
    ack = harness.post_only(body, signed(body))
    assert (ack.status, ack.body) == (200, "")  # the empty 200, before any listener ran
    assert harness.bot.queries.get(1) is None and harness.bot.inbox.inbox.count_pending() == 1
    assert not harness.fake.responses

    harness.bot.inbox.start()
    assert harness.bot.inbox.wait_idle(timeout=10)
    assert harness.bot.queries.get(1).key == "AIR-1"
    [answer] = [r["body"] for r in harness.fake.responses if r["url"] == response_url_of(body)]
    assert answer["response_type"] == "ephemeral" and "AIR-1" in answer["text"]
    assert harness.bot.inbox.inbox.count_pending() == 0


def test_the_reply_is_what_the_person_sees_and_the_ack_is_empty(harness: Harness) -> None:
    reply = harness.command(FILE)
    assert reply.ack is not None and (reply.ack.status, reply.ack.body) == (200, "")
    assert reply.status == 200 and "AIR-1" in reply.json()["text"]
    assert [r["body"] for r in harness.fake.responses] == [reply.json()]


def test_a_command_kept_but_not_worked_when_the_bot_stops_is_filed_once_at_the_next_start(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    first = start_harness(tmp_path, fake_slack)
    first.bot.inbox.stop()  # the process dies between the ack and the filing
    body = first.command_body(FILE)
    assert first.post_only(body, signed(body)).status == 200
    first.stop()

    second = start_harness(tmp_path, fake_slack)  # resumes what was kept
    try:
        assert second.bot.inbox.wait_idle(timeout=10)
        second.settle()
        assert second.bot.queries.get(1).key == "AIR-1" and second.bot.queries.get(2) is None
        assert any(
            "AIR-1" in r["body"].get("text", "") for r in fake_slack.responses if r["url"] == response_url_of(body)
        )
        assert len(fake_slack.calls_to("chat.postMessage")) == 1  # one card
    finally:
        second.stop()


def test_a_delivery_worked_but_not_marked_done_is_not_applied_twice(tmp_path: Path, fake_slack: FakeSlack) -> None:
    first = start_harness(tmp_path, fake_slack)
    first.command(FILE)
    first.settle()
    first.stop()
    with sqlite3.connect(tmp_path / "intake.db.inbox") as db:  # the crash came after the filing, before `done`
        assert db.execute("UPDATE inbox SET done_at = NULL").rowcount == 1

    second = start_harness(tmp_path, fake_slack)
    try:
        assert second.bot.inbox.wait_idle(timeout=10)
        second.settle()
        assert second.bot.queries.get(2) is None
        assert second.bot.inbox.inbox.count_pending() == 0
    finally:
        second.stop()


def test_a_replayed_command_is_kept_once_and_files_once(harness: Harness) -> None:
    harness.bot.inbox.stop()
    body = harness.command_body(FILE)
    headers = signed(body)
    assert harness.post_only(body, headers).status == 200
    assert harness.post_only(body, headers).status == 200  # Slack's retry: the same bytes
    assert harness.bot.inbox.inbox.count_pending() == 1
    harness.bot.inbox.start()
    harness.settle()
    assert harness.post_only(body, headers) == harness.post_only(body, headers)  # a replay after it was worked
    harness.settle()
    assert harness.bot.queries.get(1) is not None and harness.bot.queries.get(2) is None


def test_a_click_is_acked_at_once_and_updates_the_card_in_place(harness: Harness) -> None:
    harness.command(FILE)
    harness.settle()
    card_ts = harness.bot.queries.get(1).card_ts
    reply = harness.click("request.claim", "AIR-1", user="U0ENG1")
    assert (reply.status, reply.body) == (200, "") and reply.ack is not None
    harness.settle()
    assert harness.bot.queries.get(1).status == "claimed"
    update = harness.fake.calls_to("chat.update")[-1]
    assert update["ts"] == card_ts and "U0ENG1" in json.dumps(update.get("blocks"))


def test_the_form_opens_in_the_request_not_after_it(harness: Harness) -> None:
    harness.bot.inbox.stop()  # nothing is worked after the ack: views.open must come within the request
    body = harness.command_body("")
    assert harness.post_only(body, signed(body)).status == 200
    assert harness.bot.pool.wait_idle(timeout=10)  # the listener, which acked first, opens the form
    assert harness.fake.calls_to("views.open") and harness.bot.inbox.inbox.count_pending() == 0


def test_deliveries_an_earlier_version_kept_in_the_database_are_moved_to_the_inbox_file_and_worked(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Before the inbox had a file of its own it was a table of the database: what was kept there and not worked
    when the bot stopped is moved over at the next start, and worked."""
    first = start_harness(tmp_path, fake_slack)
    first.bot.inbox.stop()
    body = first.command_body(FILE)
    assert first.post_only(body, signed(body)).status == 200
    first.stop()
    with sqlite3.connect(tmp_path / "intake.db.inbox") as inbox, sqlite3.connect(tmp_path / "intake.db") as db:
        rows = inbox.execute("SELECT key, body, headers, received_at FROM inbox WHERE done_at IS NULL").fetchall()
        inbox.execute("DELETE FROM inbox")
        db.executemany("INSERT INTO inbox (key, body, headers, received_at) VALUES (?, ?, ?, ?)", rows)
    assert len(rows) == 1

    second = start_harness(tmp_path, fake_slack)
    try:
        assert second.bot.inbox.wait_idle(timeout=10)
        second.settle()
        assert second.bot.queries.get(1).key == "AIR-1"
        assert any("AIR-1" in r["body"].get("text", "") for r in fake_slack.responses)
    finally:
        second.stop()
    with sqlite3.connect(tmp_path / "intake.db") as db:
        assert db.execute("SELECT count(*) FROM inbox").fetchone() == (0,)  # moved, not copied


def test_one_persons_deliveries_are_worked_in_the_order_sent_while_others_are_worked_beside_them(
    harness: Harness,
) -> None:
    """Kept while nothing is worked, then worked on every lane at once: each person's requests are filed in the order
    they sent them, whoever else's are worked meanwhile."""
    harness.bot.inbox.stop()
    sent: dict[str, list[str]] = {}
    for i in range(12):
        user = f"U0REQ{i % 3}"
        title = f"regression: refund answer {i} is wrong"
        body = harness.command_body(title, user=user)
        assert harness.post_only(body, signed(body)).status == 200
        sent.setdefault(user, []).append(f"refund answer {i} is wrong")
    harness.bot.inbox.start()
    harness.settle()
    filed: dict[str, list[str]] = {}
    for n in range(1, 13):
        request = harness.bot.queries.get(n)
        filed.setdefault(request.requester, []).append(request.title)
    assert {user: [t.lower() for t in titles] for user, titles in filed.items()} == sent

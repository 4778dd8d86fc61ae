"""Slack's side of the wire: signatures, replays, acking fast while the Web API is slow, Web API failures."""

import concurrent.futures
import json
import logging
import time
import urllib.parse

import pytest

from tests.harness import SIGNING_SECRET, Harness, signed_headers
from tests.stories import dms


def command_body(h: Harness, text: str, *, user: str = "U0REQ") -> bytes:
    return urllib.parse.urlencode(
        {
            "team_id": "T0TEAM",
            "channel_id": "C0SUPPORT",
            "user_id": user,
            "command": "/ai-request",
            "text": text,
            "response_url": h.fake.response_url(),
            "trigger_id": h.fake.new_trigger_id(),
        }
    ).encode()


def test_bad_and_stale_signatures_get_401_and_write_nothing(harness: Harness) -> None:
    body = command_body(harness, "question: refund eval")
    forged = harness.post(
        body, "application/x-www-form-urlencoded", sign=False, headers=signed_headers(body, secret="not-the-secret")
    )
    stale = harness.post(
        body,
        "application/x-www-form-urlencoded",
        sign=False,
        headers=signed_headers(body, timestamp=int(time.time()) - 6 * 60),
    )
    unsigned = harness.post(body, "application/x-www-form-urlencoded", sign=False)
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    harness.settle()
    assert harness.bot.queries.get(1) is None
    assert harness.fake.calls_to("chat.postMessage") == []


def test_a_replayed_signed_command_has_no_second_effect(harness: Harness) -> None:
    body = command_body(harness, "question: refund eval")
    headers = signed_headers(body, secret=SIGNING_SECRET)
    first = harness.post(body, "application/x-www-form-urlencoded", sign=False, headers=headers)
    again = harness.post(body, "application/x-www-form-urlencoded", sign=False, headers=headers)
    assert first.status == again.status == 200
    harness.settle()
    assert harness.bot.queries.get(1) is not None and harness.bot.queries.get(2) is None


@pytest.mark.serial  # acks within Slack's 3 s while the Web API hangs
def test_fifty_concurrent_commands_are_acked_while_the_web_api_hangs(harness: Harness) -> None:
    harness.fake.latency = 3.5  # longer than Slack waits for an ack: any Web API call on the ack path would fail
    harness.bot.start()  # the outbox worker's thread is busy with the slow Web API meanwhile
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(
            pool.map(lambda i: harness.command(f"question: number {i} about refunds", user=f"U0R{i:03d}"), range(50))
        )
    assert [r.status for r in replies] == [200] * 50
    assert all("AIR-" in r.json()["text"] for r in replies)
    keys = {r.json()["text"].split()[1] for r in replies}
    assert len(keys) == 50
    harness.fake.latency = 0
    harness.bot.outbox.stop()
    harness.settle()
    assert len(harness.fake.messages("C0SUPPORT")) == 50


def test_429_with_retry_after_is_retried_and_the_card_posted_once(harness: Harness) -> None:
    harness.fake.fail("chat.postMessage", status=429, retry_after=1, times=1)
    harness.command("question: refund eval")
    harness.settle()
    assert len(harness.fake.messages("C0SUPPORT")) == 1
    assert harness.bot.queries.get(1).card_ts


def test_server_errors_are_retried_later_by_the_outbox_nothing_lost_nothing_twice(harness: Harness) -> None:
    harness.fake.fail("chat.postMessage", status=500, times=4)  # more than the client's own retries
    harness.command("question: refund eval")
    harness.settle()
    assert harness.fake.messages("C0SUPPORT") == []
    harness.clock.advance(seconds=5)
    harness.settle()
    assert len(harness.fake.messages("C0SUPPORT")) == 1


def test_not_in_channel_is_reported_once_in_the_log_and_to_the_person(harness: Harness, caplog) -> None:
    harness.fake.not_in_channels.add("C0SUPPORT")
    with caplog.at_level(logging.ERROR):
        harness.command("question: refund eval", user="U0REQ")
        harness.settle()
        harness.clock.advance(minutes=10)
        harness.settle()
    errors = [r for r in caplog.records if "not_in_channel" in r.getMessage()]
    assert len(errors) == 1
    told = [c for c in harness.fake.calls_to("chat.postMessage") if c["channel"] == "U0REQ"]
    assert len(told) == 1 and "invite" in told[0]["text"]
    assert harness.bot.queries.get(1) is not None


def test_posts_to_one_channel_go_in_a_burst_then_one_a_second_without_holding_up_the_others(
    tmp_path, fake_slack
) -> None:
    """A token bucket per channel: a quiet channel takes a burst at once, then about one post a second; the cards keep
    the order they were filed in, and another channel is not held up."""
    from bot.outbox.pacing import BURST
    from tests.harness import start_harness

    h = start_harness(tmp_path, fake_slack)
    h.bot.outbox.pacer.interval = 1.0
    try:
        for i in range(BURST + 2):
            h.command(f"question: refund eval {i}")
        h.command("question: ranking eval", channel="C0SEARCH")
        h.settle()
        assert len(fake_slack.messages("C0SUPPORT")) == BURST and len(fake_slack.messages("C0SEARCH")) == 1
        h.clock.advance(seconds=1)
        h.settle()
        assert len(fake_slack.messages("C0SUPPORT")) == BURST + 1
        h.clock.advance(seconds=1)
        h.settle()
        cards = [m["text"] for m in fake_slack.messages("C0SUPPORT")]
        assert [next(w for w in t.split() if w.startswith("AIR-")) for t in cards] == [
            f"AIR-{i}" for i in range(1, BURST + 3)
        ]
    finally:
        h.stop()


def test_a_channels_backlog_waits_for_its_tokens_in_order_and_a_cards_later_render_goes_with_it(
    tmp_path, fake_slack
) -> None:
    """Ten requests filed at once in #support: a burst of cards goes, the rest wait for the channel's tokens (the
    pacing check before their requests are read) and go one a second in the order filed. AIR-8 is claimed while
    its card waits: the card is posted once, already claimed, and the claim's thread line comes after it."""
    from bot.outbox.pacing import BURST
    from tests.harness import start_harness

    h = start_harness(tmp_path, fake_slack)
    h.bot.outbox.pacer.interval = 1.0
    try:
        for i in range(BURST + 5):
            h.command(f"question: does the refund eval cover case {i}?")
        h.settle()
        assert len(fake_slack.messages("C0SUPPORT")) == BURST
        with h.bot.store.reading() as tx:
            waiting = [r for r in tx.outbox.rows() if r["status"] == "pending" and r["kind"] == "card"]
        assert len(waiting) == 5 and {r["error"] for r in waiting} == {"paced"}
        h.click("request.claim", "AIR-8", user="U0ENG1")
        h.settle()
        for _ in range(6):  # five cards and the thread line, one a second
            h.clock.advance(seconds=1)
            h.settle()
        top = [m for m in fake_slack.messages("C0SUPPORT") if m.get("thread_ts", m["ts"]) == m["ts"]]
        keys = [next(w for w in m["text"].split() if w.startswith("AIR-")) for m in top]
        assert keys == [f"AIR-{i}" for i in range(1, BURST + 6)]  # each card once, in the order filed
        card = h.card("AIR-8")
        assert "Claimed" in json.dumps(card["blocks"]) and "<@U0ENG1>" in json.dumps(card["blocks"])
        assert any(m.get("thread_ts") == card["ts"] and m["ts"] > card["ts"] for m in fake_slack.messages("C0SUPPORT"))
        assert fake_slack.violations == []
    finally:
        h.stop()


def test_cards_updates_nags_and_digests_all_arrive_once_after_a_bad_spell(harness: Harness) -> None:
    """429s, 500s and dropped connections for a while: once Slack recovers everything arrives, nothing twice."""
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    harness.fake.reset("*", times=6)
    harness.fake.fail("*", status=500, times=6)
    harness.fake.fail("*", status=429, retry_after=0, times=3)
    harness.click("request.claim", "AIR-1", user="U0ENG2")  # a card update and a thread line
    harness.command("question: refund eval coverage")  # a new card
    harness.clock.advance(days=7)
    harness.bot.jobs.run_nags(job="sla", now=harness.clock())  # at least one nag
    harness.bot.jobs.send_digest(now=harness.clock())  # three digests
    for _ in range(12):  # Slack recovers while the outbox keeps retrying with backoff
        harness.settle()
        harness.clock.advance(minutes=5)
    harness.settle()
    with harness.bot.store.reading() as tx:
        rows = tx.outbox.rows()
    assert [r for r in rows if r["status"] not in ("sent", "superseded")] == []
    top = [m for m in harness.fake.messages("C0SUPPORT") if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert len(top) == 3  # two cards and one digest
    assert "Claimed" in harness.card_text("AIR-1")
    delivered = [
        json.dumps(c.args.get("metadata"))
        for c in harness.fake.calls
        if c.method == "chat.postMessage" and c.status == 200 and c.response.get("ok")
    ]
    assert delivered and len(delivered) == len(set(delivered)), "an outbox item reached Slack twice"


@pytest.mark.serial  # a second process, and a deadline to notice it
def test_the_running_bot_sends_what_another_process_queued_within_seconds(harness: Harness, tmp_path) -> None:
    """`ai-intake jobs run nags` in a second process queues the nags; the running bot's outbox worker, which holds the
    sending lease, notices the database changed (it looks twice a second, no ring reaches it across processes)."""
    import subprocess
    import sys

    from tests.test_cli import ROOT, base_env

    harness.bot.start()
    harness.command("regression: refund intent answers with the wrong window")
    deadline = time.monotonic() + 10
    while not harness.fake.messages("C0SUPPORT"):
        assert time.monotonic() < deadline, "the card never went out"
        time.sleep(0.02)
    at = harness.clock.advance(hours=5)  # unowned past 4 business hours: both owners are due a nag
    env = base_env(tmp_path, SLACK_BOT_TOKEN=harness.fake.token, SLACK_API_URL=harness.fake.url)
    env["AI_INTAKE_DB"] = harness.bot.db.path
    done = subprocess.run(
        [sys.executable, "-m", "bot", "jobs", "run", "nags", "--at", at.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    queued = time.monotonic()
    while not all(dms(harness, owner) for owner in ("U0PPM", "U0MLPM")):
        assert time.monotonic() - queued < 3, "the running bot did not notice the other process's nags"
        time.sleep(0.02)
    assert all(len(dms(harness, owner)) == 1 for owner in ("U0PPM", "U0MLPM"))

"""The inbox's keeper: the acks hand their deliveries to one thread, which writes all it was handed since its last
round in one unit and wakes each ack once, with its seq, with None for a replay, or with why nothing was kept."""

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import Busy, NotSaved
from storage.db import Db
from storage.inbox import Inbox, schema
from tests.harness import Harness
from tests.test_writer import holding as held

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def opened(tmp_path: Path) -> Inbox:
    return Inbox(Db(tmp_path / "bot.db.inbox", schema=schema), owned=True)


def holding(inbox: Inbox) -> tuple[threading.Event, threading.Thread]:
    """A background unit on the inbox's writer (the done marks, say) until the returned event is set."""
    return held(lambda: inbox.db.write(interactive=False))


def keeping(inbox: Inbox, key: str, *, wait: float | None = None) -> tuple[threading.Thread, list[object]]:
    """An ack keeping `key` on a thread of its own; what it got (a seq, None, or the error) lands in the list."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(inbox.keep(key, body=f"body of {key}", headers={"x-slack-signature": key}, at=AT, wait=wait))
        except Exception as exc:  # the outcome is what the test reads
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def handed_over(inbox: Inbox, n: int) -> None:
    """Until `n` deliveries wait for the keeper's next round (it took its first round and waits for the writer)."""
    deadline = time.monotonic() + 10
    while inbox.keeper.waiting() < n:
        assert time.monotonic() < deadline, "the deliveries were never handed over"
        time.sleep(0.001)


def kept_keys(inbox: Inbox) -> list[str]:
    return [k.key for k in inbox.pending()]


def test_the_deliveries_handed_over_while_the_keeper_writes_are_kept_in_one_commit_each_with_its_own_seq(
    tmp_path: Path,
) -> None:
    inbox = opened(tmp_path)
    release, holder = holding(inbox)
    first = keeping(inbox, "sig:first")  # the keeper's first round: it waits for the writer
    while inbox.db.lock.waiting() < 1:
        time.sleep(0.001)
    acks = [keeping(inbox, f"sig:{i}") for i in range(8)] + [keeping(inbox, "sig:3")]  # a retry of sig:3 among them
    handed_over(inbox, 9)
    commits = inbox.db.commits
    release.set()
    for thread, _ in [first, *acks]:
        thread.join(timeout=10)
    holder.join(timeout=10)

    seqs = [out[0] for _, out in [first, *acks]]
    assert all(isinstance(s, int) for s in seqs[:9]) and len(set(seqs[:9])) == 9
    assert seqs[9] is None  # the same bytes again: kept once
    assert kept_keys(inbox) == ["sig:first", *(f"sig:{i}" for i in range(8))]
    # the held unit's and the first round's (in one commit or two, by how old the held batch is), then the nine
    # others' in one
    assert inbox.db.commits - commits <= 3
    inbox.close()


def test_a_delivery_whose_wait_passed_before_the_writer_came_is_told_busy_and_not_kept(tmp_path: Path) -> None:
    inbox = opened(tmp_path)
    release, holder = holding(inbox)
    patient = keeping(inbox, "sig:patient", wait=5.0)
    while inbox.db.lock.waiting() < 1:
        time.sleep(0.001)
    hasty = keeping(inbox, "sig:hasty", wait=0.05)
    handed_over(inbox, 1)
    time.sleep(0.1)  # past the hasty one's wait, well within the patient one's
    hasty_too = keeping(inbox, "sig:hasty-too", wait=0.05)  # handed over after: it may still be kept in time
    release.set()
    for thread, _ in (patient, hasty, hasty_too):
        thread.join(timeout=10)
    holder.join(timeout=10)

    assert isinstance(patient[1][0], int)
    [told] = hasty[1]
    assert isinstance(told, Busy)
    assert "sig:hasty" not in kept_keys(inbox) and "sig:patient" in kept_keys(inbox)
    assert (hasty_too[1][0] is not None) == ("sig:hasty-too" in kept_keys(inbox))
    inbox.close()


def test_when_the_unit_fails_every_ack_of_the_round_is_told_and_nothing_is_kept(tmp_path: Path) -> None:
    inbox = opened(tmp_path)
    inbox.keep("sig:before", body="x", headers={}, at=AT)
    inbox.db.db.conn.execute("PRAGMA max_page_count = 1")  # a full disk: not one more page
    release, holder = holding(inbox)
    first = keeping(inbox, "sig:a")
    while inbox.db.lock.waiting() < 1:
        time.sleep(0.001)
    rest = [keeping(inbox, f"sig:{'x' * 4000}{i}") for i in range(3)]  # big enough to need a page
    handed_over(inbox, 3)
    release.set()
    for thread, _ in [first, *rest]:
        thread.join(timeout=10)
    holder.join(timeout=10)
    inbox.db.db.conn.execute("PRAGMA max_page_count = 4294967294")

    outcomes = [out[0] for _, out in rest]
    assert all(isinstance(o, NotSaved) for o in outcomes), outcomes
    assert all(not k.startswith("sig:xxxx") for k in kept_keys(inbox))
    assert inbox.keep("sig:after", body="x", headers={}, at=AT) is not None  # the keeper goes on
    inbox.close()


def test_a_closed_inbox_keeps_what_was_handed_over_and_refuses_what_comes_after(tmp_path: Path) -> None:
    inbox = opened(tmp_path)
    release, holder = holding(inbox)
    early = keeping(inbox, "sig:early")
    while inbox.db.lock.waiting() < 1:
        time.sleep(0.001)
    closing = threading.Thread(target=inbox.keeper.close)
    closing.start()
    release.set()
    closing.join(timeout=10)
    early[0].join(timeout=10)
    holder.join(timeout=10)
    assert isinstance(early[1][0], int) and kept_keys(inbox) == ["sig:early"]
    with pytest.raises(Busy):
        inbox.keep("sig:late", body="x", headers={}, at=AT)
    inbox.close()


# -- through the real app ---------------------------------------------------------------------------
@pytest.mark.serial  # answered within a deadline while the inbox's writer is held
def test_a_click_while_the_inboxs_writer_is_held_is_worked_in_its_request_and_the_card_updated(
    harness: Harness,
) -> None:
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    release, holder = holding(harness.bot.inbox.inbox)
    try:
        reply = harness.click("request.claim", "AIR-1", user="U0ENG1")
    finally:
        release.set()
        holder.join(timeout=10)
    assert reply.status == 200
    harness.settle()
    assert harness.bot.queries.get(1).status == "claimed"
    assert harness.fake.calls_to("chat.update")  # the card, updated in place

"""The writer: units of work committed in groups, a failing unit rolled back alone, people before jobs, and a
bounded wait — a command never answers late because a job or another process holds the database.

Real SQLite files; the bounded waits through the real app (signed HTTP, the fake Slack). Threads are
lined up on the writer's lock by watching its queue, never by sleeping for a guessed time.
"""

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from bot.domain.errors import Busy
from storage.db import INTERACTIVE_WAIT_SECONDS, Db
from storage.store import Store
from tests.harness import Harness


def queued(db: Db, n: int) -> None:
    """Until `n` threads wait for the writer."""
    deadline = time.monotonic() + 10
    while db.lock.waiting() < n:
        assert time.monotonic() < deadline, "the threads never queued for the writer"
        time.sleep(0.001)


def holding(unit: Callable[[], AbstractContextManager[object]]) -> tuple[threading.Event, threading.Thread]:
    """A thread inside `unit()` until the returned event is set (a long job, as far as others can tell)."""
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with unit():
            inside.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(timeout=10)
    return release, thread


def holding_the_writer(store: Store, *, background: bool = True) -> tuple[threading.Event, threading.Thread]:
    """A thread inside a unit of work (one that claimed a delivery) until the returned event is set."""

    @contextmanager
    def unit() -> Iterator[None]:
        with store.transaction(background=background) as tx:
            tx.claim_delivery("held", at=_at())
            yield

    return holding(unit)


def _at():
    from datetime import datetime, timezone

    return datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def run() -> None:
        try:
            out.append(work())
        except Exception as exc:  # the outcome is what the test reads
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def keys(path: Path) -> set[str]:
    """What another connection (another process, after a crash) finds committed."""
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT key FROM deliveries")}


def test_units_queued_together_commit_together_and_a_failing_one_rolls_back_alone(tmp_path: Path) -> None:
    db = Db(tmp_path / "batch.db", batch_max_seconds=60)  # however slow the machine, the batch is not cut short by age
    store = Store(db)
    release, holder = holding_the_writer(store, background=False)

    def unit(key: str, *, fail: bool = False) -> Callable[[], object]:
        def work() -> object:
            with store.transaction() as tx:
                tx.claim_delivery(key, at=_at())
                if fail:
                    raise ValueError("this unit fails")
            return keys(tmp_path / "batch.db")  # what is on disk the moment the unit returns

        return work

    commits = db.commits
    first, first_out = in_thread(unit("first"))
    queued(db, 1)
    failing, failing_out = in_thread(unit("failing", fail=True))
    queued(db, 2)
    last, last_out = in_thread(unit("last"))
    queued(db, 3)
    release.set()
    for thread in (holder, first, failing, last):
        thread.join(timeout=10)
    assert isinstance(failing_out[0], ValueError)
    assert first_out[0] >= {"held", "first", "last"} and "failing" not in first_out[0]  # answered once committed
    assert keys(tmp_path / "batch.db") == {"held", "first", "last"}
    assert db.commits - commits == 1  # four units, one COMMIT
    db.close()


def recording(store: Store, order: list[str], name: str, *, background: bool) -> Callable[[], object]:
    """A unit of work that notes `name` in `order` when the writer runs it."""

    def work() -> object:
        with store.transaction(background=background):
            order.append(name)
        return name

    return work


def test_people_go_before_jobs_and_each_in_turn(tmp_path: Path) -> None:
    db = Db(tmp_path / "order.db")
    store = Store(db)
    release, holder = holding_the_writer(store)
    order: list[str] = []

    threads = []
    for i, (name, background) in enumerate(
        [("job 1", True), ("person 1", False), ("job 2", True), ("person 2", False)]
    ):
        threads.append(in_thread(recording(store, order, name, background=background))[0])
        queued(db, i + 1)
    release.set()
    for thread in [holder, *threads]:
        thread.join(timeout=10)
    assert order == ["person 1", "person 2", "job 1", "job 2"]
    db.close()


def test_a_job_waits_behind_people_for_a_few_units_at_most(tmp_path: Path) -> None:
    """Commands pouring in do not starve the outbox's bookkeeping: after FAIR_EVERY people, a waiting job goes."""
    from storage.writer import FAIR_EVERY

    db = Db(tmp_path / "fair.db")
    store = Store(db)
    release, holder = holding_the_writer(store)
    order: list[str] = []

    queue = [("job", True)] + [(f"person {i}", False) for i in range(1, FAIR_EVERY + 3)]
    threads = []
    for i, (name, background) in enumerate(queue):
        threads.append(in_thread(recording(store, order, name, background=background))[0])
        queued(db, i + 1)
    release.set()
    for thread in [holder, *threads]:
        thread.join(timeout=10)
    people = [f"person {i}" for i in range(1, FAIR_EVERY + 3)]
    assert order == people[:FAIR_EVERY] + ["job"] + people[FAIR_EVERY:]
    db.close()


@pytest.mark.serial  # answered within a deadline while the writer is held
def test_a_unit_a_person_waits_for_gives_up_after_two_seconds_with_nothing_written(tmp_path: Path) -> None:
    db = Db(tmp_path / "busy.db")
    store = Store(db)
    release, holder = holding_the_writer(store)
    started = time.monotonic()
    with pytest.raises(Busy):
        with store.transaction() as tx:
            tx.claim_delivery("never", at=_at())
    waited = time.monotonic() - started
    release.set()
    holder.join(timeout=10)
    assert INTERACTIVE_WAIT_SECONDS <= waited < INTERACTIVE_WAIT_SECONDS + 1
    assert keys(tmp_path / "busy.db") == {"held"}
    db.close()


# -- through the real app ---------------------------------------------------------------------------
HELD_WRITERS = {
    # a job holds the database's writer: the command is kept in the inbox, and its filing waits and gives up
    "the database's writer": (lambda h: holding_the_writer(h.bot.store), "regression: refund window wrong"),
    # the front's done marks (or a stuck disk) hold the inbox's writer: the inbox's keeper gives the command up
    "the inbox's writer": (
        lambda h: holding(lambda: h.bot.inbox.inbox.db.write(interactive=False)),
        "the refund bot quotes the wrong window to customers in Germany",
    ),
}


@pytest.mark.serial  # answered within a deadline while the writer is held
@pytest.mark.parametrize("held", list(HELD_WRITERS))
def test_a_command_while_a_writer_stays_held_is_told_busy_in_time_and_files_once_when_sent_again(
    harness: Harness, held: str
) -> None:
    hold, text = HELD_WRITERS[held]
    release, holder = hold(harness)
    try:
        started = time.monotonic()
        reply = harness.command(text)
        answered_in = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=10)
    assert reply.status == 200 and answered_in < 3.0  # Slack waits 3 s for the ack
    assert "busy" in reply.json()["text"] and "try again" in reply.json()["text"]
    harness.settle()
    assert harness.bot.queries.get(1) is None and harness.fake.calls_to("chat.postMessage") == []
    assert harness.bot.inbox.inbox.count_pending() == 0  # nothing kept to be worked later
    again = harness.command(text)  # the person tries again, and it is filed once
    assert "Filed AIR-1" in again.json()["text"]


@pytest.mark.serial  # answered within a deadline while the writer is held
def test_a_command_while_another_process_holds_the_database_is_told_busy_in_time(harness: Harness) -> None:
    other = sqlite3.connect(harness.bot.db.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # `ai-intake jobs run`, or a backup, in another process
        started = time.monotonic()
        reply = harness.command("question: which eval covers refunds?")
        answered_in = time.monotonic() - started
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert reply.status == 200 and answered_in < 3.0
    assert "busy" in reply.json()["text"]
    harness.settle()
    assert harness.bot.queries.get(1) is None
    assert "Filed AIR-1" in harness.command("question: which eval covers refunds?").json()["text"]


@pytest.mark.serial  # answered within a deadline while the writer is held
def test_a_click_while_the_database_is_busy_is_answered_and_the_person_told_once_it_frees(harness: Harness) -> None:
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    answered = len(harness.fake.responses)  # the command's answer
    release, holder = holding_the_writer(harness.bot.store)
    try:
        started = time.monotonic()
        clicking, replies = in_thread(lambda: harness.click("request.claim", "AIR-1", user="U0ENG1"))
        queued(
            harness.bot.db, 1
        )  # the click was kept and acked (the inbox has a file of its own); its claim waits for the writer,
        # gives up after 2 s, and its "busy" message waits its turn
        while time.monotonic() < started + INTERACTIVE_WAIT_SECONDS + 0.5:
            time.sleep(0.05)
        queued(harness.bot.db, 1)
    finally:
        release.set()
        holder.join(timeout=10)
    clicking.join(timeout=30)
    [reply] = replies
    assert reply.ack.status == 200 and reply.ack.body == ""  # acked at once, with nothing: kept
    harness.settle()
    assert harness.bot.queries.get(1).status == "open"  # nothing changed
    told = [r["body"]["text"] for r in harness.fake.responses[answered:]]
    assert told == [Busy().message]


def test_a_big_nag_run_writes_in_chunks_and_still_sends_one_message_per_person(harness: Harness) -> None:
    from bot.usecases.jobs import Jobs

    for i in range(6):
        harness.command(f"regression: refund intent answers with the wrong window, case {i}")
    harness.settle()
    harness.clock.advance(hours=5)  # every one is unowned past 4 business hours: both owners are nagged about all six
    chunked = Jobs(harness.bot.store, harness.bot.config, one_unit=0)  # as a catch-up would be
    commits = harness.bot.db.commits
    lines = chunked.run_nags(job="nags", now=harness.clock())
    assert harness.bot.db.commits - commits >= 2  # the chunks, then the whole messages
    assert sorted(line.split(":")[0] for line in lines) == ["U0MLPM", "U0PPM"]
    harness.settle()
    for owner in ("U0PPM", "U0MLPM"):
        [dm] = [c for c in harness.fake.calls_to("chat.postMessage") if c["channel"] == owner]
        assert all(f"AIR-{i}" in dm["text"] for i in range(1, 7))
    with harness.bot.store.reading() as tx:
        rows = tx.outbox.rows()
    parts = [r for r in rows if (r["key"] or "").startswith("nagpart:")]
    assert parts and {r["status"] for r in parts} == {"superseded"}  # held back, then replaced by the whole message
    assert chunked.run_nags(job="nags", now=harness.clock()) == []  # and a re-run sends nothing


def test_a_big_nag_run_folds_in_what_a_person_has_not_been_sent_yet(harness: Harness) -> None:
    """The chunked run reads each person's unsent messages before it takes the writer; it folds them in all the same."""
    from datetime import timedelta

    from bot.usecases.jobs import Jobs
    from storage.outbox import NagItem, NagMessage

    for i in range(3):
        harness.command(f"regression: refund intent answers with the wrong window, case {i}")
    harness.settle()
    earlier = NagItem(request_id=3, key="AIR-3", rule="sla.at_risk", step="first_response", text="held for the morning")
    with harness.bot.store.transaction() as tx:  # a message held for U0PPM's working hours, not sent yet
        tx.outbox.enqueue(
            NagMessage(user="U0PPM", items=[earlier]), at=harness.clock() + timedelta(hours=12), key="held:U0PPM"
        )
    harness.clock.advance(hours=5)
    Jobs(harness.bot.store, harness.bot.config, one_unit=0).run_nags(job="nags", now=harness.clock())
    harness.settle()
    [dm] = [c for c in harness.fake.calls_to("chat.postMessage") if c["channel"] == "U0PPM"]
    assert "held for the morning" in json.dumps(dm) and all(f"AIR-{i}" in dm["text"] for i in range(1, 4))
    with harness.bot.store.reading() as tx:
        assert {r["key"]: r["status"] for r in tx.outbox.rows()}["held:U0PPM"] == "superseded"


def test_a_checkpointer_whose_file_is_gone_says_so_once_and_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The checkpointer opens its own connection on its thread; when the file's directory is gone by then (a test's
    files removed, a volume unmounted), it says why in the log and ends, instead of dying with a traceback."""
    from storage.writer import Checkpointer

    with caplog.at_level("ERROR", logger="storage.writer"):
        checkpointer = Checkpointer(str(tmp_path / "gone" / "intake.db"))
        checkpointer.stop()
    assert not checkpointer._thread.is_alive()
    assert [r.getMessage() for r in caplog.records if "cannot open" in r.getMessage()]

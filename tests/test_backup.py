"""`ai-intake backup` and `ai-intake restore`: a consistent copy taken while threads write, a restore the
bot then serves in full, and every refusal in one sentence with nothing changed."""

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.domain.models import Event, Request
from storage.backup import backup, inspect, restore
from storage.db import Db, StorageError, known_migrations
from storage.store import Store
from tests.fake_slack import FakeSlack
from tests.harness import Clock, start_harness
from tests.test_cli import base_env, run_cli
from tests.test_storage import database_at_level, newer_database

AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def file_one(store: Store, title: str) -> int:
    """One unit of work, as the service does it: a request and its first two events in one transaction."""
    with store.transaction() as tx:
        request = tx.insert_request(
            Request(
                id=0,
                kind="question",
                domain="support",
                title=title,
                description="",
                priority="P3",
                status="open",
                requester="U0REQ",
                assignee="U0ENG1",
                source="command",
                created_at=AT,
                updated_at=AT,
            ),
            origin_key=None,
        )
        tx.add_event(Event(request_id=request.id, at=AT, actor="U0REQ", type="created"))
        tx.add_event(Event(request_id=request.id, at=AT, actor="U0ENG1", type="comment"))
    return request.id


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_backup_taken_while_threads_write_is_one_consistent_moment(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    store = Store(Db(live))
    stop = threading.Event()
    written = threading.Semaphore(0)

    def writer(n: int) -> None:
        for i in range(100_000):
            if stop.is_set():
                return
            file_one(store, f"writer {n} request {i}")
            written.release()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(60):  # the writers are well under way
            assert written.acquire(timeout=10)
        summary = backup(live, tmp_path / "copy.db")
        for _ in range(3):  # and still writing after the copy was taken
            assert written.acquire(timeout=10)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    copy = summary.path
    ids = [r[0] for r in rows(copy, "SELECT id FROM requests ORDER BY id")]
    assert summary.requests == len(ids) >= 60 and ids == list(range(1, len(ids) + 1))  # a prefix of the commits, no gap
    assert rows(copy, "SELECT count(*) FROM events")[0][0] == 2 * len(ids)  # no request without both its events
    assert rows(
        copy, "SELECT count(*) FROM requests r WHERE (SELECT count(*) FROM events e WHERE e.request_id = r.id) != 2"
    ) == [(0,)]
    assert len(rows(live, "SELECT id FROM requests")) > len(ids)
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
    assert not Path(f"{copy}-wal").exists() and not list(tmp_path.glob(".copy.db.partial-*"))
    assert (summary.level, summary.known) == (len(known_migrations()), len(known_migrations()))
    store._db.close()


def test_a_restored_backup_serves_every_request_in_it(tmp_path: Path, fake_slack: FakeSlack) -> None:
    first = start_harness(tmp_path, fake_slack, db_name="intake.db")
    try:
        for text in ("regression: refund window wrong", "question: how do evals work", "eval: ranking drift"):
            first.command(text)
        first.settle()
        first.click("request.claim", "AIR-1", user="U0ENG1")
        first.settle()
        backup(tmp_path / "intake.db", tmp_path / "nightly.db")
        first.command("question: filed after the backup")  # not in the copy
        first.settle()
        cards = {n: first.bot.queries.get(n).card_ts for n in (1, 2, 3)}
    finally:
        first.stop()

    done = restore(tmp_path / "nightly.db", tmp_path / "intake.db", now=AT)
    assert done.summary.requests == 3 and done.kept is not None
    assert rows(done.kept, "SELECT count(*) FROM requests") == [(4,)]  # what the restore replaced is kept beside it
    assert rows(tmp_path / "nightly.db", "SELECT name FROM leases") == [
        ("notifier",)
    ]  # the running bot's, copied with it
    assert rows(tmp_path / "intake.db", "SELECT count(*) FROM leases") == [(0,)]  # nobody holds them now

    second = start_harness(tmp_path, fake_slack, db_name="intake.db")
    try:
        for n in (1, 2, 3):
            assert f"AIR-{n}" in json.dumps(second.command(f"status AIR-{n}").json())
        assert "no request" in json.dumps(second.command("status AIR-4").json()).lower()  # filed after the backup
        assert second.bot.queries.get(1).status == "claimed"
        second.click("request.resolve", "AIR-1", user="U0ENG1")
        second.click("request.claim", "AIR-2", user="U0ENG1")
        second.click("request.claim", "AIR-3", user="U0ENG2")
        # AIR-4's card from before the restore is still in Slack: its key is not given to anyone else
        assert "AIR-5" in second.command("question: filed after the restore").json()["text"]
        second.settle()
        assert [second.bot.queries.get(n).status for n in (1, 2, 3, 5)] == ["resolved", "claimed", "claimed", "open"]
        assert second.bot.queries.get(4) is None
        updated = {c["ts"] for c in fake_slack.calls_to("chat.update")}
        assert set(cards.values()) <= updated  # every restored card is updated in place
    finally:
        second.stop()


def test_restore_refuses_a_database_the_bot_has_open_and_changes_nothing(tmp_path: Path, fake_slack: FakeSlack) -> None:
    elsewhere = Store(Db(tmp_path / "copy-source.db"))
    file_one(elsewhere, "in the backup")
    elsewhere._db.close()
    backup(tmp_path / "copy-source.db", tmp_path / "backup.db")
    h = start_harness(tmp_path, fake_slack, db_name="intake.db")
    try:
        h.command("question: on the live database")
        h.settle()
        with pytest.raises(StorageError) as refused:
            restore(tmp_path / "backup.db", tmp_path / "intake.db", now=AT)
        assert "is in use" in str(refused.value) and "Nothing was changed" in str(refused.value)
        assert h.bot.queries.get(1).title == "on the live database"
        assert "AIR-2" in h.command("question: still working").json()["text"]
    finally:
        h.stop()
    assert not list(tmp_path.glob("intake.db.before-restore-*"))


def damaged(path: Path) -> Path:
    store = Store(Db(path))
    for i in range(300):
        file_one(store, "x" * 200 + str(i))
    store._db.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    data = bytearray(path.read_bytes())
    pages = len(data) // 4096
    for page in (pages // 2, 3 * pages // 4):  # two b-tree page headers in the middle of the file, clobbered
        data[page * 4096 : page * 4096 + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p, "there is no backup file at"),
        (lambda p: p.write_text("not a database at all " * 100) and p, "is not a readable SQLite database"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE notes (x)") and p, "is not an ai-intake database"),
        (lambda p: newer_database(p), "newer ai-intake"),
        (damaged, "is damaged (integrity_check:"),
    ],
    ids=["missing", "not-sqlite", "not-ai-intake", "newer", "damaged"],
)
def test_restore_checks_the_copy_first(tmp_path: Path, make, says: str) -> None:
    copy = make(tmp_path / "suspect.db")
    target = tmp_path / "intake.db"
    store = Store(Db(target))
    file_one(store, "the current database")
    store._db.close()
    before = target.read_bytes()
    with pytest.raises(StorageError) as refused:
        restore(copy, target, now=AT)
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert target.read_bytes() == before and not list(tmp_path.glob("intake.db.before-restore-*"))


def test_an_older_backup_restores_and_is_upgraded_on_start(tmp_path: Path, fake_slack: FakeSlack) -> None:
    old = database_at_level(tmp_path / "old.db", 3)
    summary = inspect(old)
    assert (summary.level, summary.known, summary.requests) == (3, len(known_migrations()), 0)
    done = restore(old, tmp_path / "intake.db", now=AT)
    assert done.kept is None and done.summary.level == 3  # nothing was there to keep
    h = start_harness(tmp_path, fake_slack, db_name="intake.db")
    try:
        assert h.bot.db.schema_version() == len(known_migrations())
        assert "AIR-1" in h.command("question: after restoring an old backup").json()["text"]
    finally:
        h.stop()


def test_backup_refuses_to_overwrite_and_names_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="there is no database at"):
        backup(tmp_path / "nope.db", tmp_path / "copy.db")
    Db(tmp_path / "live.db").close()
    (tmp_path / "copy.db").write_text("an older backup")
    with pytest.raises(StorageError, match="already exists; give the backup a new name"):
        backup(tmp_path / "live.db", tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_text() == "an older backup"
    with pytest.raises(StorageError, match="does not exist"):
        backup(tmp_path / "live.db", tmp_path / "no-such-folder" / "copy.db")


def test_a_newer_versions_database_can_be_backed_up_but_not_restored_here(tmp_path: Path) -> None:
    summary = backup(newer_database(tmp_path / "newer.db"), tmp_path / "copy.db")
    assert summary.level == len(known_migrations()) + 1 > summary.known
    with pytest.raises(StorageError, match="newer ai-intake"):
        restore(tmp_path / "copy.db", tmp_path / "intake.db", now=AT)


def test_restore_refuses_the_database_itself(tmp_path: Path) -> None:
    Db(tmp_path / "live.db").close()
    with pytest.raises(StorageError, match="is the bot's database itself"):
        restore(tmp_path / "live.db", tmp_path / "live.db", now=AT)


# -- the commands ------------------------------------------------------------------------------------
def test_the_backup_and_restore_commands(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    store = Store(Db(env["AI_INTAKE_DB"]))
    file_one(store, "one")
    file_one(store, "two")
    store._db.close()
    copy = tmp_path / "backup.db"

    made = run_cli("backup", str(copy), env=env)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backed up {env['AI_INTAKE_DB']} to {copy}: 2 request(s), schema level")

    again = run_cli("backup", str(copy), env=env)
    assert (
        again.returncode == 2
        and again.stderr.strip()
        == f"ai-intake: {copy} already exists; give the backup a new name (nothing was written)."
    )

    back = run_cli("restore", str(copy), env=env)
    assert back.returncode == 0, back.stderr
    lines = back.stdout.splitlines()
    assert lines[0].startswith(f"kept the database it replaces as {env['AI_INTAKE_DB']}.before-restore-")
    assert lines[1].startswith(f"restored {copy} into {env['AI_INTAKE_DB']}: 2 request(s)")

    bad = run_cli("restore", str(tmp_path / "nope.db"), env=env)
    assert (
        bad.returncode == 2 and bad.stderr.strip() == f"ai-intake: there is no backup file at {tmp_path / 'nope.db'}."
    )
    assert "Traceback" not in made.stderr + again.stderr + back.stderr + bad.stderr


# -- a restore never sends again ------------------------------------------------------------------------
def posts(fake_slack: FakeSlack) -> list[tuple[str, str]]:
    """Every message posted (chat.postMessage): (channel or user, its text), in order."""
    return [(c["channel"], c["text"]) for c in fake_slack.calls_to("chat.postMessage")]


def sent_since_backup(
    tmp_path: Path, fake_slack: FakeSlack
) -> tuple[list[tuple[str, str]], dict[int, str | None], Clock]:
    """A bot that files, backs up while cards and nags wait in its outbox, then sends them: (every post, card ts by
    request, its clock). The backup is tmp_path / "nightly.db"."""
    first = start_harness(tmp_path, fake_slack, db_name="intake.db")
    try:
        first.command("regression: refund bot quotes the wrong window")
        first.settle()
        first.command("question: how do evals work")  # cards queued, not sent yet
        first.command("question: where are the ranking dashboards", channel="C0SEARCH")
        assert first.bot.pool.wait_idle(timeout=10)
        first.clock.advance(hours=4)  # AIR-1 has had no owner for 4 business hours: both owners get a direct message
        first.bot.jobs.run_nags(job="nags", now=first.clock())
        with first.bot.store.reading() as tx:
            waiting = tx.outbox.pending_count()
        summary = backup(tmp_path / "intake.db", tmp_path / "nightly.db")
        assert summary.requests == 3 and waiting >= 4  # two cards, two direct messages (and the thread line)
        first.settle()  # sent after the backup
        return posts(fake_slack), {n: first.bot.queries.get(n).card_ts for n in (1, 2, 3)}, first.clock
    finally:
        first.stop()


def test_restoring_an_older_backup_into_a_bot_that_sent_since_posts_nothing_twice(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    before, cards, clock = sent_since_backup(tmp_path, fake_slack)
    assert [to for to, _ in before].count("U0PPM") == 1 and [to for to, _ in before].count("U0MLPM") == 1
    done = restore(tmp_path / "nightly.db", tmp_path / "intake.db", now=AT)
    assert done.journal and done.pending >= 4 and done.found_sent == done.pending  # every one was sent since

    second = start_harness(tmp_path, fake_slack, db_name="intake.db", clock=clock)
    try:
        second.settle()
        assert posts(fake_slack) == before  # nothing posted again: no card, no thread line, no direct message
        assert {n: second.bot.queries.get(n).card_ts for n in (1, 2, 3)} == cards  # the cards as Slack has them
        second.click("request.claim", "AIR-2", user="U0ENG1")
        second.settle()
        assert cards[2] in {c["ts"] for c in fake_slack.calls_to("chat.update")}  # updated in place, not posted anew
        assert "AIR-4" in second.command("question: filed after the restore").json()["text"]
        second.settle()
        after = fake_slack.calls_to("chat.postMessage")[len(before) :]
        cards_posted = [c["text"] for c in after if not c.get("thread_ts") and not c["channel"].startswith("U")]
        assert len(cards_posted) == 1 and "AIR-4" in cards_posted[0]  # the new card, once
        assert [c["thread_ts"] for c in after if c.get("thread_ts")] == [cards[2]]  # the claim, under AIR-2's card
        direct = [c for c in after if c["channel"].startswith("U")]
        assert [c["channel"] for c in direct] == ["U0REQ"] and "working on it" in direct[0]["text"]  # only the news
        # of the claim to AIR-2's requester: no direct message sent again
    finally:
        second.stop()
    with sqlite3.connect(tmp_path / "intake.db") as conn:
        assert conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone() == (0,)


def test_a_restore_without_the_journal_looks_channel_posts_up_before_posting(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    before, cards, clock = sent_since_backup(tmp_path, fake_slack)
    (tmp_path / "intake.db.sent").unlink()  # restored on another machine: the journal stayed behind
    done = restore(tmp_path / "nightly.db", tmp_path / "intake.db", now=AT)
    assert not done.journal and done.found_sent == 0 and done.pending >= 4
    second = start_harness(tmp_path, fake_slack, db_name="intake.db", clock=clock)
    try:
        second.settle()
        again = posts(fake_slack)[len(before) :]
        assert not [to for to, _ in again if to.startswith(("C", "G"))]  # every channel post was found by its metadata
        assert {n: second.bot.queries.get(n).card_ts for n in (1, 2, 3)} == cards
    finally:
        second.stop()

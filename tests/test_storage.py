"""Storage on real SQLite files: every migration applies to an empty database, a database from each
earlier migration level is upgraded whole, one from a newer version is refused untouched, and two
saves from the same version cannot both win."""

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.domain.models import Event, Request
from storage.db import Db, StorageError, applied_migrations, known_migrations
from storage.migrations import migrations

AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
KNOWN = known_migrations()


def database_at_level(path: Path, level: int) -> Path:
    """A database file as an earlier version left it: the first `level` migrations applied, nothing else."""
    db = Database(sqlite3.connect(path))
    if level < len(KNOWN):
        migrations.apply(db, stop_before=KNOWN[level])
    else:
        migrations.apply(db)
    db.close()
    return path


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return sorted(
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger')")
        )


def a_request(title: str = "refund answers are wrong") -> Request:
    return Request(
        id=0,
        kind="regression",
        domain="support",
        title=title,
        description="",
        priority="P2",
        status="open",
        requester="U0REQ",
        assignee="U0ENG1",
        source="command",
        created_at=AT,
        updated_at=AT,
    )


def test_the_migrations_have_distinct_names_in_order() -> None:
    assert KNOWN and len(set(KNOWN)) == len(KNOWN)
    assert KNOWN == sorted(KNOWN)  # m001_…, m002_…: the order they were written is the order they apply


def test_every_migration_applies_to_an_empty_database(tmp_path: Path) -> None:
    db = Db(tmp_path / "new.db")
    try:
        assert db.schema_version() == len(KNOWN)
        assert applied_migrations(db.db) == KNOWN
        assert {"requests", "events", "deliveries", "people", "outbox", "notifications", "leases"} <= set(
            db.db.table_names()
        )
        assert {"next_nag_at", "version"} <= set(db.db["requests"].columns_dict)
    finally:
        db.close()
    assert Db(tmp_path / "new.db").schema_version() == len(KNOWN)  # opening again applies nothing twice


@pytest.mark.parametrize("level", range(len(KNOWN)))
def test_a_database_from_each_earlier_level_is_upgraded_with_its_data(tmp_path: Path, level: int) -> None:
    path = database_at_level(tmp_path / "old.db", level)
    if level:  # the first migration made the requests and events tables: keep a little data in them
        with sqlite3.connect(path) as conn:
            conn.execute(
                """INSERT INTO requests (kind, domain, title, priority, status, requester, source, court, created_at, updated_at)
                            VALUES ('question', 'support', 'kept across the upgrade', 'P3', 'open', 'U0REQ', 'command', 'assignee', ?, ?)""",
                [AT.isoformat(), AT.isoformat()],
            )
            conn.execute(
                "INSERT INTO events (request_id, at, actor, type) VALUES (1, ?, 'U0REQ', 'created')", [AT.isoformat()]
            )
    db = Db(path)
    try:
        assert applied_migrations(db.db) == KNOWN
        with db.read() as reader:
            rows = list(reader.query("SELECT title, next_nag_at FROM requests"))
        if level:  # m006 gives the open requests it finds a first nag check; later rows get theirs from the service
            first_check = AT.isoformat() if level <= KNOWN.index("m006_next_nag_check") else None
            assert rows == [{"title": "kept across the upgrade", "next_nag_at": first_check}]
    finally:
        db.close()
    assert tables(path) == tables(database_at_level(tmp_path / "fresh.db", len(KNOWN)))


def test_an_upgrade_that_fails_halfway_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    level = KNOWN.index("m006_next_nag_check")  # m005 will apply, then m006 fails: its column is already there
    path = database_at_level(tmp_path / "old.db", level - 1)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE requests ADD COLUMN next_nag_at TEXT")
    before = tables(path)
    with pytest.raises(StorageError, match="duplicate column name: next_nag_at"):
        Db(path)
    assert applied_migrations(Database(sqlite3.connect(path))) == KNOWN[: level - 1]  # not even m005
    assert tables(path) == before and "requests_load" not in before


def newer_database(path: Path, *, level: int = len(KNOWN)) -> Path:
    """A database a later version wrote: a migration this version does not know, after the first `level` of ours."""
    database_at_level(path, level)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('ai_intake', 'm999_from_the_future', ?)",
            [str(AT)],
        )
    return path


@pytest.mark.parametrize("level", [len(KNOWN), 2], ids=["all-ours-and-one-more", "two-of-ours-and-one-more"])
def test_a_database_from_a_newer_version_is_refused_in_one_sentence_and_left_untouched(
    tmp_path: Path, level: int
) -> None:
    path = newer_database(tmp_path / "newer.db", level=level)
    before = path.read_bytes()
    with pytest.raises(StorageError) as refused:
        Db(path)
    message = str(refused.value)
    assert "newer ai-intake" in message and "m999_from_the_future" in message and str(path) in message
    assert message.count(". ") == 0 and message.endswith(".") and "\n" not in message
    assert path.read_bytes() == before  # not one migration applied, not even the switch to WAL
    assert not Path(f"{path}-wal").exists()


def test_two_saves_from_the_same_version_only_one_wins(tmp_path: Path) -> None:
    from storage.store import Store

    store = Store(Db(tmp_path / "race.db"))
    with store.transaction() as tx:
        request = tx.insert_request(a_request(), origin_key=None)
    both_read = threading.Barrier(2)
    won: dict[str, bool] = {}

    def save(who: str) -> None:
        with store.reading() as tx:
            before = tx.get(request.id)
        both_read.wait(timeout=10)  # both hold the same `before` (version 1) before either writes
        after = before.model_copy(update={"status": "claimed", "assignee": who, "owner": who})
        with store.transaction() as tx:
            won[who] = tx.save(before, after)
            if won[who]:
                tx.add_event(Event(request_id=before.id, at=AT, actor=who, type="claimed"))

    threads = [threading.Thread(target=save, args=(who,)) for who in ("U0ENG1", "U0ENG2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(won.values()) == [False, True]
    winner = next(who for who, ok in won.items() if ok)
    with store.reading() as tx:
        stored = tx.get(request.id)
        events = tx.events(request.id)
    assert (stored.assignee, stored.owner, stored.version) == (winner, winner, 2)
    assert [(e.type, e.actor) for e in events] == [("claimed", winner)]  # the loser wrote nothing


def test_a_save_from_a_stale_version_after_the_other_wrote_is_refused(tmp_path: Path) -> None:
    from storage.store import Store

    store = Store(Db(tmp_path / "stale.db"))
    with store.transaction() as tx:
        first = tx.insert_request(a_request(), origin_key=None)
    with store.transaction() as tx:
        assert tx.save(first, first.model_copy(update={"title": "first edit"}))
    with store.transaction() as tx:
        assert not tx.save(first, first.model_copy(update={"title": "edit from an old copy"}))
        current = tx.get(first.id)
    assert (current.title, current.version) == ("first edit", 2)
    with store.transaction() as tx:
        assert tx.save(current, current.model_copy(update={"title": "second edit"}))
        assert tx.get(first.id).version == 3


def test_the_open_load_counters_match_the_requests_after_every_kind_of_change(harness) -> None:
    """Triage reads each candidate's open load from counters kept by triggers (migration m008); after filing,
    claiming, reassigning, editing the priority, waiting, resolving, reopening and withdrawing they still equal a
    count of the requests themselves, and triage still picks the least loaded engineer."""
    h = harness
    for text in (
        "regression: refund window wrong",
        "question: refund eval?",
        "feature: refund agent tone",
        "eval: refund coverage",
    ):
        h.command(text)
    h.settle()
    h.click("request.claim", "AIR-1", user="U0ENG2")
    h.reassign("AIR-2", user="U0ENG1", to="U0ENG2")
    h.click("request.wait", "AIR-3", user="U0ENG1")
    h.click("request.resolve", "AIR-4", user="U0ENG2")
    h.click("request.reopen", "AIR-4", user="U0ENG2")
    h.click("request.withdraw", "AIR-3", user="U0REQ")
    h.settle()
    with h.bot.store.reading() as tx:
        assert tx.open_load_drift() == []
        state = tx.routing_state(people=["U0ENG1", "U0ENG2"])
    requests = [h.bot.queries.get(i) for i in range(1, 5)]
    expected: dict[str, int] = {}
    for r in requests:
        if r.is_open and r.assignee:
            expected[r.assignee] = expected.get(r.assignee, 0) + 1
    assert state.open_count == expected and sum(expected.values()) == 3  # AIR-3 was withdrawn

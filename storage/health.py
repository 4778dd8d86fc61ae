"""What /healthz and /readyz ask of the database: is the writer wedged, can a write begin now, and is the outbox
draining (`outbox_state`).

SQL lives here, beside the writer it probes (`storage.db.Db`), so the server above knows no SQL.
"""

import os
import resource
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from storage.db import Db, applied_migrations, known_migrations

WRITE_WAIT_SECONDS = 2.0
"""How long the probe waits for the writer (this process's lock, then SQLite's) before it calls writes stuck."""
MIN_FREE_BYTES = 16 * 1024 * 1024
"""Less free space than this on the database's disk counts as full: in WAL mode a write begins fine and fails at commit."""


def write_problem(db: Db, *, wait: float = WRITE_WAIT_SECONDS, min_free_bytes: int = MIN_FREE_BYTES) -> str | None:
    """Why a write could not be made now (one phrase), or None when it could.

    Checks that the database file and its directory may be written (SQLite creates its `-wal` and
    `-shm` files there, and a backup its copy), and that the database has room to grow: the free
    space on its disk, the room left below SQLite's `max_page_count`, and below the process's
    file-size limit (`RLIMIT_FSIZE`), whichever is least. Then takes the writer and SQLite's write
    lock (`BEGIN IMMEDIATE`), makes a write that changes nothing and rolls back: nothing is written
    (`Db.probe_write`). Waits at most `wait` seconds in all.
    """
    if (problem := unwritable(db.path)) is not None:
        return problem
    free = room_to_grow(db, wait=wait)
    if free is not None and free < min_free_bytes:
        return f"the database's disk is full ({free // 1024:,} KiB free)"
    return db.probe_write(wait=wait)


def unwritable(path: str) -> str | None:
    """Why the database file or its directory cannot be written by this process (read-only), or None."""
    if path == ":memory:":
        return None
    file = Path(path).resolve()
    if not os.access(file.parent, os.W_OK):
        return "the database's directory is read-only"
    if file.exists() and not os.access(file, os.W_OK):
        return "the database file is read-only"
    return None


def room_to_grow(db: Db, *, wait: float = WRITE_WAIT_SECONDS) -> int | None:
    """Bytes the database may still grow by: the least of its disk's free space, the room below SQLite's
    `max_page_count` and the room below the process's file-size limit. None when none of them can be told."""
    limits = [free_bytes(db.path), db.pages_left(wait=wait)]
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY and db.path != ":memory:":
        biggest = max(
            (Path(db.path + suffix).stat().st_size for suffix in ("", "-wal") if Path(db.path + suffix).exists()),
            default=0,
        )
        limits.append(max(0, soft - biggest))
    known = [x for x in limits if x is not None]
    return min(known) if known else None


def free_bytes(path: str) -> int | None:
    """Free bytes on the disk holding the database file (None for an in-memory database or when it cannot be told)."""
    if path == ":memory:":
        return None
    try:
        return shutil.disk_usage(Path(path).resolve().parent).free
    except OSError:
        return None


def writer_wedged(db: Db, *, wait: float = WRITE_WAIT_SECONDS) -> str | None:
    """Why this process's writer is wedged (one phrase), or None: its lock did not come within `wait` seconds. Only the
    lock is taken, nothing is written, and SQLite is not asked (a database another process holds is not this one's fault)."""
    if not db.lock.acquire(interactive=True, timeout=wait):
        return f"the writer has been busy for over {wait:g} s"
    try:
        db.commit_batch()  # a batch left open for this waiter to join is committed, as the next unit would
    finally:
        db.lock.release()
    return None


FAILING_AFTER = 8
"""A queued message that failed this many times in a row is failing again and again (with the backoff, 1 + 2 + … +
128 s: over four minutes of Slack refusing or unreachable)."""


@dataclass(frozen=True)
class OutboxState:
    """The outbox as /readyz and the metrics see it.

    `pending`: messages not sent yet, held ones included; `oldest`: when the oldest of them was queued;
    `overdue_seconds`: how long the message most past its time has been due and not handled (a deferred message,
    held for its recipient's working hours or paced behind others, is not due); `failing`: messages that failed
    `FAILING_AFTER` times or more in a row."""

    pending: int
    oldest: datetime | None
    overdue_seconds: float
    failing: int


def outbox_state(db: Db, *, now: datetime, failing_after: int = FAILING_AFTER) -> OutboxState:
    """The outbox's figures at `now`, in one read of the pending messages. Raises sqlite3.Error."""
    at = now.astimezone(timezone.utc).isoformat(timespec="microseconds")  # as the store writes times
    with db.read() as reader:
        row = reader.execute(
            "SELECT count(*), min(created_at), min(CASE WHEN next_attempt_at <= ? THEN next_attempt_at END), "
            "coalesce(sum(failures >= ?), 0) FROM outbox WHERE status = 'pending'",
            [at, failing_after],
        ).fetchone()
    overdue = max(0.0, (now - datetime.fromisoformat(row[2])).total_seconds()) if row[2] else 0.0
    return OutboxState(
        pending=row[0],
        oldest=datetime.fromisoformat(row[1]) if row[1] else None,
        overdue_seconds=overdue,
        failing=row[3],
    )


def oldest_pending_message(db: Db) -> datetime | None:
    """When the oldest outbox message still waiting to be sent was queued (None: none waits). Raises sqlite3.Error."""
    with db.read() as reader:
        row = reader.execute("SELECT min(created_at) FROM outbox WHERE status = 'pending'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def schema_problem(db: Db) -> str | None:
    """Why the database's schema is not the one this version runs on (one phrase), or None when its migrations are
    exactly this version's. Raises sqlite3.Error."""
    with db.read() as reader:
        applied = applied_migrations(reader)
    known = known_migrations()
    if unknown := [name for name in applied if name not in set(known)]:
        return f"the database was migrated past this version (its migration {unknown[-1]} is unknown here)"
    if missing := [name for name in known if name not in set(applied)]:
        return f"migration {missing[0]} is not applied"
    return None

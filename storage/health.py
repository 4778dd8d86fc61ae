"""What /healthz asks of the database: can a write begin now, and how old is the oldest message waiting to go out.

SQL lives here, beside the writer it probes (`storage.db.Db`), so the server above knows no SQL.
"""

import shutil
from datetime import datetime
from pathlib import Path

from storage.db import Db

WRITE_WAIT_SECONDS = 2.0
"""How long the probe waits for the writer (this process's lock, then SQLite's) before it calls writes stuck."""
MIN_FREE_BYTES = 16 * 1024 * 1024
"""Less free space than this on the database's disk counts as full: in WAL mode a write begins fine and fails at commit."""


def write_problem(db: Db, *, wait: float = WRITE_WAIT_SECONDS, min_free_bytes: int = MIN_FREE_BYTES) -> str | None:
    """Why a write could not be made now (one phrase), or None when it could.

    Takes the writer and SQLite's write lock (`BEGIN IMMEDIATE`), then rolls back: nothing is
    written (`Db.probe_write`). Waits at most `wait` seconds in all. Also checks the free space on
    the database's disk.
    """
    free = free_bytes(db.path)
    if free is not None and free < min_free_bytes:
        return f"the database's disk is full ({free // 1024:,} KiB free)"
    return db.probe_write(wait=wait)


def free_bytes(path: str) -> int | None:
    """Free bytes on the disk holding the database file (None for an in-memory database or when it cannot be told)."""
    if path == ":memory:":
        return None
    try:
        return shutil.disk_usage(Path(path).resolve().parent).free
    except OSError:
        return None


def oldest_pending_message(db: Db) -> datetime | None:
    """When the oldest outbox message still waiting to be sent was queued (None: none waits). Raises sqlite3.Error."""
    with db.read() as reader:
        row = reader.execute("SELECT min(created_at) FROM outbox WHERE status = 'pending'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None

"""What /healthz asks of the database: can a write begin now, and how old is the oldest message waiting to go out.

SQL lives here, beside the writer it probes (`storage.db.Db`), so the server above knows no SQL.
"""

import shutil
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from storage.db import BUSY_TIMEOUT_MS, Db

WRITE_WAIT_SECONDS = 2.0
"""How long the probe waits for the writer (this process's lock, then SQLite's) before it calls writes stuck."""
MIN_FREE_BYTES = 16 * 1024 * 1024
"""Less free space than this on the database's disk counts as full: in WAL mode a write begins fine and fails at commit."""


def write_problem(db: Db, *, wait: float = WRITE_WAIT_SECONDS, min_free_bytes: int = MIN_FREE_BYTES) -> str | None:
    """Why a write could not be made now (one phrase), or None when it could.

    Takes the writer's lock and SQLite's write lock (`BEGIN IMMEDIATE`), then rolls back: nothing is
    written. Waits at most `wait` seconds in all. Also checks the free space on the database's disk.
    """
    free = free_bytes(db.path)
    if free is not None and free < min_free_bytes:
        return f"the database's disk is full ({free // 1024:,} KiB free)"
    deadline = time.monotonic() + wait
    if not db.lock.acquire(timeout=wait):
        return f"the writer has been busy for over {wait:g} s"
    try:
        return _begin_and_roll_back(db.db.conn, wait_ms=max(0, int((deadline - time.monotonic()) * 1000)))
    finally:
        db.lock.release()


def _begin_and_roll_back(conn: sqlite3.Connection, *, wait_ms: int) -> str | None:
    try:
        conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        return f"a write cannot begin: {exc}"
    return None


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

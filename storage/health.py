"""What /healthz asks of the database: can a write begin now, and how old is the oldest message waiting to go out.

SQL lives here, beside the writer it probes (`storage.db.Db`), so the server above knows no SQL.
"""

import os
import resource
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
        biggest = max((Path(db.path + suffix).stat().st_size for suffix in ("", "-wal")
                       if Path(db.path + suffix).exists()), default=0)
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


def oldest_pending_message(db: Db) -> datetime | None:
    """When the oldest outbox message still waiting to be sent was queued (None: none waits). Raises sqlite3.Error."""
    with db.read() as reader:
        row = reader.execute("SELECT min(created_at) FROM outbox WHERE status = 'pending'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None

"""Who writes next, and when a batch of units of work is committed: the writer's lock and its group commit.

`WriterLock` hands the one writer connection to one thread at a time, first come first served, with
interactive work (what a person waits for) before background work (jobs, the outbox's bookkeeping)
— but never more than `FAIR_EVERY` interactive units in a row while background work waits, so the
outbox keeps sending while commands pour in — and lets a waiter give up after a deadline. Python's
own locks are neither fair nor prioritised.

`Batch` is one SQLite transaction shared by the units of work that ran in it; each unit's caller
waits on it until its COMMIT is on disk (or failed).

`Checkpointer` copies the write-ahead log back into the database file on a thread and connection of
its own, so that no COMMIT — and no person waiting on one — pays for it.
"""

import logging
import sqlite3
import threading
import time
from collections import deque

log = logging.getLogger(__name__)

FAIR_EVERY = 4
"""Interactive units let in ahead of a waiting background one before it gets its turn."""


class _Waiter:
    __slots__ = ("thread", "gate", "granted")

    def __init__(self, thread: int) -> None:
        self.thread = thread
        self.gate = threading.Lock()
        self.gate.acquire()
        self.granted = False


class WriterLock:
    """A re-entrant lock handed over in order: interactive waiters first, then background ones, each FIFO."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._queues: dict[bool, deque[_Waiter]] = {True: deque(), False: deque()}
        self._ahead = 0  # interactive units let in while background ones waited

    def acquire(self, *, interactive: bool = True, timeout: float | None = None) -> bool:
        """Wait for the writer (at most `timeout` seconds; None: as long as it takes); False when it did not come."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return True
            if self._owner is None and not self.waiting_locked():
                self._owner, self._depth = me, 1
                return True
            waiter = _Waiter(me)
            self._queues[interactive].append(waiter)
        waiter.gate.acquire(timeout=-1 if timeout is None else max(timeout, 0))
        with self._mutex:
            if waiter.granted:
                return True
            self._queues[interactive].remove(waiter)
            return False

    def release(self) -> None:
        with self._mutex:
            assert self._owner == threading.get_ident(), "the writer lock is released by a thread that does not hold it"
            self._depth -= 1
            if self._depth:
                return
            people, jobs = self._queues[True], self._queues[False]
            if not (people or jobs):
                self._owner = None
                return
            if people and not (jobs and self._ahead >= FAIR_EVERY):
                waiter = people.popleft()
                self._ahead = self._ahead + 1 if jobs else 0
            else:
                waiter = jobs.popleft()
                self._ahead = 0
            self._owner, self._depth, waiter.granted = waiter.thread, 1, True
            waiter.gate.release()

    def waiting(self) -> int:
        """How many threads wait for the writer now."""
        with self._mutex:
            return self.waiting_locked()

    def waiting_locked(self) -> int:
        return len(self._queues[True]) + len(self._queues[False])

    def held_by_me(self) -> bool:
        return self._owner == threading.get_ident()

    def depth(self) -> int:
        """How deeply the calling thread holds the lock (0: not at all)."""
        return self._depth if self.held_by_me() else 0

    # `with lock:` for code that only needs the writer for a moment (closing, an in-memory read)
    def __enter__(self) -> "WriterLock":
        self.acquire(interactive=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Batch:
    """One open transaction: its units are answered together when its COMMIT is done."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.units = 0
        self.error: BaseException | None = None
        self._done = threading.Event()

    def finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self._done.set()

    def wait(self) -> None:
        """Until the batch is committed; raises what its COMMIT raised."""
        self._done.wait()
        if self.error is not None:
            raise self.error


class Checkpointer:
    """Every `every` seconds after a commit, a PASSIVE checkpoint of the WAL into the database file (it waits for
    nobody: what a reader still needs stays in the WAL until the next one). The writer's connection has its own
    automatic checkpoints turned off: one of them, run inside a COMMIT on a big database, took half a second."""

    def __init__(self, path: str, *, every: float = 1.0) -> None:
        self._path = path
        self._every = every
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ai-intake-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._dirty.set()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=10)
        except sqlite3.Error as exc:  # the file went away (its directory removed) before this thread began
            log.error(
                "cannot open %s to checkpoint its write-ahead log (%s): it grows until a restart", self._path, exc
            )
            return
        conn.execute("PRAGMA mmap_size = 0")  # as every connection of the bot's (storage.db.NO_MMAP)
        try:
            while not self._stop.wait(self._every):
                if self._dirty.is_set():
                    self._dirty.clear()
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except sqlite3.Error:
                        self._dirty.set()  # try again next time
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

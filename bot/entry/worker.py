"""The worker process: `ai-intake run` serving HTTP does the work after the ack in a second process.

Why: an ack is what the door and one small commit cost (`bot.listeners.inbox`), but on one interpreter every
filing, card and answer worked beside the acks takes its share of the same lock (Python's GIL) and of the same
SQLite writer, and the acks wait for them (docs/benchmarks.md, "Acks at the floor"). So the HTTP process (the
front) keeps each delivery in the inbox's own file (`storage.inbox`), acks it, and rings this process; this process
works the inbox and sends the outbox, as a single process does (`Bot.start`). The two share the database, never a
lock in memory.

The ring is the worker's standard input: the front writes a byte after each delivery it keeps and after each commit
of its own that queued Slack messages (a form submitted, a scheduled job); the worker then reads what is pending.
A ring lost (the pipe full, the worker starting) costs at most a second: the worker also looks every second.

The worker's standard output carries its reports back: each delivery it worked (its done mark), and every second
what its counters grew by (requests filed, Web API calls and errors, messages given up), which the front adds to its
own, so one /metrics shows both. The front marks the deliveries done in the inbox (and prunes it): it alone writes
the inbox's file, so its acks never wait for the worker's lock on it (SQLite's wait for a lock held by another process
sleeps: at 50 commands in flight the acks' batches waited 18 ms each, one in two, when the worker marked them itself).
A done mark lost with the front (kill -9) works the delivery again at the next start, which its key makes harmless.

Ends: when its standard input closes (the front stopped, or was killed: the pipe's end closes with it), on SIGTERM
or on Ctrl-C, the worker stops taking deliveries, finishes the one each lane works, stops the outbox and ends; what
was not done stays kept and queued for the next start. When the worker ends on its own (a crash, kill -9, out of
memory), the front says so in its log and starts another (after 1 s, then up to 30 s while it keeps failing): what
was kept meanwhile is worked then. /readyz says "worker": "restarting" in between.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.runtime.shutdown import SHUTDOWN_SECONDS, watchdog

log = logging.getLogger("ai_intake")

RESTART_AFTER_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
STEADY_SECONDS = 60.0
"""A worker that ran this long before it ended is restarted after `RESTART_AFTER_SECONDS` again, not after more."""
REPORT_SECONDS = 1.0
"""How often the worker tells the front what its counters grew by (its filings, its Slack calls), for /metrics."""
NICENESS = 5
"""How much lower the worker's CPU priority is than the front's: when both want the same core, the kernel gives
the acks about three times the worker's share (the worker still takes whatever the acks leave)."""
STOP_SECONDS = 7.5
"""How long the front waits for the worker to end once asked, before it ends it (within run's 8 s)."""


class WorkerProcess:
    """The front's handle on the worker process: starts it, rings it, restarts it when it ends on its own, stops it."""

    def __init__(self, argv: Sequence[str] | None = None, *, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv or [sys.executable, "-m", "bot.entry.work"])
        self.env = env
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._counted: Callable[[dict[str, Any]], None] = lambda growth: None
        self._worked: Callable[[list[tuple[int, datetime]]], None] = lambda marks: None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def running(self) -> bool:
        """Whether the worker process runs now (/readyz asks)."""
        process = self._process
        return process is not None and process.poll() is None

    def start(
        self,
        *,
        counted: Callable[[dict[str, Any]], None] | None = None,
        worked: Callable[[list[tuple[int, datetime]]], None] | None = None,
    ) -> None:
        """Start the worker, and a thread that starts it again whenever it ends without being asked to. `counted`
        takes what the worker's counters grew by, as it reports it (`Metrics.add`); `worked(marks)` the
        deliveries it worked, each `(seq, when)` (`InboxWorker.worked`: marked done in the inbox)."""
        self._counted = counted or self._counted
        self._worked = worked or self._worked
        self._stopping.clear()
        self._spawn()
        threading.Thread(target=self._watch, name="ai-intake-worker-watch", daemon=True).start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env, bufsize=0
            )
            assert self._process.stdin is not None
            os.set_blocking(self._process.stdin.fileno(), False)  # a ring never waits for the worker
            self._reader = threading.Thread(
                target=self._read_reports, args=(self._process,), name="ai-intake-worker-reports", daemon=True
            )
            self._reader.start()
        log.info("ai-intake worker started (pid %d): it works the inbox and sends the outbox", self._process.pid)

    def ring(self) -> None:
        """Something was kept or queued: wake the worker. Never blocks; a ring that cannot be written is dropped (the
        worker looks every second anyway)."""
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            process.stdin.write(b"\x01")
        except (BlockingIOError, BrokenPipeError, ValueError, OSError):
            pass  # full (rings are waiting), or the worker ended (its watcher starts another)

    def _read_reports(self, process: "subprocess.Popen[bytes]") -> None:
        """Read the worker's reports (one JSON line each, on its standard output) until it ends. The done marks read
        together are written together, in one unit."""
        assert process.stdout is not None
        fd, rest = process.stdout.fileno(), b""
        while chunk := os.read(fd, 65536):
            *lines, rest = (rest + chunk).split(b"\n")
            marks: list[tuple[int, datetime]] = []
            for line in lines:
                try:
                    report = json.loads(line)
                    if "done" in report:
                        seq, at = report["done"]
                        marks.append((int(seq), datetime.fromisoformat(at)))
                    else:
                        self._counted(report["counts"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    log.warning("the ai-intake worker wrote a line that is no report; ignored")
            if marks:
                try:
                    self._worked(marks)
                except Exception:  # noqa: BLE001 - not marked done: worked again at the next start, which its key drops
                    log.exception("could not mark %d worked deliveries done", len(marks))

    def _watch(self) -> None:
        delay = RESTART_AFTER_SECONDS
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            started = time.monotonic()
            code = process.wait()
            if self._reader is not None:
                self._reader.join(timeout=5)  # its last done marks written before another worker reads the inbox
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= STEADY_SECONDS:
                delay = RESTART_AFTER_SECONDS
            log.warning(
                "ai-intake worker (pid %d) ended on its own (%s); starting another in %.0f s: deliveries kept "
                "meanwhile are worked then",
                process.pid,
                f"signal {-code}" if code < 0 else f"exit code {code}",
                delay,
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RESTART_MAX_SECONDS)
            try:
                self._spawn()
            except OSError as exc:
                log.error("cannot start the ai-intake worker: %s", exc)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the worker to end (its standard input closes), wait up to `timeout` seconds, then end it."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None:
            return
        if process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("ai-intake worker did not end within %.0f s; ending it: what was not done stays kept", timeout)
            process.kill()
            process.wait(timeout=5)


def listen(stdin_fd: int, *, ring: Callable[[], None], ended: threading.Event) -> None:
    """Read the front's rings from `stdin_fd` until it closes: each read rings; its end sets `ended`."""
    while True:
        try:
            data = os.read(stdin_fd, 4096)
        except InterruptedError:
            continue
        except OSError:
            data = b""
        if not data:
            ended.set()
            return
        ring()


def serve(make: Callable[[Callable[[float], None]], object], *, stdin_fd: int = 0) -> int:
    """Run a worker process: `make(sleep)` builds the bot (`sleep` waits between tries while Slack cannot be reached,
    and ends the process when the front went away meanwhile); then it works until its standard input closes or
    SIGTERM / Ctrl-C, and stops within `SHUTDOWN_SECONDS` - 1 (its own watchdog), before the front's."""
    ended = threading.Event()
    try:
        os.nice(NICENESS)  # the acks first, when the two want the same core
    except OSError:
        pass

    def stop(signum: int, frame: object) -> None:
        ended.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # Ctrl-C reaches the whole process group: end as the front does
    rings: list[Callable[[], None]] = []
    threading.Thread(
        target=listen,
        args=(stdin_fd,),
        kwargs={"ring": lambda: [ring() for ring in rings], "ended": ended},
        name="ai-intake-worker-rings",
        daemon=True,
    ).start()

    def wait_or_end(seconds: float) -> None:
        if ended.wait(seconds):
            raise SystemExit(0)  # the front went away while Slack could not be reached: nothing was started

    bot: Any = make(wait_or_end)
    rings.extend([bot.inbox.ring, bot.outbox.wakeup.set])
    reports = Reports(bot.metrics, out=sys.stdout.buffer)
    bot.inbox.done_elsewhere(reports.done)  # the front alone writes the inbox's file
    bot.start()
    try:
        while not ended.wait(REPORT_SECONDS):
            reports.send()
    finally:
        watchdog(SHUTDOWN_SECONDS - 1, name="ai-intake-worker-watchdog")
        bot.stop()
        reports.send()
    return 0


class Reports:
    """The worker's reports to the front, one JSON line each: a delivery worked (`{"done": [seq, at]}`, at once), and
    what its counters grew by since it last said (`{"counts": {name: [[labels, growth], …]}}`, `Metrics.counts`'
    shape), when they grew."""

    def __init__(self, metrics: Any, *, out: Any) -> None:
        self.metrics = metrics
        self.out = out
        self._said: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._writing = threading.Lock()

    def done(self, seq: int, at: datetime) -> None:
        """Delivery `seq` was worked at `at`: the front marks it done."""
        self._write({"done": [seq, at.isoformat()]})

    def _write(self, report: dict[str, Any]) -> None:
        with self._writing:
            try:
                self.out.write(json.dumps(report).encode() + b"\n")
                self.out.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the front is gone: it marks and counts nothing more

    def send(self) -> None:
        growth: dict[str, list[tuple[dict[str, str], float]]] = {}
        for name, samples in self.metrics.counts().items():
            for labels, value in samples:
                key = (name, tuple(sorted(labels.items())))
                if (grew := value - self._said.get(key, 0.0)) > 0:
                    growth.setdefault(name, []).append((labels, grew))
                    self._said[key] = value
        if growth:
            self._write({"counts": growth})

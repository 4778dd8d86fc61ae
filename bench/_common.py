"""Shared by the benchmark scripts: the project on sys.path, the machine, tables, percentiles,
Slack signing, child processes (the fake Slack, a server) and an HTTP load generator.

Not a benchmark itself. Everything binds 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import platform
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATA = BENCH / ".data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIGNING_SECRET = "bench-signing-secret-0123456789"
TOKEN = "xoxb-test-token"  # what tests/fake_slack.py accepts


# -- the machine and the output -----------------------------------------------------------------
def machine() -> str:
    """One line: cores, CPU, Python, SQLite."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (it reads well in a terminal too)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds == seconds else "-"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- Slack signing ------------------------------------------------------------------------------
def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's signature: v0= + hex HMAC-SHA256 of "v0:{timestamp}:{body}" (as tests/harness.py)."""
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


# -- child processes ----------------------------------------------------------------------------
class Child:
    """A Python child speaking one JSON line at a time: it prints {"ready": ...} first, then answers
    each line written to its stdin with one line. Killed if it outlives `stop()`."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(ROOT),
            env={**os.environ, **(env or {})},
        )
        self.ready = self._read()

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"child {self.proc.args[1:]} exited with {self.proc.returncode} before answering")
        return json.loads(line)

    def ask(self, message: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self) -> Any:
        try:
            return self.ask({"op": "stop"})
        finally:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve_stdin(handle: Callable[[dict[str, Any]], Any], ready: Any) -> None:
    """The child side of `Child`: announce `ready`, answer each stdin line until {"op": "stop"}."""
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        message = json.loads(line)
        answer = handle(message)
        print(json.dumps(answer), flush=True)
        if message.get("op") == "stop":
            return


def start_fake_slack(latency: float) -> Child:
    """tests/fake_slack.py in its own process (so validating calls costs the bot no CPU time slice)."""
    return Child([str(BENCH / "_fake_slack_proc.py"), "--latency", str(latency)])


def children_of(pid: int) -> list[int]:
    """The running processes whose parent is `pid`, started by any of its threads (the worker process `ai-intake
    run` starts over HTTP); an ended one not yet reaped is left out."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of one process in MB: its VmHWM, which starts afresh at exec.

    Not ru_maxrss: Linux carries that over from the parent at fork and exec, so a child of a
    process that once held 2 GB (the dataset generator) would report 2 GB whatever it did itself.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else float("nan")


def copy_database(source: Path, target: Path) -> None:
    """Copy a generated database for a run that writes to it: no WAL left from an earlier copy at that path, and the
    copy flushed to disk before the bot starts, so that the first checkpoint's fsync does not write out the whole
    copy (gigabytes at 1M, seconds of disk time) in the middle of the measurement."""
    import shutil

    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


# -- load ---------------------------------------------------------------------------------------
@dataclass
class Load:
    """What a load run saw: per request, (seconds to the HTTP answer, status)."""

    latencies: list[float] = field(default_factory=list)
    answers: list[tuple[float, float, bytes]] = field(default_factory=list)  # (sent, answered, body) with keep
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    def summary(self) -> dict[str, float]:
        return {
            "p50": percentile(self.latencies, 50),
            "p99": percentile(self.latencies, 99),
            "max": max(self.latencies, default=float("nan")),
            "n": len(self.latencies),
            "rate": len(self.latencies) / self.wall if self.wall else 0.0,
        }


class SignedConnection:
    """A keep-alive connection to the server under test that signs each POST as Slack does; one that fails is opened
    again, and the failure said."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes] | str:
        """(HTTP status, the answer's body), or what went wrong."""
        try:
            self.conn.request("POST", path, body=body, headers={"Content-Type": content_type, **signed_headers(body)})
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            return f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        self.conn.close()


def run_load(
    url: str,
    bodies: Sequence[tuple[bytes, str]] | Callable[[int], tuple[bytes, str] | None],
    *,
    concurrency: int,
    path: str = "/slack/events",
    duration: float | None = None,
    keep: bool = False,
    rate: float | None = None,
) -> Load:
    """POST signed bodies with `concurrency` keep-alive connections, each worker one request at a time.

    `bodies` is a list of (body, content type), or a function of the request number returning one
    (None: stop). With `duration`, workers stop starting requests after that many seconds. With
    `keep`, every answer's body is kept with its monotonic send and answer times. With `rate`, the
    load is open-loop: request n is sent at n / rate seconds (or as soon as a worker is free after).
    """
    host, port = url.removeprefix("http://").split(":")
    load = Load()
    lock = threading.Lock()
    counter = iter(range(10**9))
    started = time.monotonic()

    def next_body() -> tuple[bytes, str] | None:
        with lock:
            n = next(counter)
        if rate is not None:
            if duration is not None and n / rate >= duration:
                return None
            if (wait := started + n / rate - time.monotonic()) > 0:
                time.sleep(wait)
        if duration is not None and time.monotonic() - started >= duration:
            return None
        if callable(bodies):
            return bodies(n)
        return bodies[n] if n < len(bodies) else None

    def worker() -> None:
        conn = SignedConnection(host, int(port))
        while (item := next_body()) is not None:
            body, content_type = item
            t0 = time.monotonic()
            answered = conn.post(path, body, content_type)
            if isinstance(answered, str):
                with lock:
                    load.errors.append(answered)
                continue
            status, answer = answered
            t1 = time.monotonic()
            with lock:
                load.latencies.append(t1 - t0)
                if keep:
                    load.answers.append((t0, t1, answer))
                load.statuses[status] = load.statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.wall = time.monotonic() - started
    return load


def wait_http(url: str, *, timeout: float) -> None:
    """Until GET `url` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    host, rest = url.removeprefix("http://").split(":", 1)
    port, _, path = rest.partition("/")
    while True:
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", "/" + path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def argv_flag(name: str) -> bool:
    return name in sys.argv[1:]

"""Startup: from `ai-intake run` (a new process, HTTP mode) to `/healthz` answering 200, on an empty
database (the floor) and on the largest generated one; then how fast commands are acked while the
catch-up jobs run, and when they are done.

    python bench/startup.py            the largest database bench/jobs_scale.py has generated (1M)
    python bench/startup.py --quick    the 10k database

The process is `python -m bot run` (the same `bot.entry.cli:main` the `ai-intake` script runs) with
SLACK_API_URL pointing at the fake Slack Web API (tests/fake_slack.py, in a child process), HOST
127.0.0.1 and a free PORT, AI_INTAKE_CONFIG the jobs benchmark's six-domain config and AI_INTAKE_DB a
copy of the database (the bot writes to it: its scheduler runs `sla` and `nags` at once on start,
and the data's `NOW`, 23 Nov 2026, is in the past by the clock, so they catch up on everything that
fell due since: a bot started after being down that long). This process polls /healthz every
10 ms once the port accepts connections (/healthz reads on its own connection); once it answers
200 it sends one signed `/ai-request` quick-create, then one every 0.1 s until both catch-up jobs
have logged that they are done ("job sla done in …") and 2 s more (at least `after` seconds, at
most 90), and reports the slowest ack: a quick-create writes, so it waits for whatever the jobs hold
the writer with. It reads the bot's peak RSS (VmHWM: the front's and its worker process's together) before
stopping it with SIGTERM. Everything
binds 127.0.0.1.

Targets (issue 11): restarted after 3 days down on the 1M database, no ack over 300 ms while the
catch-up runs, the catch-up done within 60 s, peak RSS of `ai-intake run` under 200 MB.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    ROOT,
    SIGNING_SECRET,
    TOKEN,
    argv_flag,
    copy_database,
    machine,
    ms,
    peak_rss_mb,
    children_of,
    run_load,
    start_fake_slack,
    table,
    verdict,
)
from bench._dataset import DATA, config_path, dataset, describe, label, path_of  # noqa: E402
from bench.intake_throughput import command_body  # noqa: E402

HEALTH_LIMIT = 90.0
ACK_TARGET = 0.300
CATCH_UP_TARGET = 60.0
RSS_TARGET_MB = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def largest_dataset() -> Path | None:
    current = path_of(10_000, 0.10).name.rsplit("-", 1)[1]  # this generator and schema ("g3s6.db")
    found = [(p.stat().st_size, p) for p in DATA.glob(f"jobs-*-{current}")]
    return max(found)[1] if found else None


def health(port: int) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HEALTH_LIMIT)
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def start_once(db: Path, api_url: str, *, after: float) -> dict[str, Any]:
    """Start the bot on `db`, time /healthz, then send commands for `after` seconds."""
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "AI_INTAKE_DB": str(db),
        "AI_INTAKE_CONFIG": str(config_path()),
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    env.pop("SLACK_APP_TOKEN", None)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    listening = healthy = None
    done: dict[str, float] = {}
    lines: list[str] = []

    def watch_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            for job in ("sla", "nags"):
                if f"job {job} done in" in line and job not in done:
                    done[job] = time.monotonic() - started

    reader = threading.Thread(target=watch_log, daemon=True)
    reader.start()
    try:
        while time.monotonic() - started < HEALTH_LIMIT and proc.poll() is None:
            if listening is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    listening = time.monotonic() - started
                except OSError:
                    time.sleep(0.01)
                    continue
            status = health(port)
            if status == 200:
                healthy = time.monotonic() - started
                break
            time.sleep(0.01)
        acks: list[tuple[float, float]] = []  # (sent, seconds since start), ack seconds
        rss = float("nan")
        if healthy is not None:
            url = f"http://127.0.0.1:{port}"
            n = 0
            least = time.monotonic() + after
            while time.monotonic() - started < HEALTH_LIMIT:
                sent = time.monotonic() - started
                acks += [(sent, t) for t in run_load(url, [command_body(n)], concurrency=1).latencies]
                n += 1
                caught_up = len(done) == 2 and time.monotonic() - started > max(done.values()) + 2
                if caught_up and time.monotonic() > least:
                    break
                time.sleep(0.1)
            rss = peak_rss_mb(proc.pid) + sum(peak_rss_mb(child) for child in children_of(proc.pid))  # + its worker
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    if healthy is None:
        print(
            f"warning: {db.name}: /healthz never answered 200; the bot said: {''.join(lines).strip()[-300:]}",
            file=sys.stderr,
        )
    catch_up = max(done.values()) if len(done) == 2 else None
    during = [t for sent, t in acks if catch_up is None or sent <= catch_up]
    return {
        "listening": listening,
        "healthy": healthy,
        "first_ack": acks[0][1] if acks else None,
        "max_ack": max((t for _, t in acks), default=None),
        "max_during": max(during, default=None),
        "acks": len(acks),
        "during": len(during),
        "catch_up": catch_up,
        "rss": rss,
    }


def main() -> int:
    quick = argv_flag("--quick")
    started = time.monotonic()
    big = dataset(10_000)[0] if quick else (largest_dataset() or dataset(10_000)[0])
    facts = describe(big)
    after = 2.0 if quick else 10.0
    fake = start_fake_slack(0.0)
    try:
        with tempfile.TemporaryDirectory(prefix="ai-intake-bench-") as tmp:
            empty = start_once(Path(tmp) / "empty.db", fake.ready["url"], after=after)
            copy = Path(tmp) / "copy.db"
            t = time.monotonic()
            copy_database(big, copy)
            copy_seconds = time.monotonic() - t
            loaded = start_once(copy, fake.ready["url"], after=after)
    finally:
        fake.stop()

    name = next(
        (
            label(n, s)
            for n, s in ((10_000, 0.1), (100_000, 0.1), (1_000_000, 0.1), (100_000, 0.01))
            if big.name.startswith(f"jobs-{n}-{round(s * 1000)}-")
        ),
        big.name,
    )

    def cell(v: float | None) -> str:
        return ms(v) if v is not None else f"> {HEALTH_LIMIT:.0f} s"

    rows = [
        [
            "empty database (floor)",
            cell(empty["listening"]),
            cell(empty["healthy"]),
            "-",
            cell(empty["first_ack"]),
            cell(empty["max_ack"]),
            f"{empty['rss']:.0f} MB",
            "",
        ]
    ]
    ok = None
    if loaded["healthy"] is not None:
        caught = loaded["catch_up"]
        ok = (
            caught is not None
            and caught <= CATCH_UP_TARGET
            and (loaded["max_during"] or 0) <= ACK_TARGET
            and loaded["rss"] < RSS_TARGET_MB
        )
    rows.append(
        [
            f"{name}: {facts['requests']:,} requests, {facts['open']:,} open, {facts['bytes'] / 2**20:.0f} MB",
            cell(loaded["listening"]),
            cell(loaded["healthy"]),
            cell(loaded["catch_up"]) if loaded["catch_up"] is not None else "not done",
            cell(loaded["first_ack"]),
            f"{cell(loaded['max_during'])} ({loaded['during']} acks)",
            f"{loaded['rss']:.0f} MB",
            verdict(bool(ok)) if ok is not None else "MISSED",
        ]
    )
    print(
        f"## Startup ({'quick' if quick else 'full'}): `python -m bot run` (HTTP mode), restarted after three days down"
    )
    print(
        table(
            [
                "database",
                "port open",
                "/healthz 200",
                "catch-up done (sla and nags)",
                "first command ack",
                "slowest ack while catching up",
                "peak RSS",
                "target",
            ],
            rows,
        )
    )
    if empty["healthy"] and loaded["healthy"]:
        print(
            f"\nStartup on {name} is {loaded['healthy'] / empty['healthy']:.1f}x the empty database's "
            f"(copying the database first took {copy_seconds:.1f} s, not counted)."
        )
    print(
        f"Targets: no ack over {ACK_TARGET * 1000:.0f} ms while the catch-up runs, catch-up done within "
        f"{CATCH_UP_TARGET:.0f} s, peak RSS under {RSS_TARGET_MB} MB (set for the 1M database)."
    )
    print(f"Machine: {machine()}. Took {time.monotonic() - started:.0f} s.")
    return 0 if empty["healthy"] and ok else 1


if __name__ == "__main__":
    sys.exit(main())

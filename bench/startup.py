"""Startup: from `ai-intake run` (a new process, HTTP mode) to `/healthz` answering 200, on an empty
database (the floor) and on the largest generated one; then how fast the first commands are acked.

    python bench/startup.py            the largest database bench/jobs_scale.py has generated (1M)
    python bench/startup.py --quick    the 10k database

The process is `python -m bot run` (the same `bot.cli:main` the `ai-intake` script runs) with
SLACK_API_URL pointing at the fake Slack Web API (tests/fake_slack.py, in a child process), HOST
127.0.0.1 and a free PORT, AI_INTAKE_CONFIG the jobs benchmark's six-domain config and AI_INTAKE_DB a
copy of the database (the bot writes to it: its scheduler runs `sla` and `nags` at once on start,
and the data's `NOW`, 23 Nov 2026, is in the past by the clock, so they catch up on everything that
fell due since: a bot started after being down that long). This process polls /healthz every
10 ms once the port accepts connections (/healthz reads on its own connection); once it answers
200 it sends one signed `/ai-request` quick-create, then one every 0.5 s for a few seconds, and
reports the slowest ack: a quick-create writes, so it waits for the startup jobs' write transactions.
The bot is stopped with SIGTERM. Everything binds 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import ROOT, SIGNING_SECRET, TOKEN, argv_flag, machine, ms, run_load, start_fake_slack, table  # noqa: E402
from bench._dataset import DATA, config_path, dataset, describe, label, path_of  # noqa: E402
from bench.intake_throughput import command_body  # noqa: E402

HEALTH_LIMIT = 90.0


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
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url,
           "AI_INTAKE_DB": str(db), "AI_INTAKE_CONFIG": str(config_path()), "PORT": str(port), "HOST": "127.0.0.1"}
    env.pop("SLACK_APP_TOKEN", None)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=str(ROOT), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    listening = healthy = None
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
        acks: list[float] = []
        if healthy is not None:
            url = f"http://127.0.0.1:{port}"
            first = run_load(url, [command_body(0)], concurrency=1)
            acks += first.latencies
            end = time.monotonic() + after
            n = 1
            while time.monotonic() < end:
                time.sleep(0.5)
                acks += run_load(url, [command_body(n)], concurrency=1).latencies
                n += 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    if healthy is None:
        print(f"warning: {db.name}: /healthz never answered 200; the bot said: {err.strip()[-300:]}", file=sys.stderr)
    return {"listening": listening, "healthy": healthy, "first_ack": acks[0] if acks else None,
            "max_ack": max(acks) if acks else None, "acks": len(acks)}


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
            shutil.copyfile(big, copy)
            copy_seconds = time.monotonic() - t
            loaded = start_once(copy, fake.ready["url"], after=after)
    finally:
        fake.stop()

    name = next((label(n, s) for n, s in ((10_000, .1), (100_000, .1), (1_000_000, .1), (100_000, .01))
                 if big.name.startswith(f"jobs-{n}-{round(s * 1000)}-")), big.name)

    def cell(v: float | None) -> str:
        return ms(v) if v is not None else f"> {HEALTH_LIMIT:.0f} s"

    rows = [["empty database (floor)", cell(empty["listening"]), cell(empty["healthy"]), cell(empty["first_ack"]),
             cell(empty["max_ack"])],
            [f"{name}: {facts['requests']:,} requests, {facts['open']:,} open, {facts['bytes'] / 2**20:.0f} MB",
             cell(loaded["listening"]), cell(loaded["healthy"]), cell(loaded["first_ack"]), cell(loaded["max_ack"])]]
    print(f"## Startup ({'quick' if quick else 'full'}): `python -m bot run` (HTTP mode) to /healthz 200")
    print(table(["database", "port open", "/healthz 200", "first command ack after that",
                 f"slowest ack in the next {after:.0f} s ({loaded['acks']} sent)"], rows))
    if empty["healthy"] and loaded["healthy"]:
        print(f"\nStartup on {name} is {loaded['healthy'] / empty['healthy']:.1f}x the empty database's "
              f"(copying the database first took {copy_seconds:.1f} s, not counted).")
    print("The issue sets no target for startup; acks are held to the ack benchmark's (max under 1 s).")
    print(f"Machine: {machine()}. Took {time.monotonic() - started:.0f} s.")
    return 0 if empty["healthy"] and loaded["healthy"] else 1


if __name__ == "__main__":
    sys.exit(main())

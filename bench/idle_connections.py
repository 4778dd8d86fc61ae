"""Idle and slow connections: a command's ack while hundreds of sockets sit idle or drip a request.

    python bench/idle_connections.py            500 idle + 500 slow, then 1,000 idle; 50 commands each
    python bench/idle_connections.py --quick    the same, 20 commands each

The bot runs in a child process under its production server (bench/_serve.py: build_app, make_server);
the fake Slack in another. This process opens the connections — idle ones that never send a byte, slow
ones that sent the start of a request's headers and drip one byte a second — then sends commands, one
at a time, each timed from sending to the HTTP answer. A baseline runs first with no stray connection.
Everything binds 127.0.0.1.

Target (issue 22): with 500 idle and 500 slow connections open, no command's ack past 1 s.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import BENCH, Child, argv_flag, machine, ms, run_load, start_fake_slack, table, verdict  # noqa: E402
from bench._bodies import command_body  # noqa: E402

TARGET_SECONDS = 1.0


def commands(url: str, urls: list[str], first: int, n: int) -> dict[str, float]:
    load = run_load(url, [command_body(first + i, urls[first + i]) for i in range(n)], concurrency=1)
    bad = {s: c for s, c in load.statuses.items() if s != 200}
    if bad or load.errors:
        print(f"warning: non-200 answers {bad}, errors {load.errors[:3]}", file=sys.stderr)
    return load.summary()


def main() -> int:
    n = 20 if argv_flag("--quick") else 50
    fake = start_fake_slack(0.0)
    rows, worst = [], 0.0
    try:
        urls = fake.ask({"op": "response_urls", "n": 4 * n})
        with tempfile.TemporaryDirectory(prefix="ai-intake-bench-") as tmp:
            server = Child([str(BENCH / "_serve.py"), "bot", "--api-url", fake.ready["url"], "--db", f"{tmp}/bot.db"])
            url = server.ready["url"]
            host, port = url.removeprefix("http://").split(":")
            try:
                commands(url, urls, 0, 5)  # auth.test, caches
                rows.append(("none", commands(url, urls, n, n)))
                stop = threading.Event()
                with ExitStack() as stack:
                    idle = [
                        stack.enter_context(socket.create_connection((host, int(port)), timeout=10)) for _ in range(500)
                    ]
                    slow = [
                        stack.enter_context(socket.create_connection((host, int(port)), timeout=10)) for _ in range(500)
                    ]
                    for sock in slow:
                        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: intake.example.com\r\nX-Slow: ")

                    def drip() -> None:
                        while not stop.wait(1.0):
                            for sock in slow:
                                try:
                                    sock.sendall(b"a")
                                except OSError:
                                    pass

                    dripper = threading.Thread(target=drip, daemon=True)
                    dripper.start()
                    rows.append(("500 idle + 500 slow (dripping)", commands(url, urls, 2 * n, n)))
                    stop.set()
                    dripper.join()
                    assert len(idle) == 500
                with ExitStack() as stack:
                    for _ in range(1000):
                        stack.enter_context(socket.create_connection((host, int(port)), timeout=10))
                    rows.append(("1,000 idle", commands(url, urls, 3 * n, n)))
            finally:
                server.stop()
    finally:
        fake.stop()
    worst = max(r["max"] for name, r in rows[1:])
    print(f"Machine: {machine()}\n")
    print(
        table(
            ["stray connections", "commands", "p50", "p99", "max"],
            [(name, r["n"], ms(r["p50"]), ms(r["p99"]), ms(r["max"])) for name, r in rows],
        )
    )
    ok = worst < TARGET_SECONDS
    print(f"\nno ack past {TARGET_SECONDS:g} s with stray connections open: {verdict(ok)} (worst {ms(worst)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

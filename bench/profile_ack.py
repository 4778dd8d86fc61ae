"""Where the CPU of one acknowledgement goes: commands and clicks one at a time, every thread profiled.

    python bench/profile_ack.py                 200 quick-create commands, then 200 clicks
    python bench/profile_ack.py --n 500 --top 40
    python bench/profile_ack.py --root DIR      the same against another checkout of the bot (before/after)

The bot runs in a child (`bench/_serve.py bot --profile`, the production server and the outbox
worker) against the fake Slack in another child, answering at once. A warm-up (30 commands; for the
clicks, also the requests they press on) runs first and is not counted; then each request is sent
only when the last was answered, so the figures are the work of one request, not of waiting for
others. Every thread has its own cProfile profiler timed in *thread CPU time*, so a busy machine
changes the figures little. The table gives, per request, the CPU of the request threads (waitress
and Bolt's listener pool: everything from the socket to the ack, and for a click the use case that
runs after its ack) and of the outbox worker, then the functions with the most cumulative CPU on the
request threads. Not a benchmark with a target: the figures in docs/benchmarks.md come from it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import BENCH, Child, machine, run_load, start_fake_slack, table  # noqa: E402
from bench.ack_latency import click_body, command_body  # noqa: E402

WARMUP = 30
WAITS = ("<method 'acquire' of '_thread.lock' objects>", "<method 'acquire' of '_thread.RLock' objects>",
         "<method 'get' of '_queue.SimpleQueue' objects>")
"""Waiting on a lock costs no CPU; but a thread whose profiler was switched on while it waited reports the wait's
whole span since it started, so these are left out of the totals."""


def without_waits(rows: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: v for k, v in rows.items() if not k.endswith(WAITS)}


def profile(kind: str, n: int, fake: Child, tmp: str, *, root: str | None) -> dict[str, Any]:
    args = [str(BENCH / "_serve.py"), "bot", "--db", f"{tmp}/{kind}.db", "--api-url", fake.ready["url"], "--profile"]
    if root:
        args += ["--root", root]
    urls = fake.ask({"op": "response_urls", "n": 2 * n + WARMUP})
    server = Child(args)
    url = server.ready["url"]
    try:
        run_load(url, [command_body(10**6 + i, urls[i]) for i in range(WARMUP)], concurrency=1)
        if kind == "clicks":
            run_load(url, [command_body(10**5 + i, urls[WARMUP + n + i]) for i in range(n)], concurrency=1)
            bodies = [click_body(i, WARMUP + 1 + i, urls[WARMUP + i]) for i in range(n)]
        else:
            bodies = [command_body(i, urls[WARMUP + i]) for i in range(n)]
        time.sleep(1.0)  # the warm-up's cards go out before the profilers start
        server.ask({"op": "arm"})
        started = time.monotonic()
        load = run_load(url, bodies, concurrency=1)
        time.sleep(1.0)  # a click's use case runs after its ack; let it finish
        report = server.ask({"op": "profile"})
        report["wall"] = time.monotonic() - started
        report["latency"] = load.summary()
    finally:
        server.stop()
    return report


def short(key: str) -> str:
    path, line, function = key.rsplit(":", 2)
    for marker in ("/site-packages/", "/lib/python3", "/bot/", "/storage/"):
        if marker in path:
            path = path.split(marker, 1)[1] if marker in ("/site-packages/",) else marker.strip("/") + "/" + path.split(marker, 1)[1]
            break
    if path.startswith("python3"):
        path = path.split("/", 1)[-1]
    return f"{path}:{function}" if path != "~" else function


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--root", help="profile the bot of this checkout")
    args = parser.parse_args()
    fake = start_fake_slack(0.0)
    try:
        with tempfile.TemporaryDirectory(prefix="ai-intake-profile-") as tmp:
            reports = {kind: profile(kind, args.n, fake, tmp, root=args.root) for kind in ("commands", "clicks")}
    finally:
        fake.stop()
    print(f"## Where the CPU of an ack goes ({args.root or 'this checkout'}): {args.n} requests each, one at a time")
    for kind, report in reports.items():
        groups = {g: without_waits(rows) for g, rows in report["groups"].items()}
        totals = {g: sum(row[1] for row in rows.values()) for g, rows in groups.items()}
        per = {g: totals[g] / args.n * 1000 for g in totals}
        lat = report["latency"]
        print(f"\n### {kind}: ack p50 {lat['p50'] * 1000:.1f} ms alone; CPU per request: "
              + ", ".join(f"{g} threads {per[g]:.2f} ms" for g in sorted(per)))
        rows = sorted(((k, v) for k, v in groups.get("request", {}).items() if not k.endswith(":wait")),
                      key=lambda kv: -kv[1][2])
        print(table(["function (request threads)", "calls / request", "cumulative ms / request", "own ms / request"],
                    [[short(k), f"{calls / args.n:.1f}", f"{cum / args.n * 1000:.3f}", f"{own / args.n * 1000:.3f}"]
                     for k, (calls, own, cum) in rows[: args.top]]))
        worker = sorted(((k, v) for k, v in groups.get("outbox", {}).items() if not k.endswith(":wait")),
                        key=lambda kv: -kv[1][2])
        print(table(["function (outbox worker threads)", "calls / request", "cumulative ms / request"],
                    [[short(k), f"{calls / args.n:.1f}", f"{cum / args.n * 1000:.3f}"] for k, (calls, _, cum) in worker[:15]]))
        own = sorted(groups.get("request", {}).items(), key=lambda kv: -kv[1][1])
        print(table(["function (request threads), by own time", "calls / request", "own ms / request"],
                    [[short(k), f"{calls / args.n:.1f}", f"{o / args.n * 1000:.3f}"] for k, (calls, o, _) in own[:15]]))
    print(f"\nMachine: {machine()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

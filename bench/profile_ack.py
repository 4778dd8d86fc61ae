"""The CPU of one acknowledgement, per surface, against its budget; and with `--profile`, where it goes.

    python bench/profile_ack.py                   200 requests of each surface: CPU per request and its budget
    python bench/profile_ack.py --check           the same; exits 1, loudly, when a surface is over budget by > 50 %
    python bench/profile_ack.py --profile --top 40   also the functions with the most CPU (cProfile), per surface
    python bench/profile_ack.py --surface command --root DIR   one surface, the bot of another checkout (before/after)

The surfaces are what people do: a quick-create command (`/ai-request regression: …`), a mention
(an Events API `app_mention` as Slack sends it, rich-text blocks and all), the message shortcut
"Create AI request", and clicks on a card (Claim, Resolve, and Claim by an outsider, refused).
The bot runs in a child (`bench/_serve.py bot`, the production server and the outbox worker)
against the fake Slack in another child, answering at once. A warm-up (30 commands; for the clicks,
also the requests they press on) runs first and is not counted; then each request is sent only when
the last was answered, so the figures are the work of one request, not of waiting for others. The
CPU is read from each thread's own CPU clock, so a busy machine changes it little, in two groups:
the ack threads (waitress: everything from the socket to the HTTP answer, which for a command, a click or a
shortcut is keeping it in the inbox; and the inbox's keeper thread, which writes what they keep), the work threads (the inbox worker and Bolt's listener pool: what is done
after the ack: a command's or a mention's filing, a click's change) and the outbox worker
(its loop and lanes: the cards, replies and answers the requests queued), from the first measured
request until the inbox and the listeners are idle and one second more. Every request posts to one channel, so
most cards wait for the channel's pacing past that span: the outbox figure is the worker's CPU per
request while requests arrive (sends, and rounds over what is paced), not a card's whole cost. The
budgets are in bench/budgets.py.

With `--profile`, a second bot per surface runs the same requests with a cProfile profiler on every
thread (timed in thread CPU time; it roughly doubles what it measures: compare rows, not the
clock figures) and the tables show the functions with the most cumulative CPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import BENCH, Child, machine, run_load, start_fake_slack, table  # noqa: E402
from bench._bodies import FRESH, click_body, command_body, mention_body, shortcut_body  # noqa: E402
from bench.budgets import BUDGETS_MS, OVER  # noqa: E402

WARMUP = 30
SURFACES = ("command", "mention", "shortcut", "click")
GROUPS = ("ack", "work", "outbox")
WAITS = (
    "<method 'acquire' of '_thread.lock' objects>",
    "<method 'acquire' of '_thread.RLock' objects>",
    "<method 'get' of '_queue.SimpleQueue' objects>",
)
"""Waiting on a lock costs no CPU; but a thread whose profiler was switched on while it waited reports the wait's
whole span since it started, so these are left out of the profile's totals."""


def bodies_for(surface: str, n: int, fake: Child, url: str) -> list[tuple[bytes, str]]:
    """The measured requests of `surface`; what they need first (a click's requests) is sent here, unmeasured."""
    urls = fake.ask({"op": "response_urls", "n": 2 * n})
    if surface == "command":
        return [command_body(i, urls[i]) for i in range(n)]
    if surface == "click":
        run_load(url, [command_body(10**5 + i, urls[n + i]) for i in range(n)], concurrency=1)
        return [click_body(i, WARMUP + 1 + i, urls[i]) for i in range(n)]
    author = "U0REQ7"
    seeded = fake.ask(
        {
            "op": "messages",
            "channel": FRESH.channel,
            "n": n,
            "user": author,
            "text": "the refund bot quotes the wrong window",
        }
    )
    if surface == "mention":
        return [mention_body(i, ts, user=author) for i, ts in enumerate(seeded)]
    return [shortcut_body(i, ts, urls[i], author=author) for i, ts in enumerate(seeded)]


def measure(surface: str, n: int, fake: Child, tmp: str, *, root: str | None, profile: bool) -> dict[str, Any]:
    """One bot, the warm-up, then `n` requests of `surface` one at a time: CPU seconds per thread group (and the
    profile)."""
    args = [
        str(BENCH / "_serve.py"),
        "bot",
        "--db",
        f"{tmp}/{surface}-{int(profile)}.db",
        "--api-url",
        fake.ready["url"],
    ]
    args += ["--root", root] if root else []
    args += ["--profile"] if profile else []
    warm = fake.ask({"op": "response_urls", "n": WARMUP})
    server = Child(args)
    url = server.ready["url"]
    try:
        run_load(url, [command_body(10**6 + i, warm[i]) for i in range(WARMUP)], concurrency=1)
        bodies = bodies_for(surface, n, fake, url)
        time.sleep(1.0)  # the warm-up's cards go out before the measurement starts
        before = server.ask({"op": "stats"})["requests"]
        server.ask({"op": "arm"})
        started = time.monotonic()
        load = run_load(url, bodies, concurrency=1)
        server.ask({"op": "idle"})  # what the listeners do after their acks (a mention's filing, a click's change)
        time.sleep(1.0)  # and the outbox's rounds on what they queued
        report = {
            "cpu": server.ask({"op": "cpu"}),
            "wall": time.monotonic() - started,
            "latency": load.summary(),
            "statuses": load.statuses,
            "errors": load.errors[:3],
            "filed": server.ask({"op": "stats"})["requests"] - before,
        }
        if profile:
            report["groups"] = server.ask({"op": "profile"})["groups"]
    finally:
        server.stop()
    return report


def per_request_ms(report: dict[str, Any], n: int) -> dict[str, float]:
    return {group: report["cpu"].get(group, 0.0) / n * 1000 for group in GROUPS}


def over_budget(
    figures: dict[str, dict[str, float]], budgets: dict[str, dict[str, float]] = BUDGETS_MS, *, over: float = OVER
) -> list[str]:
    """Each (surface, thread group) whose CPU per request is more than `over` times its budget, in a sentence."""
    return [
        f"{surface}: {group} threads {ms_:.2f} ms per request, budget {budgets[surface][group]:.2f} ms "
        f"({ms_ / budgets[surface][group]:.1f}x)"
        for surface, by_group in figures.items()
        for group, ms_ in by_group.items()
        if ms_ > over * budgets[surface][group]
    ]


def short(key: str) -> str:
    path, line, function = key.rsplit(":", 2)
    for marker in ("/site-packages/", "/lib/python3", "/bot/", "/storage/"):
        if marker in path:
            path = (
                path.split(marker, 1)[1]
                if marker in ("/site-packages/",)
                else marker.strip("/") + "/" + path.split(marker, 1)[1]
            )
            break
    if path.startswith("python3"):
        path = path.split("/", 1)[-1]
    return f"{path}:{function}" if path != "~" else function


def print_profile(surface: str, report: dict[str, Any], n: int, top: int) -> None:
    groups = {g: {k: v for k, v in rows.items() if not k.endswith(WAITS)} for g, rows in report["groups"].items()}
    per = {g: sum(row[1] for row in rows.values()) / n * 1000 for g, rows in groups.items()}
    print(f"\n### {surface}, under cProfile: " + ", ".join(f"{g} threads {per[g]:.2f} ms" for g in sorted(per)))
    rows = sorted({**groups.get("work", {}), **groups.get("ack", {})}.items(), key=lambda kv: -kv[1][2])
    print(
        table(
            ["function (ack and work threads)", "calls / request", "cumulative ms / request", "own ms / request"],
            [
                [short(k), f"{calls / n:.1f}", f"{cum / n * 1000:.3f}", f"{own / n * 1000:.3f}"]
                for k, (calls, own, cum) in rows[:top]
            ],
        )
    )
    worker = sorted(groups.get("outbox", {}).items(), key=lambda kv: -kv[1][2])
    print(
        table(
            ["function (outbox worker threads)", "calls / request", "cumulative ms / request"],
            [[short(k), f"{calls / n:.1f}", f"{cum / n * 1000:.3f}"] for k, (calls, _, cum) in worker[:15]],
        )
    )
    own = sorted({**groups.get("work", {}), **groups.get("ack", {})}.items(), key=lambda kv: -kv[1][1])
    print(
        table(
            ["function (ack and work threads), by own time", "calls / request", "own ms / request"],
            [[short(k), f"{calls / n:.1f}", f"{o / n * 1000:.3f}"] for k, (calls, o, _) in own[:15]],
        )
    )


def main(argv: list[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--surface", action="append", choices=SURFACES, help="only this surface (repeatable)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a surface is over its budget by more than 50 %%"
    )
    parser.add_argument("--profile", action="store_true", help="also profile each surface with cProfile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--root", help="measure the bot of this checkout")
    args = parser.parse_args(argv)
    surfaces = args.surface or list(SURFACES)
    fake = start_fake_slack(0.0)
    try:
        with tempfile.TemporaryDirectory(prefix="ai-intake-profile-") as tmp:
            reports = {s: measure(s, args.n, fake, tmp, root=args.root, profile=False) for s in surfaces}
            profiles = (
                {s: measure(s, args.n, fake, tmp, root=args.root, profile=True) for s in surfaces}
                if args.profile
                else {}
            )
    finally:
        fake.stop()
    figures = {s: per_request_ms(r, args.n) for s, r in reports.items()}
    out(f"## CPU per request ({args.root or 'this checkout'}): {args.n} requests per surface, one at a time")
    out(
        table(
            [
                "surface",
                "ack (waitress, keeper)",
                "budget",
                "work (inbox, listeners)",
                "budget",
                "outbox worker",
                "budget",
                "other threads",
                "ack p50 alone",
                "answers",
                "filed",
            ],
            [
                [
                    s,
                    *(x for g in GROUPS for x in (f"{f[g]:.2f} ms", f"{BUDGETS_MS[s][g]:.1f} ms")),
                    f"{reports[s]['cpu'].get('other', 0.0) / args.n * 1000:.2f} ms",
                    f"{reports[s]['latency']['p50'] * 1000:.1f} ms",
                    ", ".join(f"{k}: {v}" for k, v in sorted(reports[s]["statuses"].items())),
                    reports[s]["filed"],
                ]
                for s, f in figures.items()
            ],
        )
    )
    for s, report in profiles.items():
        print_profile(s, report, args.n, args.top)
    out(f"\nMachine: {machine()}.")
    failed = [f"{s}: {r['errors']}" for s, r in reports.items() if r["errors"] or set(r["statuses"]) != {200}]
    over = over_budget(figures)
    if failed:
        out("\n!!! REQUESTS FAILED: " + "; ".join(failed))
    if args.check and over:
        out(
            "\n"
            + "!" * 78
            + f"\n!!! OVER BUDGET by more than {round((OVER - 1) * 100)} % (bench/budgets.py):\n"
            + "\n".join(f"!!!   {line}" for line in over)
            + "\n!!! Something on this path got slower: run with --profile to see where the CPU went.\n"
            + "!" * 78
        )
    return 1 if failed or (args.check and over) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Ack latency: how long Slack waits for the bot's HTTP answer, against a bare Bolt app (the floor).

    python bench/ack_latency.py            1,000 slash commands + 1,000 button clicks, concurrency 50
    python bench/ack_latency.py --quick    300 + 300

The bot runs in a child process under its production server (`bot.entry.server.make_server`, waitress)
with its notifier thread started (`bot.start()`); the fake Slack Web API (tests/fake_slack.py) runs in
another child and answers every call after 300 ms, so the notifier is really calling a slow Slack
while the load runs. This process is the load: signed requests on keep-alive connections, each of
the 50 workers sending the next as soon as its last one was answered. Commands quick-create a
request (`/ai-request regression: …`); clicks then press Claim / Resolve as domain members and Claim
as an outsider (refused, answered ephemerally through the response_url) on those requests. The floor
is a bare Bolt app under the same `make_server` whose listeners only `ack()`, same load. Everything
binds 127.0.0.1.

Two more runs put the bot on copies of the 100k-request and the 1M-request databases of
bench/_dataset.py (10,000 and 100,000 open; quick: the 10k one only) with their six-domain config:
300 commands and 300 clicks each (quick: 100), to show whether the ack grows with the history.

Targets (issue 11): commands' p99 within 2x the floor's and under 100 ms on a fresh database, and
within 1.2x of that on the large ones; clicks' p99 within 1.5x the floor's; no ack near Slack's 3 s
(max under 1 s). Peak RSS of the bot's process is reported (target: under 200 MB).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    BENCH,
    Child,
    argv_flag,
    copy_database,
    machine,
    ms,
    run_load,
    start_fake_slack,
    table,
    verdict,
)  # noqa: E402
from bench._dataset import config_path, dataset, describe  # noqa: E402

CONCURRENCY = 50
LATENCY = 0.3
WARMUP = 20
TEAM = "T0TEAM"


@dataclass(frozen=True)
class People:
    """Where commands are typed and who clicks, for the config the server runs with."""

    channel: str = "C0SUPPORT"
    members: tuple[str, str] = ("U0ENG1", "U0ENG2")


FRESH = People()
LARGE = People(channel="C0SUP", members=("U0SUPENG1", "U0SUPENG2"))  # bench/_dataset.py's config


def command_body(n: int, response_url: str, people: People = FRESH) -> tuple[bytes, str]:
    form = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "acme",
        "channel_id": people.channel,
        "channel_name": "support",
        "user_id": f"U0REQ{n % 40}",
        "user_name": f"req{n % 40}",
        "command": "/ai-request",
        "text": f"regression: refund intent answers with the wrong window (case {n})",
        "api_app_id": "A0APP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{n}.1700000000.{n:032x}",
    }
    return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"


def click_body(n: int, request_id: int, response_url: str, people: People = FRESH) -> tuple[bytes, str]:
    clicks = (
        ("request.claim", people.members[0]),
        ("request.resolve", people.members[1]),
        ("request.claim", "U0OUTSIDER"),
    )
    action_id, user = clicks[n % len(clicks)]
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "api_app_id": "A0APP",
        "token": "legacy",
        "is_enterprise_install": False,
        "user": {"id": user, "name": user.lower(), "team_id": TEAM},
        "trigger_id": f"{n}.1700000001.{n:032x}",
        "response_url": response_url,
        "channel": {"id": people.channel, "name": "support"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": people.channel},
        "message": {"ts": "1700000000.000001", "type": "message", "text": "", "blocks": []},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "card.actions",
                "type": "button",
                "value": f"AIR-{request_id}",
                "action_ts": "1700000000.1",
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def measure(mode: str, n: int, fake: Child, tmp: str, *, db: Path | None = None) -> dict[str, Any]:
    """Start a server ("bot" or "floor"), send n commands then n clicks; with `db`, the bot runs on a copy of it."""
    urls = fake.ask({"op": "response_urls", "n": 2 * n + WARMUP})
    fake.ask({"op": "latency", "seconds": LATENCY})
    args = [str(BENCH / "_serve.py"), mode, "--api-url", fake.ready["url"]]
    people, first_id = FRESH, WARMUP + 1
    if db is not None:
        copy = Path(tmp) / f"large-{db.stem}.db"
        copy_database(db, copy)
        args += ["--db", str(copy), "--config", str(config_path())]
        people, first_id = LARGE, describe(db)["requests"] - 3 * n  # clicks on recent requests, open or not
    elif mode == "bot":
        args += ["--db", f"{tmp}/{mode}.db"]
    server = Child(args)
    url = server.ready["url"]
    try:
        calls_before = sum(fake.ask({"op": "stats"})["calls"].values())
        run_load(
            url, [command_body(10**6 + i, urls[i], people) for i in range(WARMUP)], concurrency=5
        )  # auth.test, caches
        commands = run_load(url, [command_body(i, urls[WARMUP + i], people) for i in range(n)], concurrency=CONCURRENCY)
        clicks = run_load(
            url, [click_body(i, first_id + i, urls[WARMUP + n + i], people) for i in range(n)], concurrency=CONCURRENCY
        )
        slack_calls = sum(fake.ask({"op": "stats"})["calls"].values()) - calls_before
    finally:
        stats = server.stop()
    for name, load in (("commands", commands), ("clicks", clicks)):
        bad = {s: c for s, c in load.statuses.items() if s != 200}
        if bad or load.errors:
            print(f"warning: {mode} {name}: non-200 answers {bad}, errors {load.errors[:3]}", file=sys.stderr)
    return {"commands": commands.summary(), "clicks": clicks.summary(), "slack_calls": slack_calls, "server": stats}


def main() -> int:
    quick = argv_flag("--quick")
    n = 300 if quick else 1000
    n_large = 100 if quick else 300
    started = time.monotonic()
    sizes = (10_000,) if quick else (100_000, 1_000_000)
    large_dbs = [dataset(size)[0] for size in sizes]
    fake = start_fake_slack(LATENCY)
    try:
        with tempfile.TemporaryDirectory(prefix="ai-intake-bench-") as tmp:
            floor = measure("floor", n, fake, tmp)
            bot = measure("bot", n, fake, tmp)
            bigs = [(describe(db), measure("bot", n_large, fake, tmp, db=db)) for db in large_dbs]
        fake_stats = fake.ask({"op": "stats"})
    finally:
        fake.stop()

    rows = []
    results = {}
    fresh_p99 = bot["commands"]["p99"]
    runs = [("bot, fresh database", bot)] + [
        (f"bot, {facts['requests'] // 1000:,}k-request database ({facts['open']:,} open)", r) for facts, r in bigs
    ]
    for kind in ("commands", "clicks"):
        f = floor[kind]
        for name, r in runs:
            b = r[kind]
            ratio = b["p99"] / f["p99"] if f["p99"] else float("inf")
            if kind == "clicks":
                ok, target = ratio <= 1.5 and b["max"] < 1.0, "<= 1.5x floor"
            elif r is bot:
                ok, target = b["p99"] < 0.100 and ratio <= 2.0 and b["max"] < 1.0, "< 100 ms, <= 2x floor"
            else:
                growth = b["p99"] / fresh_p99 if fresh_p99 else float("inf")
                ok, target = growth <= 1.2 and b["max"] < 1.0, f"<= 1.2x fresh: {growth:.2f}x"
            results[(name, kind)] = ok
            rows.append(
                [
                    f"{name}: {kind}",
                    b["n"],
                    ms(b["p50"]),
                    ms(b["p99"]),
                    ms(b["max"]),
                    f"{b['rate']:.0f}/s",
                    f"{ratio:.2f}x",
                    f"{r['server']['max_rss_mb']:.0f} MB",
                    f"{target}: {verdict(ok)}",
                ]
            )
        rows.append(
            [
                f"floor, bare Bolt: {kind}",
                f["n"],
                ms(f["p50"]),
                ms(f["p99"]),
                ms(f["max"]),
                f"{f['rate']:.0f}/s",
                "1x",
                f"{floor['server']['max_rss_mb']:.0f} MB",
                "",
            ]
        )
    print(
        f"## Ack latency ({'quick' if quick else 'full'}): signed commands then as many clicks, concurrency {CONCURRENCY}, "
        f"Web API latency {LATENCY * 1000:.0f} ms"
    )
    print(table(["server", "n", "p50", "p99", "max", "throughput", "p99 / floor", "peak RSS", "target"], rows))
    outbox = bot["server"].get("outbox", {})
    print(
        f"\nWhile the load ran, the bot's outbox worker made {bot['slack_calls']} Web API calls (fresh database) at "
        f"{LATENCY * 1000:.0f} ms each (paced per channel, and every card goes to one); its outbox ended with "
        f"{outbox.get('sent', 0)} sent, {outbox.get('pending', 0)} pending. Bot server CPU "
        f"{bot['server']['cpu_seconds']:.1f} s, {bot['server'].get('commits', 0)} commits for "
        f"{2 * (n + WARMUP)} requests; floor CPU {floor['server']['cpu_seconds']:.1f} s. "
        f"Fake Slack: {fake_stats['violations']} contract violations."
    )
    print(
        "Targets: commands p99 < 100 ms and <= 2x the floor's (fresh), <= 1.2x the fresh figure (large databases); "
        "clicks p99 <= 1.5x the floor's; max < 1 s (Slack gives up at 3 s)."
    )
    print(f"Machine: {machine()}. Took {time.monotonic() - started:.0f} s.")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

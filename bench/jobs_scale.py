"""Jobs at scale: one `sla`, one `nags` and one `digest` run over databases of 10k, 100k and 1M
requests (10 % open), next to a hand-written indexed SQL query that fetches the same input (the floor).

    python bench/jobs_scale.py            10k, 100k, 1M and "100k, 1 % open"
    python bench/jobs_scale.py --quick    10k only
    python bench/jobs_scale.py --sizes 10000,100000     (any of them)

Databases come from bench/_dataset.py (see there what they hold): generated once with direct SQL
inserts into a database opened through `storage.db.Db`, cached under bench/.data/. The first full
run generates them (the 1M one, with each request's kept facts, about 10 minutes on 2 shared cores),
later runs reuse them.

Each measurement runs in its own child process (`--measure`), which opens the database through the
jobs (`Jobs(Store(Db(...)), ...)`, as `ai-intake jobs run --dry-run` does), notes its RSS, then
times one call: `Jobs.run_nags(job="sla" | "nags", dry_run=True)` or
`Jobs.send_digest(dry_run=True)` at `NOW` (Monday 09:00 Berlin, an hour after the last
request). Dry runs read and compute everything a real run does and skip writing the few messages
found due (the data is in steady state: what fell due before the last hour is recorded as sent, and
each open request's `next_nag_at` is where that run left it, so `sla` and `nags` load only the
requests whose next check fell in the last hour; see bench/_dataset.py).
Peak RSS is the child's own high-water mark (VmHWM; see `bench._common.peak_rss_mb`). A child that runs past its time limit is killed and reported.

The floors, in the same kind of child:
- sla / nags: the open requests and all their events and notifications, through the `requests_open`
  and `events_request` indexes, each row read as a plain tuple (what an implementation that decides
  from every open request's event log must at least read; the jobs, which read only the requests
  whose `next_nag_at` has come, can be below it);
- digest: the same for requests open or updated in the 15 days before `NOW` (what the digest replayed
  before it read the kept facts: the cost of deciding from event logs, kept as the yardstick; the
  digest now aggregates the facts kept for each request in SQL and reads no event log, so it runs
  below this floor).

"100k, 1 % open" has as many open requests as 10k (1,000) and ten times the history: the cost of a
job should follow the open requests, not the history.

Targets: sla and nags over 100k open requests (the 1M database) under 1 s; digest over 1M under
2 s; peak RSS under 200 MB; cost growing with open requests, not with history.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import ROOT, machine, peak_rss_mb, table, verdict  # noqa: E402
from bench._dataset import NOW, config_path, dataset, describe, label  # noqa: E402

JOBS = ("sla", "nags", "digest")
FLOORS = {"sla": "floor-open", "nags": "floor-open", "digest": "floor-digest"}
LOOKBACK_DAYS = 15  # the digest's lookback when it replayed event logs (the floor above)
RSS_TARGET_MB = 200
FULL_SIZES = ((10_000, 0.10), (100_000, 0.10), (1_000_000, 0.10), (100_000, 0.01))


# -- one measurement (child) --------------------------------------------------------------------
def measure(what: str, db: str) -> dict[str, Any]:
    from datetime import timedelta

    from bot.runtime.config import load_config
    from bot.domain.models import OPEN_STATUSES
    from bot.usecases.jobs import Jobs
    from storage.db import Db
    from storage.rows import to_db_time
    from storage.store import Store

    config = load_config(config_path())
    database = Db(db)
    jobs = Jobs(Store(database), config)
    baseline = peak_rss_mb()
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    since = to_db_time(NOW - timedelta(days=LOOKBACK_DAYS))
    started = time.perf_counter()
    if what in ("sla", "nags"):
        found = len(jobs.run_nags(job=what, now=NOW, dry_run=True))
    elif what == "digest":
        found = len(jobs.send_digest(now=NOW, dry_run=True))
    else:
        conn = database.db.conn
        if what == "floor-open":
            where, params = f"r.status IN ({marks})", list(OPEN_STATUSES)
        else:  # no index on updated_at: the open ones by index, the recently updated by a scan
            where, params = f"r.status IN ({marks}) OR r.updated_at >= ?", [*OPEN_STATUSES, since]
        found = sum(1 for _ in conn.execute(f"SELECT r.* FROM requests r WHERE {where}", params))
        for _ in conn.execute(
            f"SELECT e.* FROM requests r JOIN events e ON e.request_id = r.id WHERE {where} "
            "ORDER BY e.request_id, e.id",
            params,
        ):
            pass
        for _ in conn.execute(
            f"SELECT n.request_id, n.rule, n.step FROM requests r JOIN notifications n "
            f"ON n.request_id = r.id WHERE {where}",
            params,
        ):
            pass
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "found": found, "baseline_mb": baseline, "peak_mb": peak_rss_mb()}


def in_child(what: str, db: Path, *, limit: float) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--measure", what, "--db", str(db)],
            cwd=str(ROOT),
            capture_output=True,
            text=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": limit}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the benchmark ------------------------------------------------------------------------------
def fmt_time(r: dict[str, Any]) -> str:
    if "timeout" in r:
        guess = f"; ~{r['guess']:.0f} s from 100k" if "guess" in r else ""
        return f"> {r['timeout']:.0f} s (killed{guess})"
    if "error" in r:
        return f"failed: {r['error'][:60]}"
    return f"{r['seconds'] * 1000:.0f} ms" if r["seconds"] < 10 else f"{r['seconds']:.1f} s"


def fmt_rss(r: dict[str, Any]) -> str:
    if "peak_mb" in r:
        return f"{r['peak_mb']:.0f} MB"
    return f"~{r['guess_mb']:.0f} MB from 100k" if "guess_mb" in r else "-"


def target_of(job: str, facts: dict[str, int], r: dict[str, Any]) -> str:
    """The verdict where the issue sets one: sla/nags over 100k open, digest over 1M requests; RSS everywhere."""
    if "seconds" not in r:
        return "MISSED" if facts["open"] >= 100_000 or facts["requests"] >= 1_000_000 else ""
    rss_ok = r["peak_mb"] < RSS_TARGET_MB
    if job in ("sla", "nags") and facts["open"] >= 100_000:
        return f"< 1 s, < {RSS_TARGET_MB} MB: {verdict(r['seconds'] < 1 and rss_ok)}"
    if job == "digest" and facts["requests"] >= 1_000_000:
        return f"< 2 s, < {RSS_TARGET_MB} MB: {verdict(r['seconds'] < 2 and rss_ok)}"
    return f"< {RSS_TARGET_MB} MB: {verdict(rss_ok)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", help="comma-separated request counts (10 %% open), e.g. 10000,100000")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.db)))
        return 0

    started = time.monotonic()
    sizes = [(10_000, 0.10)] if args.quick else list(FULL_SIZES)
    if args.sizes:
        sizes = [(int(s), 0.10) for s in args.sizes.split(",")]
    limit = 15.0 if args.quick else 20.0
    config_path()
    rows, notes, baselines = [], [], []
    done: dict[tuple[float, str], dict[str, Any]] = {}  # (open share, job) -> the last size's result, to extrapolate
    for n, share in sizes:
        db, generated = dataset(n, share, log=lambda m: print(m, file=sys.stderr))
        facts = describe(db)
        name = label(n, share)
        notes.append(
            f"{name}: {facts['requests']:,} requests, {facts['open']:,} open, {facts['events']:,} events, "
            f"{facts['notifications']:,} notifications, {facts['bytes'] / 2**20:.0f} MB"
            + (f", generated in {generated:.0f} s" if generated else " (cached)")
        )
        floors = {f: in_child(f, db, limit=limit) for f in sorted(set(FLOORS.values()))}
        for job in JOBS:
            r = in_child(job, db, limit=limit)
            before = done.get((share, job))
            if "timeout" in r and before and "seconds" in before:
                scale = facts["requests"] / before["requests"]
                r["guess"] = before["seconds"] * scale
                r["guess_mb"] = before["baseline_mb"] + (before["peak_mb"] - before["baseline_mb"]) * scale
            if "seconds" in r:
                done[(share, job)] = {**r, "requests": facts["requests"]}
                baselines.append(r["baseline_mb"])
            floor = floors[FLOORS[job]]
            ratio = "-"
            if "seconds" in r and "seconds" in floor:
                x = r["seconds"] / floor["seconds"]
                ratio = f"{x:.0f}x" if x >= 10 else f"{x:.2g}x"
            found = f"{r['found']} messages" if "found" in r else "-"
            rows.append(
                [
                    name,
                    f"{facts['open']:,}",
                    job,
                    fmt_time(r),
                    fmt_rss(r),
                    found,
                    fmt_time(floor),
                    fmt_rss(floor),
                    ratio,
                    target_of(job, facts, r),
                ]
            )
    print(
        f"## Jobs at scale ({'quick' if args.quick else 'full'}): one dry run of each job at {NOW:%Y-%m-%d %H:%M} UTC, "
        f"each in a fresh process"
    )
    print(
        table(
            [
                "database",
                "open",
                "job",
                "time",
                "peak RSS",
                "due",
                "floor (indexed SQL)",
                "floor RSS",
                "job / floor",
                "target",
            ],
            rows,
        )
    )
    print()
    for note in notes:
        print(f"- {note}")
    print(
        f"Peak RSS counts the interpreter and the bot's imports: {min(baselines, default=0):.0f} MB before any work. "
        f"Each measurement is stopped after {limit:.0f} s; a stopped one is extrapolated linearly from the size before."
    )
    print(f"Machine: {machine()}. Took {time.monotonic() - started:.0f} s.")
    return 1 if any("MISSED" in row[-1] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

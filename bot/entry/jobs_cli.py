"""`ai-intake jobs run`: one scheduled job run by hand, beside a running bot or without one, and what became of the
messages it queued (sent, still queued and why, or failed)."""

import argparse
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from bot.entry.offline import at_in, open_store
from bot.entry.run import make_bot, start_with_retries
from bot.runtime.config import load_config
from bot.runtime.logs import setup_logging
from bot.runtime.settings import load_settings

DELIVERY_POLL_SECONDS = 0.25


def cmd_jobs_run(args: argparse.Namespace) -> int:
    """Run one job once. `--at` is when the rules are evaluated; the messages may go out at once. Without
    `--dry-run` it waits (`--wait`, 30 s) until they are delivered — by this process, or by the running bot
    that holds the outbox — and prints what was sent, what is still queued and why, and what failed."""
    from bot.usecases.jobs import Jobs

    settings = load_settings()
    setup_logging(secrets=[settings.bot_token, settings.signing_secret, settings.app_token], fmt=settings.log_format)
    config = load_config(settings.config_path)
    at = at_in(args.at, config)
    if args.dry_run:
        jobs = Jobs(open_store(settings.db_path, config), config)  # without Slack
        lines = run_job(jobs, args.job, at=at, dry_run=True)
        print(f"{args.job} at {at.isoformat()}: would send {len(lines)} message(s)")
        for line in lines:
            print(f"  {line}")
        return 0
    settings.require_token()
    bot = start_with_retries(lambda: make_bot(settings, config, outbox_lanes=1))  # one post at a time, in queue order
    started, items = time.monotonic(), None
    try:
        with bot.store.reading() as tx:
            mark = tx.outbox.last_id()
        run_job(bot.jobs, args.job, at=at)
        with bot.store.transaction(background=True) as tx:  # what it queued for `at` goes out now
            ids = tx.outbox.release_run(after=mark, queued_at=at, now=datetime.now(timezone.utc))
        items, others = deliver(bot, ids, wait=args.wait)
    finally:
        try:  # where the running bot's /metrics sees it
            with bot.store.transaction(background=True) as tx:
                tx.jobs.record_hand_run(
                    args.job,
                    at=datetime.now(timezone.utc),
                    seconds=time.monotonic() - started,
                    ok=items is not None and not any(item.status == "failed" for item in items),
                )
        finally:
            bot.stop()
    print(f"{args.job} at {at.isoformat()}: queued {len(items)} message(s)")
    for line in delivery_lines(items, others_sending=bot.outbox.standing_by):
        print(f"  {line}")
    if others:
        print(f"  ({others} other message(s) wait in the outbox)")
    return 1 if any(item.status == "failed" for item in items) else 0


def run_job(jobs, job: str, *, at: datetime, dry_run: bool = False) -> list[str]:
    if job == "digest":
        return jobs.send_digest(now=at, dry_run=dry_run)
    return jobs.run_nags(job=job, now=at, dry_run=dry_run)


def deliver(bot, ids: list[int], *, wait: float, sleep: Callable[[float], None] = time.sleep):
    """Send what is due (when this process may: no running bot holds the outbox), and wait until each of the
    items `ids` is sent, failed or due after `wait` seconds; (those items, how many others wait)."""
    deadline = time.monotonic() + max(wait, 0)
    while True:
        bot.outbox.drain()
        with bot.store.reading() as tx:
            items, pending = tx.outbox.items(ids), tx.outbox.pending_count()
        remaining = deadline - time.monotonic()
        horizon = datetime.now(timezone.utc) + timedelta(seconds=max(remaining, 0))
        waiting = [
            i for i in items if i.status == "pending" and (i.next_attempt_at is None or i.next_attempt_at <= horizon)
        ]
        if not waiting or remaining <= 0:
            return items, pending - sum(1 for i in items if i.status == "pending")
        sleep(DELIVERY_POLL_SECONDS)


def delivery_lines(items, *, others_sending: bool) -> list[str]:
    """One line per item queued by the run: where it went, and sent, still queued (why) or failed (Slack's error)."""
    lines = []
    for item in items:
        where = item_target(item)
        if item.status == "sent":
            lines.append(f"sent      {where}")
        elif item.status == "failed":
            lines.append(f"failed    {where}: {item.error or 'unknown error'}")
        elif item.status == "superseded":
            lines.append(f"replaced  {where} (a newer version went out)")
        else:
            lines.append(f"queued    {where}: {why_queued(item, others_sending=others_sending)}")
    return lines


def item_target(item) -> str:
    payload = item.payload
    if payload.get("user"):
        return f"direct message to {payload['user']}"
    if item.kind == "change_line":
        return f"thread of {payload.get('change_id')} in {payload.get('channel')}"
    if payload.get("channel"):
        return f"message in {payload['channel']}"
    return f"thread of AIR-{item.request_id}" if item.request_id else item.kind


def why_queued(item, *, others_sending: bool) -> str:
    """Why a pending item is not sent yet, in words."""
    error = item.error or ""
    if error.startswith("outside the recipient's working hours"):
        return error + " (it goes out then)"
    if others_sending:
        return "the running bot holds the outbox and has not sent it yet (it sends it when it next looks)"
    if error and error != "paced":
        return f"{error}; tried again at {item.next_attempt_at.isoformat() if item.next_attempt_at else 'once due'}"
    return "not sent within the wait (`--wait` waits longer)"

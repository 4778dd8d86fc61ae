"""The console's clock, and what the scheduler and the outbox worker would have done while it moves forward.

`ai-intake run` runs `sla` every 5 minutes, `nags` every 15 and the digest on its cron (bot/entry/scheduler.py),
and its outbox worker sends each queued message when it falls due. `/time-travel` does the same, in time
order, so that what the jobs send arrives when it would have in Slack.
"""

import re
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.entry.app import Bot
from bot.domain.policy import Config
from bot.usecases.jobs import Jobs
from bot.entry.scheduler import NAGS_EVERY, SLA_EVERY

DEMO_START = (2026, 11, 23, 9, 0)  # a Monday, 09:00 in the organisation's time zone
JOB_ORDER = {"sla": 0, "nags": 1, "digest": 2, "deliver": 3}
_SPAN = re.compile(r"(\d+)\s*([wdhm])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


class ConsoleClock:
    """The injected clock (`build_app(clock=...)`): stands still until the console moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, at: datetime) -> None:
        with self._lock:
            self._now = at.astimezone(timezone.utc)


class TimeError(ValueError):
    """A time or span that cannot be read; the message says what to type."""


def demo_start(tz: ZoneInfo) -> datetime:
    return datetime(*DEMO_START, tzinfo=tz)


def parse_instant(text: str, *, tz: ZoneInfo) -> datetime:
    """An ISO-8601 time ("2026-12-01T09:00"); without an offset it is in the organisation's zone."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimeError(
            f"expected a span like 3d, 2h, 30m or a time like 2026-12-01T09:00, got {text.strip()!r}"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=tz)


def parse_travel(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """Where `/time-travel <text>` goes: now + a span ("3d", "2h", "1d4h", "30m", "1w") or a time."""
    compact = text.strip().lower().replace(" ", "")
    if compact and _SPAN.sub("", compact) == "":
        spans = [timedelta(**{_UNITS[unit]: int(n)}) for n, unit in _SPAN.findall(compact)]
        return now + sum(spans, timedelta())
    return parse_instant(text, tz=tz)


def next_runs(
    bot: Bot, *, after: datetime, until: datetime, skip_quiet: bool = True
) -> tuple[datetime, list[str]] | None:
    """The first time in (after, until] at which something happens, and what, in the order to do it:
    the jobs ("sla", "nags", "digest") that would send something then, and "deliver" when the outbox
    holds a message due then (a nag kept for its recipient's working hours, a retry). None when nothing
    happens before `until`.

    The real scheduler also runs `sla` and `nags` at every tick in between; those runs find nothing
    due, so they are skipped: a dry run at `until` says whether anything falls due at all, and a
    bisection over the ticks finds the first tick at which it does (what is due only grows while
    nobody acts). `skip_quiet=False` stops at every tick instead, as the scheduler would.
    """
    first_tick = _first_due_tick if skip_quiet else _first_tick
    found = [(at, job) for job in ("sla", "nags") if (at := first_tick(bot.jobs, job, after=after, until=until))]
    fire = next_digest(bot.config, after=after)
    if fire is not None and fire <= until:
        found.append((fire, "digest"))
    with bot.store.reading() as tx:
        due = tx.outbox.next_due()
    if due is not None and after < due <= until:
        found.append((due, "deliver"))
    if not found:
        return None
    first = min(at for at, _ in found)
    return first, sorted((job for at, job in found if at == first), key=JOB_ORDER.__getitem__)


def next_digest(config: Config, *, after: datetime) -> datetime | None:
    """When the digest cron fires next after `after`, by APScheduler's own CronTrigger."""
    if not config.digest:
        return None
    trigger = CronTrigger.from_crontab(config.digest.cron, timezone=config.timezone)
    fire = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
    return fire.astimezone(timezone.utc) if fire else None


def _first_tick(jobs: Jobs, job: str, *, after: datetime, until: datetime) -> datetime | None:
    ticks = _ticks(after, until, SLA_EVERY if job == "sla" else NAGS_EVERY)
    return ticks[0] if ticks else None


def _first_due_tick(jobs: Jobs, job: str, *, after: datetime, until: datetime) -> datetime | None:
    ticks = _ticks(after, until, SLA_EVERY if job == "sla" else NAGS_EVERY)
    if not ticks or not jobs.run_nags(job=job, now=ticks[-1], dry_run=True):
        return None
    low, high = 0, len(ticks) - 1
    while low < high:
        middle = (low + high) // 2
        if jobs.run_nags(job=job, now=ticks[middle], dry_run=True):
            high = middle
        else:
            low = middle + 1
    return ticks[low]


def _ticks(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    """The interval job's run times after `start` up to and including `end` (multiples of `every`, UTC)."""
    step = every.total_seconds()
    first = (int(start.timestamp() // step) + 1) * step
    count = max(0, int((end.timestamp() - first) // step) + 1)
    return [datetime.fromtimestamp(first + i * step, tz=timezone.utc) for i in range(count)]

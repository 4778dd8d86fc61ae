"""APScheduler jobs inside `ai-intake run`; they only call the jobs in `bot.usecases.jobs`.

Named jobs (`replace_existing=True`), an explicit time zone on every trigger, `coalesce=True` and a
`misfire_grace_time` so a late job runs once rather than being skipped. Only one process acts per
database: each run first takes the `scheduler` lease row.
"""

import logging
import time
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.clock import Clock
from bot.domain.policy import Config
from bot.usecases.jobs import Jobs
from bot.runtime.leases import holder_alive, holder_name
from storage.store import Store

log = logging.getLogger(__name__)
SLA_EVERY = timedelta(minutes=5)
NAGS_EVERY = timedelta(minutes=15)
LEASE_SECONDS = 20 * 60


class Scheduler:
    """Runs `jobs` on their schedule; `store` holds the lease, `config` names the time zone and the digest's cron."""

    def __init__(self, jobs: Jobs, store: Store, config: Config, *, clock: Clock, holder: str | None = None) -> None:
        self.jobs = jobs
        self.store = store
        self.config = config
        self.clock = clock
        self.holder = holder or holder_name()
        tz = config.timezone
        self.scheduler = BackgroundScheduler(timezone=tz, job_defaults={"coalesce": True, "max_instances": 1})
        now = clock()
        self.scheduler.add_job(
            self.run,
            IntervalTrigger(seconds=SLA_EVERY.total_seconds(), timezone=tz),
            args=["sla"],
            id="sla",
            replace_existing=True,
            misfire_grace_time=300,
            next_run_time=now,
        )
        self.scheduler.add_job(
            self.run,
            IntervalTrigger(seconds=NAGS_EVERY.total_seconds(), timezone=tz),
            args=["nags"],
            id="nags",
            replace_existing=True,
            misfire_grace_time=900,
            next_run_time=now,
        )
        if config.digest:
            trigger = CronTrigger.from_crontab(config.digest.cron, timezone=tz)
            self.scheduler.add_job(
                self.run, trigger, args=["digest"], id="digest", replace_existing=True, misfire_grace_time=7 * 24 * 3600
            )
            minute, hour, *_ = config.digest.cron.split()  # every day at the digest's time: is tomorrow's a holiday's?
            self.scheduler.add_job(
                self.run,
                CronTrigger.from_crontab(f"{minute} {hour} * * *", timezone=tz),
                args=["digest-eve"],
                id="digest-eve",
                replace_existing=True,
                misfire_grace_time=3600,
            )

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        self.scheduler.start()
        if self.digest_missed(self.clock()):
            self.scheduler.add_job(self.run, args=["digest"], id="digest-catch-up", replace_existing=True)

    def stop(self) -> None:
        """Stop the jobs (a running one finishes) and give the lease back, so a restarted bot (a new container, whose
        host name the lease cannot check) runs its jobs at once instead of waiting for the lease to run out."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        with self.store.transaction(background=True) as tx:
            tx.jobs.release_lease("scheduler", holder=self.holder)

    def digest_missed(self, now: datetime) -> bool:
        """Has this database sent digests before, and did the cron fire in the last week while it was down?

        send_digest itself sends at most one per channel and week, so catching up is safe to repeat.
        """
        if not self.config.digest:
            return False
        with self.store.reading() as tx:
            if not tx.outbox.has_sent_digest():
                return False
        trigger = CronTrigger.from_crontab(self.config.digest.cron, timezone=self.config.timezone)
        fire = trigger.get_next_fire_time(None, now - timedelta(days=7))
        return fire is not None and fire <= now

    def digest_eve(self, now: datetime) -> list[str]:
        """The digest due next, when it falls on a holiday and today is the business day before it: sent now, for
        that week (`Jobs.send_digest` sends nothing on the holiday itself)."""
        if not self.config.digest:
            return []
        trigger = CronTrigger.from_crontab(self.config.digest.cron, timezone=self.config.timezone)
        due = trigger.get_next_fire_time(None, now + timedelta(minutes=1))
        if due is None or due - now > timedelta(days=7) or due.date() == now.astimezone(due.tzinfo).date():
            return []
        return self.jobs.send_digest(now=now, due=due)

    def run(self, job: str) -> list[str]:
        """One job run, if this process holds the lease; the work is idempotent either way."""
        now = self.clock()
        with self.store.transaction(background=True) as tx:
            if not tx.jobs.take_lease(
                "scheduler", holder=self.holder, now=now, seconds=LEASE_SECONDS, unless_held_by=holder_alive
            ):
                log.info("job %s skipped: another process holds the scheduler lease", job)
                return []
        started = time.monotonic()
        try:
            if job == "digest-eve":
                lines = self.digest_eve(now)
            else:
                lines = self.jobs.send_digest(now=now) if job == "digest" else self.jobs.run_nags(job=job, now=now)
            log.info("job %s done in %.1f s: %d message(s) queued", job, time.monotonic() - started, len(lines))
            return lines
        except Exception:
            log.exception("job %s failed; it runs again at its next time", job)
            return []

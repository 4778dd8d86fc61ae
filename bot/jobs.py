"""Scheduled use cases: SLA alerts, nags and the weekly digest. Each asks the domain what is due,
records it, and queues the messages in one transaction — so a re-run at the same time sends nothing."""

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.blocks.common import to_dicts
from bot.blocks.digest import render_digest
from bot.domain.digest import digest_all
from bot.domain.models import Event
from bot.domain.nags import batch, explain_batch, nags_due, next_check_at
from bot.domain.policy import Config
from bot.domain.thresholds import RULE_AT_RISK, RULE_BREACHED, RULE_STALE_REVIEW, RULE_UNOWNED
from bot.domain.visibility import visible_to
from bot.metrics import Metrics
from bot.wakeup import Wakeup
from storage.outbox import ChannelMessage, NagMessage, ThreadLine
from storage.store import Store, to_db_time

JOB_RULES = {"sla": {RULE_AT_RISK, RULE_BREACHED}, "nags": {RULE_STALE_REVIEW, RULE_UNOWNED}}
JOB_KINDS = {"nags": ("security_review", "regression")}  # only reviews and regressions can be stale or unowned
BOT = "ai-intake"
DIGEST_LOOKBACK_DAYS = 15


def measured(job: str | None = None) -> Callable[[Callable[..., list[str]]], Callable[..., list[str]]]:
    """A job method whose every run (not a dry run) is timed in the metrics; a run without an error is the job's
    last success, at its `now`. `job` names it; None: the method's own `job` argument does."""
    def decorate(method: Callable[..., list[str]]) -> Callable[..., list[str]]:
        @functools.wraps(method)
        def run(self: "Jobs", *, now: datetime, dry_run: bool = False, **kwargs: Any) -> list[str]:
            if dry_run:
                return method(self, now=now, dry_run=True, **kwargs)
            with self._metrics.job_run(job or kwargs["job"], now=now):
                return method(self, now=now, **kwargs)
        return run
    return decorate


class Jobs:
    """The scheduled use cases; `wakeup` is rung after a run that queued messages; `metrics` times the runs and
    counts the nags recorded."""

    def __init__(self, store: Store, config: Config, *, wakeup: Wakeup, metrics: Metrics | None = None) -> None:
        self._store = store
        self._config = config
        self._wakeup = wakeup
        self._metrics = metrics or Metrics()

    @measured()
    def run_nags(self, *, job: str, now: datetime, dry_run: bool = False) -> list[str]:
        """Send what the rules of `job` ("sla" or "nags") say is due at `now`; returns a line per message."""
        config = self._config
        with self._store.reading() as tx:
            items, sent = tx.due_for_nags(now, kinds=JOB_KINDS.get(job))
        due = nags_due(items, config, now=now, sent=sent, rules=JOB_RULES[job])
        if dry_run:
            return [f"{user}: {explain_batch(user, nags)}" for user, nags in batch(due).items()]
        lines = []
        after = sent | {n.sent_key for n in due}  # what is recorded once this run is done (by us or a twin)
        checks = [(r, next_check_at(r, events, config, now=now, sent=after)) for r, events in items]
        with self._store.transaction() as tx:
            fresh = [n for n in due if tx.record_notification(n.request_id, n.rule, n.step, recipients=list(n.recipients), at=now)]
            tx.set_next_checks(checks)
            for nag in fresh:
                tx.add_event(Event(request_id=nag.request_id, at=now, actor=BOT, type="nag",
                                   data={"rule": nag.rule, "step": nag.step, "recipients": list(nag.recipients)}))
                if nag.in_thread:
                    tx.enqueue(ThreadLine(text=nag.text), at=now, request_id=nag.request_id, key=f"nag:{nag.request_id}:{nag.rule}:{nag.step}")
            for user, nags in batch(fresh).items():
                text = explain_batch(user, nags)
                buttons = [(n.key, list(n.buttons)) for n in nags if n.buttons][:10]
                key = f"nags:{user}:{to_db_time(now)}:" + ",".join(f"{n.request_id}/{n.rule}/{n.step}" for n in nags)
                message = NagMessage(user=user, text=text, buttons=buttons, urgent=any(n.urgent for n in nags))
                tx.enqueue(message, at=now, key=key[:500])
                lines.append(f"{user}: {text}")
        self._wakeup.set()
        self._metrics.nags_recorded(fresh)
        return lines

    @measured("digest")
    def send_digest(self, *, now: datetime, dry_run: bool = False) -> list[str]:
        """Queue this week's digest: one per domain channel, one org-wide; at most one per channel and week."""
        config = self._config
        with self._store.reading() as tx:
            items = tx.for_digest(since=now - timedelta(days=DIGEST_LOOKBACK_DAYS))
        week = now.astimezone(config.calendar(None).tz).isocalendar()
        targets = [(d.channels[0], d.name, f"Weekly digest: {d.name}") for d in config.domains if d.channels]
        if config.digest:
            targets.append((config.digest.channel, None, "Weekly digest: all domains"))
        channels = [channel for channel, _, _ in targets]
        lines = []
        figures_of = digest_all(items, config, now=now,
                                listable=lambda r: all(visible_to(config, r, channel=c) for c in channels))
        with self._store.transaction() as tx:
            for channel, scope, title in targets:
                figures = figures_of[scope]
                for part, (text, blocks) in enumerate(render_digest(figures, title=title)):
                    lines.append(f"{channel}: {text}")
                    if not dry_run:
                        tx.enqueue(ChannelMessage(channel=channel, text=text, blocks=to_dicts(blocks)), at=now,
                                   key=f"digest:{channel}:{week.year}-W{week.week:02d}:{part}")
        self._wakeup.set()
        return lines


__all__ = ["Jobs", "JOB_RULES"]

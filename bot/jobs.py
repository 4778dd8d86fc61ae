"""Scheduled use cases: SLA alerts, nags and the weekly digest. Each asks the domain what is due,
records it, and queues the messages in one transaction — so a re-run at the same time sends nothing."""

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.blocks.common import to_dicts
from bot.blocks.digest import render_digest, render_private_digest
from bot.blocks.nags import thread_nag
from bot.domain.digest import confidential_open, digest_all
from bot.domain import workflow
from bot.domain.models import Event, Request
from bot.domain.nags import Nag, batch, explain_batch, nags_due, next_check_at
from bot.domain.policy import Config
from bot.domain.thresholds import RULE_AT_RISK, RULE_BREACHED, RULE_NO_ANSWER, RULE_STALE_REVIEW, RULE_UNOWNED
from bot.domain.visibility import visible_to
from bot.metrics import Metrics
from bot.wakeup import Wakeup
from storage.outbox import CardUpdate, ChannelMessage, HomeRefresh, NagItem, NagMessage, ThreadLine, read_payload
from storage.store import Store, Tx, to_db_time

JOB_RULES = {"sla": {RULE_AT_RISK, RULE_BREACHED}, "nags": {RULE_STALE_REVIEW, RULE_UNOWNED, RULE_NO_ANSWER}}
JOB_KINDS = {"nags": ("security_review", "regression")}  # only reviews and regressions can be stale or unowned…
JOB_WAITING = {"nags"}  # …but a request of any kind can wait on its requester
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
            items, sent = tx.due_for_nags(now, kinds=JOB_KINDS.get(job), waiting=job in JOB_WAITING)
        due = nags_due(items, config, now=now, sent=sent, rules=JOB_RULES[job])
        if dry_run:
            return [f"{user}: {explain_batch(user, nags)}" for user, nags in batch(due).items()]
        lines = []
        after = sent | {n.sent_key for n in due}  # what is recorded once this run is done (by us or a twin)
        checks = [(r, next_check_at(r, events, config, now=now, sent=after)) for r, events in items]
        requests = {r.id: r for r, _ in items}
        with self._store.transaction() as tx:
            tx.set_next_checks(checks)
            due = [n for n in due if not n.closes or _close_unanswered(tx, requests[n.request_id], now=now)]
            fresh = [n for n in due if tx.record_notification(n.request_id, n.rule, n.step, recipients=list(n.recipients), at=now)]
            for nag in fresh:
                tx.add_event(Event(request_id=nag.request_id, at=now, actor=BOT, type="nag",
                                   data={"rule": nag.rule, "step": nag.step, "recipients": list(nag.recipients)}))
                if nag.in_thread:
                    text, blocks = thread_nag(nag.text, requests[nag.request_id], config, now=now, buttons=nag.thread_buttons)
                    tx.enqueue(ThreadLine(text=text, blocks=to_dicts(blocks)), at=now, request_id=nag.request_id,
                               key=f"nag:{nag.request_id}:{nag.rule}:{nag.step}")
            for user, nags in batch(fresh).items():
                key = f"nags:{user}:{to_db_time(now)}:" + ",".join(f"{n.request_id}/{n.rule}/{n.step}" for n in nags)
                urgent = any(n.urgent for n in nags)
                mine = [_item(n, user) for n in nags]
                if not urgent:
                    mine = _absorb_unsent(tx, user, mine, now=now)
                tx.enqueue(NagMessage(user=user, items=mine, urgent=urgent), at=now, key=key[:500])
                lines.append(f"{user}: {explain_batch(user, nags)}")
        self._wakeup.set()
        self._metrics.nags_recorded(fresh)
        return lines

    @measured("digest")
    def send_digest(self, *, now: datetime, dry_run: bool = False) -> list[str]:
        """Queue this week's digests: one per domain channel and one org-wide, and the private ones (each
        domain's review channel, the org's private channel) listing confidential requests in full; at most
        one per channel and week."""
        config = self._config
        with self._store.reading() as tx:
            items = tx.for_digest(since=now - timedelta(days=DIGEST_LOOKBACK_DAYS))
        week = now.astimezone(config.calendar(None).tz).isocalendar()
        messages = self._public_digests(items, now=now) + self._private_digests(items, now=now)
        lines = [f"{channel}: {text}" for channel, _, (text, _) in messages]
        if not dry_run:
            with self._store.transaction() as tx:
                for channel, part, (text, blocks) in messages:
                    tx.enqueue(ChannelMessage(channel=channel, text=text, blocks=to_dicts(blocks)), at=now,
                               key=f"digest:{channel}:{week.year}-W{week.week:02d}:{part}")
        self._wakeup.set()
        return lines

    def _public_digests(self, items: list[tuple[Request, list[Event]]], *, now: datetime) -> list[tuple[str, int, tuple]]:
        """(channel, part, (text, blocks)) of each domain's digest and the organisation's."""
        config = self._config
        targets = [(d.channels[0], d.name, f"Weekly digest: {d.name}") for d in config.domains if d.channels]
        if config.digest:
            targets.append((config.digest.channel, None, "Weekly digest: all domains"))
        channels = [channel for channel, _, _ in targets]
        figures_of = digest_all(items, config, now=now,
                                listable=lambda r: all(visible_to(config, r, channel=c) for c in channels))
        out = []
        for channel, scope, title in targets:
            queue = f"/ai-request queue {scope}" if scope else "/ai-request queue"
            rendered = render_digest(figures_of[scope], title=title, queue=queue, stale_days=config.nags.review_stale_days,
                                     org=scope is None)
            out += [(channel, part, message) for part, message in enumerate(rendered)]
        return out

    def _private_digests(self, items: list[tuple[Request, list[Event]]], *, now: datetime) -> list[tuple[str, int, tuple]]:
        """(channel, part, (text, blocks)) of each domain's review channel's digest, and the org's private one;
        none for a channel with no confidential request open."""
        config = self._config
        targets = [(d.review_channel, d.name, f"Private digest: {d.name}") for d in config.domains if d.review_channel]
        if config.digest and config.digest.private_channel:
            targets.append((config.digest.private_channel, None, "Private digest: all domains"))
        out = []
        for channel, scope, title in targets:
            listed = confidential_open(items, config, now=now, scope=scope, channel=channel)
            if not listed:
                continue  # nothing confidential open: no weekly noise in the private channel
            out += [(channel, part, message) for part, message in
                    enumerate(render_private_digest(listed, config, title=title, now=now))]
        return out


def _item(nag: Nag, user: str) -> NagItem:
    """One nag as `user`'s message carries it."""
    return NagItem(request_id=nag.request_id, key=nag.key, rule=nag.rule, step=nag.step, text=nag.text,
                   buttons=list(nag.buttons_for(user)), urgent=nag.urgent, urgency=nag.urgency)


def _close_unanswered(tx: Tx, request: Request, *, now: datetime) -> bool:
    """Close a request its requester left unanswered too long (as read by the job); False when it changed
    since (the requester answered meanwhile, say), and then nothing is written."""
    change = workflow.close_unanswered(request)
    after = request.model_copy(update={**change.updates, "updated_at": now})
    if not tx.save(request, after):
        return False
    tx.add_event(Event(request_id=request.id, at=now, actor=BOT, type=change.event,
                       data={**change.data, "court": after.court, "status": after.status}))
    tx.enqueue(CardUpdate(), at=now, request_id=request.id)
    tx.set_next_check(request.id, None)
    for user in tx.home_viewers({request.requester, request.assignee} - {None}):
        tx.enqueue(HomeRefresh(user=user), at=now, unless_pending=True)
    return True


def _absorb_unsent(tx: Tx, user: str, items: list[NagItem], *, now: datetime) -> list[NagItem]:
    """`items` and what `user`'s earlier messages not sent yet (held for their working hours, mostly) said, in
    one message: a nag superseded by a later step of the same rule for the same request is dropped, the
    others carried over; the earlier messages are marked superseded. Deferral does not pile up: the person
    gets one message, the latest of each. An urgent message is left to go at once."""
    carried: dict[tuple[int, str], NagItem] = {}
    for unsent in tx.pending_nags(user):
        payload = read_payload(unsent.kind, unsent.payload)
        if isinstance(payload, NagMessage) and payload.items and not payload.urgent and tx.supersede_unsent(unsent, at=now):
            carried.update((item.about, item) for item in payload.items)
    fresh = {item.about for item in items}
    kept = [item for about, item in carried.items() if about not in fresh]
    return sorted([*items, *kept], key=lambda item: (-item.urgency, item.request_id, item.rule))


__all__ = ["Jobs", "JOB_RULES"]

"""Scheduled use cases: SLA alerts, nags and the weekly digest. Each asks the domain what is due,
records it, and queues the messages — so a re-run at the same time sends nothing.

A run computes everything before it writes, then writes in units of work of at most `CHUNK_SECONDS`
each (a catch-up after days down records thousands of nags), so commands and clicks are let in
between; a small run (almost every run) is one unit. One direct message per person per run: when a
run takes several units, each unit queues its part of a person's message held back, and the last
unit replaces the parts with the whole message; if the process dies in between, the parts go out on
their own after `PART_HOLD` (more messages than one, none lost).
"""

import functools
import time
import uuid
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.blocks.common import to_dicts
from bot.blocks.digest import confidential_listed_in, render_digest, render_private_digest
from bot.blocks.nags import thread_nag
from bot.domain import workflow
from bot.domain.changes import change_state
from bot.domain.changes_filing import question_channel
from bot.domain.changes_loop import LoopFigures, loop_all
from bot.domain.changes_nag import ChangeNag, change_next_checks, changes_due
from bot.domain.digest import (
    WEEK,
    DigestFigures,
    OpenPicture,
    confidential_open,
    digest_all,
    digest_on,
    digest_week,
    listed_everywhere,
    stalled_from,
)
from bot.domain.facts import RequestFacts
from bot.domain.models import Away, Event, Request
from bot.domain.nags import AnyNag, Nag, batch, covered, explain_batch, nags_due, next_check_at
from bot.domain.policy import Config
from bot.domain.thresholds import (
    RULE_AT_RISK,
    RULE_BREACHED,
    RULE_NO_ANSWER,
    RULE_STALE_REVIEW,
    RULE_UNACKNOWLEDGED,
    RULE_UNOWNED,
)
from bot.domain.visibility import visible_to
from bot.runtime.metrics import Metrics
from storage.outbox import (
    CardUpdate,
    ChangeLine,
    ChangeNagItem,
    ChannelMessage,
    NagItem,
    NagMessage,
    ThreadLine,
    read_payload,
)
from storage.rows import to_db_time
from storage.queue import OutboxItem
from storage.store import Store, Tx

log = logging.getLogger(__name__)
JOB_RULES = {
    "sla": {RULE_AT_RISK, RULE_BREACHED},
    "nags": {RULE_STALE_REVIEW, RULE_UNOWNED, RULE_NO_ANSWER, RULE_UNACKNOWLEDGED},
}
JOB_KINDS = {"nags": ("security_review", "regression")}  # only reviews and regressions can be stale or unowned…
JOB_WAITING = {"nags"}  # …but a request of any kind can wait on its requester
BOT = "ai-intake"
CHUNK_SECONDS = 0.04
CHUNK_ROWS = 400
"""A job holds the writer for one unit of at most this long and about this many rows (its COMMIT writes every page
they touched), then intake goes first."""
ONE_UNIT = 200
"""A run with at most this many nags and five times as many next checks is written in one unit (it fits in a few ms)."""
PART_HOLD = timedelta(minutes=10)
PAGE = 1000
"""Due requests read and judged at a time."""


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
    """The scheduled use cases (their units of work ring the outbox when they queue messages); `metrics` times the runs and
    counts the nags recorded. A run with more than `one_unit` nags is written in chunks. `facts_ready(timeout)` waits
    for a catch-up of the kept facts still running since the bot started (the digest reads them)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        metrics: Metrics | None = None,
        one_unit: int = ONE_UNIT,
        facts_ready: Callable[[float | None], bool] | None = None,
    ) -> None:
        self._store = store
        self._facts_ready = facts_ready
        self._config = config
        self._metrics = metrics or Metrics()
        self._one_unit = one_unit

    @measured()
    def run_nags(self, *, job: str, now: datetime, dry_run: bool = False) -> list[str]:
        """Send what the rules of `job` ("sla" or "nags") say is due at `now`; returns a line per message.

        The due requests are read `PAGE` at a time (a catch-up finds tens of thousands), so memory follows
        the page, not the backlog. The `nags` job also reads the changes of the change log whose next check
        has come (`change.unacknowledged`): their nags go in the same message per person as the requests'."""
        with self._store.reading() as tx:
            ids = tx.nags.due_ids_for_nags(now, kinds=JOB_KINDS.get(job), waiting=job in JOB_WAITING)
        changes = self._changes(job, now)
        pages = [ids[i : i + PAGE] for i in range(0, len(ids), PAGE)]
        part = f"nagpart:{to_db_time(now)}:{uuid.uuid4().hex[:12]}:" if len(pages) > 1 else None
        found: list[AnyNag] = []
        for page in pages:
            due, checks, requests = self._page(job, page, now)
            if dry_run:
                found += due
            elif part is None and len(due) <= self._one_unit and len(checks) <= 5 * self._one_unit:
                unsent = self._unsent([*due, *changes.due])
                with self._store.transaction(background=True) as tx:
                    tx.nags.set_next_checks(checks)
                    found += self._record(tx, due, requests, now)
                    found += self._record_changes(tx, changes, now)
                    lines = self._queue_whole(tx, found, unsent, now)
                self._metrics.nags_recorded(found)
                return lines
            else:
                part = part or f"nagpart:{to_db_time(now)}:{uuid.uuid4().hex[:12]}:"
                found += self._record_in_chunks(due, checks, requests, now, part=part)
        if dry_run:
            found += changes.due
            return [f"{user}: {explain_batch(user, nags)}" for user, nags in batch(found).items()]
        if part is None and not changes:
            return []
        if part is None:
            unsent = self._unsent([*found, *changes.due])
            with self._store.transaction(background=True) as tx:
                found += self._record_changes(tx, changes, now)
                lines = self._queue_whole(tx, found, unsent, now)
        else:
            found, lines = self._queue_in_chunks(found, changes, now, part=part)
        self._metrics.nags_recorded(found)
        return lines

    def _changes(self, job: str, now: datetime) -> "ChangesDue":
        """The change log's part of a run: the `change.unacknowledged` nags due at `now` and each read change's next
        check (computed before any write, as if the nags were recorded)."""
        if RULE_UNACKNOWLEDGED not in JOB_RULES[job]:
            return ChangesDue([], [])
        with self._store.reading() as tx:
            records, sent = tx.changes.due_for_nags(now)
        config = self._config
        states = [
            change_state(r, asked_user=r.change.asked, calendar=config.calendar(r.change.domain), now=now)
            for r in records
        ]
        due = changes_due(states, config, sent=sent)
        return ChangesDue(due, change_next_checks(states, config, sent=sent | {n.sent_key for n in due}))

    def _record_changes(self, tx: Tx, changes: "ChangesDue", now: datetime) -> list[ChangeNag]:
        """Record each change's nag (its notification and event, and its line in the thread of the question), and every
        read change's next check; the nags a twin run recorded first are left out."""
        tx.changes.set_next_checks(changes.checks)
        fresh = [
            n
            for n in changes.due
            if tx.changes.record_nag(n.change_id, rule=n.rule, step=n.step, recipients=n.recipients, at=now, actor=BOT)
        ]
        for nag in fresh:
            if nag.in_thread:
                channel = question_channel(self._config, nag.domain)
                tx.outbox.enqueue(
                    ChangeLine(change_id=nag.change_id, channel=channel, text=nag.text),
                    at=now,
                    key=f"nag:{nag.change_id}:{nag.rule}:{nag.step}",
                )
        return fresh

    def _page(
        self, job: str, ids: list[int], now: datetime
    ) -> tuple[list[Nag], list[tuple[Request, datetime | None]], dict[int, Request]]:
        """The nags due for these requests, when each next needs a look (computed before any write), and the
        requests by id."""
        with self._store.reading() as tx:
            items, sent = tx.nags.nag_candidates(ids)
        due = nags_due(items, self._config, now=now, sent=sent, rules=JOB_RULES[job])
        after = sent | {n.sent_key for n in due}  # what is recorded once this run is done (by us or a twin)
        due = covered(
            due, self._away({p for n in due for p in n.recipients}, now=now), {r.id: r for r, _ in items}, self._config
        )
        checks = [(r, next_check_at(r, events, self._config, now=now, sent=after)) for r, events in items]
        return due, checks, {r.id: r for r, _ in items}

    def _away(self, people: set[str], *, now: datetime) -> dict[str, Away]:
        """Who of `people` is away today (in the organisation's time zone): by their own word, or the config's `away`."""
        today = now.astimezone(self._config.calendar(None).tz).date()
        with self._store.reading() as tx:
            said = {a.user: a for a in tx.people.away_among(sorted(people), on=today)} if people else {}
        listed = {u: Away(u, None, in_config=True) for d in self._config.domains for u in d.away if u in people}
        return {**listed, **said}

    def _record(self, tx: Tx, nags: Sequence[Nag], requests: dict[int, Request], now: datetime) -> list[Nag]:
        """Record each nag (its notification, its event, its thread line), closing first the requests a nag closes;
        the ones a twin run recorded first, and closings of requests that changed since they were read, are left out."""
        nags = [n for n in nags if not n.closes or _close_unanswered(tx, requests[n.request_id], now=now)]
        fresh = [
            n
            for n in nags
            if tx.nags.record_notification(n.request_id, n.rule, n.step, recipients=list(n.recipients), at=now)
        ]
        for nag in fresh:
            tx.add_event(
                Event(
                    request_id=nag.request_id,
                    at=now,
                    actor=BOT,
                    type="nag",
                    data={"rule": nag.rule, "step": nag.step, "recipients": list(nag.recipients)},
                )
            )
            if nag.in_thread:
                text, blocks = thread_nag(
                    nag.text, requests[nag.request_id], self._config, now=now, buttons=nag.thread_buttons
                )
                tx.outbox.enqueue(
                    ThreadLine(text=text, blocks=to_dicts(blocks)),
                    at=now,
                    request_id=nag.request_id,
                    key=f"nag:{nag.request_id}:{nag.rule}:{nag.step}",
                )
        return fresh

    def _queue_parts(self, tx: Tx, fresh: Sequence[AnyNag], now: datetime, *, part: str) -> None:
        """Each person's nags of `fresh` as a held part of their message (`part`: the run's key)."""
        for user, nags in batch(fresh).items():
            tx.outbox.enqueue(
                NagMessage(
                    user=user, items=[_item(n, user, now=now) for n in nags], urgent=any(n.urgent for n in nags)
                ),
                at=now + PART_HOLD,
                key=f"{part}{user}:{nags[0].ref}"[:500],
            )

    def _unsent(self, nags: Sequence[AnyNag], *, not_keyed: str | None = None) -> dict[str, list[OutboxItem]]:
        """The messages not sent yet of the people `nags` go to, read before the unit of work that queues theirs (one
        that goes out meanwhile is left alone: `supersede_unsent`); `not_keyed`: without a run's held parts."""
        with self._store.reading() as tx:
            return tx.outbox.pending_nags(sorted(batch(nags)), not_keyed=not_keyed)

    def _queue_whole(
        self, tx: Tx, fresh: Sequence[AnyNag], unsent: dict[str, list[OutboxItem]], now: datetime
    ) -> list[str]:
        """One direct message per person, most urgent first; a message that is not urgent folds in what the person's
        earlier messages not sent yet (`unsent`) said (`_absorb_unsent`)."""
        return [self._queue_one(tx, user, nags, unsent.get(user, []), now) for user, nags in batch(fresh).items()]

    def _queue_one(self, tx: Tx, user: str, nags: list[AnyNag], unsent: list[OutboxItem], now: datetime) -> str:
        """`user`'s one message of `nags` (and, unless urgent, of what their `unsent` messages said); its line."""
        urgent = any(n.urgent for n in nags)
        mine = [_item(n, user, now=now) for n in nags]
        if not urgent:
            mine = _absorb_unsent(tx, unsent, mine, now=now)
        key = f"nags:{user}:{to_db_time(now)}:" + ",".join(n.ref for n in nags)
        tx.outbox.enqueue(NagMessage(user=user, items=mine, urgent=urgent), at=now, key=key[:500])
        return f"{user}: {explain_batch(user, nags)}"

    def _queue_in_chunks(
        self, found: list[AnyNag], changes: "ChangesDue", now: datetime, *, part: str
    ) -> tuple[list[AnyNag], list[str]]:
        """A big run's whole messages, in units of at most about CHUNK_SECONDS: each marks its people's held parts
        (`part`) superseded and queues their one message, so no unit holds the writer long; the change log's nags
        are recorded in the first. What the people's earlier messages not sent yet said is read before, outside the
        writer (one that went out since is left alone: `supersede_unsent`). Killed midway, the people not reached
        yet get their held parts."""
        unsent = self._unsent([*found, *changes.due], not_keyed=part)
        lines: list[str] = []
        left: list[tuple[str, list[AnyNag]]] | None = None
        while left is None or left:
            with self._store.transaction(background=True) as tx:
                started = time.monotonic()
                if left is None:
                    found = [*found, *self._record_changes(tx, changes, now)]
                    left = list(batch(found).items())
                while left and time.monotonic() - started < CHUNK_SECONDS:
                    user, nags = left.pop(0)
                    tx.outbox.supersede_keys(prefix=f"{part}{user}:", at=now)
                    lines.append(self._queue_one(tx, user, nags, unsent.get(user, []), now))
        return found, lines

    def _record_in_chunks(
        self,
        due: list[Nag],
        checks: list[tuple[Request, datetime | None]],
        requests: dict[int, Request],
        now: datetime,
        *,
        part: str,
    ) -> list[AnyNag]:
        """Next checks and nags in units of at most CHUNK_SECONDS, each person's nags queued as held parts (`part`);
        the nags this run recorded (the caller queues the whole messages at the end)."""
        checks_left, nags_left, fresh = list(checks), list(due), list[AnyNag]()
        while checks_left or nags_left:
            with self._store.transaction(background=True) as tx:
                started = time.monotonic()
                rows = 0
                while checks_left and rows < CHUNK_ROWS and time.monotonic() - started < CHUNK_SECONDS:
                    tx.nags.set_next_checks(checks_left[:50])
                    del checks_left[:50]
                    rows += 50
                recorded = []
                while nags_left and rows < CHUNK_ROWS and time.monotonic() - started < CHUNK_SECONDS:
                    recorded += self._record(tx, nags_left[:10], requests, now)
                    del nags_left[:10]
                    rows += 40  # a nag writes its notification, its event, its thread line and their indexes
                self._queue_parts(tx, recorded, now, part=part)
                fresh += recorded
        return fresh

    @measured("digest")
    def send_digest(self, *, now: datetime, dry_run: bool = False, due: datetime | None = None) -> list[str]:
        """Queue this week's digests: one per domain channel and one org-wide, and the private ones (each
        domain's review channel, the org's private channel) listing confidential requests in full; at most
        one per channel and week (the week it was `due` in: default `now`).

        A digest due on a holiday goes out on the business day before (`digest_on`): run on the holiday itself
        it sends nothing; the scheduler runs it the day before with `due` naming the holiday."""
        config = self._config
        calendar = config.calendar(None)
        due = due or now
        if digest_on(calendar, due) != now.astimezone(calendar.tz).date():
            log.info("no digest today: it was due on a holiday, and went out on the business day before")
            return []
        targets = self._public_targets()
        figures_of = self.digest_figures(now=now, channels=[channel for channel, _, _ in targets])
        with self._store.reading() as tx:
            listing = tx.digest.confidential_listing() if self._private_targets() else []
        week = due.astimezone(calendar.tz).isocalendar()
        messages = self._public_digests(targets, figures_of, now=now) + self._private_digests(listing, now=now)
        lines = [f"{channel}: {text}" for channel, _, (text, _) in messages]
        if not dry_run:
            with self._store.transaction(background=True) as tx:
                for channel, part, (text, blocks) in messages:
                    tx.outbox.enqueue(
                        ChannelMessage(channel=channel, text=text, blocks=to_dicts(blocks)),
                        at=now,
                        key=f"digest:{channel}:{week.year}-W{week.week:02d}:{part}",
                    )
        return lines

    def digest_figures(
        self, *, now: datetime, channels: Sequence[str] | None = None
    ) -> dict[str | None, DigestFigures]:
        """The figures of each domain's digest (by name) and the organisation's (None) at `now`, aggregated from the
        kept facts in one read; a request is named only where every one of `channels` (default: the public digests'
        channels) may see it. Waits first for a catch-up of the facts still running since the bot started."""
        if self._facts_ready is not None:
            self._facts_ready(None)
        config = self._config
        listable = listed_everywhere(
            config, channels if channels is not None else [c for c, _, _ in self._public_targets()]
        )
        start, end = digest_week(config, now=now)
        with self._store.reading() as tx:
            digest = tx.digest
            weeks, previous = digest.week(start, end), digest.week(start - WEEK, start)
            shown = [ref.id for ref in digest.confidential_refs() if listable(ref)]
            counts = digest.open_counts()
            picture = OpenPicture(
                counts,
                digest.stalled(silent_since=now - timedelta(days=stalled_from(config))),
                digest.unowned(),
                digest.snoozed(now=now),
                digest.oldest_open({c.domain for c in counts}, shown=shown),
            )
        return digest_all(weeks, previous, picture, config, now=now, listable=listable)

    def _public_targets(self) -> list[tuple[str, str | None, str]]:
        """(channel, scope, title) of each domain's digest and the organisation's."""
        config = self._config
        targets = [(d.channels[0], d.name, f"Weekly digest: {d.name}") for d in config.domains if d.channels]
        if config.digest:
            targets.append((config.digest.channel, None, "Weekly digest: all domains"))
        return targets

    def _private_targets(self) -> list[tuple[str, str | None, str]]:
        """(channel, scope, title) of each domain's review channel's digest, and the org's private one."""
        config = self._config
        targets = [(d.review_channel, d.name, f"Private digest: {d.name}") for d in config.domains if d.review_channel]
        if config.digest and config.digest.private_channel:
            targets.append((config.digest.private_channel, None, "Private digest: all domains"))
        return targets

    def _public_digests(
        self, targets: list[tuple[str, str | None, str]], figures_of: dict[str | None, DigestFigures], *, now: datetime
    ) -> list[tuple[str, int, tuple]]:
        """(channel, part, (text, blocks)) of each domain's digest and the organisation's: its figures, and the change
        log's part beside them."""
        config = self._config
        channels = [channel for channel, _, _ in targets]
        loop_of = self._loop_figures(
            [scope for _, scope, _ in targets],
            now=now,
            listable=lambda r: all(visible_to(config, r, channel=c) for c in channels),
        )
        out = []
        for channel, scope, title in targets:
            queue = f"/ai-request queue {scope}" if scope else "/ai-request queue"
            rendered = render_digest(
                figures_of[scope],
                title=title,
                queue=queue,
                stale_days=config.nags.review_stale_days,
                org=scope is None,
                loop=loop_of[scope],
                changes=f"/ai-request changes {scope}" if scope else "/ai-request changes",
                listed_in=confidential_listed_in(config, scope, queue=queue),
            )
            out += [(channel, part, message) for part, message in enumerate(rendered)]
        return out

    def _loop_figures(
        self, scopes: list[str | None], *, now: datetime, listable: Callable[[Request], bool]
    ) -> dict[str | None, LoopFigures]:
        """The change log's part of each digest (a domain's, or the organisation's for None): from its own tables
        and the regressions changed in the week, apart from the digest's own figures."""
        config = self._config
        start, end = digest_week(config, now=now)
        with self._store.reading() as tx:
            records = tx.changes.for_digest(start)
            regressions = tx.by_ids_with_events(tx.changes.regressions_changed_since(start))
            named = [
                (change_id, record.change.domain if (record := tx.changes.record(change_id)) else None, at, answer)
                for change_id, at, answer in tx.changes.named_causes_since(start)
            ]
        return loop_all(
            regressions,
            records,
            start=start,
            end=end,
            scopes=scopes,
            calendar_for=config.calendar,
            listable=listable,
            decide_after=config.change_log.unacknowledged_business_days,
            named=named,
        )

    def _private_digests(
        self, items: list[tuple[Request, RequestFacts]], *, now: datetime
    ) -> list[tuple[str, int, tuple]]:
        """(channel, part, (text, blocks)) of each domain's review channel's digest, and the org's private one;
        none for a channel with no confidential request open."""
        out = []
        for channel, scope, title in self._private_targets():
            listed = confidential_open(items, self._config, now=now, scope=scope, channel=channel)
            if not listed:
                continue  # nothing confidential open: no weekly noise in the private channel
            out += [
                (channel, part, message)
                for part, message in enumerate(render_private_digest(listed, self._config, title=title, now=now))
            ]
        return out


@dataclass(frozen=True)
class ChangesDue:
    """The change log's part of a nag run: the nags due, and (change id, next check) of every change read."""

    due: list[ChangeNag]
    checks: list[tuple[str, datetime | None]]

    def __bool__(self) -> bool:
        return bool(self.due or self.checks)


def _item(nag: AnyNag, user: str, *, now: datetime) -> NagItem | ChangeNagItem:
    """One nag as `user`'s message carries it, written at `now`."""
    if isinstance(nag, ChangeNag):
        return ChangeNagItem(
            change_id=nag.change_id,
            rule=nag.rule,
            step=nag.step,
            text=nag.text,
            buttons=list(nag.buttons_for(user)),
            urgency=nag.urgency,
        )
    return NagItem(
        request_id=nag.request_id,
        key=nag.key,
        rule=nag.rule,
        step=nag.step,
        text=nag.text,
        buttons=list(nag.buttons_for(user)),
        urgent=nag.urgent,
        urgency=nag.urgency,
        written_at=now if nag.rule == RULE_STALE_REVIEW else None,
    )  # its text says an age: "27 days open"


def _close_unanswered(tx: Tx, request: Request, *, now: datetime) -> bool:
    """Close a request its requester left unanswered too long (as read by the job); False when it changed
    since (the requester answered meanwhile, say), and then nothing is written."""
    change = workflow.close_unanswered(request)
    after = request.model_copy(update={**change.updates, "updated_at": now})
    if not tx.save(request, after):
        return False
    tx.add_event(
        Event(
            request_id=request.id,
            at=now,
            actor=BOT,
            type=change.event,
            data={**change.data, "court": after.court, "status": after.status},
        )
    )
    homes = sorted({u for u in (request.requester, request.assignee) if u})  # refreshed once the card is handled
    tx.outbox.enqueue(CardUpdate(homes=homes), at=now, request_id=request.id)
    tx.nags.set_next_check(request.id, None)
    return True


def _absorb_unsent(
    tx: Tx, unsent: list[OutboxItem], items: list[NagItem | ChangeNagItem], *, now: datetime
) -> list[NagItem | ChangeNagItem]:
    """`items` and what the person's earlier messages not sent yet (`unsent`: held for their working hours, mostly) said, in
    one message: a nag superseded by a later step of the same rule for the same request (or an "at risk" by the breach
    of the same target) is dropped, the
    others carried over; the earlier messages are marked superseded. Deferral does not pile up: the person
    gets one message, the latest of each. An urgent message is left to go at once."""
    carried: dict[tuple[int | str, str], NagItem | ChangeNagItem] = {}
    for earlier in unsent:
        payload = read_payload(earlier.kind, earlier.payload)
        if (
            isinstance(payload, NagMessage)
            and payload.items
            and not payload.urgent
            and tx.outbox.supersede_unsent(earlier, at=now)
        ):
            carried.update((item.about, item) for item in payload.items)
    fresh = {item.about for item in items}
    breached = {
        (item.request_id, item.step) for item in items if isinstance(item, NagItem) and item.rule == RULE_BREACHED
    }
    kept = [
        item
        for about, item in carried.items()
        if about not in fresh
        and not (isinstance(item, NagItem) and item.rule == RULE_AT_RISK and (item.request_id, item.step) in breached)
    ]
    return sorted([*items, *kept], key=lambda item: item.order)


__all__ = ["Jobs", "JOB_RULES"]

"""Scheduled use cases: SLA alerts and nags (the weekly digest is `bot.usecases.digest_jobs`'s). Each asks the
domain what is due, records it, and queues the messages — so a re-run at the same time sends nothing.

A run computes everything before it writes, then writes in units of work of at most `CHUNK_SECONDS`
each (a catch-up after days down records thousands of nags), so commands and clicks are let in
between; a small run (almost every run) is one unit. One direct message per person per run: when a
run takes several units, each unit queues its part of a person's message held back, and the last
unit replaces the parts with the whole message; if the process dies in between, the parts go out on
their own after `PART_HOLD` (more messages than one, none lost).
"""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.blocks.ids import action_ids
from bot.blocks.nag_rules import explain_batch
from bot.domain import workflow
from bot.domain.changes import change_state
from bot.domain.changes_filing import question_channel
from bot.domain.changes_nag import ChangeNag, change_next_checks, changes_due
from bot.domain.models import Away, Event, Request
from bot.domain.nag_facts import facts_json
from bot.domain.nags import AnyNag, Nag, batch, covered, nags_due, next_check_at
from bot.domain.thresholds import (
    RULE_AT_RISK,
    RULE_BREACHED,
    RULE_NO_ANSWER,
    RULE_STALE_REVIEW,
    RULE_UNACKNOWLEDGED,
    RULE_UNOWNED,
)
from bot.usecases.digest_jobs import DigestJobs
from bot.usecases.job_base import measured
from storage.outbox import (
    CardUpdate,
    ChangeLine,
    ChangeNagItem,
    NagItem,
    NagMessage,
    ThreadLine,
    read_payload,
)
from storage.queue import OutboxItem
from storage.rows import to_db_time
from storage.store import Tx

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
PART_HOLD = timedelta(minutes=10)
PAGE = 1000
"""Due requests read and judged at a time."""


class Jobs(DigestJobs):
    """The scheduled use cases: the nag runs here, the weekly digest in `DigestJobs` (`bot.usecases.digest_jobs`)."""

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
                    ChangeLine(change_id=nag.change_id, channel=channel, facts=facts_json(nag.facts)),
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
            if nag.in_thread:  # worded when it is sent, its request's age as of now
                tx.outbox.enqueue(
                    ThreadLine(
                        facts=facts_json(nag.facts, nag.away), buttons=action_ids(nag.thread_offers), written_at=now
                    ),
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
            facts=facts_json(nag.facts),
            buttons=action_ids(nag.offers_for(user), change=True),
            urgency=nag.urgency,
        )
    return NagItem(
        request_id=nag.request_id,
        key=nag.key,
        rule=nag.rule,
        step=nag.step,
        facts=facts_json(nag.facts, nag.away),
        buttons=action_ids(nag.offers_for(user)),
        urgent=nag.urgent,
        urgency=nag.urgency,
        written_at=now if nag.rule == RULE_STALE_REVIEW else None,
    )  # its words say an age: "27 days open"


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

"""The change log's use cases: log a change and ask the other side, answer it, and read it back (lists,
a regression's suspects, an App Home's part, the changes still unanswered).

Each write is one unit of work (`Store.transaction`): the change or the answer, its event, the eval request a
"Needs work" files, and the Slack messages they cause (queued in the outbox); for a signed delivery (`once`) it
records the delivery's key too, so a replay logs nothing twice. The rules are the domain's
(`bot.domain.changes`, `changes_filing`, `changes_loop`); this module reads, decides with them and writes.
"""

import copy
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.blocks.change_text import caused_reason, regression_words
from bot.runtime.clock import Clock, system_clock
from bot.domain.changes import (
    ChangeRecord,
    ChangeState,
    ShippedChange,
    acknowledge,
    answer_by_cause,
    change_state,
    check_answerable,
    eval_request_draft,
    parse_change_key,
    snooze_change,
)
from bot.domain.changes_filing import ChangeDraft, plan_change, question_channel
from bot.domain.changes_loop import Suspect, close_regression, suspects
from bot.domain.changes_thread import Answered, NamedCause, Snoozed, line_json
from bot.domain.errors import Conflict, NotFound
from bot.domain.models import Draft, Reason, Request
from bot.domain.owners import lead_of, pair_for
from bot.domain.policy import Config
from bot.domain.text import escape_within
from bot.domain.visibility import visible_to
from bot.usecases.queries import load_request
from bot.usecases.service import Intake
from storage.outbox import CardUpdate, ChangeLine, ChangeQuestion, change_question_key
from storage.store import Store, Tx
from storage.unit import Delivery

LIST_LIMIT = 15


@dataclass(frozen=True)
class Logged:
    """The change as logged; `created` is False when its hook origin had logged it before."""

    record: ChangeRecord
    created: bool


@dataclass(frozen=True)
class ChangeView:
    """What the question about a change shows, and where it is: its `ts` once posted in `channel`;
    `pending`: the item that posts it still waits."""

    record: ChangeRecord
    channel: str
    ts: str | None
    pending: bool


@dataclass(frozen=True)
class ChangeHome:
    """A person's part of the change log in their App Home: the changes waiting for their answer, and the
    latest changes of the domains they belong to."""

    waiting: list[ChangeRecord]
    recent: list[ChangeRecord]


class ChangeLog:
    """The change log's use cases over `store`; `intake` files the eval request of a "Needs work" answer."""

    def __init__(self, store: Store, config: Config, *, intake: Intake, clock: Clock = system_clock) -> None:
        self._store = store
        self._config = config
        self._intake = intake
        self._clock = clock

    def once(self, delivery: Delivery) -> "ChangeLog":
        """These use cases for one signed delivery, as `Intake.once`: the first change they (or the intake they
        file through) make records its key, and raises `Replayed` when it was recorded before."""
        bound = copy.copy(self)
        bound._store = self._store.claiming(delivery)
        bound._intake = self._intake.once(delivery)
        return bound

    # -- writing -------------------------------------------------------------------------------
    def plan(self, draft: ChangeDraft) -> ShippedChange:
        """The change `draft` would log now, with the person to ask; InvalidInput names the field. Writes nothing."""
        return plan_change(draft, self._config, at=self._clock())

    def log(self, draft: ChangeDraft) -> Logged:
        """Log the change `draft` describes and queue the question to the other side (InvalidInput names
        the field). A hook's change logged before is given back with `created=False`, asking nobody again."""
        change = self.plan(draft)
        origin = change.origin
        try:
            with self._store.transaction() as tx:
                known = tx.changes.by_origin(origin.source, origin.id) if origin else None
                if known is not None:
                    return Logged(known, created=False)
                logged = tx.changes.insert(change)
                channel = question_channel(self._config, logged.domain)
                tx.outbox.enqueue(
                    ChangeQuestion(change_id=logged.id, channel=channel, first=True),
                    at=change.at,
                    key=change_question_key(logged.id),
                )
                tx.outbox.refresh_homes({logged.asked, None if origin else logged.shipped_by}, at=change.at)
        except sqlite3.IntegrityError:  # the same hook delivery, logged by another thread a moment ago
            assert origin is not None
            with self._store.reading() as tx:
                known = tx.changes.by_origin(origin.source, origin.id)
            if known is None:
                raise
            return Logged(known, created=False)
        return Logged(ChangeRecord(logged), created=True)

    def answer(
        self, change_id: str, user: str, *, answer: str, eval_link: str | None = None, reason: str | None = None
    ) -> ChangeRecord:
        """`user`'s answer to the change: covered (with the eval case's link), needs_work (files an eval
        request for the platform side, linked to the change) or not_relevant (with a reason). Raises
        NotFound, NotAllowed, Conflict (answered already) or InvalidInput naming the field."""
        now = self._clock()
        days = timedelta(days=self._config.change_log.suspect_days)
        # Read and checked before the unit of work, so the writer is not held for them: a change's own fields never
        # change, and an answer given meanwhile is caught by the write (`Conflict` below).
        with self._store.reading() as rx:
            record = self._record(rx, change_id)
            change = record.change
            regressions = rx.changes.open_regressions_after(change.domain, since=change.at, until=change.at + days)
        said = acknowledge(
            record,
            answer=answer,
            by=user,
            at=now,
            asked_user=change.asked,
            lead=lead_of(self._config, change.domain),
            admins=self._config.admins,
            eval_link=eval_link,
            reason=reason,
        )
        with self._store.transaction() as tx:
            filed = self._file_eval_request(tx, record, user, now=now) if said.answer == "needs_work" else None
            if filed is not None:
                said = said.model_copy(update={"eval_request": filed.key})
            if not tx.changes.answer(said):
                raise Conflict(f"{change.id} was answered a moment ago; look at its message.")
            channel = question_channel(self._config, change.domain)
            tx.outbox.enqueue(ChangeQuestion(change_id=change.id, channel=channel), at=now)
            tx.outbox.enqueue(
                ChangeLine(change_id=change.id, channel=channel, facts=line_json(Answered(user, said))), at=now
            )
            for request_id in regressions:
                tx.outbox.enqueue(CardUpdate(), at=now, request_id=request_id)  # their suspects show the answer
            tx.outbox.refresh_homes({change.asked, user}, at=now)
        return ChangeRecord(change, said)

    def snooze(self, change_id: str, user: str, *, days: float = 1) -> datetime:
        """Quiet the change's nags for `days` more (never past `nags.snooze_max_days` from the first press); returns
        until when. The question's thread hears of the first press only. Raises NotFound, NotAllowed (who may answer
        may snooze) or Conflict (answered, or it may not be snoozed any longer)."""
        now = self._clock()
        with self._store.transaction() as tx:
            record = self._record(tx, change_id)
            change = record.change
            pressed = snooze_change(
                record,
                by=user,
                at=now,
                asked_user=change.asked,
                lead=lead_of(self._config, change.domain),
                admins=self._config.admins,
                max_days=self._config.nags.snooze_max_days,
                days=days,
            )
            if not tx.changes.snooze(change.id, pressed):
                raise Conflict(f"{change.id} was answered a moment ago; look at its message.")
            if not record.snoozes:
                tz = self._config.calendar(change.domain).tz.key
                tx.outbox.enqueue(
                    ChangeLine(
                        change_id=change.id,
                        channel=question_channel(self._config, change.domain),
                        facts=line_json(Snoozed(user, change.id, until=pressed.until, tz=tz)),
                    ),
                    at=now,
                )
        return pressed.until

    def resolve_regression(
        self, key: str, user: str, *, cause: str | None, eval_case: str | None, no_eval_reason: str | None
    ) -> Request:
        """Resolve a regression with its closure: the cause (one of its suspects as "change:CHG-7", or product,
        platform, both, outside) and the eval case that now covers it, or why there is none. Raises
        InvalidInput naming the field (`cause`, `eval_case`, `no_eval_reason`), and what `Intake.resolve` raises."""
        with self._store.reading() as tx:
            request = load_request(tx, key)
        if not request.is_regression:
            raise Conflict(f"{request.key} is not a regression; resolve it with its Resolve button.")
        found = self.suspects_of(request, now=self._clock())
        closure = close_regression(
            cause=cause, eval_case=eval_case, no_eval_reason=no_eval_reason, suspect_ids=[s.change.id for s in found]
        )
        resolved = self._intake.resolve(key, user, closure=closure)
        if closure.cause.startswith("change:"):
            self._answer_by_cause(closure.cause.removeprefix("change:"), resolved, user, eval_case=closure.eval_case)
        return resolved

    def _answer_by_cause(self, change_id: str, regression: Request, user: str, *, eval_case: str | None) -> None:
        """The change a regression was resolved as caused by is answered so ("needs work", with the eval case that
        covers it now): its nags stop and the digest counts it answered. One answered before keeps its answer,
        and its question's thread hears that it was named as a cause."""
        now = self._clock()
        with self._store.transaction() as tx:
            record = self._record(tx, change_id)
            change = record.change
            channel = question_channel(self._config, change.domain)
            # the answer shows where the change's question is: a confidential regression is neither named nor linked
            shown = visible_to(self._config, regression, channel=channel)
            which = regression_words(regression.key, shown=shown)
            said = answer_by_cause(
                record, reason=caused_reason(which), by=user, at=now, eval_case=eval_case if shown else None
            )
            answered = said is not None and tx.changes.answer(said)
            if answered:
                tx.outbox.enqueue(ChangeQuestion(change_id=change.id, channel=channel), at=now)
            else:  # answered before ("not relevant", say): the naming is recorded against it, and the digest counts it
                tx.changes.named_as_cause(record, regression=regression.key, by=user, at=now)
            had = record.answer.answer if record.answer is not None else None
            line = NamedCause(
                user, change.id, regression.key, shown=shown, answer=said if answered else None, had_answer=had
            )
            tx.outbox.enqueue(ChangeLine(change_id=change.id, channel=channel, facts=line_json(line)), at=now)
            tx.outbox.refresh_homes({u for u in (change.asked, user) if u}, at=now)

    def _file_eval_request(self, tx: Tx, record: ChangeRecord, user: str, *, now: datetime) -> Request:
        change = record.change
        draft = eval_request_draft(change, by=user, pair=pair_for(self._config, change.domain, asset=change.asset))
        request = Draft(
            title=draft.title,
            description=draft.description,
            kind="eval",
            domain=draft.domain,
            links=list(draft.links),
            requester=user,
            source="change",
            asset=change.asset,
        )
        reason = (
            Reason(kind="assigned", user=draft.assignee, how="platform_owner", change=change.id)
            if draft.assignee
            else None
        )
        return self._intake.file_request(
            request,
            within=tx,
            at=now,
            origin_key=f"change:{change.id}:eval",
            assignee=draft.assignee,
            assignee_reason=reason,
        ).request

    # -- reading -------------------------------------------------------------------------------
    def get(self, change_id: str) -> ChangeRecord:
        """The change a typed id names ("CHG-7"); NotFound with a hint when there is none."""
        with self._store.reading() as tx:
            return self._record(tx, change_id)

    def check_answerable(self, change_id: str, user: str) -> ChangeRecord:
        """The change, if `user` may answer it now (raises NotFound, Conflict or NotAllowed): asked before a form opens."""
        record = self.get(change_id)
        check_answerable(
            record,
            by=user,
            asked_user=record.change.asked,
            lead=lead_of(self._config, record.change.domain),
            admins=self._config.admins,
        )
        return record

    def latest(self, domain: str | None, *, limit: int = LIST_LIMIT) -> list[ChangeRecord]:
        """The latest changes of `domain` (None: of every domain), newest first; NotFound for an unknown domain."""
        if domain is not None and self._config.domain(domain) is None:
            names = ", ".join(d.name for d in self._config.domains) or "none configured"
            raise NotFound(f"There is no domain called “{escape_within(domain, 40)}”. Domains: {names}.")
        with self._store.reading() as tx:
            return tx.changes.latest(domain, limit=limit)

    def view(self, change_id: str) -> ChangeView | None:
        """The change's question as it stands, and where it is posted (for the outbox's sender)."""
        with self._store.reading() as tx:
            record = tx.changes.record(change_id)
            if record is None:
                return None
            ts, pending = tx.changes.question(change_question_key(change_id))
        return ChangeView(record, question_channel(self._config, record.change.domain), ts, pending)

    def find_by_question(self, channel: str, ts: str) -> str | None:
        """The id of the change whose question is the message (channel, ts), if it is one."""
        with self._store.reading() as tx:
            return tx.changes.by_question(channel, ts)

    def unanswered(self, *, now: datetime) -> list[ChangeState]:
        """Every change nobody has answered, with how long it has waited in its domain's business days at
        `now`, oldest first: what the `change.unacknowledged` nag reads."""
        with self._store.reading() as tx:
            records = tx.changes.unanswered()
        return [
            change_state(r, asked_user=r.change.asked, calendar=self._config.calendar(r.change.domain), now=now)
            for r in records
        ]

    def suspects_of(self, request: Request, *, now: datetime) -> list[Suspect]:
        """A regression's suspects: its domain's changes from both sides in the `suspect_days` before it was
        filed, newest first, each with its answer as of `now` (none for other kinds, or before routing)."""
        if not request.is_regression or request.domain is None:
            return []
        days = self._config.change_log.suspect_days
        with self._store.reading() as tx:
            records = tx.changes.in_domain(
                request.domain, since=request.created_at - timedelta(days=days), until=request.created_at
            )
        return suspects(
            records, domain=request.domain, filed_at=request.created_at, now=now, days=days, asset=request.asset
        )

    def home(self, user: str) -> ChangeHome:
        """`user`'s part of the change log for their App Home."""
        domains = [d.name for d in self._config.member_domains(user)]
        with self._store.reading() as tx:
            waiting = tx.changes.unanswered(asked=user, limit=LIST_LIMIT)
            recent = [r for d in domains for r in tx.changes.latest(d, limit=5)]
        return ChangeHome(waiting=waiting, recent=sorted(recent, key=lambda r: r.change.at, reverse=True)[:LIST_LIMIT])

    def _record(self, tx: Tx, change_id: str) -> ChangeRecord:
        key = parse_change_key(change_id)
        record = tx.changes.record(key) if key else None
        if record is None:
            raise NotFound(f"There is no change “{escape_within(change_id, 24)}”. Changes are named like CHG-7.")
        return record

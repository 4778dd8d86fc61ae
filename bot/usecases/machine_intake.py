"""What machines file over HTTP: regressions (filed once per sender's id, reported recovered or firing
again) and changes (logged once per sender's id, the other side asked). The hooks' HTTP side is
`bot.entry.webhooks`; the bodies are read by `bot.hooks`.

Every item of a body is placed (domain, asset) before anything is written, so a body with one bad item
writes nothing. A regression a machine files is routed and nagged like any other: its requester is the
hook source and its source `hook`, and its card names the source. What the tool says about it later is
its alert's life (`alert_report` in `bot.domain.changes_loop`): recovered, firing again, reopened, filed
again, its priority raised, its group's alerts followed on the card.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.blocks import changes as alert_lines
from bot.usecases.changelog import ChangeLog
from bot.runtime.clock import Clock
from bot.domain import workflow
from bot.domain.changes import WHAT_LIMIT, HookOrigin
from bot.domain.changes_filing import ChangeDraft
from bot.domain.changes_loop import ALERTS, PRIORITY_RAISED, RECOVERED, REFIRED, alert_report, alerts_after
from bot.domain.duplicates import RECENT_DAYS, SIMILAR_LIMIT, Candidate, similar
from bot.domain.errors import InvalidInput
from bot.domain.models import Draft, Event, Request
from bot.domain.policy import Config
from bot.domain.text import truncate
from bot.hooks import Batch, FiledRegression, LoggedChange, deployments
from bot.usecases.service import Intake
from storage.outbox import CardUpdate, ThreadLine, Told
from storage.store import Store, Tx


FIRED_AGAIN = "fired_again"
"""Event on a closed regression whose alert fired again too long after its close: data {"hook", "as": the new key}."""


def hook_origin_key(source: str, hook_id: str) -> str:
    """The key a machine's regression is filed under: the same (source, id) again is the same regression."""
    return f"hook:{source}:{hook_id}"


_BOILERPLATE = (
    "Labels: ",
    "Left out: ",
    "Links that are not web addresses: ",
    "Filed by the ",
    "Fired again; last time ",
)


def what_it_says(description: str) -> str:
    """A hook-filed description without the bot's own lines (the hook that filed it, the labels, what was left
    out): what the alert itself says, which is what possible duplicates are matched on."""
    lines = description.splitlines()
    kept = [
        line
        for line in lines
        if not line.startswith(_BOILERPLATE)
        and not line.endswith("alerts in the group (listed below); the first of them:")
    ]
    return "\n".join(kept)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def latest_life(tx: Tx, key: str) -> tuple[Request | None, int]:
    """The latest request filed under `key` (its first life is `key`, each later one `key#2`, `key#3` …), and the
    number the next life would take."""
    found, life = tx.get_by_origin(key), 2
    if found is None:
        return None, 1
    while (later := tx.get_by_origin(f"{key}#{life}")) is not None:
        found, life = later, life + 1
    return found, life


@dataclass(frozen=True)
class Outcome:
    """What one item of a body did: `outcome` is filed, repeat, recovered, refired, reopened (firing again soon
    after its regression closed), filed_again (long after: a new regression), raised (its priority), updated
    (the alerts of its group changed, the card follows) or not_found (a recovery of nothing open); logged, rollback (a label moved back), unchanged (a label that did
    not move) or repeat (a change); `key` the request key or change id."""

    id: str
    outcome: str
    key: str | None

    @property
    def created(self) -> bool:
        return self.outcome in ("filed", "filed_again", "logged", "rollback")


class MachineIntake:
    """The use cases behind POST /hooks/regressions and /hooks/changes."""

    def __init__(self, store: Store, config: Config, *, intake: Intake, changelog: ChangeLog, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._intake = intake
        self._changelog = changelog
        self._clock = clock

    # -- replays ---------------------------------------------------------------------------------
    def handled(self, key: str) -> bool:
        """Whether the delivery `key` (a body's digest, `bot.entry.webhooks.body_key`) was handled before."""
        return self._intake.seen(key)

    def remember(self, key: str) -> None:
        """Record the delivery `key` as handled: the same body again changes nothing."""
        with self._store.transaction() as tx:
            tx.claim_delivery(key, self._clock())

    # -- regressions ---------------------------------------------------------------------------
    def file_regressions(self, batch: Batch[FiledRegression], *, strict: bool) -> list[Outcome]:
        """File, repeat or recover each regression of `batch`. `strict` (our own body): an unknown domain or
        asset is refused (InvalidInput naming the field) and nothing is written; otherwise (a tool's body,
        whose labels we do not control) it is left out, said in the description, and triage decides."""
        drafts = [self._draft(item, strict=strict) for item in batch.items]
        return [self._file_one(item, draft) for item, draft in zip(batch.items, drafts)]

    def _draft(self, item: FiledRegression, *, strict: bool) -> Draft:
        notes: list[str] = []
        domain, asset = self._place(item, strict=strict, notes=notes)
        description = "\n".join(
            p for p in [item.description, *notes, f"Filed by the {item.source} hook (its id: {item.id})."] if p
        )
        return Draft(
            title=item.title,
            description=description,
            kind="regression",
            domain=domain,
            priority=item.priority,
            links=list(item.links[:5]),
            requester=item.source,
            source="hook",
            asset=asset,
        )

    def _place(self, item: FiledRegression, *, strict: bool, notes: list[str]) -> tuple[str | None, str | None]:
        names = [d.name for d in self._config.domains]
        domain, asset = item.domain, item.asset
        while True:
            try:
                return self._config.catalog.place(domain, asset=asset, domains=names, domain_required=False)
            except InvalidInput as exc:
                if strict:
                    raise
                notes.append(f"Left out: {exc.message}.")  # a tool's label we do not know: drop it, try again
                domain, asset = (None, asset) if exc.field == "domain" else (domain, None)

    def _file_one(self, item: FiledRegression, draft: Draft) -> Outcome:
        key = hook_origin_key(item.source, item.id)
        now = self._clock()
        alike = None if item.recovered else self._alike(item, draft, now=now)  # read before the writer is taken
        try:
            with self._store.transaction() as tx:
                known, life = latest_life(tx, key)
                if known is None:
                    if item.recovered:
                        return Outcome(item.id, "not_found", None)
                    filed = self._intake.file_request(draft, within=tx, at=now, origin_key=key, alike=alike).request
                    self._note_alerts(tx, filed, item, events=[], now=now)
                    outcome = Outcome(item.id, "filed", filed.key)
                else:
                    _, outcome = self._again(tx, known, item, draft, life=life, now=now, alike=alike)
        except sqlite3.IntegrityError:  # the same delivery, filed by another thread a moment ago
            with self._store.reading() as tx:
                known, _ = latest_life(tx, key)
            if known is None:
                raise
            outcome = Outcome(item.id, "repeat", known.key)
        return outcome

    def _alike(self, item: FiledRegression, draft: Draft, *, now: datetime) -> list[int]:
        """The card's possible duplicates: the same alert's family (its other lives, the same alert name in other
        groups), then the requests whose words match what the alert says, the bot's own words (the hook line,
        the labels, notes) left out on both sides."""
        said = draft.model_copy(update={"description": what_it_says(item.description)})
        name = item.id.split("@", 1)[0] + "@" if "@" in item.id else item.id
        since = now - timedelta(days=RECENT_DAYS)
        found = self._intake.similar_to(said, now)
        with self._store.reading() as rx:
            family = rx.origin_family(hook_origin_key(item.source, name), since=since, limit=SIMILAR_LIMIT)
            candidates = [
                Candidate(r.id, r.title, what_it_says(r.description), r.status, r.resolved_at)
                for r in rx.requests_by_ids(found)
            ]
        by_words = similar(said.title, said.description, candidates, now=now)
        return list(dict.fromkeys([*family, *by_words]))[:SIMILAR_LIMIT]

    def _again(
        self,
        tx: Tx,
        known: Request,
        item: FiledRegression,
        draft: Draft,
        *,
        life: int,
        now: datetime,
        alike: list[int] | None,
    ) -> tuple[Request | None, Outcome]:
        """A regression the sender filed before: its alert's life goes on (`bot.domain.changes_loop`, `alert_report`)."""
        events = tx.events(known.id)
        said = alert_report(known, events, recovered=item.recovered, priority=item.priority, now=now)
        if said.outcome == "file_again":
            return self._file_again(tx, known, item, draft, life=life, now=now, alike=alike)
        noted = self._note_alerts(tx, known, item, events=events, now=now)
        current = known
        if said.outcome == "reopen":
            current = self._reopen(tx, known, item.source, now=now)
        elif said.outcome in (RECOVERED, REFIRED):
            tx.add_event(
                Event(
                    request_id=known.id,
                    at=now,
                    actor=item.source,
                    type=said.outcome,
                    data={"hook": item.source, "changes": said.changes},
                )
            )
            if said.told:
                facts = {"outcome": said.outcome, "changes": said.changes}
                told = Told(what="alert_state", by=item.source, facts=facts)
                tx.outbox.enqueue(ThreadLine(told=told), at=now, request_id=known.id)
        if said.raise_to is not None:
            current = self._raise(tx, current, item.source, said.raise_to, now=now)
        if said.outcome == "repeat" and said.raise_to is None:
            if noted:
                tx.outbox.enqueue(CardUpdate(), at=now, request_id=known.id)
            return None, Outcome(item.id, "updated" if noted else "repeat", known.key)
        tx.outbox.enqueue(CardUpdate(), at=now, request_id=known.id)
        tx.nags.set_next_check(known.id, now)
        outcome = {"reopen": "reopened", "repeat": "raised"}.get(said.outcome, said.outcome)
        return None, Outcome(item.id, outcome, known.key)

    def _reopen(self, tx: Tx, known: Request, source: str, *, now: datetime) -> Request:
        change = workflow.reopen(known, source)
        after = self._save(tx, known, {**change.updates, "updated_at": now})
        tx.add_event(
            Event(
                request_id=known.id,
                at=now,
                actor=source,
                type=change.event,
                data={"hook": source, "court": after.court, "status": after.status},
            )
        )
        facts = {"closed_at": _iso(known.resolved_at or known.updated_at), "at": now.isoformat()}
        tx.outbox.enqueue(
            ThreadLine(told=Told(what="alert_reopened", by=source, facts=facts)), at=now, request_id=known.id
        )
        return after

    def _raise(self, tx: Tx, current: Request, source: str, priority: str, *, now: datetime) -> Request:
        after = self._save(tx, current, {"priority": priority, "updated_at": now})
        tx.add_event(
            Event(
                request_id=current.id,
                at=now,
                actor=source,
                type=PRIORITY_RAISED,
                data={"hook": source, "from": current.priority, "to": priority},
            )
        )
        facts = {"before": current.priority, "after": priority}
        tx.outbox.enqueue(
            ThreadLine(told=Told(what="alert_raised", by=source, facts=facts)), at=now, request_id=current.id
        )
        return after

    def _file_again(
        self,
        tx: Tx,
        known: Request,
        item: FiledRegression,
        draft: Draft,
        *,
        life: int,
        now: datetime,
        alike: list[int] | None,
    ) -> tuple[Request, Outcome]:
        closure = next((e.data for e in reversed(tx.events(known.id)) if e.type == "resolved"), {})
        told = alert_lines.last_time(known, {k: str(v) for k, v in closure.items()})
        again = draft.model_copy(update={"description": f"{told}\n{draft.description}"})
        key = hook_origin_key(item.source, item.id)
        alike = [known.id, *(i for i in alike or [] if i != known.id)][:3]
        filed = self._intake.file_request(again, within=tx, at=now, origin_key=f"{key}#{life}", alike=alike).request
        self._note_alerts(tx, filed, item, events=[], now=now)
        tx.add_event(
            Event(
                request_id=known.id,
                at=now,
                actor=item.source,
                type=FIRED_AGAIN,
                data={"hook": item.source, "as": filed.key},
            )
        )
        facts = {"key": filed.key, "closed_at": _iso(known.resolved_at or known.updated_at), "at": now.isoformat()}
        told = Told(what="alert_filed_again", by=item.source, facts=facts)
        tx.outbox.enqueue(ThreadLine(told=told), at=now, request_id=known.id)
        return filed, Outcome(item.id, "filed_again", filed.key)

    @staticmethod
    def _note_alerts(tx: Tx, request: Request, item: FiledRegression, *, events: list[Event], now: datetime) -> bool:
        """Record the group's alerts the regression stands for, when the report changed them (its card lists them)."""
        reported = [
            {"id": a.id, "labels": ", ".join(f"{k}={v}" for k, v in a.labels), "firing": a.firing} for a in item.alerts
        ]
        after = alerts_after(events, reported)
        if after is None:
            return False
        tx.add_event(Event(request_id=request.id, at=now, actor=item.source, type=ALERTS, data={"alerts": after}))
        return True

    @staticmethod
    def _save(tx: Tx, before: Request, updates: dict[str, object]) -> Request:
        after = before.model_copy(update=updates)
        if not tx.save(before, after):  # the row was read in this transaction: nobody can have moved it
            raise RuntimeError(f"{before.key} changed inside its own transaction")
        return after.model_copy(update={"version": before.version + 1})

    # -- changes -------------------------------------------------------------------------------
    def log_changes(self, batch: Batch[LoggedChange], *, strict: bool) -> list[Outcome]:
        """Log each change of `batch` (a repeat of the same sender's id logs nothing; a label that did not move
        logs nothing either, and one moved back is logged as a rollback). Every change is placed first;
        InvalidInput names the field and nothing is written. A tool's own name for what changed is the asset
        only when the catalog lists it."""
        moved = [self._moved(item) for item in batch.items]
        drafts = [self._change_draft(item) for item, rollback in moved if item is not None]
        for draft in drafts:
            self._changelog.plan(draft)  # refuses a bad one before any is logged
        outcomes, logged_drafts = [], iter(drafts)
        for original, (item, rollback) in zip(batch.items, moved):
            if item is None:
                outcomes.append(Outcome(original.id, "unchanged", None))
                continue
            logged = self._changelog.log(next(logged_drafts))
            created = "rollback" if rollback else "logged"
            outcomes.append(Outcome(item.id, created if logged.created else "repeat", logged.record.change.id))
        return outcomes

    def _moved(self, item: LoggedChange) -> tuple[LoggedChange | None, bool]:
        """A label's move decided against where the label was (`bot.hooks.deployments`): the change to log under
        its own id and words, whether it is a rollback; (None, False) when the label did not move."""
        found = item.deployment
        if found is None:
            return item, False
        with self._store.reading() as rx:
            ids = rx.changes.origin_ids(item.source, prefix=f"{found.prompt}@", suffix=f"#{found.label}")
        earlier = [i for i in ids if i.split("#", 1)[1].split("@", 1)[0] == found.label]
        move = deployments.move(found, earlier, what=item.what)
        if move.id is None:
            return None, False
        return item.model_copy(update={"id": move.id, "what": truncate(move.what, WHAT_LIMIT)}), move.rollback

    def _known(self, item: LoggedChange) -> str | None:
        """The Slack user the tool named as the change's author: through the source's `people`, or a user id the
        config knows (a domain's member, an admin); None for anyone else."""
        if not item.person:
            return None
        source = self._config.hooks.get(item.source)
        mapped = source.people.get(item.person) if source is not None else None
        if mapped:
            return mapped
        known = self._config.member_domains(item.person) or self._config.is_admin(item.person)
        return item.person if known else None

    def _change_draft(self, item: LoggedChange) -> ChangeDraft:
        asset = item.asset
        if asset is None and item.asset_if_listed:
            listed = self._config.catalog.asset(item.asset_if_listed)
            asset = listed.name if listed and item.domain in (None, listed.domain) else None
        return ChangeDraft(
            what=item.what,
            shipped_by=item.source,
            side=item.side,
            kind=item.kind,
            domain=item.domain,
            asset=asset,
            version=item.version,
            links=tuple(item.links[:5]),
            origin=HookOrigin(source=item.source, id=item.id, person=self._known(item)),
        )

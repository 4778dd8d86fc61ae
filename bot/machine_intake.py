"""What machines file over HTTP: regressions (filed once per sender's id, reported recovered or firing
again) and changes (logged once per sender's id, the other side asked). The hooks' HTTP side is
`bot.webhooks`; the bodies are read by `bot.hooks`.

Every item of a body is placed (domain, asset) before anything is written, so a body with one bad item
writes nothing. A regression a machine files is routed and nagged like any other: its requester is the
hook source and its source `hook`, and its card names the source.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.changelog import ChangeLog
from bot.clock import Clock
from bot.domain.changes import HookOrigin
from bot.domain.changes_filing import ChangeDraft
from bot.domain.changes_loop import RECOVERED, REFIRED
from bot.domain.errors import InvalidInput
from bot.domain.models import Draft, Event, Request
from bot.domain.policy import Config
from bot.domain.text import escape
from bot.hooks import Batch, FiledRegression, LoggedChange
from bot.service import Intake
from storage.outbox import CardUpdate, ThreadLine
from storage.store import Store, Tx


def hook_origin_key(source: str, hook_id: str) -> str:
    """The key a machine's regression is filed under: the same (source, id) again is the same regression."""
    return f"hook:{source}:{hook_id}"


@dataclass(frozen=True)
class Outcome:
    """What one item of a body did: `outcome` is filed, repeat, recovered, refired or not_found (a recovery
    of nothing open), logged or repeat (a change); `key` the request key or change id, when there is one."""

    id: str
    outcome: str
    key: str | None

    @property
    def created(self) -> bool:
        return self.outcome in ("filed", "logged")


class MachineIntake:
    """The use cases behind POST /hooks/regressions and /hooks/changes."""

    def __init__(self, store: Store, config: Config, *, intake: Intake, changelog: ChangeLog, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._intake = intake
        self._changelog = changelog
        self._clock = clock

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
        description = "\n".join(p for p in [item.description, *notes,
                                            f"Filed by the {item.source} hook (its id: {item.id})."] if p)
        return Draft(title=item.title, description=description, kind="regression", domain=domain, priority=item.priority,
                     links=list(item.links[:5]), requester=item.source, source="hook", asset=asset)

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
        alike = None if item.recovered else self._intake.similar_to(draft, now)  # read before the writer is taken
        try:
            with self._store.transaction() as tx:
                known = tx.get_by_origin(key)
                if known is None:
                    if item.recovered:
                        return Outcome(item.id, "not_found", None)
                    filed = self._intake.file_within(tx, draft, now=now, origin_key=key, alike=alike)
                    outcome = Outcome(item.id, "filed", filed.key)
                else:
                    outcome = self._again(tx, known, item, now=now)
        except sqlite3.IntegrityError:  # the same delivery, filed by another thread a moment ago
            with self._store.reading() as tx:
                known = tx.get_by_origin(key)
            if known is None:
                raise
            outcome = Outcome(item.id, "repeat", known.key)
        return outcome

    def _again(self, tx: Tx, known: Request, item: FiledRegression, *, now: datetime) -> Outcome:
        """A regression the sender filed before: recovered, firing again after a recovery, or a plain repeat."""
        last = next((e.type for e in reversed(tx.events(known.id)) if e.type in (RECOVERED, REFIRED)), None)
        if not known.is_open or (item.recovered and last == RECOVERED) or (not item.recovered and last != RECOVERED):
            return Outcome(item.id, "repeat", known.key)
        event = RECOVERED if item.recovered else REFIRED
        tx.add_event(Event(request_id=known.id, at=now, actor=item.source, type=event, data={"hook": item.source}))
        said = "reports this recovered" if item.recovered else "reports it firing again"
        tx.enqueue(ThreadLine(text=f"The `{escape(item.source)}` hook {said}."), at=now, request_id=known.id)
        tx.enqueue(CardUpdate(), at=now, request_id=known.id)
        return Outcome(item.id, event, known.key)

    # -- changes -------------------------------------------------------------------------------
    def log_changes(self, batch: Batch[LoggedChange], *, strict: bool) -> list[Outcome]:
        """Log each change of `batch` (a repeat of the same sender's id logs nothing). Every change is placed
        first; InvalidInput names the field and nothing is written. A tool's own name for what changed is
        the asset only when the catalog lists it."""
        drafts = [self._change_draft(item) for item in batch.items]
        for draft in drafts:
            self._changelog.plan(draft)  # refuses a bad one before any is logged
        outcomes = []
        for item, draft in zip(batch.items, drafts):
            logged = self._changelog.log(draft)
            outcomes.append(Outcome(item.id, "logged" if logged.created else "repeat", logged.record.change.id))
        return outcomes

    def _change_draft(self, item: LoggedChange) -> ChangeDraft:
        asset = item.asset
        if asset is None and item.asset_if_listed:
            listed = self._config.catalog.asset(item.asset_if_listed)
            asset = listed.name if listed and item.domain in (None, listed.domain) else None
        return ChangeDraft(what=item.what, shipped_by=item.source, side=item.side, kind=item.kind, domain=item.domain,
                           asset=asset, version=item.version, links=tuple(item.links[:5]),
                           origin=HookOrigin(source=item.source, id=item.id))

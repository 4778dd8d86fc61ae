"""Write use cases: filing a request and working it (claim, resolve, comment …). Listeners call these.

Each use case is one unit of work: the request, its event and the Slack messages it causes (queued
in the outbox) are written together, so what was acknowledged is on disk and nothing is lost. After
the commit the outbox worker is woken. A use case run for a signed delivery (`Intake.once`) records
the delivery's key in the same unit, so a replay has no second effect. The read use cases live in
`bot.queries`.
"""

import copy
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.clock import Clock, system_clock
from bot.domain import authz, workflow
from bot.domain.changes_loop import Closure, closure_text
from bot.domain.duplicates import DUPLICATE_LINKED, close_as_duplicate, query_words, similar
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.owners import place_asset
from bot.domain.models import Draft, Event, Request
from bot.domain.policy import Config
from bot.domain.triage import Route, route
from bot.domain.visibility import visible_to
from bot.metrics import Metrics
from bot.queries import load_request
from bot.wakeup import Wakeup
from storage.outbox import CardUpdate, ChannelMessage, Ephemeral, FiledReply, HomeRefresh, ThreadLine
from storage.store import Store, Tx

COMMENT_LIMIT = 500


@dataclass(frozen=True)
class Filed:
    request: Request
    created: bool


class Replayed(Exception):
    """This signed delivery was handled before (Slack, or someone, sent the same bytes again): no second effect."""


class Intake:
    """The service. `clock` gives the current time (UTC); `wakeup` is rung after each commit that queued messages;
    `metrics` counts what was filed."""

    def __init__(self, store: Store, config: Config, *, clock: Clock = system_clock, wakeup: Wakeup,
                 metrics: Metrics | None = None) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._wakeup = wakeup
        self._metrics = metrics or Metrics()
        self._delivery: str | None = None

    # -- deliveries ------------------------------------------------------------------------------
    def seen(self, key: str) -> bool:
        """Whether a delivery with this key had its effect already (a read: a replay is dropped before any write)."""
        with self._store.reading() as tx:
            return tx.delivery_seen(key)

    def once(self, key: str) -> "Intake":
        """These use cases for one signed delivery: the first change they make records `key` with it, in the same
        unit of work, and raises `Replayed` (nothing written) when the key was recorded before."""
        bound = copy.copy(self)
        bound._delivery = key
        return bound

    @contextmanager
    def _unit(self) -> Iterator[Tx]:
        """One use case's unit of work, claiming the delivery it runs for (see `once`)."""
        with self._store.transaction() as tx:
            if self._delivery is not None and not tx.claim_delivery(self._delivery, self._clock()):
                raise Replayed(self._delivery)
            yield tx
        self._delivery = None  # recorded: a later change for the same delivery (there is none today) needs no key

    # -- filing --------------------------------------------------------------------------------
    def file_request(self, draft: Draft, *, origin_key: str | None = None, reply_in: FiledReply | None = None) -> Filed:
        """Triage and store a new request and queue its card.

        `origin_key` names the Slack message it came from ("msg:C1:1700000000.000100"): filing the
        same message twice returns the first request with `created=False`. `reply_in` queues the
        "Filed AIR-12 …" answer once: in a thread, ephemerally, or as a direct message.
        """
        now = self._clock()
        try:
            with self._unit() as tx:
                existing = tx.get_by_origin(origin_key) if origin_key else None
                if existing:
                    return Filed(existing, created=False)
                request = self._insert(tx, draft, now, origin_key=origin_key)
                if reply_in:
                    tx.enqueue(reply_in, at=now, request_id=request.id, key=f"reply:{origin_key or request.id}")
        except sqlite3.IntegrityError:
            with self._store.reading() as tx:
                found = tx.get_by_origin(origin_key or "")
            if found is None:
                raise
            return Filed(found, created=False)
        self._wakeup.set()
        self._metrics.filed(kind=request.kind, domain=request.domain)
        return Filed(request, created=True)

    def file_within(self, tx: Tx, draft: Draft, *, now: datetime, origin_key: str | None = None,
                    assignee: str | None = None, assignee_reason: str | None = None) -> Request:
        """Triage and store a new request, with its card queued, inside another use case's transaction `tx`
        (an eval request filed by an answer to a change, a regression filed by a hook). `assignee` overrides
        triage's choice, and `assignee_reason` says why on the card. Raises sqlite3.IntegrityError on a
        duplicate `origin_key`. Once `tx` has committed, the caller counts it with `count_filed`."""
        return self._insert(tx, draft, now, origin_key=origin_key, assignee=assignee, assignee_reason=assignee_reason)

    def count_filed(self, request: Request) -> None:
        """Count a request `file_within` filed, once its transaction committed (the metrics of filing)."""
        self._metrics.filed(kind=request.kind, domain=request.domain)

    def _insert(self, tx: Tx, draft: Draft, now: datetime, *, origin_key: str | None, assignee: str | None = None,
                assignee_reason: str | None = None) -> Request:
        if draft.asset is not None:  # an asset says which domain it belongs to (InvalidInput for one the catalog lacks)
            draft = draft.model_copy(update={"domain": place_asset(draft.domain, draft.asset, self._config)})
        decided = self._route(tx, draft)
        if assignee is not None:
            decided = _assigned(decided, assignee, assignee_reason or f"assigned to <@{assignee}>")
        request = Request(
            id=0, kind=draft.kind, domain=decided.domain, title=draft.title, description=draft.description,
            priority=decided.priority, status="open", stage="requested" if draft.kind == "security_review" else None,
            requester=draft.requester, assignee=decided.assignee, confidential=decided.confidential,
            source=draft.source, links=draft.links, origin_channel=draft.channel, origin_ts=draft.origin_ts,
            permalink=draft.permalink, card_channel=decided.channel, court="triage",
            route_reasons=decided.reasons, created_at=now, updated_at=now, asset=draft.asset,
        )
        request = request.model_copy(update={"court": workflow.working_court(request)})
        request = tx.insert_request(request, origin_key=origin_key)
        alike = self._similar(tx, request, now)
        if decided.assignee:
            tx.mark_assigned(decided.assignee, now)
        tx.add_event(Event(request_id=request.id, at=now, actor=draft.requester, type="created", data={
            "kind": request.kind, "domain": request.domain, "assignee": request.assignee, "priority": request.priority,
            "source": request.source, "confidential": request.confidential, "reasons": decided.reasons,
            "court": request.court, **({"asset": request.asset} if request.asset else {}),
            **({"similar": alike} if alike else {}),
        }))
        tx.enqueue(CardUpdate(homes=_people(request.requester, request.assignee)), at=now, request_id=request.id)
        self._schedule_check(tx, request, now)
        return request

    def _similar(self, tx: Tx, request: Request, now: datetime) -> list[int]:
        """The ids of up to three earlier requests that look like `request` (the full-text index ranks them)."""
        ranked = tx.search.ranked(query_words(request.title, request.description), any_word=True, limit=20)
        candidates = [found for i in ranked if i != request.id and (found := tx.get(i)) is not None]
        return similar(request, candidates, now=now)

    def _route(self, tx: Tx, draft: Draft) -> Route:
        """Triage, reading only what the decision needs: past requests' words only when nothing else
        routes it, and the open load only of the chosen domain's candidates."""
        vocabulary = False
        decided = route(draft, self._config, tx.routing_state())
        if decided.domain is None:
            vocabulary = True
            decided = route(draft, self._config, tx.routing_state(with_vocabulary=True))
        domain = self._config.domain(decided.domain)
        if domain is None:
            return decided
        candidates = [*domain.engineers, *domain.reviewers]
        return route(draft, self._config, tx.routing_state(people=candidates, with_vocabulary=vocabulary))

    def _schedule_check(self, tx: Tx, request: Request, now: datetime) -> None:
        """Have the nag jobs look at `request` at their next run (after every change of it): they compute when it
        next needs them (`next_check_at`) for everything they look at, so an ack does not wait for that."""
        tx.set_next_check(request.id, now)

    # -- working a request ---------------------------------------------------------------------
    def claim(self, key: str, actor: str) -> Request:
        return self._act(key, actor, "claim", lambda r, now: workflow.claim(r, actor))

    def reassign(self, key: str, actor: str, *, to: str) -> Request:
        """Hand the request to `to`, who must be able to work it (a member of its domain, or an admin)."""
        def change(request: Request, now: datetime) -> workflow.Change:
            self._require_worker(request, to)
            return workflow.reassign(request, actor, to)

        return self._act(key, actor, "reassign", change)

    def hand(self, key: str, actor: str, *, to: str) -> Request:
        """The lead (or an admin) makes `to` the owner and assignee of a regression; `to` must be able to work it."""
        def change(request: Request, now: datetime) -> workflow.Change:
            self._require_worker(request, to)
            return workflow.hand(request, actor, to)

        return self._act(key, actor, "hand", change)

    def _require_worker(self, request: Request, to: str) -> None:
        """InvalidInput unless `to` may work `request` (a member of its domain, or an admin)."""
        if not (authz.is_member(self._config, request, to) or self._config.is_admin(to)):
            where = request.domain or "any domain"
            raise InvalidInput(f"<@{to}> is not a member of {where}, so they could not work {request.key}. "
                               "Pick a member, or ask an admin to add them to the config.")

    def wait(self, key: str, actor: str) -> Request:
        return self._act(key, actor, "wait", lambda r, now: workflow.wait(r, actor))

    def resolve(self, key: str, actor: str, *, closure: Closure | None = None) -> Request:
        """Resolve the request; a regression's `closure` (its cause and eval case) is stored with the event,
        and told in the thread where the request's words may be shown."""
        def change(request: Request, now: datetime) -> workflow.Change:
            resolved = workflow.resolve(request, actor, now)
            if closure is None:
                return resolved
            said = f" Closed with {closure_text(closure)}." if visible_to(self._config, request, channel=request.card_channel) else ""
            return replace(resolved, line=resolved.line + said, data={**resolved.data, **closure.event_data()})

        return self._act(key, actor, "resolve", change)

    def withdraw(self, key: str, actor: str) -> Request:
        return self._act(key, actor, "withdraw", lambda r, now: workflow.withdraw(r, actor, now))

    def snooze(self, key: str, actor: str, *, days: float = 1) -> datetime:
        """Quiet the request's nags for `days` more (bounded by the config's snooze_max_days from the first
        press in this silence); returns until when. Conflict when it may not be snoozed any longer."""
        now = self._clock()
        with self._unit() as tx:
            request = load_request(tx, key)
            authz.authorize(self._config, request, actor, "snooze")
            change = workflow.snooze(request, actor, tx.events(request.id), self._config, now=now, days=days)
            self._apply(tx, request, change, actor=actor, action="snooze", now=now)
        self._wakeup.set()
        return datetime.fromisoformat(change.data["until"])

    def reopen(self, key: str, actor: str) -> Request:
        return self._act(key, actor, "reopen", lambda r, now: workflow.reopen(r, actor))

    def own(self, key: str, actor: str) -> Request:
        return self._act(key, actor, "own", lambda r, now: workflow.own(r, actor))

    def disclaim(self, key: str, actor: str, *, reason: str) -> Request:
        return self._act(key, actor, "disclaim", lambda r, now: workflow.disclaim(r, actor, reason, now))

    def review(self, key: str, actor: str, *, step: str) -> Request:
        return self._act(key, actor, "review", lambda r, now: workflow.review(r, actor, step, now))

    def edit(self, key: str, actor: str, draft: Draft) -> Request:
        """Apply the "Edit details" form. A changed domain re-routes and moves the card."""
        def change(request: Request, now: datetime) -> workflow.Change:
            updates: dict[str, Any] = {
                "title": draft.title, "description": draft.description, "kind": draft.kind, "links": draft.links,
            }
            if draft.priority:
                updates["priority"] = draft.priority
            if draft.confidential is not None:
                updates["confidential"] = draft.confidential
            changed = sorted(k for k, v in updates.items() if getattr(request, k) != v)
            return workflow.Change(updates, "edited", f"<@{actor}> edited {', '.join(changed) or 'nothing'}.", {"fields": changed})

        return self._act(key, actor, "edit", change)

    def _act(self, key: str, actor: str, action: str, decide: Callable[[Request, datetime], workflow.Change]) -> Request:
        now = self._clock()
        with self._unit() as tx:
            request = load_request(tx, key)
            authz.authorize(self._config, request, actor, action)
            change = decide(request, now)
            after = self._apply(tx, request, change, actor=actor, action=action, now=now)
        self._wakeup.set()
        return after

    def _apply(self, tx: Tx, request: Request, change: workflow.Change, *, actor: str, action: str, now: datetime) -> Request:
        updates = {**change.updates, "updated_at": now}
        member = authz.is_member(self._config, request, actor) or self._config.is_admin(actor)
        if (request.first_response_at is None and action in workflow.FIRST_RESPONSE_ACTIONS
                and member and actor != request.requester):
            updates["first_response_at"] = now
        after = request.model_copy(update=updates)
        if not tx.save(request, after):
            raise Conflict(f"{request.key} changed while you were acting on it; look at the card and try again.")
        after = after.model_copy(update={"version": request.version + 1})
        data = {**change.data, "court": after.court, "status": after.status}
        if "first_response_at" in updates:
            data["first_response"] = True
        tx.add_event(Event(request_id=request.id, at=now, actor=actor, type=change.event, data=data))
        if "assignee" in change.updates and after.assignee:
            tx.mark_assigned(after.assignee, now)
        tx.enqueue(CardUpdate(homes=_people(after.requester, after.assignee, request.assignee)), at=now, request_id=request.id)
        if change.line:
            tx.enqueue(ThreadLine(text=change.line), at=now, request_id=request.id)
        self._schedule_check(tx, after, now)
        return after

    def mark_duplicate(self, key: str, actor: str, *, of: str) -> Request:
        """Close `key` as a duplicate of `of` (a request `actor` may see), linking the two in both histories."""
        now = self._clock()
        with self._unit() as tx:
            request, original = load_request(tx, key), load_request(tx, of)
            authz.authorize(self._config, request, actor, "duplicate")
            if not visible_to(self._config, original, user=actor):
                raise authz.refusal(original, "view")
            after = self._apply(tx, request, close_as_duplicate(request, original, actor, now), actor=actor,
                                action="duplicate", now=now)
            tx.add_event(Event(request_id=original.id, at=now, actor=actor, type=DUPLICATE_LINKED, data={"duplicate": request.key}))
            tx.enqueue(ThreadLine(text=f"{request.key} was closed as a duplicate of this."), at=now, request_id=original.id)
        self._wakeup.set()
        return after

    # -- thread replies ------------------------------------------------------------------------
    def comment(self, *, channel: str, thread_ts: str, ts: str, user: str, text: str) -> Request | None:
        """A reply in a request's thread (its card's or its origin message's); None when it is no request's thread.

        A domain member's reply is the first response; the requester's reply while `waiting`
        hands the ball back. The same message delivered twice is recorded once. Anyone else's reply
        is ignored (a thread is a conversation: refusing every remark would be noise).
        """
        now = self._clock()
        with self._unit() as tx:
            request = tx.by_thread(channel, thread_ts)
            if request is None or not authz.can(self._config, request, user, "comment"):
                return None  # not a request's thread, or someone who may not comment: their words change nothing
            if not tx.claim_delivery(f"msg:{channel}:{ts}", now):
                return None
            member = authz.is_member(self._config, request, user) or self._config.is_admin(user)
            change = workflow.comment(request, user, member=member)
            change.data["text"] = text[:COMMENT_LIMIT]
            change.data["ts"] = ts
            after = self._apply(tx, request, change, actor=user, action="comment", now=now)
        self._wakeup.set()
        return after

    # -- deliveries and messages ----------------------------------------------------------------
    def tell(self, *, user: str, channel: str | None, text: str, response_url: str | None = None) -> None:
        """Queue an ephemeral message to one person (a refusal, a problem with what they sent).

        Always after the ack, so it waits for the writer as long as a background unit does: a person told
        "busy, try again" is told once the database frees up.
        """
        with self._store.transaction(background=True) as tx:
            tx.enqueue(Ephemeral(user=user, channel=channel, text=text, response_url=response_url), at=self._clock())
        self._wakeup.set()

    def post_once(self, *, key: str, channel: str, thread_ts: str | None, text: str) -> None:
        """Queue a message that is sent once however often it is asked for under the same key."""
        with self._unit() as tx:
            tx.enqueue(ChannelMessage(channel=channel, thread_ts=thread_ts, text=text), at=self._clock(), key=f"post:{key}")
        self._wakeup.set()

    def refresh_home(self, user: str) -> None:
        """Queue a fresh App Home for `user`."""
        with self._unit() as tx:
            tx.remember_home_opened(user)
            tx.enqueue(HomeRefresh(user=user), at=self._clock(), unless_pending=True)
        self._wakeup.set()


def _assigned(decided: Route, assignee: str, reason: str) -> Route:
    """`decided` with `assignee` instead of triage's choice, the reason for it in place of triage's."""
    reasons = [r for r in decided.reasons if not r.startswith(("assigned to", "every "))]
    return replace(decided, assignee=assignee, reasons=[*reasons[:1], reason, *reasons[1:]])


def _people(*users: str | None) -> list[str]:
    """Whose App Home a change may alter (the outbox worker refreshes those who use it, after the ack)."""
    return sorted({u for u in users if u})


__all__ = ["Intake", "Filed", "Replayed"]

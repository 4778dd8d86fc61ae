"""Working a request: claim, reassign, move, resolve, own, disclaim, review, edit, mark a duplicate …; the replies
in its thread and a requester's words about it. Each is one unit of work: the request saved with a version
check, its event, its card refreshed, its thread told (as facts, worded when sent) and its requester told
as much as she chose.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain import authz, workflow
from bot.domain.changes_loop import Closure
from bot.domain.duplicates import DUPLICATE, DUPLICATE_LINKED, close_as_duplicate
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.models import PRIORITIES, Draft, Event, Reason, Request
from bot.domain.owners import owners_of
from bot.domain.parsing import COMMENT_LIMIT, DESCRIPTION_LIMIT, about, keys_named, parse_key, within_limits
from bot.domain.policy import Domain
from bot.domain.text import escape_within, truncate
from bot.domain.triage import route
from bot.domain.visibility import visible_to
from bot.usecases import learning
from bot.usecases.base import UseCases, people_of
from bot.usecases.queries import load_request
from storage.outbox import CardMoved, CardUpdate, ChannelMessage, Ephemeral, ThreadLine, Told
from storage.store import Tx

MACHINE_SOURCES = frozenset({"hook", "change"})
"""Requests a machine filed (a hook's regression) or the change log did: their requester is told nothing by direct
message (a hook is no person; the eval request's filer answered the change and is in its thread)."""
PICK_LIMIT = 10
"""How many of a requester's open requests are offered when she asks about one without naming it."""


class Working(UseCases):
    """The actions on a request, its thread's replies and its requester's words."""

    def claim(self, key: str, actor: str) -> Request:
        return self._act(key, actor, "claim", lambda r, now: workflow.claim(r, actor))

    def reassign(self, key: str, actor: str, *, to: str) -> Request:
        """Hand the request to `to`. Someone of another domain (or, while it is unrouted, of any domain) takes it
        there: the request moves to their domain (`move`). Anyone else must be able to work it here (an admin)."""
        with self._store.reading() as tx:
            request = load_request(tx, key)
        theirs = self._config.home_domain(to)
        in_domain = request.domain is not None and authz.is_member(self._config, request, to)
        if theirs is not None and not in_domain and theirs.name != request.domain:
            return self.move(key, actor, to=theirs.name, assignee=to)

        def change(request: Request, now: datetime) -> workflow.Transition:
            self._require_worker(request, to)
            return workflow.reassign(request, actor, to)

        return self._act(key, actor, "reassign", change)

    def move(self, key: str, actor: str, *, to: str, assignee: str | None = None) -> Request:
        """Move the request to the domain `to` (from another, or from triage): `assignee` works it, else triage picks
        one there (load, who is away). Its card is posted again in the new domain's channel (its review channel,
        for a confidential one) and the old card says where it went; the new domain's engineers are named in
        the new card's thread; the SLA clock carries on (counted in the new domain's business hours).
        Allowed to an admin, a member of its domain (any domain while unrouted) or of `to`."""
        destination = self._config.domain(to)
        if destination is None:
            names = ", ".join(d.name for d in self._config.domains) or "none configured"
            raise InvalidInput(
                f"There is no domain called “{escape_within(to, 40)}”. Domains: {names}.", field="domain"
            )
        now = self._clock()
        with self._unit() as tx:
            request = load_request(tx, key)
            if not authz.can_move(self._config, request, actor, to):
                raise authz.move_refusal(request, to)
            change = self._move_change(tx, request, actor, destination, assignee=assignee, now=now)
            after = self._apply(tx, request, change, actor=actor, action="move", now=now)
            if request.card_channel and request.card_ts:
                tx.outbox.enqueue(
                    CardMoved(channel=request.card_channel, ts=request.card_ts, by=actor, domain=to),
                    at=now,
                    request_id=request.id,
                )
        return after

    def _move_change(
        self, tx: Tx, request: Request, actor: str, destination: Domain, *, assignee: str | None, now: datetime
    ) -> workflow.Transition:
        """The move as triage would route the request in `destination`: its assignee (or who triage picks there),
        its card's channel, and the reasons."""
        draft = Draft(
            title=request.title,
            description=request.description,
            kind=request.kind,
            domain=destination.name,
            priority=request.priority,
            confidential=request.confidential,
            requester=request.requester,
            reporter=request.reporter,
            source=request.source,
            channel=request.origin_channel,
            private=request.origin_private,
        )
        candidates = [*destination.engineers, *destination.reviewers]
        decided = route(draft, self._config, tx.routing_state(people=candidates, on=self._today(now)))
        reasons = [Reason(kind="moved", domain=destination.name, by=actor, source=request.domain)]
        if assignee is not None:
            reasons.append(Reason(kind="assigned", user=assignee, how="picked", by=actor))
        else:
            assignee = decided.assignee
            reasons += [r for r in decided.reasons if r.kind in ("assigned", "unassigned")]
        reasons.append(Reason(kind="priority", priority=request.priority, how="kept"))
        pool = destination.reviewers if request.is_security_review and destination.reviewers else destination.engineers
        return workflow.move(
            request,
            actor,
            to=destination.name,
            assignee=assignee,
            channel=decided.channel,
            reasons=reasons,
            told=list(pool),
        )

    def hand(self, key: str, actor: str, *, to: str) -> Request:
        """The lead (or an admin) makes `to` the owner and assignee of a regression; `to` must be able to work it."""

        def change(request: Request, now: datetime) -> workflow.Transition:
            self._require_worker(request, to)
            return workflow.hand(request, actor, to)

        return self._act(key, actor, "hand", change)

    def _require_worker(self, request: Request, to: str) -> None:
        """InvalidInput unless `to` may work `request` (a member of its domain, or an admin)."""
        if not (authz.is_member(self._config, request, to) or self._config.is_admin(to)):
            where = request.domain or "any domain"
            raise InvalidInput(
                f"<@{to}> is not a member of {where}, so they could not work {request.key}. "
                "Pick a member, or ask an admin to add them to the config."
            )

    def set_kind(self, key: str, actor: str, *, kind: str) -> Request:
        """Correct the request's kind (a domain member, its lead or an admin): an event in its history, and an
        example triage learns from at once."""
        if kind not in self._config.kind_names:
            raise InvalidInput(f"Pick one of the kinds: {', '.join(self._config.kind_names)}.")
        return self._act(key, actor, "set_kind", lambda r, now: workflow.set_kind(r, actor, kind))

    def set_priority(self, key: str, actor: str, *, priority: str) -> Request:
        """Correct the request's priority (a domain member, its lead or an admin): an event in its history."""
        if priority not in PRIORITIES:
            raise InvalidInput(f"Pick one of the priorities: {', '.join(PRIORITIES)}.")
        return self._act(key, actor, "set_priority", lambda r, now: workflow.set_priority(r, actor, priority))

    def confirm_triage(self, key: str, actor: str, *, what: str, value: str) -> Request:
        """A member says triage's choice of kind or domain (`what`) was right, where it was unsure: an event, and an
        example triage learns from. Conflict when the request's kind or domain is no longer `value`."""

        def change(request: Request, now: datetime) -> workflow.Transition:
            if (request.kind if what == "kind" else request.domain) != value:
                raise Conflict(f"{request.key} is not filed as {escape_within(value, 40)} any more; look at the card.")
            data = {"what": what, "value": value}
            return workflow.Transition({}, "triage_confirmed", data, line="triage_confirmed", said=data)

        return self._act(key, actor, "set_kind", change)

    def wait(self, key: str, actor: str) -> Request:
        return self._act(key, actor, "wait", lambda r, now: workflow.wait(r, actor))

    def resolve(self, key: str, actor: str, *, closure: Closure | None = None) -> Request:
        """Resolve the request; a regression's `closure` (its cause and eval case) is stored with the event,
        and told in the thread where the request's words may be shown."""

        def change(request: Request, now: datetime) -> workflow.Transition:
            resolved = workflow.resolve(request, actor, now)
            if closure is None:
                return resolved
            shown = visible_to(self._config, request, channel=request.card_channel)
            said = {"closure": closure.event_data()} if shown else {}
            return replace(resolved, data={**resolved.data, **closure.event_data()}, said=said)

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
        """Apply the "Edit details" form, within the limits of what is stored (the editor is told what was cut).
        A domain chosen in it other than the request's moves the request there after the edit (`move`: allowed
        to fewer people than editing; InvalidInput on the form's domain field, before anything is written,
        when this person may not)."""
        with self._store.reading() as tx:
            current = load_request(tx, key)
        moving = draft.domain if draft.domain and draft.domain != current.domain else None
        if moving and not authz.can_move(self._config, current, actor, moving):
            raise InvalidInput(authz.move_refusal(current, moving).message, field="domain")  # the form's domain field
        cut: list[str] = []

        def change(request: Request, now: datetime) -> workflow.Transition:
            nonlocal cut
            unchanged = draft.description == truncate(request.description, DESCRIPTION_LIMIT)
            fitted, cut = within_limits(draft)
            # The form showed a description stored before the limits cut; it came back unchanged: keep it whole.
            description = request.description if unchanged else fitted.description
            updates: dict[str, Any] = {
                "title": fitted.title,
                "description": description,
                "kind": fitted.kind,
                "links": fitted.links,
            }
            if draft.priority:
                updates["priority"] = draft.priority
            if draft.confidential is not None:
                updates["confidential"] = draft.confidential
            changed = sorted(k for k, v in updates.items() if getattr(request, k) != v)
            return workflow.Transition(updates, "edited", {"fields": changed}, line="edited", said={"fields": changed})

        after = self._act(key, actor, "edit", change)
        if cut:
            self.tell(user=actor, channel=None, told=Told(what="saved_cut", facts={"key": after.key, "cut": cut}))
        return self.move(key, actor, to=moving) if moving else after

    def _act(
        self, key: str, actor: str, action: str, decide: Callable[[Request, datetime], workflow.Transition]
    ) -> Request:
        now = self._clock()
        with self._unit() as tx:
            request = load_request(tx, key)
            authz.authorize(self._config, request, actor, action)
            change = decide(request, now)
            after = self._apply(tx, request, change, actor=actor, action=action, now=now)
        return after

    def _apply(
        self, tx: Tx, request: Request, change: workflow.Transition, *, actor: str, action: str, now: datetime
    ) -> Request:
        updates = {**change.updates, "updated_at": now}
        pair = owners_of(request, self._config)
        member = (
            authz.is_member(self._config, request, actor)
            or self._config.is_admin(actor)
            or actor in (pair.product, pair.platform)
        )
        if (
            request.first_response_at is None
            and action in workflow.FIRST_RESPONSE_ACTIONS
            and member
            and actor != request.requester
        ):
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
            tx.people.mark_assigned(after.assignee, now)
        tx.outbox.enqueue(
            CardUpdate(homes=people_of(after.requester, after.assignee, request.assignee)),
            at=now,
            request_id=request.id,
        )
        if change.line:
            told = Told(what=change.line, by=actor, facts=change.said)
            tx.outbox.enqueue(ThreadLine(told=told), at=now, request_id=request.id)
        self._tell_requester(tx, after, change, actor=actor, now=now)
        self._schedule_check(tx, after, now)
        if action != "duplicate":  # a duplicate teaches its original's kind and domain (`mark_duplicate`)
            learning.learn(tx, action, after, now=now)
        return after

    def _tell_requester(
        self, tx: Tx, request: Request, change: workflow.Transition, *, actor: str, now: datetime
    ) -> None:
        """The requester hears, by direct message, what someone else did to her request, as much as she chose
        (`notify`, else the organisation's `nags.requester_updates`): who works it, where it went, that it waits
        on her, how it ended."""
        requester = request.requester
        if actor == requester or request.source in MACHINE_SOURCES:
            return
        level = tx.people.notify_level(requester) or self._config.nags.requester_updates
        if not workflow.tells_requester(change.event, level):
            return
        original = parse_key(str(change.data.get("of", ""))) if change.event == DUPLICATE else None
        news = Told(
            what="news",
            by=actor,
            facts={"event": change.event, "data": change.data},
            requests=[original] if original else [],
        )
        tx.outbox.enqueue(ChannelMessage(channel=requester, told=news), at=now, request_id=request.id)

    def mark_duplicate(self, key: str, actor: str, *, of: str) -> Request:
        """Close `key` as a duplicate of `of` (a request `actor` may see), linking the two in both histories."""
        now = self._clock()
        with self._unit() as tx:
            request, original = load_request(tx, key), load_request(tx, of)
            authz.authorize(self._config, request, actor, "duplicate")
            if not visible_to(self._config, original, user=actor):
                raise authz.refusal(original, "view")
            after = self._apply(
                tx, request, close_as_duplicate(request, original, actor, now), actor=actor, action="duplicate", now=now
            )
            tx.add_event(
                Event(
                    request_id=original.id, at=now, actor=actor, type=DUPLICATE_LINKED, data={"duplicate": request.key}
                )
            )
            learning.learn(tx, "duplicate", after, now=now, of=original)
            linked = Told(what=DUPLICATE_LINKED, by=actor, facts={"duplicate": request.key})
            tx.outbox.enqueue(ThreadLine(told=linked), at=now, request_id=original.id)
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
            change.data["text"] = truncate(text, COMMENT_LIMIT)
            change.data["ts"] = ts
            after = self._apply(tx, request, change, actor=user, action="comment", now=now)
            if len(text) > COMMENT_LIMIT:
                told = Told(what="reply_cut", by=user, facts={"key": request.key, "limit": COMMENT_LIMIT})
                tx.outbox.enqueue(Ephemeral(user=user, channel=channel, told=told), at=now)
        return after

    # -- a requester's voice ---------------------------------------------------------------------
    def requester_says(
        self, *, user: str, text: str, channel: str, ts: str, reply_ts: str | None, direct: bool
    ) -> Request | bool | None:
        """A requester (or reporter) writing about a request she filed — a mention naming its key or asking for an
        update, a direct message to the bot (`direct`) — is recorded on it as hers and answered where she wrote
        (`reply_ts`: the thread to answer in); nothing new is filed. Returns the request, True when she was asked
        which of her requests she means (or it was recorded before), None when it is about none of hers."""
        now = self._clock()
        with self._store.reading() as rx:
            named = rx.requests_by_ids(keys_named(text))
            open_filed = rx.open_filed_by(user, limit=PICK_LIMIT)
        found = about(text, user, named=named, open_filed=open_filed, direct=direct)
        if found.request is None and not found.choices:
            return None
        where = user if direct else channel
        with self._unit() as tx:
            if not tx.claim_delivery(f"msg:{channel}:{ts}", now):
                return True
            if found.request is None:
                which = Told(
                    what="which",
                    by=user,
                    facts={"channel": None if direct else channel},
                    requests=[r.id for r in found.choices],
                )
                tx.outbox.enqueue(
                    ChannelMessage(channel=where, thread_ts=None if direct else reply_ts, told=which), at=now
                )
                return True
            request = tx.get(found.request.id) or found.request
            change = workflow.comment(request, user, member=False)
            change.data.update(text=truncate(text, COMMENT_LIMIT), ts=ts, asked="direct message" if direct else channel)
            after = self._apply(tx, request, change, actor=user, action="comment", now=now)
            quoted = visible_to(self._config, after, channel=after.card_channel) and (after.confidential or not direct)
            asked = Told(
                what="asked", by=user, facts={"text": text if quoted else "", "quoted": quoted, "direct": direct}
            )
            tx.outbox.enqueue(ThreadLine(told=asked), at=now, request_id=after.id)
            noted = Told(what="noted", by=user, facts={"channel": None if direct else channel}, requests=[after.id])
            tx.outbox.enqueue(ChannelMessage(channel=where, thread_ts=None if direct else reply_ts, told=noted), at=now)
            if not direct and not visible_to(self._config, after, channel=channel):  # followed up where she may see it
                in_dm = Told(what="noted", by=user, facts={"channel": None}, requests=[after.id])
                tx.outbox.enqueue(ChannelMessage(channel=user, told=in_dm), at=now)
        return after


__all__ = ["Working", "MACHINE_SOURCES", "PICK_LIMIT"]

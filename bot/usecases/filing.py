"""Filing a request: triage, the request, its `created` event and its queued card in one unit of work.

A person's request (a command, a form, a mention) and a machine's (a hook's regression, the eval request an
answer to a change asks for) are filed by the same steps, `Filing.file_request`; a machine's joins the unit
of work it runs in.
"""

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain import workflow
from bot.domain.classify import Neighbour
from bot.domain.courts import owners
from bot.domain.duplicates import CANDIDATES, candidate_words, similar
from bot.domain.models import Draft, Event, Reason, Request
from bot.domain.owners import place_asset
from bot.domain.parsing import within_limits
from bot.domain.triage import Route, route
from bot.usecases import learning
from bot.usecases.base import UseCases, people_of
from storage.outbox import CardUpdate, Ephemeral, FiledReply, Told
from storage.store import Tx


@dataclass(frozen=True)
class Filed:
    """The request filed (or found, `created=False`), and which of its fields were cut to what is stored."""

    request: Request
    created: bool
    cut: tuple[str, ...] = ()


class Filing(UseCases):
    """Filing requests, and what triage would decide."""

    def file_request(
        self,
        draft: Draft,
        *,
        origin_key: str | None = None,
        reply_in: FiledReply | None = None,
        within: Tx | None = None,
        at: datetime | None = None,
        assignee: str | None = None,
        assignee_reason: Reason | None = None,
        alike: list[int] | None = None,
    ) -> Filed:
        """Triage and store a new request, within the limits of what is stored, and queue its card.

        `origin_key` names what it came from (a Slack message, "msg:C1:1700000000.000100"; a hook's alert; the
        change whose answer asked for it): filing the same one twice returns the first request with
        `created=False`. `reply_in` queues the "Filed AIR-12 …" answer once: in a thread, ephemerally, or as a
        direct message; it says what was cut to fit (`parsing.within_limits`).

        What a machine files joins the unit of work it runs in: `within` (`at` its time), where the caller has
        looked for `origin_key` already (one filed before raises sqlite3.IntegrityError). `assignee` overrides
        triage's choice, and `assignee_reason` says why on the card; `alike`, the similar requests found before
        (`similar_to`), else looked for here. It is counted in the metrics once its unit has committed.
        """
        now = at or self._clock()
        draft, cut = within_limits(draft)
        chosen = {"assignee": assignee, "assignee_reason": assignee_reason}
        if within is not None:
            request = self._insert(within, draft, now, origin_key=origin_key, alike=alike, **chosen)
            return self._filed(within, request, cut, reply_in=reply_in, origin_key=origin_key, now=now)
        with self._store.reading() as rx:  # before the unit of work: the writer is not held for a search
            alike = self._similar(rx, draft, now) if alike is None else alike
            near = learning.nearest(rx, draft.title, draft.description)
        try:
            with self._unit() as tx:
                existing = tx.get_by_origin(origin_key) if origin_key else None
                if existing:
                    return Filed(existing, created=False)
                request = self._insert(tx, draft, now, origin_key=origin_key, alike=alike, neighbours=near, **chosen)
                return self._filed(tx, request, cut, reply_in=reply_in, origin_key=origin_key, now=now)
        except sqlite3.IntegrityError:
            with self._store.reading() as tx:
                found = tx.get_by_origin(origin_key or "")
            if found is None:
                raise
            return Filed(found, created=False)

    @staticmethod
    def _filed(
        tx: Tx,
        request: Request,
        cut: list[str],
        *,
        reply_in: FiledReply | None,
        origin_key: str | None,
        now: datetime,
    ) -> Filed:
        """The request filed in `tx`, with the answer to its filer queued (`reply_in`)."""
        if reply_in:
            reply = reply_in.model_copy(update={"cut": cut}) if cut else reply_in
            tx.outbox.enqueue(reply, at=now, request_id=request.id, key=f"reply:{origin_key or request.id}")
        return Filed(request, created=True, cut=tuple(cut))

    def similar_to(self, draft: Draft, now: datetime) -> list[int]:
        """The earlier requests that look like `draft` (the card's possible duplicates), in a read of its own."""
        with self._store.reading() as rx:
            return self._similar(rx, draft, now)

    def _insert(
        self,
        tx: Tx,
        draft: Draft,
        now: datetime,
        *,
        origin_key: str | None,
        assignee: str | None = None,
        assignee_reason: Reason | None = None,
        alike: list[int] | None = None,
        neighbours: tuple[Neighbour, ...] | None = None,
    ) -> Request:
        """`alike`, `neighbours`: the similar requests and nearest training examples, when found before `tx` began
        (else looked for in it)."""
        if draft.asset is not None:  # an asset says which domain it belongs to (InvalidInput for one the catalog lacks)
            draft = draft.model_copy(update={"domain": place_asset(draft.domain, draft.asset, self._config)})
        if neighbours is None:  # read in `tx` only when the words decide something (a hook names kind and domain)
            decided_already = not draft.kind_from_words and (
                draft.domain or self._config.domain_of_channel(draft.channel)
            )
            neighbours = () if decided_already else learning.nearest(tx, draft.title, draft.description)
        decided = self._route(tx, draft, now, neighbours)
        draft = draft.model_copy(update={"kind": decided.kind})
        if assignee is not None:
            decided = _assigned(decided, assignee, assignee_reason or Reason(kind="assigned", user=assignee))
        request = Request(
            id=0,
            kind=draft.kind,
            domain=decided.domain,
            title=draft.title,
            description=draft.description,
            priority=decided.priority,
            status="open",
            stage="requested" if draft.kind == "security_review" else None,
            requester=draft.requester,
            reporter=draft.reporter,
            assignee=decided.assignee,
            confidential=decided.confidential,
            source=draft.source,
            links=draft.links,
            origin_channel=draft.channel,
            origin_ts=draft.origin_ts,
            origin_private=draft.private,
            permalink=draft.permalink,
            card_channel=decided.channel,
            court="triage",
            route_reasons=decided.reasons,
            created_at=now,
            updated_at=now,
            asset=draft.asset,
        )
        request = request.model_copy(update={"court": workflow.working_court(request)})
        if alike is None:
            alike = self._similar(tx, draft, now)
        request = tx.insert_request(request, origin_key=origin_key)
        tx.after_commit(lambda: self._metrics.filed(kind=request.kind, domain=request.domain))
        if decided.assignee:
            tx.people.mark_assigned(decided.assignee, now)
        tx.add_event(
            Event(
                request_id=request.id,
                at=now,
                actor=draft.requester,
                type="created",
                data={
                    "kind": request.kind,
                    "domain": request.domain,
                    "assignee": request.assignee,
                    "priority": request.priority,
                    "source": request.source,
                    "confidential": request.confidential,
                    "reasons": [r.model_dump() for r in decided.reasons],
                    "court": request.court,
                    **({"asset": request.asset} if request.asset else {}),
                    **({"similar": alike} if alike else {}),
                    **({"reporter": draft.reporter} if draft.reporter else {}),
                    **({"unsure": decided.unsure} if decided.unsure else {}),
                },
            )
        )
        tx.outbox.enqueue(
            CardUpdate(homes=people_of(request.requester, request.reporter, request.assignee)),
            at=now,
            request_id=request.id,
        )
        if request.domain and not request.assignee:
            self._tell_everyone_away(tx, request, now)
        self._schedule_check(tx, request, now)
        return request

    def _similar(self, tx: Tx, draft: Draft, now: datetime) -> list[int]:
        """The ids of up to three earlier requests that look like `draft`, among the newest that share two of its words."""
        newest = tx.search.newest_sharing_two(candidate_words(draft.title, draft.description), limit=CANDIDATES)
        return similar(draft.title, draft.description, newest, now=now)

    def _tell_everyone_away(self, tx: Tx, request: Request, now: datetime) -> None:
        """A request triage could give nobody (every engineer, or reviewer, of its domain is away): its lead is
        told by direct message, once for this filing (the admins, when the domain has no lead)."""
        domain = self._config.domain(request.domain)
        if domain is None:
            return
        who = "reviewer" if request.is_security_review and domain.reviewers else "engineer"
        told = [domain.lead] if domain.lead else list(self._config.admins)
        if request.is_regression:  # a regression cannot wait for the unowned rule's hours: its owners hear at once too
            told = list(dict.fromkeys([*told, *owners(request, self._config)]))
        for person in told:
            told = Told(what="everyone_away", facts={"domain": domain.name, "who": who, "to": person})
            tx.outbox.enqueue(
                Ephemeral(user=person, told=told), at=now, request_id=request.id, key=f"all-away:{request.id}:{person}"
            )

    def _route(self, tx: Tx, draft: Draft, now: datetime, neighbours: tuple[Neighbour, ...] = ()) -> Route:
        """Triage, reading only what the decision needs: past requests' words only when nothing else
        routes it, and the open load (and who is away today) only of the chosen domain's candidates."""
        vocabulary = False
        decided = route(draft, self._config, replace(tx.routing_state(), neighbours=neighbours))
        if decided.domain is None:
            vocabulary = True
            decided = route(draft, self._config, replace(tx.routing_state(with_vocabulary=True), neighbours=neighbours))
        domain = self._config.domain(decided.domain)
        if domain is None:
            return decided
        candidates = [*domain.engineers, *domain.reviewers]
        state = tx.routing_state(people=candidates, with_vocabulary=vocabulary, on=self._today(now))
        return route(draft, self._config, replace(state, neighbours=neighbours))

    def preview(self, draft: Draft) -> Route:
        """What triage would decide for `draft` now (kind, domain, priority and why), writing nothing."""
        with self._store.reading() as rx:
            return self._route(rx, draft, self._clock(), learning.nearest(rx, draft.title, draft.description))


def _assigned(decided: Route, assignee: str, reason: Reason) -> Route:
    """`decided` with `assignee` instead of triage's choice, the reason for it in place of triage's (who it assigned,
    or that everyone was away)."""
    reasons = [r for r in decided.reasons if r.kind != "assigned" and not (r.kind == "unassigned" and r.how == "away")]
    return replace(decided, assignee=assignee, reasons=[*reasons[:1], reason, *reasons[1:]])


__all__ = ["Filing", "Filed"]

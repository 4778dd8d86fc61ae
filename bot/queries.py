"""Read use cases: one request, its status, a person's requests, a domain's queue, how each is listed.

Nothing here writes. Listeners, the outbox's senders and the console call these; the write use cases
live in `bot.service`.
"""

from bot.clock import Clock, system_clock
from bot.domain import authz
from bot.domain.errors import NotFound
from bot.domain.history import request_sla
from bot.domain.models import Event, Listed, Request, request_key
from bot.domain.parsing import parse_key
from bot.domain.policy import Config
from bot.domain.text import escape_within
from storage.store import UNROUTED, Store, Tx, Unrouted

TRIAGE = "triage"
"""The name `/ai-request queue triage` gives the requests no domain took."""


def load_request(tx: Tx, key: str) -> Request:
    """The request a typed key ("AIR-12", "12") names; NotFound, with a hint, when there is none."""
    request_id = parse_key(key)
    request = tx.get(request_id) if request_id else None
    if request is None:
        raise NotFound(f"There is no request “{escape_within(key, 24)}”. Keys look like {request_key(12)}.")
    return request


class Queries:
    """`clock` gives the current time (UTC), for SLA states."""

    def __init__(self, store: Store, config: Config, *, clock: Clock = system_clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock

    def get(self, request_id: int) -> Request | None:
        with self._store.reading() as tx:
            return tx.get(request_id)

    def find_by_thread(self, channel: str, thread_ts: str) -> Request | None:
        """The request whose card, or whose origin message, starts the thread (channel, thread_ts)."""
        with self._store.reading() as tx:
            return tx.by_thread(channel, thread_ts)

    def check(self, key: str, actor: str, action: str) -> Request:
        """The request, if `actor` may take `action` on it (raises NotFound / NotAllowed)."""
        with self._store.reading() as tx:
            request = load_request(tx, key)
        authz.authorize(self._config, request, actor, action)
        return request

    def status(self, key: str, actor: str) -> tuple[Request, list[Event]]:
        """The request and its history, for `actor` (NotAllowed when it is confidential and not theirs to see)."""
        with self._store.reading() as tx:
            request = load_request(tx, key)
            if request.confidential:
                authz.authorize(self._config, request, actor, "view")
            return request, tx.events(request.id)

    def mine(self, actor: str, *, limit: int = 20) -> tuple[list[Request], list[Request]]:
        """(assigned to the actor, filed by the actor), open ones, oldest first."""
        with self._store.reading() as tx:
            return tx.open_assigned_to(actor, limit=limit), tx.open_filed_by(actor, limit=limit)

    def queue(self, domain: str | None, *, limit: int = 20) -> tuple[list[Request], int]:
        """Open requests of a domain (None: all; "triage": unrouted), oldest first, and how many there are."""
        scope: str | None | Unrouted = UNROUTED if domain == TRIAGE else domain or None
        if isinstance(scope, str) and self._config.domain(scope) is None:
            names = ", ".join(d.name for d in self._config.domains) or "none configured"
            raise NotFound(f"There is no domain called “{escape_within(scope, 40)}”. Domains: {names}, or triage.")
        with self._store.reading() as tx:
            return tx.open_in_domain(scope, limit=limit), tx.count_open_in_domain(scope)

    def listed(self, requests: list[Request], *, viewer: str) -> dict[int, Listed]:
        """For each request: hide a confidential title from `viewer` unless they may see it, and its worst SLA state."""
        if not requests:
            return {}
        with self._store.reading() as tx:
            items = tx.by_ids_with_events([r.id for r in requests])
        now = self._clock()
        out = {}
        for request, events in items:
            sla = request_sla(request, events, self._config, now=now)
            states = {sla.first_response.state, sla.resolution.state}
            worst = next((s for s in ("breached", "at_risk") if s in states), "on_track" if request.is_open else None)
            hidden = request.confidential and not authz.can(self._config, request, viewer, "view")
            out[request.id] = Listed(redact=hidden, sla_state=worst)
        return out


__all__ = ["Queries", "load_request", "TRIAGE"]

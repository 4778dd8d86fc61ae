"""Read use cases: one request, its status, a person's requests, a domain's queue, an App Home's lists, search.

Nothing here writes. Listeners, the outbox's senders and the console call these; the write use cases
live in `bot.usecases.service`.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple

from bot.domain import authz
from bot.domain.duplicates import search_terms
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.models import ASSIGNED, FILED, PAGE_SIZE, Away, Event, Listing, Request, WithEvents, request_key
from bot.domain.parsing import parse_key
from bot.domain.policy import Config
from bot.domain.text import escape_within
from bot.domain.visibility import visible_to
from storage.store import UNROUTED, Store, Tx, Unrouted

SEARCH_PAGE = 10
SEARCH_LIMIT = 200
SEARCH_TEXT_LIMIT = 200
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
    """The read use cases over `store`; `config` says who may see what."""

    def __init__(self, store: Store, config: Config) -> None:
        self._store = store
        self._config = config

    def get(self, request_id: int) -> Request | None:
        with self._store.reading() as tx:
            return tx.get(request_id)

    def by_ids(self, ids: Sequence[int]) -> dict[int, Request]:
        """The requests with these ids that exist, by id."""
        with self._store.reading() as tx:
            return {r.id: r for r in tx.requests_by_ids(ids)}

    def find_by_thread(self, channel: str, thread_ts: str) -> Request | None:
        """The request whose card, or whose origin message, starts the thread (channel, thread_ts)."""
        with self._store.reading() as tx:
            return tx.by_thread(channel, thread_ts)

    def channel_private(self, channel: str, *, checked_since: datetime) -> bool | None:
        """Whether `channel` is private, as Slack said at `checked_since` or later (None: not known that recently)."""
        with self._store.reading() as tx:
            return tx.channels.channel_private(channel, checked_since=checked_since)

    def authorized_request(self, key: str, actor: str, action: str) -> Request:
        """The request, if `actor` may take `action` on it (raises NotFound / NotAllowed)."""
        with self._store.reading() as tx:
            request = load_request(tx, key)
        authz.authorize(self._config, request, actor, action)
        return request

    def status(self, key: str, actor: str) -> tuple[Request, list[Event]]:
        """The request and its history, for `actor` (NotAllowed when it is confidential and not theirs to see)."""
        with self._store.reading() as tx:
            request = load_request(tx, key)
            if not visible_to(self._config, request, user=actor):
                raise authz.refusal(request, "view")
            return request, tx.events(request.id)

    def mine(self, actor: str, *, page: int = 1) -> tuple[Listing, Listing]:
        """(assigned to the actor, filed by the actor): open ones, oldest first, `PAGE_SIZE` a page."""
        return self._mine(actor, assigned_page=page, filed_page=page)

    def _mine(self, actor: str, *, assigned_page: int, filed_page: int) -> tuple[Listing, Listing]:
        """`mine`, each list at its own page."""
        skip_assigned, skip_filed = (assigned_page - 1) * PAGE_SIZE, (filed_page - 1) * PAGE_SIZE
        with self._store.reading() as tx:
            assigned = tx.by_ids_with_events(
                [r.id for r in tx.open_assigned_to(actor, limit=PAGE_SIZE, offset=skip_assigned)]
            )
            filed = tx.by_ids_with_events([r.id for r in tx.open_filed_by(actor, limit=PAGE_SIZE, offset=skip_filed)])
            return (
                Listing(assigned, tx.count_open_assigned_to(actor), skip_assigned),
                Listing(filed, tx.count_open_filed_by(actor), skip_filed),
            )

    def queue(self, domain: str | None, *, page: int = 1) -> Listing:
        """Open requests of a domain (None: all; "triage": unrouted), oldest first, `PAGE_SIZE` a page."""
        scope: str | None | Unrouted = UNROUTED if domain == TRIAGE else domain or None
        if isinstance(scope, str) and self._config.domain(scope) is None:
            names = ", ".join(d.name for d in self._config.domains) or "none configured"
            raise NotFound(f"There is no domain called “{escape_within(scope, 40)}”. Domains: {names}, or triage.")
        skip = (page - 1) * PAGE_SIZE
        with self._store.reading() as tx:
            found = tx.by_ids_with_events([r.id for r in tx.open_in_domain(scope, limit=PAGE_SIZE, offset=skip)])
            return Listing(found, tx.count_open_in_domain(scope), skip)

    def search(self, text: str, viewer: str, *, page: int = 1, per_page: int = SEARCH_PAGE) -> "SearchPage":
        """Past requests whose title or description hold every word of `text` (or a longer form of it), best
        match first, `per_page` at a time. Confidential ones are left out unless `viewer` may see them (a
        match would say what they are about). InvalidInput when `text` has no word to look for."""
        terms, dropped = search_terms(text[:SEARCH_TEXT_LIMIT])
        if not terms:
            raise InvalidInput("Say what to look for, e.g. `/ai-request search refund window`.")
        with self._store.reading() as tx:
            ranked = tx.search.ranked(terms, any_word=False, prefix=True, limit=SEARCH_LIMIT)
            found = {r.id: r for r in tx.requests_by_ids(ranked)}
            visible = [i for i in ranked if i in found and visible_to(self._config, found[i], user=viewer)]
            pages = max(1, -(-len(visible) // per_page))
            page = min(max(page, 1), pages)
            shown = visible[(page - 1) * per_page : page * per_page]
            loaded = {r.id: (r, events) for r, events in tx.by_ids_with_events(shown)}
        return SearchPage(terms, [loaded[i] for i in shown if i in loaded], len(visible), page, pages, tuple(dropped))

    def home(self, user: str, *, on: date, section: str | None = None, page: int = 1) -> "HomeData":
        """What `user`'s App Home lists: their requests and the queues of the domains they belong to, each at its
        first page but `section` ("assigned", "filed" or a domain's name), which is at `page`."""

        def at(name: str) -> int:
            return page if name == section else 1

        assigned, filed = self._mine(user, assigned_page=at(ASSIGNED), filed_page=at(FILED))
        queues = [(d.name, self.queue(d.name, page=at(d.name))) for d in self._config.member_domains(user)]
        listed = [r for listing in (assigned, filed, *(q for _, q in queues)) for r, _ in listing.items]
        return HomeData(
            assigned=assigned,
            filed=filed,
            queues=queues,
            away=self.away(user, on=on),
            people_away=self.away_among((r.assignee for r in listed), on=on),
        )

    def away_among(self, people: Iterable[str | None], *, on: date) -> dict[str, Away]:
        """Who of `people` is away on the day `on` (by their own word, or the config's `away`), by user."""
        wanted = sorted({p for p in people if p})
        with self._store.reading() as tx:
            said = {a.user: a for a in tx.people.away_among(wanted, on=on)} if wanted else {}
        listed = {u: Away(u, None, in_config=True) for d in self._config.domains for u in d.away if u in wanted}
        return {**listed, **said}

    def away(self, user: str, *, on: date) -> Away | None:
        """Whether `user` is away on the day `on`: by their own word (`/ai-request away`), or in the config's `away`
        of a domain (then with no end: the config says until when)."""
        with self._store.reading() as tx:
            said = tx.people.away_among([user], on=on)
        if said:
            return said[0]
        return Away(user, None, in_config=True) if any(user in d.away for d in self._config.domains) else None


class SearchPage(NamedTuple):
    """One page of `/ai-request search`: the requests on it (best match first, with their events), how many
    requests the viewer may see match, the page's number and how many pages there are."""

    words: list[str]
    items: list[WithEvents]
    total: int
    page: int
    pages: int
    dropped: tuple[str, ...] = ()
    """Words of the text that were not looked for (too short or too common)."""


class HomeData(NamedTuple):
    """The App Home's lists, each one page: open requests assigned to and filed by the person, and each
    domain's queue (by name) for the domains they belong to; and whether the person is away."""

    assigned: Listing
    filed: Listing
    queues: list[tuple[str, Listing]]
    away: Away | None = None
    people_away: dict[str, Away] = {}
    """Who of the assignees listed is away (their lines show 🌴 and the day they are back)."""


__all__ = ["Queries", "HomeData", "SearchPage", "load_request", "TRIAGE"]

"""Keeping each request's facts (`bot.domain.facts`) true: the function every unit of work keeps them with, the
catch-up when the bot starts (a database from before the facts, facts of an older version, a changed config), and
the check of `ai-intake doctor`: recompute every request's facts from its event log and compare.

The event log is the source of truth; the facts are what the digest and the export read instead of replaying it.
"""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.domain.facts import FACTS_VERSION, RequestFacts, request_facts
from bot.domain.models import Event, Request, request_key
from bot.domain.policy import Config
from storage.facts import clock_rows, fact_row
from storage.store import FactsOf, Store

log = logging.getLogger(__name__)
PAGE = 500
"""Requests read (with their events) at a time."""
CHUNK_SECONDS = 0.04
"""A catch-up holds the writer for one unit of at most about this long, then intake goes first."""
AT_ONCE = 5000
"""A catch-up of at most this many requests runs before the bot serves; a bigger one (an upgrade of a large
database) runs beside it, and the digest waits for it."""


def facts_of(config: Config) -> FactsOf:
    """What a `Store` keeps each changed request's facts with: `request_facts` under `config`."""

    def compute(request: Request, events: list[Event]) -> RequestFacts:
        return request_facts(request, events, config)

    return compute


def config_basis(config: Config) -> str:
    """A fingerprint of the config the facts were computed under (business hours, holidays, SLA targets, who is
    in each domain … all of it: any change may move them)."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(f"{FACTS_VERSION}:{text}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Difference:
    """A request whose stored facts are not what its event log says (`stored` None: none are kept)."""

    request_id: int
    stored: RequestFacts | None
    computed: RequestFacts

    @property
    def key(self) -> str:
        return request_key(self.request_id)

    def what(self) -> str:
        """Which facts differ, in a few words."""
        if self.stored is None:
            return "no facts kept"
        if self.stored.version != self.computed.version:
            return f"facts of version {self.stored.version}, not {self.computed.version}"
        parts = []
        if clock_rows(self.stored) != clock_rows(self.computed):
            parts.append("SLA clocks")
        names = (
            "version",
            "court",
            "court since",
            "court times",
            "silence",
            "last human action",
            "stalled since",
            "unowned since",
            "snoozed until",
            "snoozed by",
        )
        stored, computed = fact_row(self.stored)[1:], fact_row(self.computed)[1:]
        parts += [name for name, a, b in zip(names, stored, computed) if a != b]
        return ", ".join(parts) or "nothing"


def same(a: RequestFacts, b: RequestFacts) -> bool:
    """Whether two facts are stored alike (the database's view: times to the microsecond, in UTC)."""
    return fact_row(a) == fact_row(b) and clock_rows(a) == clock_rows(b)


class Facts:
    """The facts' use cases over `store` under `config`; a catch-up of more than `at_once` requests runs beside
    the bot."""

    def __init__(self, store: Store, config: Config, *, at_once: int = AT_ONCE) -> None:
        self._store = store
        self._at_once = at_once
        self._config = config
        self._basis = config_basis(config)
        self._ready = threading.Event()
        self._ready.set()

    # -- when the bot starts -----------------------------------------------------------------------
    def prepare(self) -> None:
        """Bring the facts up to date when the bot starts: compute those missing or of an older version, and those
        of the open requests when the config changed since they were computed (closed requests keep the facts they
        closed with). A small catch-up runs now; a big one in a thread of its own (`wait` waits for it)."""
        with self._store.reading() as tx:
            state = tx.facts.basis()
            outdated = (
                tx.facts.count_outdated(version=FACTS_VERSION) if state is None or state[0] != FACTS_VERSION else 0
            )
            reopen = state is not None and state[1] != self._basis
            work = outdated + (tx.count_open_in_domain(None) if reopen else 0)
        if state is not None and not outdated and not reopen:
            return
        if work <= self._at_once:
            self._catch_up(reopen=reopen)
            return
        log.info("computing the facts of %d requests (once, after an upgrade or a change of the config)", work)
        self._ready.clear()
        threading.Thread(target=self._catch_up, kwargs={"reopen": reopen}, name="ai-intake-facts", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until a catch-up running beside the bot is done (True), or `timeout` seconds pass (False)."""
        return self._ready.wait(timeout)

    def _catch_up(self, *, reopen: bool) -> None:
        try:
            started = time.monotonic()
            count = self.rewrite(self._outdated_ids())
            if reopen:
                count += self.rewrite(self._open_ids())
            with self._store.transaction(background=True) as tx:
                tx.facts.set_basis(version=FACTS_VERSION, basis=self._basis)
            if count:
                log.info("computed the facts of %d requests in %.1f s", count, time.monotonic() - started)
        finally:
            self._ready.set()

    def _outdated_ids(self) -> Iterator[list[int]]:
        after = 0
        while True:
            with self._store.reading() as tx:
                ids = tx.facts.outdated(version=FACTS_VERSION, after=after, limit=PAGE)
            if not ids:
                return
            yield ids
            after = ids[-1]

    def _open_ids(self) -> Iterator[list[int]]:
        offset = 0
        while True:
            with self._store.reading() as tx:
                ids = [r.id for r in tx.open_in_domain(None, limit=PAGE, offset=offset)]
            if not ids:
                return
            yield ids
            offset += len(ids)

    def rewrite(self, pages: Iterator[list[int]]) -> int:
        """Recompute and store the facts of the requests in `pages` (lists of ids), in units of about
        `CHUNK_SECONDS`; how many were written."""
        count = 0
        for page in pages:
            ids = list(page)
            while ids:
                with self._store.transaction(background=True) as tx:
                    started = time.monotonic()
                    while ids and time.monotonic() - started < CHUNK_SECONDS:
                        items = tx.by_ids_with_events(ids[:50])
                        tx.facts.put(request_facts(r, events, self._config) for r, events in items)
                        count += len(items)
                        del ids[:50]
        return count

    # -- ai-intake doctor ----------------------------------------------------------------------------
    def check(self, *, on_page: Callable[[int], None] | None = None) -> Iterator[Difference]:
        """Every request whose stored facts differ from those its event log gives under the config, by id, read
        `PAGE` at a time (each page in one short read); `on_page(n)` is told how many were checked so far."""
        last, checked = 0, 0
        while True:
            with self._store.reading() as tx:
                items = tx.page_after(last, limit=PAGE)
                stored = tx.facts.of([r.id for r, _ in items])
            for request, events in items:
                computed = request_facts(request, events, self._config)
                kept = stored.get(request.id)
                if kept is None or not same(kept, computed):
                    yield Difference(request.id, kept, computed)
            checked += len(items)
            if on_page:
                on_page(checked)
            if len(items) < PAGE:
                return
            last = items[-1][0].id

    def fix(self, ids: list[int]) -> int:
        """Recompute and store the facts of these requests from their logs; how many were written."""
        return self.rewrite(iter([sorted(ids)[i : i + PAGE] for i in range(0, len(ids), PAGE)]))

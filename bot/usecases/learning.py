"""Triage's training examples on the service's side: filling the fixed ones when the bot starts, reading the
nearest ones before a request is filed, and turning the team's corrections into examples.

The fixed examples are the shipped seed (`bot.seed`, its `learn` part) and one per domain (its description,
keywords and catalog assets); they are replaced when either changes. Corrections count from the commit that
made them: the next request filed reads them, with no restart.
"""

from datetime import datetime

from bot.domain.classify import NEIGHBOURS, Neighbour
from bot.domain.models import Request
from bot.domain.policy import Config
from bot.domain.triage import words
from bot.seed import fixed_examples
from storage.store import Store, Tx

QUERY_WORDS = 24
LESSONS = {"set_kind": "correction", "move": "move", "duplicate": "duplicate", "resolve": "resolved"}
"""The changes triage learns from, and the origin each example is kept under (`classify.ORIGIN_WEIGHT`)."""


def prepare(store: Store, config: Config) -> bool:
    """Put the seed and the domains' descriptions in place when they changed since the last start; True when it did."""
    rows, fingerprint = fixed_examples(config)
    with store.reading() as rx:
        if rx.training.fingerprint() == fingerprint:
            return False
    with store.transaction(background=True) as tx:
        tx.training.replace_fixed(rows, fingerprint=fingerprint)
    return True


def nearest(tx: Tx, title: str, description: str) -> tuple[Neighbour, ...]:
    """The training examples nearest to a request's words (bounded: the table is, whatever the size of history)."""
    query = list(dict.fromkeys(words(f"{title}\n{description}")))[:QUERY_WORDS]
    return tuple(tx.training.nearest(query, limit=NEIGHBOURS))


def learn(tx: Tx, action: str, after: Request, *, now: datetime, of: Request | None = None) -> None:
    """Keep what `action` settled about `after` as a training example: a corrected kind, a move, a duplicate (the
    original's kind and domain, `of`), a resolution (its kind and domain as they ended). Nothing for other actions,
    nor for a confidential request (its words stay where its people can see them)."""
    origin = LESSONS.get(action)
    if origin is None or after.confidential:
        return
    kind, domain = (of.kind, of.domain) if of is not None else (after.kind, after.domain)
    if origin == "resolved" and domain is None:
        return
    tx.training.learn(
        request_id=after.id, text=f"{after.title}\n{after.description}", kind=kind, domain=domain, origin=origin, at=now
    )

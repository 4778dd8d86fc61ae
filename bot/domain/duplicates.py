"""Possible duplicates: which earlier requests a new one looks like, and closing one as a duplicate of
another. Pure: the candidates come ranked by the full-text index; the time is passed in.

A candidate is similar when it shares at least two meaningful words with the new request's title and
description (one, when the new request has only one), is open or was closed in the last 30 days, and
is not the request itself. The card lists at most three, best match first.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.domain import workflow
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.models import Event, Request
from bot.domain.triage import words

SIMILAR_LIMIT = 3
RECENT_DAYS = 30
QUERY_WORDS = 16
DUPLICATE = "duplicate"
DUPLICATE_LINKED = "duplicate_linked"


def query_words(title: str, description: str) -> list[str]:
    """The words a request is searched by: its title's and description's meaningful words, once each, title first."""
    return list(dict.fromkeys(words(f"{title}\n{description}")))[:QUERY_WORDS]


def similar(request: Request, candidates: Sequence[Request], *, now: datetime) -> list[int]:
    """The ids of up to three `candidates` (ranked, best first) that look like `request`."""
    mine = set(query_words(request.title, request.description))
    needed = min(2, len(mine))
    if needed == 0:
        return []
    found = []
    for other in candidates:
        recent = other.is_open or (other.resolved_at is not None and now - other.resolved_at <= timedelta(days=RECENT_DAYS))
        shared = mine & set(words(f"{other.title}\n{other.description}"))
        if other.id != request.id and recent and len(shared) >= needed:
            found.append(other.id)
    return found[:SIMILAR_LIMIT]


def similar_ids(events: Sequence[Event]) -> list[int]:
    """The similar requests recorded when the request was filed (its `created` event's `similar`)."""
    created = next((e for e in events if e.type == "created"), None)
    ids = created.data.get("similar", []) if created else []
    return [i for i in ids if isinstance(i, int)]


def close_as_duplicate(request: Request, original: Request, actor: str, now: datetime) -> workflow.Change:
    """Close `request` as a duplicate of `original`: declined, nobody's court, the link in its event."""
    if original.id == request.id:
        raise InvalidInput(f"{request.key} cannot be a duplicate of itself.")
    if not request.is_open:
        raise Conflict(f"{request.key} is {request.status} already.")
    data: dict[str, Any] = {"of": original.key}
    return workflow.Change({"status": "declined", "court": "nobody", "resolved_at": now}, DUPLICATE,
                           f"<@{actor}> closed this as a duplicate of {original.key}.", data)

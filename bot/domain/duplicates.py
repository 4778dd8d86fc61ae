"""Possible duplicates: which earlier requests a new one looks like, and closing one as a duplicate of
another. Pure: the candidates come ranked by the full-text index; the time is passed in.

A candidate is similar when it shares at least two meaningful words with the new request's title and
description (one, when the new request has only one) and is open or was closed in the last 30 days. The
candidates are the newest requests sharing two of its first eight words, title first (`CANDIDATES` of
them, whatever the size of history); the card lists at most three, those sharing the most words first, then the newest.
"""

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from bot.domain import workflow
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.models import OPEN_STATUSES, Event, Request
from bot.domain.triage import words

SIMILAR_LIMIT = 3
RECENT_DAYS = 30
QUERY_WORDS = 16
CANDIDATES = 20
PAIR_WORDS = 8
DUPLICATE = "duplicate"
DUPLICATE_LINKED = "duplicate_linked"


def query_words(title: str, description: str) -> list[str]:
    """The words a request is searched by: its title's and description's meaningful words, once each, title first."""
    return list(dict.fromkeys(words(f"{title}\n{description}")))[:QUERY_WORDS]


_SEARCH_WORD = re.compile(r"[a-z0-9][a-z0-9'_-]*")


def search_terms(text: str) -> tuple[list[str], list[str]]:
    """The words `/ai-request search` looks for, and those it leaves out (too short or too common to mean
    anything, like "the" or "a"). A word holding a digit is always kept: "14 days" looks for "14" too."""
    kept: list[str] = []
    dropped: list[str] = []
    meaningful = set(words(text))
    for word in dict.fromkeys(_SEARCH_WORD.findall(text.lower())):
        (kept if word in meaningful or any(c.isdigit() for c in word) else dropped).append(word)
    return kept[:QUERY_WORDS], dropped


class Candidate(NamedTuple):
    """An earlier request as the similarity rule reads it."""

    id: int
    title: str
    description: str
    status: str
    resolved_at: datetime | None


def candidate_words(title: str, description: str) -> list[str]:
    """The words the candidates must share two of: the first `PAIR_WORDS` of `query_words` (each pair is a
    term of the index's query, so their number bounds its cost)."""
    return query_words(title, description)[:PAIR_WORDS]


def similar(title: str, description: str, candidates: Sequence[Candidate], *, now: datetime) -> list[int]:
    """The ids of up to three `candidates` that look like a new request of `title` and `description`: the
    most words shared first, the newest first among equals."""
    mine = set(query_words(title, description))
    needed = min(2, len(mine))
    if needed == 0:
        return []
    scored = []
    for other in candidates:
        recent = other.status in OPEN_STATUSES or (other.resolved_at is not None and now - other.resolved_at <= timedelta(days=RECENT_DAYS))
        shared = len(mine & set(words(f"{other.title}\n{other.description}")))
        if recent and shared >= needed:
            scored.append((-shared, -other.id))
    return [-i for _, i in sorted(scored)[:SIMILAR_LIMIT]]


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

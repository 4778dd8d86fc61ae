"""Possible duplicates: which earlier requests a new one looks like, and closing one as a duplicate of
another. Pure: the candidates come ranked by the full-text index; the time is passed in.

A candidate is similar when it is alike by `likeness` of their `terms` (at least `MATCH_MIN`), does not ask
for another kind of thing (`ask`: "stopped answering in French" and "an eval set for French answers" share
their subject, not their request), and is open or was closed in the last 30 days. The candidates are the
newest requests sharing two of its first eight words, title first (`CANDIDATES` of them, whatever the size of
history); the card lists at most three, the likest first, then those sharing the most terms, then the newest.
"""

import functools
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from bot.domain import workflow
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.models import OPEN_STATUSES, Event, Request
from bot.domain.classify import _STOPWORDS as _STOP
from bot.domain.classify import KIND_CUES, _found, words

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


BOILERPLATE = (re.compile(r"^Filed by the .{1,80} hook \(its id: .{0,200}\)\.$", re.MULTILINE),)
"""What the bot itself writes into descriptions (a hook's regression names the hook): no match is made of it."""
COMMON = frozenset(
    "bot bots assistant ai customer customers user users people team anymore again today morning since still now "
    "just really also like want get got make see seems way new one all any every some thing things".split()
)
"""Words most requests share: they decide no match."""
_TOKEN = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ing", "ies", "ed", "es", "s")
MATCH_MIN = 0.3
"""The share of the shorter request's terms another must hold to be suggested, chosen for precision on the
labelled pairs (bench/triage.py)."""


# A new request is held against the newest requests like it, the same few for the filings that follow it: their
# terms and asks are remembered by text (pure functions of it), so each is read once, not at every filing.
TEXTS_REMEMBERED = 4096


@functools.lru_cache(maxsize=TEXTS_REMEMBERED)
def terms(text: str) -> frozenset[str]:
    """The terms a match is made of: words split at hyphens ("14-day" is 14 and day), their endings cut so word
    forms agree (days, day; refunds, refund), without the bot's boilerplate, stop words and `COMMON` words."""
    for pattern in BOILERPLATE:
        text = pattern.sub("", text)
    out = set()
    for token in _TOKEN.findall(text.lower()):
        if token in COMMON or (len(token) < 3 and not token.isdigit()) or token in _STOP:
            continue
        for suffix in _SUFFIXES:
            if len(token) > len(suffix) + 2 and token.endswith(suffix):
                token = token[: -len(suffix)]
                break
        if token not in COMMON:
            out.add(token[:7])
    return frozenset(out)


def likeness(a: frozenset[str], b: frozenset[str]) -> float:
    """The share of the shorter set's terms the other holds (0 when either is empty or they share fewer than two)."""
    shared = len(a & b)
    if shared < min(2, len(a), len(b)) or not a or not b:
        return 0.0
    return shared / min(len(a), len(b))


@functools.lru_cache(maxsize=TEXTS_REMEMBERED)
def ask(text: str) -> frozenset[str]:
    """The kinds of thing `text` asks for by its own phrases (`classify.KIND_CUES`: "stopped …ing", "eval set",
    "privacy review", "can we add"): those with the most of them (two when they tie), none when no phrase speaks."""
    counts = {kind: len(_found(patterns, text)) for kind, patterns in KIND_CUES.items()}
    most = max(counts.values(), default=0)
    return frozenset(kind for kind, count in counts.items() if most and count == most)


def other_asks(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when two requests' phrases ask for different kinds of thing (a regression and an eval of the same
    feature): they are not duplicates, however many words they share. Either saying nothing decides nothing."""
    return bool(a) and bool(b) and not a & b


def similar(title: str, description: str, candidates: Sequence[Candidate], *, now: datetime) -> list[int]:
    """The ids of up to three `candidates` that look like a new request of `title` and `description` (`likeness`
    at least `MATCH_MIN`), asking for no other kind of thing (`other_asks`), open or closed in the last 30 days:
    the likest first, then those sharing the most terms, then the newest."""
    mine = terms(f"{title}\n{description}")
    asked = ask(f"{title}\n{description}")
    if not mine:
        return []
    scored = []
    for other in candidates:
        recent = other.status in OPEN_STATUSES or (
            other.resolved_at is not None and now - other.resolved_at <= timedelta(days=RECENT_DAYS)
        )
        theirs = terms(f"{other.title}\n{other.description}")
        score = likeness(mine, theirs)
        if recent and score >= MATCH_MIN and not other_asks(asked, ask(f"{other.title}\n{other.description}")):
            scored.append((-score, -len(mine & theirs), -other.id))
    return [-i for _, _, i in sorted(scored)[:SIMILAR_LIMIT]]


def similar_ids(events: Sequence[Event]) -> list[int]:
    """The similar requests recorded when the request was filed (its `created` event's `similar`)."""
    created = next((e for e in events if e.type == "created"), None)
    ids = created.data.get("similar", []) if created else []
    return [i for i in ids if isinstance(i, int)]


def close_as_duplicate(request: Request, original: Request, actor: str, now: datetime) -> workflow.Transition:
    """Close `request` as a duplicate of `original`: declined, nobody's court, the link in its event."""
    if original.id == request.id:
        raise InvalidInput(f"{request.key} cannot be a duplicate of itself.")
    if not request.is_open:
        raise Conflict(f"{request.key} is {request.status} already.")
    data: dict[str, Any] = {"of": original.key}
    return workflow.Transition(
        {"status": "declined", "court": "nobody", "resolved_at": now}, DUPLICATE, data, line=DUPLICATE, said=data
    )

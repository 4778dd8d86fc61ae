"""Reading a request's words: its kind, how urgent it is and which domain its neighbours belong to. Pure.

Two layers, both explainable on the card:
- a few phrase rules (`KIND_CUES`, `URGENT_CUES`, `RAISING_CUES`): "stopped answering", "since this
  morning", "went out twice" say regression; "all users", "down", "someone else's order" say P1;
- the nearest training examples (`Neighbour`: the shipped seed, each domain's description, and the
  requests the team corrected, moved, marked duplicate or resolved), found by the full-text index
  (bm25, porter stems) and voting with their weight.

A cue counts `CUE_WEIGHT` against the neighbours' votes, which add up to 1; a request with neither
is a question. When the runner-up scores `UNSURE_RATIO` of the winner or more, the triage is unsure
and says between which two.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache


_WORD = re.compile(r"[a-z0-9][a-z0-9'_-]+")
_STOPWORDS = frozenset(
    "the and for with that this from have what when will would could should about into your their there "
    "which while were been being does doesn't dont can't cannot please need help some more than them they".split()
)


def words(text: str) -> list[str]:
    """The meaningful lower-case words of `text` (for keyword and similarity matching)."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOPWORDS]


ORIGIN_WEIGHT = {
    "seed": (1.0, 1.0),
    "config": (1.0, 3.0),
    "resolved": (1.5, 1.5),
    "move": (1.0, 3.0),
    "correction": (3.0, 1.0),
    "duplicate": (1.5, 1.5),
}
"""How much one training example counts for its (kind, domain), by where it came from: what the team corrected
counts most — a kind changed for the kind, a move for the domain."""
CUE_WEIGHT = 0.6
UNSURE_RATIO = 0.8
NEIGHBOURS = 12
FALLBACK_KIND = "question"


@dataclass(frozen=True)
class Neighbour:
    """A training example near the new request: `score` the index's bm25 relevance (higher is nearer)."""

    kind: str | None
    domain: str | None
    origin: str
    score: float
    text: str = ""
    key: str | None = None

    def weight(self, label: str = "kind") -> float:
        """How much it counts for its `label` ("kind" or "domain")."""
        kind_weight, domain_weight = ORIGIN_WEIGHT.get(self.origin, (1.0, 1.0))
        return self.score * (kind_weight if label == "kind" else domain_weight)


SHARED_MIN = 2
PREFIX = 5
UNBACKED = 0.25
"""How much a neighbour sharing a single word with the request counts (a learned one for its kind, any for its
domain): one common word is little evidence."""


def _stems(words: Iterable[str]) -> set[str]:
    return {w[:PREFIX] for w in words}


@lru_cache(maxsize=256)
def _stems_of(text: str) -> frozenset[str]:
    return frozenset(_stems(words(text)))


def supported(query: Sequence[str], neighbours: Sequence[Neighbour]) -> tuple[Neighbour, ...]:
    """The `neighbours` that share at least `SHARED_MIN` of the `query` words (compared by their first `PREFIX`
    letters, so word forms agree), or one when the query has only one: a single common word decides nothing."""
    mine = _stems(query)
    needed = min(SHARED_MIN, len(mine))
    if needed == 0:
        return ()
    return tuple(n for n in neighbours if len(mine & _stems_of(n.text)) >= needed)


def topic_words(text: str) -> list[str]:
    """`words` of `text` less those of its kind phrases (`KIND_CUES`: "security review", "eval cases", "stopped
    working"): what it is about rather than what it asks, which is what a domain is told by."""
    asked = {w for kind in KIND_CUES.values() for fragment in _found(kind, text) for w in words(fragment)}
    return [w for w in words(text) if w not in asked]


@dataclass(frozen=True)
class Guess:
    """What the words say: the `choice`, why, and the runner-up when unsure (None: sure enough). Why, as facts
    (`bot.blocks.reasons` words them): `how` "cues" (the phrases found, `cues`), "examples" (the nearest requests
    that chose the same, `keys`, else a seed `example`'s words), "nothing" (no word said otherwise), "" (typed)."""

    choice: str | None
    how: str = ""
    runner_up: str | None = None
    cues: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    example: str | None = None


def _cues(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


_ING = r"[a-z]+ing"
_SINCE = r"since (?:this morning|yesterday|today|last (?:night|week|friday|monday)|the (?:last )?(?:deploy|release|update|upgrade|rollout|switch)\b|(?:mon|tues|wednes|thurs|fri)day|\d{1,2}(?::\d\d)?\s?(?:am|pm)?\b|v?\d[\d.]*)"
KIND_CUES: dict[str, list[re.Pattern[str]]] = {
    "regression": _cues(
        rf"\bstopped {_ING}\b",
        r"\b(?:no longer|doesn'?t|does not|won'?t|isn'?t|not) \w+(?: \w+)? ?(?:anymore|any more)\b",
        r"\bno longer\b",
        r"\b" + _SINCE,
        r"\bwent out (?:twice|two times|2x)\b",
        r"\b(?:twice|2x) to the same\b",
        r"\b(?:after|since) (?:the |yesterday'?s |last )?(?:deploy|release|rollout|upgrade|update|switch|swap|change)\b",
        r"\bgot (?:way |much |noticeably |really |weirdly )?(?:worse|slower|longer)\b",
        r"\bregress(?:ed|ion)\b(?! tests?\b)",
        r"\b(?:broke|broken)\b",
        r"\bagain\b",
        r"\bused to\b",
        r"\bstarted (?:to )?\w+ing\b",
        r"\bsuddenly\b",
        r"\bovernight\b",
        r"\b(?:is|are|went) down\b",
        r"\bfailing\b",
        r"\bvanished\b",
        r"\bdisappeared\b",
    ),
    "security_review": _cues(
        r"\bsecurity\b",
        r"\bprivacy\b",
        r"\bgdpr\b",
        r"\bdpa\b",
        r"\bdpia\b",
        r"\bpii\b",
        r"\bpen ?test\b",
        r"\bthreat model\b",
        r"\bsign ?off\b",
        r"\bvendor risk\b",
        r"\bsoc ?2\b",
        r"\bconsent\b",
        r"\bretention\b",
        r"\bprompt injection\b",
        r"\bjailbreak\b",
        r"\bleak(?:s|ing|ed)?\b",
        r"\bexposure\b",
        r"\bpermissions?\b",
        r"\bis (?:it|that|this) (?:ok|okay|allowed)\b",
        r"\baccess to\b",
        r"\bapi (?:key|token)\b",
    ),
    "eval": _cues(
        r"\bevals?\b",
        r"\bevaluat\w*",
        r"\btest (?:set|cases?|suite|conversations)\b",
        r"\bgolden (?:set|dataset)\b",
        r"\bbenchmark\w*",
        r"\bcoverage\b",
        r"\bmeasured?\b",
        r"\bmetrics?\b",
        r"\blabell?ed set\b",
        r"\bholdout\b",
        r"\bndcg\b",
        r"\bregression tests?\b",
        r"\bprecision@\d\b",
        r"\bcalibration\b",
        r"\bedge cases\b",
        r"\bhuman ratings\b",
        r"\bscore the\b",
    ),
    "feature": _cues(
        r"\b(?:can|could) (?:we|you|the|someone)\b.*\b(?:add|get|have|make|build|use|support|handle|offer|show|generate|teach|integrate|personalise|rank|detect|trigger|understand|answer|suggest|exclude|translate|write)\b",
        r"\bwould (?:be|love)\b",
        r"\bit'?d be\b",
        r"\bwe'?d (?:love|like)\b",
        r"\bwe (?:want|need) (?:a|an|the|product|to)\b",
        r"\bidea\b",
        r"\bfeature(?: ask| request| idea)?:",
        r"\bfeature (?:ask|request|idea)\b",
        r"\brequest(?: for)?:",
        r"\bsuggestion\b",
        r"\bnew(?: capability| feature)?:",
        r"^(?:add|build|make|let|integrate|please add|please support)\b",
        r"\bask:",
    ),
    "question": _cues(
        r"^(?:how|what|what'?s|which|who|where|why|when|is|are|does|do|can i|quick q)\b(?=[^.!]*\?)",
        r"\bquick (?:q|question)\b",
        r"\bdoes anyone know\b",
        r"\bcurious\b",
        r"\bis there a (?:way|dashboard|budget|list|sandbox)\b",
    ),
}
"""Phrases that say which kind a request is; the card quotes the ones it found."""

URGENT_CUES = _cues(
    r"\b(?:all|every|any) (?:users?|customers?|products?)\b",
    r"\bfor everyone\b",
    r"\bsite ?wide\b",
    r"\b(?:is|are) down\b",
    r"\bdown for\b",
    r"\b500s?\b",
    r"\bsomeone else'?s\b",
    r"\bother customers'?\b",
    r"\banother customer'?s\b",
    r"\bdata exposure\b",
    r"\bexposed?\b",
    r"\bleak(?:s|ing|ed)?\b",
    r"\bcredit card\b",
    r"\bpassport\b",
    r"\bpublic (?:github|repo)\b",
    r"\bcommitted\b",
    r"\b\d+ ?% discount\b",
    r"\bunsubscribed\b",
    r"\bpromised refunds\b",
    r"\bright (?:now|away)\b",
    r"\basap\b",
    r"!!",
)
"""Phrases that make a request P1: people affected now, data exposed, money lost, something down."""
RAISING_CUES = _cues(
    r"\blegal\b",
    r"\bcompliance\b",
    r"\bincident\b",
    r"\burgent\b",
    r"\bseveral people\b",
    r"\bfinance\b",
)
"""Phrases that raise a request's priority one step from its kind's default."""


def _found(patterns: Iterable[re.Pattern[str]], text: str) -> list[str]:
    """The fragments of `text` the `patterns` match, in order of appearance, once each."""
    hits = sorted({(m.start(), m.group(0).strip()) for p in patterns if (m := p.search(text))})
    return list(dict.fromkeys(fragment for _, fragment in hits if fragment))


def _votes(neighbours: Sequence[Neighbour], label: str) -> dict[str | None, float]:
    """Each label's share of the neighbours' weight (the shares add up to 1)."""
    total = sum(n.weight(label) for n in neighbours) or 1.0
    votes: dict[str | None, float] = defaultdict(float)
    for n in neighbours:
        votes[getattr(n, label)] += n.weight(label) / total
    return votes


def _like(neighbours: Sequence[Neighbour], label: str, value: str | None) -> tuple[tuple[str, ...], str | None]:
    """The nearest that chose `value`: up to two keys of requests the team settled ("AIR-12", "AIR-40"), else the
    words of a seed example (None: neither)."""
    same = sorted((n for n in neighbours if getattr(n, label) == value), key=lambda n: -n.weight(label))
    keys = tuple(dict.fromkeys(n.key for n in same if n.key))[:2]
    if keys:
        return keys, None
    texts = [n.text for n in same if n.text and n.origin == "seed"]  # a request's own words stay on its card
    return (), texts[0] if texts else None


def guess_kind(text: str, neighbours: Sequence[Neighbour], kinds: Iterable[str]) -> Guess:
    """The kind `text` reads as, among `kinds`: phrase cues plus the neighbours' votes; a question when nothing speaks."""
    return _guess_kind(text, tuple(neighbours), tuple(kinds))


@lru_cache(maxsize=32)
def _guess_kind(text: str, neighbours: tuple[Neighbour, ...], kinds: tuple[str, ...]) -> Guess:
    """`guess_kind`, remembered: triage routes a request up to three times with the same words and neighbours."""
    known = list(kinds)
    backed = supported(words(text), neighbours)
    neighbours = [
        n if n in backed or n.origin in ("seed", "config") else replace(n, score=n.score * UNBACKED) for n in neighbours
    ]  # what the team settled counts for its kind where it shares two words
    votes = {k: v for k, v in _votes([n for n in neighbours if n.kind in known], "kind").items() if k}
    cues = {k: _found(KIND_CUES.get(k, ()), text) for k in known}
    scores = {
        k: votes.get(k, 0.0) + CUE_WEIGHT * min(len(cues[k]), 2) * (1.0 if len(cues[k]) < 2 else 0.75) for k in known
    }
    ranked = sorted(known, key=lambda k: (-scores[k], known.index(k)))
    best = ranked[0]
    if scores[best] <= 0:
        return Guess(FALLBACK_KIND if FALLBACK_KIND in known else known[0], "nothing")
    second = ranked[1] if len(ranked) > 1 else None
    unsure = second if second and scores[second] >= UNSURE_RATIO * scores[best] else None
    if cues[best]:
        return Guess(best, "cues", unsure, cues=tuple(cues[best]))
    keys, example = _like(neighbours, "kind", best)
    return Guess(best, "examples", unsure, keys=keys, example=example)


def guess_domain(neighbours: Sequence[Neighbour], domains: Sequence[str]) -> Guess:
    """The domain the nearest examples vote for (None: unrouted), among `domains`; unsure between the top two."""
    votes = _votes([n for n in neighbours if n.domain is None or n.domain in domains], "domain")
    if not votes:
        return Guess(None)
    ranked = sorted(votes, key=lambda d: (-votes[d], d or ""))
    best = ranked[0]
    second = ranked[1] if len(ranked) > 1 else None
    unsure = second if second and votes[second] >= UNSURE_RATIO * votes[best] else None
    keys, example = _like(neighbours, "domain", best)
    return Guess(best, "examples", unsure, keys=keys, example=example)


def urgency(text: str) -> tuple[str | None, list[str]]:
    """("P1", fragments) when the words say people are hurt now, ("raise", fragments) when they say it matters
    more than the kind's default, (None, []) otherwise."""
    if hits := _found(URGENT_CUES, text):
        return "P1", hits
    if hits := _found(RAISING_CUES, text):
        return "raise", hits
    return None, []

"""Triage: which domain, which engineer, which priority, and why. Deterministic for the same state."""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from bot.domain.models import PRIORITIES, Draft
from bot.domain.policy import Config, Domain

_WORD = re.compile(r"[a-z0-9][a-z0-9'_-]+")
_STOPWORDS = frozenset(
    "the and for with that this from have what when will would could should about into your their there "
    "which while were been being does doesn't dont can't cannot please need help some more than them they".split()
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SIMILARITY_MIN = 2
CHOSEN_BY = {"hook": "named by the hook that filed it", "change": "the domain of the change it is about"}
"""Why a request filed by a machine or by a change has the domain it names (a person chooses it in the form)."""


@dataclass(frozen=True)
class RoutingState:
    """What triage needs to know about the current queue (read from storage by the service).

    `open_load` is each person's open requests weighted by priority (P1 8, P2 4, P3 2, P4 1);
    `open_count` the plain count; `last_assigned` when each was last given a request;
    `vocabulary` the words of each domain's past request titles; `away` who said they are away
    (`/ai-request away`) today, besides the config's `away`.
    """

    open_load: dict[str, int] = field(default_factory=dict)
    open_count: dict[str, int] = field(default_factory=dict)
    last_assigned: dict[str, datetime] = field(default_factory=dict)
    vocabulary: dict[str, Counter[str]] = field(default_factory=dict)
    away: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    domain: str | None
    assignee: str | None
    priority: str
    confidential: bool
    channel: str
    reasons: list[str]


def words(text: str) -> list[str]:
    """The meaningful lower-case words of `text` (for keyword and similarity matching)."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOPWORDS]


def _keyword_domain(text: str, config: Config) -> tuple[Domain | None, list[str]]:
    lowered = text.lower()
    best: tuple[int, Domain | None, list[str]] = (0, None, [])
    for domain in config.domains:
        hits = [k for k in domain.keywords if re.search(rf"(?<![a-z0-9]){re.escape(k.lower())}(?![a-z0-9])", lowered)]
        if len(hits) > best[0]:
            best = (len(hits), domain, hits)
    return best[1], best[2]


def _similar_domain(text: str, config: Config, state: RoutingState) -> tuple[Domain | None, list[str]]:
    mine = set(words(text))
    best: tuple[int, Domain | None, list[str]] = (0, None, [])
    for domain in config.domains:
        vocab = state.vocabulary.get(domain.name, Counter())
        shared = sorted(w for w in mine if vocab.get(w, 0) >= 2)
        if len(shared) > best[0]:
            best = (len(shared), domain, shared)
    return (best[1], best[2]) if best[0] >= SIMILARITY_MIN else (None, [])


def choose_domain(draft: Draft, config: Config, state: RoutingState) -> tuple[Domain | None, str]:
    """Form > channel > keywords > past requests > unrouted, with the reason in words."""
    if draft.domain and (chosen := config.domain(draft.domain)):
        return chosen, f"routed to {chosen.name} ({CHOSEN_BY.get(draft.source, 'chosen in the form')})"
    if by_channel := config.domain_of_channel(draft.channel):
        return by_channel, f"routed to {by_channel.name} (filed in <#{draft.channel}>)"
    text = f"{draft.title}\n{draft.description}"
    by_keyword, hits = _keyword_domain(text, config)
    if by_keyword:
        return by_keyword, f"routed to {by_keyword.name} (mentions {', '.join(hits)})"
    similar, shared = _similar_domain(text, config, state)
    if similar:
        return similar, f"routed to {similar.name} (like past {similar.name} requests: {', '.join(shared[:3])})"
    return None, "unrouted: no domain matched, so it waits in triage"


def choose_assignee(domain: Domain, *, kind: str, state: RoutingState,
                    filed_by: tuple[str | None, ...] = ()) -> tuple[str | None, str]:
    """Fewest open requests weighted by priority; ties go to whoever was assigned least recently. Nobody is
    assigned a request they filed (`filed_by`: its requester and reporter): someone else answers it."""
    pool = domain.reviewers if kind == "security_review" and domain.reviewers else domain.engineers
    role = "reviewer" if pool is domain.reviewers and kind == "security_review" else "engineer"
    present = [p for p in pool if p not in domain.away and p not in state.away]
    if not present:
        return None, f"every {domain.name} {role} is away, so it waits for the lead"
    present = [p for p in present if p not in filed_by]
    if not present:
        return None, f"filed by {domain.name}'s only {role} at hand, so it waits for the lead"

    def rank(person: str) -> tuple[int, datetime, int]:
        return (state.open_load.get(person, 0), state.last_assigned.get(person, _EPOCH), pool.index(person))

    ranked = sorted(present, key=rank)
    chosen = ranked[0]
    load, count = state.open_load.get(chosen, 0), state.open_count.get(chosen, 0)
    why = f"fewest open: {count}" if load == 0 else f"lightest load: {count} open, weighted {load}"
    runner_up = rank(ranked[1]) if len(ranked) > 1 else None
    if runner_up and runner_up[0] == rank(chosen)[0]:
        why += "; assigned least recently" if runner_up[1] != rank(chosen)[1] else "; first listed"
    return chosen, f"assigned to <@{chosen}> ({why})"


def choose_priority(draft: Draft, config: Config, *, kind: str) -> tuple[str, str]:
    """Chosen > the kind's default, raised one step by words like outage, customers or legal."""
    if draft.priority in PRIORITIES:
        return draft.priority, f"{draft.priority} (chosen)"
    default = config.default_priority(kind)
    text = f"{draft.title}\n{draft.description}".lower()
    raising = [w for w in config.priority_words if re.search(rf"(?<![a-z0-9]){re.escape(w.lower())}(?![a-z0-9])", text)]
    if raising and default != "P1":
        raised = PRIORITIES[PRIORITIES.index(default) - 1]
        return raised, f"{raised} (raised from {default}: mentions {', '.join(raising[:3])})"
    return default, f"{default} ({kind.replace('_', ' ')} default)"


def route(draft: Draft, config: Config, state: RoutingState) -> Route:
    """Decide domain, assignee, priority, confidentiality and the channel of the card."""
    kind = draft.kind
    domain, domain_reason = choose_domain(draft, config, state)
    priority, priority_reason = choose_priority(draft, config, kind=kind)
    confidential = draft.confidential if draft.confidential is not None else (kind == "security_review" or draft.private)
    reasons = [domain_reason]
    assignee = None
    if domain:
        assignee, assignee_reason = choose_assignee(domain, kind=kind, state=state, filed_by=(draft.requester, draft.reporter))
        reasons.append(assignee_reason)
    reasons.append(f"priority {priority_reason}")
    channel = card_channel(config, domain, confidential=confidential, filed_in=draft.channel if draft.private else None)
    return Route(domain=domain and domain.name, assignee=assignee, priority=priority, confidential=confidential,
                 channel=channel, reasons=reasons)


def card_channel(config: Config, domain: Domain | None, *, confidential: bool, filed_in: str | None = None) -> str:
    """Where a request's card goes: a confidential one to its domain's private review channel, else (filed in a
    private channel, `filed_in`) it stays where it was filed; the rest to the domain's first channel (the
    triage channel when unrouted, or when the domain has none). A direct message (D…) keeps no card."""
    if confidential and domain and domain.review_channel:
        return domain.review_channel
    if confidential and filed_in and not filed_in.startswith("D"):
        return filed_in
    if domain is None or not domain.channels:
        return config.triage_channel
    return domain.channels[0]

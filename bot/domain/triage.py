"""Triage: which domain, which engineer, which priority, and why. Deterministic for the same state."""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from bot.domain.classify import (
    UNBACKED,
    UNSURE_RATIO,
    Guess,
    Neighbour,
    _stems,
    _stems_of,
    guess_domain,
    guess_kind,
    supported,
    topic_words,
    urgency,
    words,
)
from bot.domain.models import PRIORITIES, Draft, Reason
from bot.domain.policy import Config, Domain

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SIMILARITY_MIN = 2
NAMED_BY = ("hook", "change")
"""The sources of requests whose domain is named by what filed them (the hook, the change it is about); a person
chooses it in the form ("form")."""


@dataclass(frozen=True)
class RoutingState:
    """What triage needs to know about the current queue (read from storage by the service).

    `open_load` is each person's open requests weighted by priority (P1 8, P2 4, P3 2, P4 1);
    `open_count` the plain count; `last_assigned` when each was last given a request;
    `vocabulary` the words of each domain's past request titles; `away` who said they are away
    (`/ai-request away`) today, besides the config's `away`; `neighbours` the training examples nearest
    to the request's words (`classify`).
    """

    open_load: dict[str, int] = field(default_factory=dict)
    open_count: dict[str, int] = field(default_factory=dict)
    last_assigned: dict[str, datetime] = field(default_factory=dict)
    vocabulary: dict[str, Counter[str]] = field(default_factory=dict)
    away: frozenset[str] = frozenset()
    neighbours: tuple[Neighbour, ...] = ()


@dataclass(frozen=True)
class Route:
    domain: str | None
    assignee: str | None
    priority: str
    confidential: bool
    channel: str
    reasons: list[Reason]
    kind: str = "question"
    unsure: dict[str, list[str]] = field(default_factory=dict)
    """What triage hesitated between, {"kind": [chosen, other]} or {"domain": [chosen, other]}: the card offers both."""


def _keyword_hits(text: str, config: Config) -> dict[str, list[str]]:
    """Each domain's keywords found in `text` (a keyword matches its plural too: refund, refunds)."""
    lowered = text.lower()
    return {
        domain.name: [
            k
            for k in domain.keywords
            if re.search(rf"(?<![a-z0-9]){re.escape(k.lower())}(?:s|es)?(?![a-z0-9])", lowered)
        ]
        for domain in config.domains
    }


KEYWORD_WEIGHT = 0.5
"""What one keyword found counts for a domain, against the nearest examples' votes (which add up to 1): chosen
by leave-one-out accuracy on the seed (bench/triage.py)."""
TOPIC_FLOOR = 0.5
"""What a neighbour sharing only the words of the ask ("security review", "eval cases") with a request counts
for its domain, against one sharing only words of the subject (1): chosen as `KEYWORD_WEIGHT` was."""


def _read_domain(text: str, config: Config, state: RoutingState) -> tuple[Domain | None, Reason | None, str | None]:
    """The domain the words point to (keywords, and the nearest examples' votes), the reason, and the runner-up
    when unsure; (None, None, None) when nothing points anywhere."""
    hits = _keyword_hits(text, config)
    names = [d.name for d in config.domains]
    backed = supported(list(dict.fromkeys(words(text))), state.neighbours)
    nearest = [n if n in backed else replace(n, score=n.score * UNBACKED) for n in state.neighbours] if backed else []
    nearest = _about(text, nearest)
    voted = guess_domain(nearest, names)
    votes = _shares(nearest, names)
    scores = {name: KEYWORD_WEIGHT * len(hits[name]) + votes.get(name, 0.0) for name in names}
    none_score = votes.get(None, 0.0)
    ranked = sorted(names, key=lambda n: (-scores[n], names.index(n)))
    if not ranked or scores[ranked[0]] <= none_score or scores[ranked[0]] <= 0:
        return None, None, None
    best = ranked[0]
    second = (
        ranked[1]
        if len(ranked) > 1 and scores[ranked[1]] >= UNSURE_RATIO * scores[best] and scores[ranked[1]] > 0
        else None
    )
    if hits[best]:
        why = Reason(kind="routed", domain=best, how="keywords", terms=tuple(hits[best]))
    elif voted.choice == best:
        why = Reason(kind="routed", domain=best, how="examples", keys=voted.keys, example=voted.example)
    else:
        why = Reason(kind="routed", domain=best, how="examples")
    return config.domain(best), why, second


def _about(text: str, neighbours: list[Neighbour]) -> list[Neighbour]:
    """The `neighbours`, each counting for its domain by the share of the words it holds in common with `text`
    that say what it is about (`topic_words`) rather than what it asks: two security reviews of different
    domains share "security review", which says nothing of either's domain."""
    topic, every = _stems(topic_words(text)), _stems(words(text))
    out = []
    for n in neighbours:
        theirs = _stems_of(n.text)
        shared = every & theirs
        share = len(topic & theirs) / len(shared) if shared else 1.0
        out.append(replace(n, score=n.score * (TOPIC_FLOOR + (1 - TOPIC_FLOOR) * share)))
    return out


def _shares(neighbours: Sequence[Neighbour], names: list[str]) -> dict[str | None, float]:
    kept = [n for n in neighbours if n.domain is None or n.domain in names]
    total = sum(n.weight("domain") for n in kept) or 1.0
    shares: dict[str | None, float] = {}
    for n in kept:
        shares[n.domain] = shares.get(n.domain, 0.0) + n.weight("domain") / total
    return shares


def _similar_domain(text: str, config: Config, state: RoutingState) -> tuple[Domain | None, list[str]]:
    mine = set(words(text))
    best: tuple[int, Domain | None, list[str]] = (0, None, [])
    for domain in config.domains:
        vocab = state.vocabulary.get(domain.name, Counter())
        shared = sorted(w for w in mine if vocab.get(w, 0) >= 2)
        if len(shared) > best[0]:
            best = (len(shared), domain, shared)
    return (best[1], best[2]) if best[0] >= SIMILARITY_MIN else (None, [])


def choose_domain(draft: Draft, config: Config, state: RoutingState) -> tuple[Domain | None, Reason]:
    """Form > channel > the words (keywords, nearest examples) > past requests' words > unrouted, with the reason."""
    domain, reason, _ = _choose_domain(draft, config, state)
    return domain, reason


def _choose_domain(draft: Draft, config: Config, state: RoutingState) -> tuple[Domain | None, Reason, str | None]:
    if draft.domain and (chosen := config.domain(draft.domain)):
        return (
            chosen,
            Reason(kind="routed", domain=chosen.name, how=draft.source if draft.source in NAMED_BY else "form"),
            None,
        )
    if by_channel := config.domain_of_channel(draft.channel):
        return by_channel, Reason(kind="routed", domain=by_channel.name, how="channel", channel=draft.channel), None
    text = f"{draft.title}\n{draft.description}"
    read, why, second = _read_domain(text, config, state)
    if read and why:
        return read, why, second
    similar, shared = _similar_domain(text, config, state)
    if similar:
        return similar, Reason(kind="routed", domain=similar.name, how="vocabulary", terms=tuple(shared[:3])), None
    return None, Reason(kind="unrouted"), None


def choose_kind(draft: Draft, config: Config, state: RoutingState) -> Guess:
    """The kind typed or chosen, else the one the words read as (`classify.guess_kind`), with the reason."""
    if not draft.kind_from_words:
        return Guess(draft.kind)
    return guess_kind(f"{draft.title}\n{draft.description}", state.neighbours, config.kind_names)


def choose_assignee(
    domain: Domain, *, kind: str, state: RoutingState, filed_by: tuple[str | None, ...] = ()
) -> tuple[str | None, Reason]:
    """Fewest open requests weighted by priority; ties go to whoever was assigned least recently. Nobody is
    assigned a request they filed (`filed_by`: its requester and reporter): someone else answers it."""
    pool = domain.reviewers if kind == "security_review" and domain.reviewers else domain.engineers
    role = "reviewer" if pool is domain.reviewers and kind == "security_review" else "engineer"
    present = [p for p in pool if p not in domain.away and p not in state.away]
    if not present:
        return None, Reason(kind="unassigned", how="away", domain=domain.name, role=role)
    present = [p for p in present if p not in filed_by]
    if not present:
        return None, Reason(kind="unassigned", how="filer", domain=domain.name, role=role)

    def rank(person: str) -> tuple[int, datetime, int]:
        return (state.open_load.get(person, 0), state.last_assigned.get(person, _EPOCH), pool.index(person))

    ranked = sorted(present, key=rank)
    chosen = ranked[0]
    load, count = state.open_load.get(chosen, 0), state.open_count.get(chosen, 0)
    runner_up = rank(ranked[1]) if len(ranked) > 1 else None
    tie = None
    if runner_up and runner_up[0] == rank(chosen)[0]:
        tie = "least_recent" if runner_up[1] != rank(chosen)[1] else "first_listed"
    return chosen, Reason(kind="assigned", user=chosen, how="load", count=count, load=load, tie=tie)


def choose_priority(draft: Draft, config: Config, *, kind: str) -> tuple[str, Reason]:
    """Chosen > the kind's default, raised one step by words like outage, customers or legal."""
    if draft.priority in PRIORITIES:
        return draft.priority, Reason(kind="priority", priority=draft.priority, how="chosen")
    default = config.default_priority(kind)
    words_of = f"{draft.title}\n{draft.description}"
    level, fragments = urgency(words_of)
    if level == "P1" and default != "P1":
        return "P1", Reason(kind="priority", priority="P1", how="urgent", terms=tuple(fragments))
    text = words_of.lower()
    raising = [w for w in config.priority_words if re.search(rf"(?<![a-z0-9]){re.escape(w.lower())}(?![a-z0-9])", text)]
    raising = list(dict.fromkeys([*raising, *(f.lower() for f in fragments)]))
    if raising and default != "P1":
        raised = PRIORITIES[PRIORITIES.index(default) - 1]
        return raised, Reason(kind="priority", priority=raised, how="raised", default=default, terms=tuple(raising[:3]))
    return default, Reason(kind="priority", priority=default, how="default", of=kind)


def route(draft: Draft, config: Config, state: RoutingState) -> Route:
    """Decide domain, assignee, priority, confidentiality and the channel of the card."""
    read = choose_kind(draft, config, state)
    kind = read.choice or draft.kind
    domain, domain_reason, other_domain = _choose_domain(draft, config, state)
    priority, priority_reason = choose_priority(draft, config, kind=kind)
    confidential = (
        draft.confidential if draft.confidential is not None else (kind == "security_review" or draft.private)
    )
    reasons = (
        [Reason(kind="kind", of=kind, how=read.how, terms=read.cues, keys=read.keys, example=read.example)]
        if read.how
        else []
    )
    reasons.append(domain_reason)
    unsure = {}
    if read.runner_up:
        unsure["kind"] = [kind, read.runner_up]
    if domain and other_domain:
        unsure["domain"] = [domain.name, other_domain]
    assignee = None
    if domain:
        assignee, assignee_reason = choose_assignee(
            domain, kind=kind, state=state, filed_by=(draft.requester, draft.reporter)
        )
        reasons.append(assignee_reason)
    reasons.append(priority_reason)
    channel = card_channel(config, domain, confidential=confidential, filed_in=draft.channel if draft.private else None)
    return Route(
        domain=domain and domain.name,
        assignee=assignee,
        priority=priority,
        confidential=confidential,
        channel=channel,
        reasons=reasons,
        kind=kind,
        unsure=unsure,
    )


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

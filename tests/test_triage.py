"""Triage: domain, assignee, priority, confidentiality and the card's channel, each with its reason."""

import copy
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks.reasons import reason_text
from bot.runtime.config import parse_config
from bot.domain.models import PRIORITIES, Draft
from bot.domain.policy import Config
from bot.domain.triage import RoutingState, choose_assignee, choose_domain, choose_priority, route
from tests.harness import CONFIG

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
CONFIGURED = parse_config(CONFIG)
CONFIGURED_AGAIN = parse_config(copy.deepcopy(CONFIG))
EMPTY = RoutingState()


def config_with(**domain_changes: dict[str, Any]) -> Config:
    """The sample config with some fields of named domains replaced, e.g. support={"away": ["U0ENG1"]}."""
    data = copy.deepcopy(CONFIG)
    for domain in data["domains"]:
        domain.update(domain_changes.get(domain["name"], {}))
    return parse_config(data)


def draft(title: str = "please look at this", **fields: Any) -> Draft:
    return Draft(title=title, requester="U0REQ", source="command", **fields)


def priority_why(d: Draft, config: Config, *, kind: str) -> tuple[str, str]:
    """`choose_priority`'s choice and its reason as the card words it, less "priority ": ("P2", "P2 (… default)")."""
    priority, reason = choose_priority(d, config, kind=kind)
    return priority, reason_text(reason).removeprefix("priority ")


# --- domain ------------------------------------------------------------------------------------


def test_a_domain_chosen_in_the_form_beats_channel_and_keywords() -> None:
    domain, why = choose_domain(
        draft("refund window is wrong", domain="search", channel="C0SUPPORT"), CONFIGURED, EMPTY
    )
    assert domain is not None and domain.name == "search"
    assert reason_text(why) == "routed to search (chosen in the form)"


def test_an_unknown_chosen_domain_falls_back_to_the_channel() -> None:
    domain, why = choose_domain(draft(domain="nowhere", channel="C0SEARCH"), CONFIGURED, EMPTY)
    assert domain is not None and domain.name == "search"
    assert reason_text(why) == "routed to search (filed in <#C0SEARCH>)"


def test_the_channel_beats_keywords() -> None:
    domain, why = choose_domain(draft("refund ticket for the helpdesk agent", channel="C0SEARCH"), CONFIGURED, EMPTY)
    assert domain is not None and domain.name == "search"
    assert reason_text(why) == "routed to search (filed in <#C0SEARCH>)"


def test_a_domains_review_channel_counts_as_its_channel() -> None:
    domain, why = choose_domain(draft(channel="G0SUPSEC"), CONFIGURED, EMPTY)
    assert domain is not None and domain.name == "support"
    assert reason_text(why) == "routed to support (filed in <#G0SUPSEC>)"


def test_keywords_route_text_filed_elsewhere() -> None:
    domain, why = choose_domain(draft("the refund window is wrong", channel="C0RANDOM"), CONFIGURED, EMPTY)
    assert domain is not None and domain.name == "support"
    assert reason_text(why) == "routed to support (mentions refund)"


def test_keywords_in_the_description_count_and_most_hits_win() -> None:
    d = draft("answers are off", description="the query ranking looks odd since the refund change", channel="C0RANDOM")
    domain, why = choose_domain(d, CONFIGURED, EMPTY)
    assert domain is not None and domain.name == "search"
    assert reason_text(why) == "routed to search (mentions ranking, query)"


def test_keywords_match_whole_words_only() -> None:
    domain, why = choose_domain(draft("the indexer is reindexing forever", channel="C0RANDOM"), CONFIGURED, EMPTY)
    assert domain is None


def test_past_requests_route_text_without_keywords() -> None:
    state = RoutingState(
        vocabulary={
            "search": Counter({"synonyms": 3, "german": 2, "spelling": 1}),
            "support": Counter({"german": 1, "synonyms": 1}),
        }
    )
    domain, why = choose_domain(draft("German synonyms are missing", channel="C0RANDOM"), CONFIGURED, state)
    assert domain is not None and domain.name == "search"
    assert reason_text(why) == "routed to search (like past search requests: german, synonyms)"


def test_one_shared_word_is_not_enough_to_route() -> None:
    state = RoutingState(vocabulary={"search": Counter({"synonyms": 5})})
    domain, why = choose_domain(draft("synonyms please", channel="C0RANDOM"), CONFIGURED, state)
    assert domain is None
    assert reason_text(why) == "unrouted: no domain matched, so it waits in triage"


def test_keywords_beat_past_requests() -> None:
    state = RoutingState(vocabulary={"search": Counter({"window": 9, "policy": 9})})
    domain, _ = choose_domain(draft("refund window policy", channel="C0RANDOM"), CONFIGURED, state)
    assert domain is not None and domain.name == "support"


def test_an_unrouted_request_goes_to_triage_without_an_assignee() -> None:
    decided = route(draft("something about AI", channel="C0RANDOM"), CONFIGURED, EMPTY)
    assert decided.domain is None and decided.assignee is None
    assert decided.channel == "C0TRIAGE"
    assert list(map(reason_text, decided.reasons)) == [
        "unrouted: no domain matched, so it waits in triage",
        "priority P4 (question default)",
    ]


# --- assignee ----------------------------------------------------------------------------------


def test_the_reasons_read_as_sentences() -> None:
    decided = route(draft("wrong answer", kind="regression", channel="C0SUPPORT"), CONFIGURED, EMPTY)
    assert decided.domain == "support" and decided.assignee == "U0ENG1" and decided.channel == "C0SUPPORT"
    assert reason_text(decided.reasons[0]) == "routed to support (filed in <#C0SUPPORT>)"
    assert reason_text(decided.reasons[1]).startswith("assigned to <@U0ENG1> (fewest open: 0")
    assert reason_text(decided.reasons[2]) == "priority P2 (regression default)"


def test_the_engineer_with_the_lightest_weighted_load_is_assigned() -> None:
    # U0ENG1 has one P1 (weight 8), U0ENG2 three P4s (weight 3): weight, not count, decides.
    state = RoutingState(open_load={"U0ENG1": 8, "U0ENG2": 3}, open_count={"U0ENG1": 1, "U0ENG2": 3})
    who, why = choose_assignee(CONFIGURED.domains[0], kind="question", state=state)
    assert who == "U0ENG2"
    assert reason_text(why) == "assigned to <@U0ENG2> (lightest load: 3 open, weighted 3)"


def test_a_tie_goes_to_the_one_assigned_least_recently() -> None:
    state = RoutingState(
        open_load={"U0ENG1": 2, "U0ENG2": 2},
        open_count={"U0ENG1": 1, "U0ENG2": 1},
        last_assigned={"U0ENG1": T0, "U0ENG2": T0 - timedelta(days=1)},
    )
    who, why = choose_assignee(CONFIGURED.domains[0], kind="question", state=state)
    assert who == "U0ENG2"
    assert reason_text(why) == "assigned to <@U0ENG2> (lightest load: 1 open, weighted 2; assigned least recently)"


def test_a_tie_without_history_goes_to_the_first_listed() -> None:
    who, why = choose_assignee(CONFIGURED.domains[0], kind="question", state=RoutingState())
    assert who == "U0ENG1"
    assert reason_text(why) == "assigned to <@U0ENG1> (fewest open: 0; first listed)"


def test_someone_never_assigned_comes_before_someone_assigned() -> None:
    state = RoutingState(last_assigned={"U0ENG1": T0})
    assert choose_assignee(CONFIGURED.domains[0], kind="question", state=state)[0] == "U0ENG2"


def test_people_marked_away_are_skipped() -> None:
    config = config_with(support={"away": ["U0ENG1"]})
    state = RoutingState(open_load={"U0ENG1": 0, "U0ENG2": 40})
    decided = route(draft(channel="C0SUPPORT"), config, state)
    assert decided.assignee == "U0ENG2"


def test_everyone_away_leaves_it_unassigned_with_a_reason() -> None:
    config = config_with(support={"away": ["U0ENG1", "U0ENG2"]})
    decided = route(draft(channel="C0SUPPORT"), config, EMPTY)
    assert decided.domain == "support" and decided.assignee is None and decided.channel == "C0SUPPORT"
    assert reason_text(decided.reasons[1]) == "every support engineer is away, so it waits for the lead"


def test_security_reviews_go_to_reviewers_confidentially_in_the_review_channel() -> None:
    state = RoutingState(open_load={"U0SEC1": 30})
    decided = route(draft("vendor model", kind="security_review", channel="C0SUPPORT"), CONFIGURED, state)
    assert decided.assignee == "U0SEC1"
    assert decided.confidential is True
    assert decided.channel == "G0SUPSEC"
    assert reason_text(decided.reasons[2]) == "priority P3 (security review default)"


def test_a_security_review_marked_not_confidential_stays_in_the_domain_channel() -> None:
    decided = route(draft(kind="security_review", channel="C0SUPPORT", confidential=False), CONFIGURED, EMPTY)
    assert decided.confidential is False and decided.channel == "C0SUPPORT" and decided.assignee == "U0SEC1"


def test_a_confidential_request_without_a_review_channel_uses_the_domain_channel() -> None:
    decided = route(draft(kind="security_review", channel="C0SEARCH"), CONFIGURED, EMPTY)
    assert decided.confidential is True and decided.channel == "C0SEARCH" and decided.assignee == "U0SEC2"


def test_other_kinds_are_not_confidential_unless_asked() -> None:
    assert route(draft(channel="C0SUPPORT"), CONFIGURED, EMPTY).confidential is False
    asked = route(draft(channel="C0SUPPORT", confidential=True), CONFIGURED, EMPTY)
    assert asked.confidential is True and asked.channel == "G0SUPSEC"


def test_a_security_review_in_a_domain_without_reviewers_goes_to_engineers() -> None:
    config = config_with(search={"reviewers": []})
    decided = route(draft(kind="security_review", channel="C0SEARCH"), config, EMPTY)
    assert decided.assignee == "U0ENG3"


def test_every_reviewer_away_leaves_a_review_unassigned() -> None:
    config = config_with(support={"away": ["U0SEC1"]})
    decided = route(draft(kind="security_review", channel="C0SUPPORT"), config, EMPTY)
    assert decided.assignee is None
    assert reason_text(decided.reasons[1]) == "every support reviewer is away, so it waits for the lead"


# --- priority ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "priority", "text", "expected", "why"),
    [
        ("question", "P1", "quick question", "P1", "P1 (chosen)"),
        ("regression", "P4", "outage for all customers", "P4", "P4 (chosen)"),
        ("regression", None, "wrong window", "P2", "P2 (regression default)"),
        ("feature", None, "summarise tickets", "P3", "P3 (feature default)"),
        ("question", None, "how do I evaluate", "P4", "P4 (question default)"),
        ("question", None, "is the outage over", "P3", "P3 (raised from P4: mentions outage)"),
        ("regression", None, "customers see the wrong window", "P1", "P1 (raised from P2: mentions customers)"),
        ("security_review", None, "legal asked for this", "P2", "P2 (raised from P3: mentions legal)"),
        (
            "question",
            None,
            "outage, customers and legal",
            "P3",
            "P3 (raised from P4: mentions outage, customers, legal)",
        ),
        ("question", None, "downstream teams wait", "P4", "P4 (question default)"),
        ("question", "P9", "quick question", "P4", "P4 (question default)"),
    ],
)
def test_priority(kind: str, priority: str | None, text: str, expected: str, why: str) -> None:
    assert priority_why(draft(text, priority=priority), CONFIGURED, kind=kind) == (expected, why)


def test_a_kind_from_the_config_brings_its_default_priority_and_p1_stays_p1() -> None:
    data = copy.deepcopy(CONFIG)
    data["kinds"] = {"incident": {"description": "Live incident", "default_priority": "P1"}}
    config = parse_config(data)
    assert priority_why(draft("customers outage"), config, kind="incident") == ("P1", "P1 (incident default)")


def test_words_in_the_description_raise_priority() -> None:
    d = draft("answers are off", description="Legal flagged it")
    assert priority_why(d, CONFIGURED, kind="feature") == ("P2", "P2 (raised from P3: mentions legal)")


# --- determinism -------------------------------------------------------------------------------

WORDS = [
    "refund",
    "ticket",
    "ranking",
    "query",
    "outage",
    "customers",
    "legal",
    "window",
    "german",
    "synonyms",
    "the",
    "Refund",
    "index",
    "agent",
    "down",
    "policy",
    "refunds",
    "x-ray",
    "AIR-12",
    "<!here>",
    "\n",
    "ünïcode",
]
STATE = RoutingState(
    open_load={"U0ENG1": 4, "U0ENG2": 4, "U0ENG3": 2, "U0SEC1": 8},
    open_count={"U0ENG1": 1, "U0ENG2": 2, "U0ENG3": 1, "U0SEC1": 1},
    last_assigned={"U0ENG1": T0, "U0ENG2": T0 - timedelta(hours=3)},
    vocabulary={
        "search": Counter({"german": 3, "synonyms": 2, "window": 2}),
        "support": Counter({"window": 4, "policy": 2}),
    },
)
text = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)
drafts = st.builds(
    Draft,
    title=text,
    description=text,
    kind=st.sampled_from(["feature", "regression", "security_review", "eval", "question"]),
    domain=st.sampled_from([None, "support", "search", "nowhere"]),
    priority=st.sampled_from([None, *PRIORITIES, "P9"]),
    confidential=st.sampled_from([None, True, False]),
    requester=st.just("U0REQ"),
    source=st.just("command"),
    channel=st.sampled_from([None, "C0SUPPORT", "C0SEARCH", "G0SUPSEC", "C0RANDOM"]),
)


@PROPERTY
@given(drafts)
def test_the_same_inputs_give_the_same_route(d: Draft) -> None:
    first = route(d, CONFIGURED, STATE)
    again = route(d.model_copy(deep=True), CONFIGURED_AGAIN, copy.deepcopy(STATE))
    assert first == again
    assert first.priority in PRIORITIES
    assert first.channel in {"C0TRIAGE", "C0SUPPORT", "C0SEARCH", "G0SUPSEC"}
    assert reason_text(first.reasons[-1]).startswith("priority ")
    if first.domain is None:
        assert first.assignee is None and first.channel == "C0TRIAGE"
    else:
        domain = CONFIGURED.domain(first.domain)
        assert domain is not None and first.assignee in (
            domain.reviewers if d.kind == "security_review" else domain.engineers
        )

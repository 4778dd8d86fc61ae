"""The change log's rules with explicit times: the event log, who is asked, answers, a change's state in
business days, a regression's suspects, closing causes, the digest figures and the change.unacknowledged nag."""

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.blocks.change_text import ask_text, describe
from bot.domain.business_hours import BusinessCalendar
from bot.domain.changes import (
    ANSWERED,
    KINDS,
    LOGGED,
    RULE_UNACKNOWLEDGED,
    SIDE_KINDS,
    Acknowledgement,
    ChangeEvent,
    ChangeRecord,
    HookOrigin,
    Pair,
    ShippedChange,
    acknowledge,
    answered_event,
    asked,
    business_days,
    change_state,
    eval_request_draft,
    logged_event,
    nagged_event,
    other_side,
    parse_change_key,
    replay,
    side_of,
    snooze_change,
    snoozed_event,
)
from bot.domain.thresholds import unacknowledged_ladder
from bot.domain.changes_loop import Closure, close_regression, closure_of, loop_figures, suspects
from bot.blocks.ids import action_ids
from bot.blocks.nag_rules import said
from bot.domain.changes_nag import OFFERS, next_unacknowledged_check, unacknowledged_nag
from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.models import Event, Request

BERLIN = ZoneInfo("Europe/Berlin")
CAL = BusinessCalendar.parse(tz="Europe/Berlin", days="mon-fri", start="09:00", end="17:00", holidays=["2026-12-25"])
PAIR = Pair(product="U0PPM", platform="U0MLPM")
LEAD = "U0LEAD"


def bln(day: int, hour: int, minute: int = 0, *, month: int = 11) -> datetime:
    """A Berlin wall-clock time in 2026 (Mon 23 Nov is a working day, 09:00-17:00 open)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def change(
    n: int = 7, *, at: datetime = bln(23, 10), side: str = "product", domain: str = "support", **fields: Any
) -> ShippedChange:
    base: dict[str, Any] = dict(
        id=f"CHG-{n}",
        domain=domain,
        side=side,
        what="express-refund intent",
        shipped_by="U0PPM" if side == "product" else "U0MLPM",
        at=at,
    )
    return ShippedChange(**{**base, **fields})


def answer(c: ShippedChange, at: datetime, kind: str = "covered", by: str = "U0MLPM", **fields: Any) -> Acknowledgement:
    if kind == "covered":
        fields.setdefault("eval_link", "https://evals.example.com/cases/41")
    return Acknowledgement(change_id=c.id, answer=kind, by=by, at=at, **fields)


# --- the model and its events ------------------------------------------------------------------------


def test_every_kind_belongs_to_exactly_one_side() -> None:
    assert set(KINDS) == set(SIDE_KINDS["product"]) | set(SIDE_KINDS["platform"])
    assert not set(SIDE_KINDS["product"]) & set(SIDE_KINDS["platform"])
    assert side_of("intent") == "product" and side_of("eval_suite") == "platform" and side_of("vibes") is None
    assert other_side("product") == "platform" and other_side("platform") == "product"


def test_a_change_cannot_be_a_kind_of_the_other_side() -> None:
    with pytest.raises(ValidationError, match="a product change cannot be a 'prompt'"):
        change(kind="prompt")
    assert change(kind="intent").kind == "intent"


def test_change_keys() -> None:
    assert parse_change_key(" chg-7 ") == "CHG-7"
    assert parse_change_key("AIR-7") is None and parse_change_key("CHG-") is None


def test_the_log_gives_back_what_was_recorded() -> None:
    people = change(
        7, version="2", links=["https://docs.example.com/express-refund"], kind="intent", asset="refund-intent"
    )
    hook = change(
        8, side="platform", at=bln(23, 11), shipped_by="deploys", origin=HookOrigin(source="deploys", id="run-91")
    )
    said = answer(people, bln(24, 9), eval_link="https://evals.example.com/cases/41")
    events = [answered_event(said), logged_event(hook), logged_event(people)]  # any order: replay sorts by time
    records = replay(events)
    assert [r.change for r in records] == [people, hook]
    assert records[0].answer == said and records[1].answer is None
    assert {e.type for e in events} == {LOGGED, ANSWERED}


def test_only_the_first_answer_counts_and_answers_to_unknown_changes_are_ignored() -> None:
    c = change()
    first, second = answer(c, bln(23, 12)), answer(c, bln(23, 13), "not_relevant", reason="n/a")
    stray = ChangeEvent(change_id="CHG-99", at=bln(23, 14), actor="U1", type=ANSWERED, data={"answer": "covered"})
    [record] = replay([logged_event(c), answered_event(second), answered_event(first), stray])
    assert record.answer == first


# --- who is asked, and answering -----------------------------------------------------------------------


def test_the_other_side_is_asked_and_the_lead_when_it_has_no_owner() -> None:
    assert asked(change(side="product"), PAIR, lead=LEAD) == "U0MLPM"
    assert asked(change(side="platform"), PAIR, lead=LEAD) == "U0PPM"
    assert asked(change(side="product"), Pair(product="U0PPM", platform=None), lead=LEAD) == LEAD
    assert asked(change(side="product"), Pair(None, None), lead=None) is None


def test_the_question_names_the_change_and_escapes_its_words() -> None:
    c = change(what="<!channel> refunds & <@U0CEO>", version="2", kind="intent")
    text = ask_text(c, asked_user="U0MLPM")
    assert text.startswith("<@U0MLPM> Product shipped *&lt;!channel&gt; refunds &amp; &lt;@U0CEO&gt;* (intent, v2)")
    assert "Does the prompt/eval suite cover it?" in text and "CHG-7" in text and "<@U0PPM>" in text
    platform = ask_text(
        change(side="platform", shipped_by="deploys", origin=HookOrigin(source="deploys", id="1")), asked_user=None
    )
    assert platform.startswith("Platform shipped") and "the `deploys` hook" in platform and "product side" in platform


def test_versions_read_naturally() -> None:
    assert describe(change(version="14")).endswith("(v14)")
    assert describe(change(version="e41b7c09")).endswith("(version e41b7c09)")


def ack(record: ChangeRecord, **kw: Any) -> Acknowledgement:
    args: dict[str, Any] = dict(
        answer="covered",
        by="U0MLPM",
        at=bln(24, 9),
        asked_user="U0MLPM",
        lead=LEAD,
        admins=("U0ADMIN",),
        eval_link="https://evals.example.com/cases/41",
    )
    return acknowledge(record, **{**args, **kw})


def test_covered_needs_an_eval_link() -> None:
    record = ChangeRecord(change())
    assert ack(record).eval_link == "https://evals.example.com/cases/41"
    for link in (None, "  ", "evals/41", "ftp://evals.example.com/41", "https://"):
        with pytest.raises(InvalidInput) as caught:
            ack(record, eval_link=link)
        assert caught.value.field == "eval_link"


def test_not_relevant_needs_a_reason_of_reasonable_length() -> None:
    record = ChangeRecord(change())
    said = ack(record, answer="not_relevant", eval_link=None, reason="  only the UI copy changed ")
    assert said.reason == "only the UI copy changed" and said.eval_link is None
    for reason in (None, "", "x" * 501):
        with pytest.raises(InvalidInput) as caught:
            ack(record, answer="not_relevant", eval_link=None, reason=reason)
        assert caught.value.field == "reason"


def test_an_unknown_answer_names_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        ack(ChangeRecord(change()), answer="maybe")
    assert caught.value.field == "answer"


def test_who_may_answer() -> None:
    record = ChangeRecord(change())
    for person in ("U0MLPM", LEAD, "U0ADMIN"):
        assert ack(record, by=person).by == person
    with pytest.raises(NotAllowed, match="Only <@U0MLPM>, the support lead or an admin"):
        ack(record, by="U0PPM")


def test_a_change_is_answered_once() -> None:
    c = change()
    with pytest.raises(Conflict, match="CHG-7 was already answered by <@U0MLPM>: covered"):
        ack(ChangeRecord(c, answer(c, bln(23, 12))))


def test_needs_work_files_an_eval_request_for_the_platform_side() -> None:
    c = change(version="2", links=["https://docs.example.com/express-refund"])
    said = ack(ChangeRecord(c), answer="needs_work", eval_link=None)
    assert said.answer == "needs_work" and said.eval_request is None
    draft = eval_request_draft(c, by="U0MLPM", pair=PAIR)
    assert draft.assignee == "U0MLPM" and draft.domain == "support" and draft.change_id == "CHG-7"
    assert draft.title == "Eval coverage for express-refund intent" and "CHG-7" in draft.description
    assert draft.links == ("https://docs.example.com/express-refund",) and draft.requester == "U0MLPM"
    assert eval_request_draft(change(what="x" * 300), by="U0MLPM", pair=PAIR).title.endswith("…")


# --- a change's state in business days ---------------------------------------------------------------


def test_waiting_counts_business_days_of_the_domain_calendar() -> None:
    friday = change(at=bln(27, 16))  # Fri 16:00: one open hour left that day
    assert (
        change_state(ChangeRecord(friday), asked_user="U0MLPM", calendar=CAL, now=bln(30, 16)).waiting_business_days
        == 1.0
    )
    state = change_state(ChangeRecord(friday), asked_user="U0MLPM", calendar=CAL, now=bln(1, 16, month=12))
    assert state.waiting_business_days == 2.0 and state.unacknowledged_since == friday.at and not state.acknowledged


def test_holidays_do_not_count() -> None:
    c = change(at=bln(24, 9, month=12))  # Thu 24 Dec; Fri 25 Dec is a holiday
    assert business_days(CAL, c.at, bln(28, 9, month=12)) == 1.0


def test_an_answer_ends_the_wait_but_only_once_given() -> None:
    c = change()
    record = ChangeRecord(c, answer(c, bln(25, 10)))
    before = change_state(record, asked_user="U0MLPM", calendar=CAL, now=bln(24, 10))
    after = change_state(record, asked_user="U0MLPM", calendar=CAL, now=bln(25, 10))
    assert before.answer is None and before.waiting_business_days == 1.0
    assert after.acknowledged and after.waiting_business_days == 0 and after.unacknowledged_since is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), min_size=3, max_size=3))
def test_business_days_add_up(minutes: list[int]) -> None:
    a, b, c = (bln(20, 0) + timedelta(minutes=m) for m in sorted(minutes))
    assert business_days(CAL, a, b) >= 0
    assert business_days(CAL, a, c) == pytest.approx(business_days(CAL, a, b) + business_days(CAL, b, c))


# --- suspects --------------------------------------------------------------------------------------------


def test_suspects_are_the_domains_changes_of_the_window_newest_first() -> None:
    filed = bln(25, 10)
    inside = [
        change(1, at=filed - timedelta(days=14)),
        change(2, at=bln(23, 10), side="platform"),
        change(3, at=filed, asset="refund-intent"),
    ]
    outside = [
        change(4, at=filed - timedelta(days=14, seconds=1)),
        change(5, at=filed + timedelta(seconds=1)),
        change(6, at=bln(24, 10), domain="search"),
    ]
    records = [ChangeRecord(c) for c in [*outside, *inside]]
    found = suspects(records, domain="support", filed_at=filed, now=filed, asset="refund-intent")
    assert [s.change.id for s in found] == ["CHG-3", "CHG-2", "CHG-1"]
    assert [s.same_asset for s in found] == [True, False, False]
    assert [s.change.id for s in suspects(records, domain="support", filed_at=filed, now=filed, days=1)] == ["CHG-3"]
    assert suspects(records, domain=None, filed_at=filed, now=filed) == []


def test_a_suspect_shows_whether_the_other_side_answered_by_now() -> None:
    c = change(at=bln(23, 10))
    record = ChangeRecord(c, answer(c, bln(26, 10)))
    [early] = suspects([record], domain="support", filed_at=bln(25, 10), now=bln(25, 12))
    [late] = suspects([record], domain="support", filed_at=bln(25, 10), now=bln(26, 12))
    assert not early.acknowledged and late.acknowledged and late.answer == record.answer


def test_suspects_at_the_same_instant_come_newest_id_first() -> None:
    same = [ChangeRecord(change(n, at=bln(23, 10))) for n in (9, 10, 2)]
    assert [s.change.id for s in suspects(same, domain="support", filed_at=bln(24, 10), now=bln(24, 10))] == [
        "CHG-10",
        "CHG-9",
        "CHG-2",
    ]


# --- closing a regression ------------------------------------------------------------------------------


def close(**kw: Any) -> Closure:
    args: dict[str, Any] = dict(
        cause="platform",
        eval_case="https://evals.example.com/cases/52",
        no_eval_reason=None,
        suspect_ids=["CHG-7", "CHG-8"],
    )
    return close_regression(**{**args, **kw})


def test_causes() -> None:
    for given_cause, stored in [
        ("product", "product"),
        (" Both ", "both"),
        ("outside", "outside"),
        ("change:CHG-7", "change:CHG-7"),
        ("chg-8", "change:CHG-8"),
        ("Change:chg-7", "change:CHG-7"),
    ]:
        closure = close(cause=given_cause)
        assert closure.cause == stored
    assert close(cause="CHG-7").cause_change == "CHG-7" and close(cause="both").cause_change is None


@pytest.mark.parametrize(
    "cause, message",
    [
        (
            None,
            "Say what caused the regression: one of its suspects (CHG-7, CHG-8), product, platform, both or outside",
        ),
        ("  ", "Say what caused"),
        ("gremlins", "'gremlins' is not a cause"),
        ("CHG-9", "CHG-9 is not among this regression's suspects"),
    ],
)
def test_a_bad_cause_names_the_field(cause: str | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as caught:
        close(cause=cause)
    assert caught.value.field == "cause"


def test_without_suspects_the_choices_are_the_sides() -> None:
    with pytest.raises(InvalidInput, match="choose product, platform, both or outside"):
        close(cause="CHG-1", suspect_ids=[])


def test_the_eval_case_or_why_there_is_none() -> None:
    assert close(eval_case=None, no_eval_reason="covered by the weekly red-team run").no_eval_reason
    both = close(no_eval_reason="also a unit test")
    assert both.has_eval_case and both.no_eval_reason == "also a unit test"
    for kw, field in [
        (dict(eval_case=None), "eval_case"),
        (dict(eval_case="case 52"), "eval_case"),
        (dict(eval_case=None, no_eval_reason="x" * 501), "no_eval_reason"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            close(**kw)
        assert caught.value.field == field


def test_a_closure_cannot_be_built_with_a_cause_that_is_not_one() -> None:
    with pytest.raises(ValidationError):
        Closure(cause="CHG-7")


def request(n: int = 12, *, kind: str = "regression", domain: str = "support", confidential: bool = False) -> Request:
    return Request(
        id=n,
        kind=kind,
        domain=domain,
        title="refund window wrong",
        description="",
        priority="P2",
        status="resolved",
        requester="U0REQ",
        source="command",
        confidential=confidential,
        created_at=bln(23, 9),
        updated_at=bln(23, 9),
    )


def ev(r: Request, at: datetime, type: str, **data: Any) -> Event:
    return Event(request_id=r.id, at=at, actor="U0ENG1", type=type, data=data)


def test_the_closure_is_read_from_the_latest_resolution() -> None:
    r = request()
    first = close(cause="CHG-7")
    events = [
        ev(r, bln(23, 9), "created", status="open"),
        ev(r, bln(24, 9), "resolved", status="resolved", **first.event_data()),
        ev(r, bln(24, 10), "reopened", status="open"),
    ]
    assert closure_of(events) == first
    assert closure_of(events + [ev(r, bln(25, 9), "resolved", status="resolved")]) is None
    assert closure_of(events[:1]) is None
    assert closure_of([ev(r, bln(24, 9), "resolved", status="resolved", cause="nonsense")]) is None
    assert first.event_data() == {"cause": "change:CHG-7", "eval_case": "https://evals.example.com/cases/52"}


# --- digest figures --------------------------------------------------------------------------------------


WEEK = (bln(23, 9) - timedelta(days=1), bln(29, 12))  # (Sun 22 Nov 09:00, Sun 29 Nov 12:00]


def resolved(r: Request, at: datetime, **data: Any) -> list[Event]:
    return [ev(r, r.created_at, "created", status="open"), ev(r, at, "resolved", status="resolved", **data)]


def figures(
    items: list[tuple[Request, list[Event]]],
    records: list[ChangeRecord],
    *,
    scope: str | None = "support",
    include_confidential: bool = False,
    decide_after: float = 0.0,
) -> Any:
    start, end = WEEK
    listable = (lambda r: True) if include_confidential else (lambda r: not r.confidential)
    return loop_figures(
        items,
        records,
        start=start,
        end=end,
        scope=scope,
        calendar_for=lambda _: CAL,
        listable=listable,
        decide_after=decide_after,
    )


def test_regressions_closed_without_an_eval_case() -> None:
    with_case, without, old, secret = request(1), request(2), request(3), request(4, confidential=True)
    other_kind, other_domain = request(5, kind="eval"), request(6, domain="search")
    no_case = close(eval_case=None, no_eval_reason="cannot reproduce").event_data()
    items = [
        (with_case, resolved(with_case, bln(24, 9), **close().event_data())),
        (without, resolved(without, bln(24, 9), **no_case)),
        (old, resolved(old, bln(1, 9, month=11))),
        (secret, resolved(secret, bln(25, 9))),
        (other_kind, resolved(other_kind, bln(24, 9))),
        (other_domain, resolved(other_domain, bln(24, 9))),
    ]
    found = figures(items, [])
    assert found.regressions_closed == 3 and found.closed_without_eval_case == 2
    assert found.closed_without_eval_case_listed == [(2, "AIR-2")] and found.closed_without_eval_case_hidden == 1
    assert figures(items, [], include_confidential=True).closed_without_eval_case_listed == [(2, "AIR-2"), (4, "AIR-4")]
    assert figures(items, [], scope=None).regressions_closed == 4


def test_a_regression_reopened_and_closed_again_counts_its_last_closure_in_the_week() -> None:
    r = request()
    events = [
        ev(r, r.created_at, "created", status="open"),
        ev(r, bln(24, 9), "resolved", status="resolved", **close(eval_case=None, no_eval_reason="n/a").event_data()),
        ev(r, bln(25, 9), "reopened", status="open"),
        ev(r, bln(26, 9), "resolved", status="resolved", **close().event_data()),
        ev(r, bln(30, 9), "reopened", status="open"),
    ]  # after the week: not seen
    found = figures([(r, events)], [])
    assert found.regressions_closed == 1 and found.closed_without_eval_case == 0


def test_changes_never_acknowledged() -> None:
    before, this_week, answered_late = change(1, at=bln(16, 10)), change(2, at=bln(24, 10)), change(3, at=bln(25, 10))
    answered = change(4, at=bln(25, 11))
    records = [
        ChangeRecord(before),
        ChangeRecord(this_week),
        ChangeRecord(answered_late, answer(answered_late, bln(30, 10))),
        ChangeRecord(answered, answer(answered, bln(26, 10))),
        ChangeRecord(change(5, at=bln(24, 10), domain="search")),
        ChangeRecord(change(6, at=bln(30, 10))),
    ]
    found = figures([], records)
    assert found.changes_logged == 3
    assert found.unacknowledged_this_week == ["CHG-2", "CHG-3"]
    assert found.unacknowledged_open == [
        ("CHG-1", 9.9),
        ("CHG-2", 3.9),
        ("CHG-3", 2.9),
    ]  # 7 of 8 open hours on the first day
    assert figures([], records, scope=None).changes_logged == 4
    assert found.has_news and not figures([], []).has_news


def test_what_needs_a_decision_is_every_change_unanswered_past_n_business_days() -> None:
    old, fresh, answered = change(1, at=bln(16, 10)), change(2, at=bln(27, 10)), change(3, at=bln(16, 10))
    records = [ChangeRecord(old), ChangeRecord(fresh), ChangeRecord(answered, answer(answered, bln(17, 10)))]
    found = figures([], records, decide_after=2)
    assert [(r.change.id, days) for r, days in found.needs_answer] == [("CHG-1", 9.9)]  # CHG-2: 0.9 days by Sunday
    assert [c for c, _ in found.unacknowledged_open] == ["CHG-1", "CHG-2"] and found.decide_after == 2


# --- the change.unacknowledged nag ---------------------------------------------------------------------


STEPS = unacknowledged_ladder(2)
UP = (LEAD,)  # whom the lead's step adds


def state_at(record: ChangeRecord, now: datetime) -> Any:
    return change_state(record, asked_user="U0MLPM", calendar=CAL, now=now)


def nag_at(record: ChangeRecord, now: datetime, *, escalated: tuple[str, ...] = UP, **kw: Any) -> Any:
    return unacknowledged_nag(state_at(record, now), steps=STEPS, escalated=escalated, tz=BERLIN, **kw)


def test_the_thresholds_are_data() -> None:
    assert [(s.name, s.at) for s in STEPS.steps] == [("asked", 2), ("lead", 4)]


def test_nobody_is_nagged_before_n_business_days() -> None:
    record = ChangeRecord(change(at=bln(27, 16)))  # Fri 16:00
    assert nag_at(record, bln(1, 15, 59, month=12)) is None


def test_after_n_business_days_the_person_asked_is_nagged() -> None:
    record = ChangeRecord(change(at=bln(27, 16), kind="intent"))
    nag = nag_at(record, bln(1, 16, month=12))
    assert nag is not None and nag.rule == RULE_UNACKNOWLEDGED == "change.unacknowledged"
    assert nag.step == "asked" and nag.recipients == ("U0MLPM",) and nag.in_thread and not nag.urgent
    assert (
        nag.sent_key == ("CHG-7", "change.unacknowledged", "asked") and nag.ref == "CHG-7/change.unacknowledged/asked"
    )
    assert nag.offers == OFFERS
    assert action_ids(OFFERS, change=True) == [
        "change.covered",
        "change.needs_work",
        "change.not_relevant",
        "change.snooze",
    ]
    assert said(nag) == (
        "CHG-7 has waited 2 business days for an answer from <@U0MLPM>: Product shipped "
        "*express-refund intent* (intent) in support (<@U0PPM>, Fri 27 Nov 16:00). "
        "Does the prompt/eval suite cover it?"
    )


def test_after_2n_the_lead_too_and_only_the_highest_step() -> None:
    record = ChangeRecord(change(at=bln(27, 16)))
    nag = nag_at(record, bln(3, 16, month=12))
    assert nag is not None and nag.step == "lead" and nag.recipients == ("U0MLPM", LEAD)
    assert said(nag).endswith("Escalated to <@U0LEAD>.")
    assert nag_at(record, bln(10, 16, month=12), sent={nag.sent_key}) is None


def test_a_sent_step_is_not_sent_again_and_the_next_comes_later() -> None:
    record = ChangeRecord(change(at=bln(27, 16)))
    sent = {("CHG-7", RULE_UNACKNOWLEDGED, "asked")}
    assert nag_at(record, bln(2, 9, month=12), sent=sent) is None
    assert next_unacknowledged_check(
        state_at(record, bln(2, 9, month=12)), steps=STEPS, calendar=CAL, sent=sent
    ) == bln(3, 16, month=12).astimezone(timezone.utc)
    both = sent | {("CHG-7", RULE_UNACKNOWLEDGED, "lead")}
    assert (
        next_unacknowledged_check(state_at(record, bln(4, 9, month=12)), steps=STEPS, calendar=CAL, sent=both) is None
    )


def test_once_the_lead_was_told_the_lower_step_is_never_sent() -> None:
    record = ChangeRecord(change(at=bln(23, 10)))
    sent = {("CHG-7", RULE_UNACKNOWLEDGED, "lead")}  # a run after days down sent the top step only
    assert nag_at(record, bln(30, 10), sent=sent) is None
    assert next_unacknowledged_check(state_at(record, bln(30, 10)), steps=STEPS, calendar=CAL, sent=sent) is None


def test_answered_or_unasked_changes_are_not_nagged() -> None:
    c = change(at=bln(23, 10))
    done = change_state(
        ChangeRecord(c, answer(c, bln(23, 11))), asked_user="U0MLPM", calendar=CAL, now=bln(10, 10, month=12)
    )
    nobody = change_state(ChangeRecord(c), asked_user=None, calendar=CAL, now=bln(10, 10, month=12))
    for state in (done, nobody):
        assert unacknowledged_nag(state, steps=STEPS, escalated=UP, tz=BERLIN) is None
        assert next_unacknowledged_check(state, steps=STEPS, calendar=CAL) is None


def test_without_a_lead_the_top_step_escalates_to_whom_it_is_given() -> None:
    record = ChangeRecord(change(at=bln(23, 10)))
    nag = nag_at(record, bln(30, 10), escalated=())
    assert nag is not None and nag.step == "lead" and nag.recipients == ("U0MLPM",) and "Escalated" not in said(nag)
    admins = nag_at(record, bln(30, 10), escalated=("U0ADMIN", "U0ADMIN2"))
    assert admins.recipients == ("U0MLPM", "U0ADMIN", "U0ADMIN2") and said(admins).endswith(
        "Escalated to <@U0ADMIN> and <@U0ADMIN2>."
    )


def test_the_nag_escapes_what_shipped_and_names_a_hook() -> None:
    hook = change(
        side="platform", what="prompt <b> & v2", shipped_by="deploys", origin=HookOrigin(source="deploys", id="9")
    )
    state = change_state(ChangeRecord(hook), asked_user="U0PPM", calendar=CAL, now=bln(30, 10))
    nag = unacknowledged_nag(state, steps=STEPS, escalated=UP, tz=BERLIN)
    assert nag is not None and "*prompt &lt;b&gt; &amp; v2*" in said(nag) and "the `deploys` hook" in said(nag)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=60 * 24 * 30), st.integers(min_value=1, max_value=5))
def test_the_next_check_is_when_the_nag_falls_due(offset_minutes: int, days: int) -> None:
    record = ChangeRecord(change(at=bln(20, 0) + timedelta(minutes=offset_minutes)))
    steps = unacknowledged_ladder(days)
    state = state_at(record, record.change.at)
    due_at = next_unacknowledged_check(state, steps=steps, calendar=CAL)
    assert due_at is not None
    before = state_at(record, due_at - timedelta(seconds=1))
    assert unacknowledged_nag(before, steps=steps, escalated=UP, tz=BERLIN) is None
    nag = unacknowledged_nag(state_at(record, due_at), steps=steps, escalated=UP, tz=BERLIN)
    assert nag is not None and nag.step == "asked"


# --- snoozing a change's nags -----------------------------------------------------------------------------


def snoozed(record: ChangeRecord, at: datetime, *, by: str = "U0MLPM", max_days: float = 3) -> ChangeRecord:
    """The record after `by` pressed Snooze at `at`, as the log replays it."""
    pressed = snooze_change(record, by=by, at=at, asked_user="U0MLPM", lead=LEAD, admins=["U0ADMIN"], max_days=max_days)
    events = [
        logged_event(record.change),
        *([answered_event(record.answer)] if record.answer else []),
        *(snoozed_event(record.change.id, s) for s in record.snoozes),
        snoozed_event(record.change.id, pressed),
        nagged_event(
            record.change.id, rule=RULE_UNACKNOWLEDGED, step="asked", recipients=["U0MLPM"], at=at, actor="ai-intake"
        ),
    ]
    [replayed] = replay(events)
    return replayed


def test_a_snooze_quiets_the_nag_for_a_day_and_the_next_check_waits_for_it() -> None:
    record = snoozed(ChangeRecord(change(at=bln(23, 10))), bln(25, 11))  # due Wed 10:00; snoozed at 11:00
    assert record.snoozed_until(bln(25, 12)) == bln(26, 11) and record.snoozed_by(bln(25, 12)) == "U0MLPM"
    assert nag_at(record, bln(25, 12)) is None
    assert next_unacknowledged_check(state_at(record, bln(25, 12)), steps=STEPS, calendar=CAL) == bln(26, 11)
    nag = nag_at(record, bln(26, 11))
    assert nag is not None and nag.step == "asked"


def test_pressing_again_extends_from_the_running_snooze_never_past_the_cap_from_the_first_press() -> None:
    record = ChangeRecord(change(at=bln(23, 10)))
    for day in (25, 25, 25):
        record = snoozed(record, bln(day, 11))
    assert record.snoozed_until(bln(25, 12)) == bln(28, 11)  # three days from the first press, the cap
    with pytest.raises(Conflict, match="CHG-7 cannot be snoozed any longer: a snooze lasts at most 3 days"):
        snoozed(record, bln(25, 13))
    with pytest.raises(Conflict):  # on Friday too: it runs until Saturday 11:00, the cap
        snoozed(record, bln(27, 9))
    assert record.snoozes[0].first == record.snoozes[-1].first == bln(25, 11)
    short = snoozed(snoozed(ChangeRecord(change(at=bln(23, 10))), bln(25, 11), max_days=1.5), bln(25, 12), max_days=1.5)
    assert short.snoozed_until(bln(25, 12)) == bln(25, 11) + timedelta(
        days=1.5
    )  # the second press only reaches the cap


def test_only_who_may_answer_may_snooze_and_not_once_answered() -> None:
    c = change(at=bln(23, 10))
    with pytest.raises(NotAllowed, match="Only <@U0MLPM>, the support lead or an admin can snooze CHG-7."):
        snoozed(ChangeRecord(c), bln(25, 11), by="U0ENG1")
    for who in ("U0MLPM", LEAD, "U0ADMIN"):
        assert snoozed(ChangeRecord(c), bln(25, 11), by=who).snoozes[-1].by == who
    with pytest.raises(Conflict, match="already answered"):
        snoozed(ChangeRecord(c, answer(c, bln(24, 10))), bln(25, 11))


def test_the_nags_and_snoozes_are_events_the_log_keeps() -> None:
    record = snoozed(ChangeRecord(change(at=bln(23, 10))), bln(25, 11))
    assert record.answer is None and record.change.id == "CHG-7" and len(record.snoozes) == 1
    event = nagged_event(
        "CHG-7", rule=RULE_UNACKNOWLEDGED, step="lead", recipients=["U0MLPM", LEAD], at=bln(27, 10), actor="ai-intake"
    )
    assert (event.type, event.data) == (
        "change.nag",
        {"rule": "change.unacknowledged", "step": "lead", "recipients": ["U0MLPM", LEAD]},
    )

"""Nag rules with explicit times: each rule's first firing and not before, once per step, collapsing,
pauses, reopen cycles, the review ladder, unowned regressions, snoozes and batching."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.runtime.config import parse_config
from bot.domain.models import Disclaimer, Event, Request
from bot.blocks.nag_rules import explain_batch, said
from bot.domain.nags import (
    RULE_AT_RISK,
    RULE_BREACHED,
    RULE_NO_ANSWER,
    RULE_STALE_REVIEW,
    RULE_UNOWNED,
    Nag,
    Offer,
    batch,
    nags_due,
    next_check_at,
)
from tests.harness import CONFIG

CFG = parse_config(CONFIG)
OWN, DISCLAIM, SNOOZE, HAND, REOPEN = Offer.TAKE, Offer.NOT_MINE, Offer.SNOOZE, Offer.HAND, Offer.REOPEN
BERLIN = ZoneInfo("Europe/Berlin")


def bln(day: int, hour: int, minute: int = 0, *, month: int = 11) -> datetime:
    """A Berlin wall-clock time in 2026 (Mon 23 Nov is a working day, 09:00-17:00 open)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


CREATED = bln(23, 10)  # == tests.harness.START


def make(
    id: int = 1, *, kind: str = "question", priority: str = "P2", created: datetime = CREATED, **fields: Any
) -> Request:
    court = "reviewer" if kind == "security_review" else "assignee"
    base: dict[str, Any] = dict(
        id=id,
        kind=kind,
        domain="support",
        title="t",
        description="",
        priority=priority,
        status="open",
        requester="U0REQ",
        assignee="U0ENG1",
        source="command",
        court=court,
        created_at=created,
        updated_at=created,
    )
    return Request(**{**base, **fields})


def ev(request: Request, at: datetime, type: str, *, actor: str = "U0ENG1", **data: Any) -> Event:
    return Event(request_id=request.id, at=at, actor=actor, type=type, data=data)


def created(request: Request) -> Event:
    return ev(request, request.created_at, "created", actor=request.requester, court=request.court)


def due(
    request: Request,
    events: Sequence[Event],
    now: datetime,
    *,
    sent: set[tuple[int, str, str]] | None = None,
    rule: str | None = None,
) -> list[Nag]:
    found = nags_due([(request, events)], CFG, now=now, sent=sent or set())
    return [n for n in found if rule is None or n.rule == rule]


def sent_of(nags: Sequence[Nag]) -> set[tuple[int, str, str]]:
    return {n.sent_key for n in nags}


# --- sla.at_risk / sla.breached ----------------------------------------------------------------


def test_first_response_at_risk_fires_at_75_percent_once():
    r = make()
    events = [created(r)]
    assert due(r, events, bln(23, 12, 59)) == []
    [nag] = due(r, events, bln(23, 13))
    assert (nag.rule, nag.step, nag.recipients, nag.in_thread) == (RULE_AT_RISK, "first_response/c1", ("U0ENG1",), True)
    assert said(nag) == "AIR-1 first response at risk: due Mon 23 Nov 14:00, 3 business hours elapsed of 4"
    assert not nag.urgent and nag.offers == (SNOOZE,)
    assert due(r, events, bln(23, 13), sent=sent_of([nag])) == []
    assert due(r, events, bln(23, 13, 30), sent=sent_of([nag])) == []


def test_breach_goes_to_the_lead_too_and_collapses_an_unsent_at_risk():
    r = make()
    events = [created(r)]
    [nag] = due(r, events, bln(23, 14))  # at risk was never sent: only the breach goes out
    assert (nag.rule, nag.step, nag.recipients) == (RULE_BREACHED, "first_response/c1", ("U0ENG1", "U0LEAD"))
    assert said(nag).startswith("AIR-1 first response breached: due Mon 23 Nov 14:00")
    at_risk_sent = {(1, RULE_AT_RISK, "first_response/c1")}
    assert [n.rule for n in due(r, events, bln(23, 14), sent=at_risk_sent)] == [RULE_BREACHED]
    assert due(r, events, bln(23, 16), sent=at_risk_sent | sent_of([nag])) == []


def test_unassigned_goes_to_the_lead_and_unrouted_to_the_admins():
    r = make(assignee=None, court="lead")
    [nag] = due(r, [created(r)], bln(23, 13))
    assert nag.recipients == ("U0LEAD",) and said(nag).endswith("; nobody is assigned")
    unrouted = make(assignee=None, domain=None, court="triage")
    [nag] = due(unrouted, [created(unrouted)], bln(23, 14))
    assert (nag.rule, nag.recipients) == (RULE_BREACHED, ("U0ADMIN",))


def test_a_waiting_request_gets_no_at_risk_but_a_breach_stays_a_breach():
    r = make(priority="P1", status="waiting", court="requester", first_response_at=bln(23, 10, 10))
    claimed = ev(r, bln(23, 10, 10), "claimed", court="assignee", status="claimed")
    waiting = ev(r, bln(23, 16, 30), "waiting", court="requester", status="waiting")
    assert due(r, [created(r), claimed, waiting], bln(23, 16, 45)) == []  # 6.5 of 8 hours, paused
    working = r.model_copy(update={"status": "claimed", "court": "assignee"})
    [nag] = due(working, [created(r), claimed], bln(23, 16, 45))
    assert (nag.rule, nag.step) == (RULE_AT_RISK, "resolution/c1")

    late_wait = ev(r, bln(24, 10, 30), "waiting", court="requester", status="waiting")  # 8.5 business hours in
    [nag] = due(r, [created(r), claimed, late_wait], bln(24, 12))
    assert (nag.rule, nag.step, nag.urgent) == (RULE_BREACHED, "resolution/c1", True)
    assert "paused 1.5 h waiting on the requester" in said(nag)


def test_a_reopen_starts_a_new_resolution_cycle():
    r = make(priority="P1", status="claimed", first_response_at=bln(23, 10, 10))
    events = [
        created(r),
        ev(r, bln(23, 10, 10), "claimed", court="assignee", status="claimed"),
        ev(r, bln(23, 15), "resolved", court="nobody", status="resolved"),
        ev(r, bln(24, 9), "reopened", court="assignee", status="claimed"),
    ]
    sent = {(1, RULE_AT_RISK, "resolution/c1"), (1, RULE_BREACHED, "resolution/c1")}
    assert due(r, events, bln(24, 14, 59), sent=sent) == []
    [nag] = due(r, events, bln(24, 15), sent=sent)  # 6 of 8 business hours since the reopening
    assert (nag.rule, nag.step) == (RULE_AT_RISK, "resolution/c2")
    assert "resolution (cycle 2, after reopening) at risk" in said(nag)


def test_closed_requests_are_never_nagged():
    r = make(status="resolved", court="nobody", resolved_at=bln(23, 11))
    assert due(r, [created(r)], bln(30, 10)) == []


# --- review.stale --------------------------------------------------------------------------------


def review(**fields: Any) -> Request:
    return make(kind="security_review", priority="P3", assignee="U0SEC1", stage="requested", **fields)


STAMP = "@2026-11-23T09:00:00Z"  # the silence began with the creation (10:00 Berlin)


def test_review_goes_stale_after_7_days_then_repeats_and_climbs_the_ladder():
    r = review()
    events = [created(r)]
    assert due(r, events, CREATED + timedelta(days=7, minutes=-1), rule=RULE_STALE_REVIEW) == []
    steps = {
        7: ("rung1/r0", ("U0SEC1",), False),
        10: ("rung1/r1", ("U0SEC1",), False),
        20: ("rung1/r4", ("U0SEC1",), False),
        21: ("rung2/r0", ("U0SEC1", "U0REQ"), False),
        45: ("rung3/r0", ("U0SEC1", "U0REQ", "U0LEAD", "U0PPM", "U0MLPM"), False),
        90: ("rung4/r0", ("U0SEC1", "U0REQ", "U0LEAD", "U0PPM", "U0MLPM"), True),
    }
    for days, (step, recipients, in_digest) in steps.items():
        [nag] = due(r, events, CREATED + timedelta(days=days), rule=RULE_STALE_REVIEW)
        assert (nag.step, nag.recipients, said(nag).endswith("; shown in the org digest")) == (
            step + STAMP,
            recipients,
            in_digest,
        ), days
        assert (
            due(r, events, CREATED + timedelta(days=days, hours=1), sent=sent_of([nag]), rule=RULE_STALE_REVIEW) == []
        )


def test_skipped_review_steps_collapse_into_the_highest():
    r = review()
    [nag] = due(r, [created(r)], CREATED + timedelta(days=50), rule=RULE_STALE_REVIEW)
    assert nag.step == "rung3/r1" + STAMP  # (50 - 45) // 3
    assert set(nag.recipients) == {"U0SEC1", "U0REQ", "U0LEAD", "U0PPM", "U0MLPM"}


def test_review_text_names_the_ball_holder_age_silence_and_courts_and_nags_are_not_activity():
    r = review(status="claimed")
    events = [
        created(r),
        ev(r, CREATED + timedelta(days=2), "waiting", actor="U0SEC1", court="requester", status="waiting"),
        ev(r, CREATED + timedelta(days=11), "replied", actor="U0REQ", court="reviewer", status="claimed"),
        ev(r, CREATED + timedelta(days=20), "nag", actor="U0BOT", rule=RULE_STALE_REVIEW),
    ]
    [nag] = due(r, events, CREATED + timedelta(days=30), rule=RULE_STALE_REVIEW)
    assert said(nag) == (
        "AIR-1 security review: 30 days open: 21 waiting on security, 9 on the requester; "
        "ball with <@U0SEC1>, silent for 19 days"
    )
    assert nag.step == "rung1/r4@2026-12-04T09:00:00Z"


def test_a_review_waiting_on_the_requester_nags_the_requester():
    r = review(status="waiting", court="requester")
    events = [
        created(r),
        ev(r, CREATED + timedelta(hours=1), "review_changes_requested", court="requester", status="waiting"),
    ]
    [nag] = due(r, events, CREATED + timedelta(days=8), rule=RULE_STALE_REVIEW)
    assert nag.recipients == ("U0REQ", "U0SEC1") and said(nag).endswith("ball with <@U0REQ>, silent for 8 days")


def test_the_requester_asking_for_an_update_does_not_restart_the_silence_and_is_told():
    r = review(status="claimed")
    events = [
        created(r),
        ev(r, CREATED + timedelta(hours=1), "review_started", actor="U0SEC1", court="reviewer", status="claimed"),
        ev(
            r,
            CREATED + timedelta(days=12),
            "commented",
            actor="U0REQ",
            court="reviewer",
            status="claimed",
            text="any update?",
        ),
        ev(
            r,
            CREATED + timedelta(days=20),
            "commented",
            actor="U0REQ",
            court="reviewer",
            status="claimed",
            text="any update??",
        ),
        ev(r, CREATED + timedelta(days=21), "commented", actor="U0LEAD", court="reviewer", status="claimed", text="+1"),
    ]
    [nag] = due(r, events, CREATED + timedelta(days=22, hours=1), rule=RULE_STALE_REVIEW)
    assert nag.step == "rung2/r0@2026-11-23T10:00:00Z"  # 22 days since the reviewer started, not 1 since the last word
    assert said(nag).endswith(
        "ball with <@U0SEC1>, silent for 22 days; <@U0LEAD> wrote in the thread 1 day ago; "
        "<@U0REQ> asked for an update 2 days ago (2 times); last asked: “any update??”"
    )
    answered = [
        *events,
        ev(r, CREATED + timedelta(days=22, hours=2), "commented", actor="U0SEC1", court="reviewer", status="claimed"),
    ]
    assert (
        due(r, answered, CREATED + timedelta(days=23), sent=sent_of([nag]), rule=RULE_STALE_REVIEW) == []
    )  # the holder spoke


def test_the_silence_restarts_when_the_ball_moves():
    r = make(
        kind="security_review", priority="P3", stage="requested", status="claimed", assignee="U0SEC2", court="reviewer"
    )
    events = [
        ev(r, r.created_at, "created", actor=r.requester, court="reviewer", assignee="U0SEC1"),
        ev(r, CREATED + timedelta(days=10), "reassigned", actor="U0LEAD", court="reviewer", status="open", to="U0SEC2"),
    ]
    assert due(r, events, CREATED + timedelta(days=16), rule=RULE_STALE_REVIEW) == []  # 6 days since U0SEC2 got it
    [nag] = due(r, events, CREATED + timedelta(days=17), rule=RULE_STALE_REVIEW)
    assert nag.step == "rung1/r0@2026-12-03T09:00:00Z"


def test_a_new_silence_after_activity_starts_the_ladder_again():
    r = review()
    first = [created(r)]
    sent = sent_of(due(r, first, CREATED + timedelta(days=13), rule=RULE_STALE_REVIEW))
    later = [*first, ev(r, CREATED + timedelta(days=14), "commented", actor="U0SEC1", court="reviewer", status="open")]
    assert due(r, later, CREATED + timedelta(days=20), sent=sent, rule=RULE_STALE_REVIEW) == []
    [nag] = due(r, later, CREATED + timedelta(days=21), sent=sent, rule=RULE_STALE_REVIEW)
    assert nag.step == "rung1/r0@2026-12-07T09:00:00Z"


# --- regression.unowned --------------------------------------------------------------------------


def regression(**fields: Any) -> Request:
    return make(kind="regression", **fields)


def test_unowned_regression_pings_both_owners_after_h_business_hours_then_the_lead_after_2h():
    r = regression()
    events = [created(r)]
    assert due(r, events, bln(23, 13, 59), rule=RULE_UNOWNED) == []
    [owners] = due(r, events, bln(23, 14), rule=RULE_UNOWNED)
    assert (owners.step, owners.recipients, owners.in_thread) == ("owners", ("U0PPM", "U0MLPM"), True)
    assert owners.offers == (OWN, DISCLAIM, SNOOZE)
    assert said(owners) == (
        "AIR-1 regression has had no owner for 4 business hours (filed Mon 23 Nov 10:00): "
        "<@U0PPM> or <@U0MLPM>, take ownership, or say why it is not yours"
    )
    assert owners.thread_offers == (OWN, DISCLAIM) and owners.deciders == ()
    sent = sent_of([owners])
    assert due(r, events, bln(24, 9, 59), sent=sent, rule=RULE_UNOWNED) == []
    [lead] = due(r, events, bln(24, 10), sent=sent, rule=RULE_UNOWNED)  # 7 h Monday + 1 h Tuesday
    assert (lead.step, lead.recipients) == ("lead", ("U0PPM", "U0MLPM", "U0LEAD"))
    assert said(lead).endswith(
        "<@U0PPM> or <@U0MLPM>, take ownership, or say why it is not yours; escalated to <@U0LEAD>"
    )
    assert lead.thread_offers == (OWN, DISCLAIM, HAND)
    assert (lead.offers_for("U0PPM"), lead.offers_for("U0LEAD")) == (
        (OWN, DISCLAIM, SNOOZE),
        (OWN, DISCLAIM, SNOOZE, HAND),
    )
    assert due(r, events, bln(24, 10), sent=sent | sent_of([lead]), rule=RULE_UNOWNED) == []


def test_unowned_regression_skipping_the_owners_step_sends_only_the_lead_step_to_everyone():
    r = regression()
    [nag] = due(r, [created(r)], bln(24, 10), rule=RULE_UNOWNED)
    assert (nag.step, nag.recipients) == ("lead", ("U0PPM", "U0MLPM", "U0LEAD"))


def test_unowned_hours_are_business_hours():
    r = regression(created=bln(27, 16))  # Friday, one business hour before the weekend
    events = [created(r)]
    assert due(r, events, bln(30, 11, 59), rule=RULE_UNOWNED) == []
    assert [n.step for n in due(r, events, bln(30, 12), rule=RULE_UNOWNED)] == ["owners"]


def test_an_owned_regression_is_never_nagged():
    owned = regression(owner="U0PPM")
    assert due(owned, [created(owned)], bln(30, 12), rule=RULE_UNOWNED) == []
    by_event = regression()
    events = [created(by_event), ev(by_event, bln(23, 11), "owned", actor="U0MLPM", court="assignee", status="open")]
    assert due(by_event, events, bln(30, 12), rule=RULE_UNOWNED) == []


def test_a_disclaimed_regression_goes_to_the_lead_at_h():
    reason = "prompt <change> by platform"
    r = regression(court="lead", disclaimers=[Disclaimer(by="U0PPM", reason=reason, at=bln(23, 11))])
    events = [created(r), ev(r, bln(23, 11), "disclaimed", actor="U0PPM", court="lead", status="open", reason=reason)]
    assert due(r, events, bln(23, 13, 59), rule=RULE_UNOWNED) == []
    [nag] = due(r, events, bln(23, 14), rule=RULE_UNOWNED)
    assert (nag.step, nag.recipients, nag.offers_for("U0LEAD"), nag.thread_offers) == (
        "lead",
        ("U0LEAD",),
        (OWN, SNOOZE, HAND),
        (OWN, HAND),
    )
    assert (
        "<@U0PPM> says it is not theirs: “prompt &lt;change&gt; by platform”; <@U0LEAD>: take it, or hand it to someone"
        in said(nag)
    )


# --- requester.no_answer ------------------------------------------------------------------------


def test_a_request_waiting_on_its_requester_reminds_them_then_closes():
    r = make(status="waiting", court="requester", first_response_at=bln(23, 11))
    events = [created(r), ev(r, bln(23, 11), "waiting", court="requester", status="waiting")]
    stamp = "@2026-11-23T10:00:00Z"
    assert due(r, events, bln(26, 10, 59), rule=RULE_NO_ANSWER) == []  # 3 business days of 8 hours: Thursday 11:00
    [remind] = due(r, events, bln(26, 11), rule=RULE_NO_ANSWER)
    assert (remind.step, remind.recipients, remind.in_thread, remind.offers, remind.closes) == (
        "remind" + stamp,
        ("U0REQ",),
        True,
        (),
        False,
    )
    assert said(remind) == (
        "AIR-1 has waited on <@U0REQ> since Mon 23 Nov 11:00: answer in the thread, "
        "or it closes as no answer on Tue 1 Dec 11:00"
    )
    assert next_check_at(r, events, CFG, now=bln(26, 11), sent=sent_of([remind])) == bln(1, 11, month=12)
    [close] = due(r, events, bln(1, 11, month=12), sent=sent_of([remind]), rule=RULE_NO_ANSWER)
    assert (close.step, close.offers, close.thread_offers, close.closes) == (
        "close" + stamp,
        (REOPEN,),
        (REOPEN,),
        True,
    )
    assert said(close).startswith("AIR-1 closed as no answer: it waited on <@U0REQ> since Mon 23 Nov 11:00.")
    answered = [*events, ev(r, bln(24, 9), "replied", actor="U0REQ", court="assignee", status="claimed")]
    assert (
        due(
            r.model_copy(update={"status": "claimed", "court": "assignee"}),
            answered,
            bln(2, 11, month=12),
            rule=RULE_NO_ANSWER,
        )
        == []
    )


def test_the_requester_reminder_can_be_turned_off():
    config = parse_config({**CONFIG, "nags": {"requester_reminder_days": None}})
    r = make(status="waiting", court="requester")
    events = [created(r), ev(r, bln(23, 11), "waiting", court="requester", status="waiting")]
    assert nags_due([(r, events)], config, now=bln(30, 11, month=12), sent=set()) == []
    assert next_check_at(r, events, config, now=bln(23, 11), sent=set()) is None


# --- snooze ----------------------------------------------------------------------------------------


def snooze(r: Request, at: datetime, until: datetime, **data: Any) -> Event:
    return ev(r, at, "snoozed", until=until.isoformat(), **data)


def test_snooze_quiets_every_nag_until_it_ends():
    r = make()
    events = [created(r), snooze(r, bln(23, 11), bln(24, 10))]
    assert due(r, events, bln(23, 13)) == []
    assert due(r, events, bln(23, 16)) == []
    [nag] = due(r, events, bln(24, 10))
    assert nag.rule == RULE_BREACHED


def test_snooze_never_quiets_a_p1_breach():
    r = make(priority="P1")
    events = [created(r), snooze(r, bln(23, 10, 5), bln(25, 10))]
    assert due(r, events, bln(23, 10, 45)) == []  # at risk: snoozed
    [nag] = due(r, events, bln(23, 11))
    assert (nag.rule, nag.urgent, nag.offers) == (RULE_BREACHED, True, ())


def test_snooze_is_bounded_by_snooze_max_days():
    r = make()
    events = [created(r), snooze(r, bln(23, 10, 30), bln(10, 10, month=12))]
    assert due(r, events, bln(26, 10)) == []
    assert [n.rule for n in due(r, events, bln(26, 11))] == [RULE_BREACHED]


def test_a_snooze_quiets_the_review_ladder_without_restarting_it():
    r = review()
    events = [created(r), snooze(r, CREATED + timedelta(days=20), CREATED + timedelta(days=23))]
    assert due(r, events, CREATED + timedelta(days=22), rule=RULE_STALE_REVIEW) == []
    [nag] = due(r, events, CREATED + timedelta(days=23), rule=RULE_STALE_REVIEW)
    assert nag.step == "rung2/r0" + STAMP


def test_a_snooze_for_one_rule_leaves_the_others():
    r = regression()
    events = [created(r), snooze(r, bln(23, 11), bln(24, 17), rule=RULE_UNOWNED)]
    assert [n.rule for n in due(r, events, bln(23, 14))] == [RULE_BREACHED]


# --- batching ------------------------------------------------------------------------------------


def test_batch_sends_one_list_per_person_most_urgent_first():
    at_risk = make(1, created=bln(23, 10))
    breached = make(2, created=bln(23, 9))
    unassigned = make(3, assignee=None, court="lead", created=bln(23, 10, 30))
    items = [(r, [created(r)]) for r in (at_risk, breached, unassigned)]
    nags = nags_due(items, CFG, now=bln(23, 13, 45), sent=set())
    assert [(n.key, n.rule) for n in nags] == [
        ("AIR-2", RULE_BREACHED),
        ("AIR-1", RULE_AT_RISK),
        ("AIR-3", RULE_AT_RISK),
    ]
    grouped = batch(nags)
    assert list(grouped) == ["U0ENG1", "U0LEAD"]
    assert [n.key for n in grouped["U0ENG1"]] == ["AIR-2", "AIR-1"]
    assert [n.key for n in grouped["U0LEAD"]] == ["AIR-2", "AIR-3"]
    text = explain_batch("U0ENG1", nags)
    assert text.splitlines()[0] == "2 reminders, most urgent first:"
    assert text.index("AIR-2 first response breached") < text.index("AIR-1 first response at risk")
    assert "AIR-3" not in text
    assert explain_batch("U0LEAD", grouped["U0LEAD"][1:]) == said(grouped["U0LEAD"][1])


# --- the thresholds table: the rules and the next check read the same steps -----------------------


@pytest.mark.parametrize(
    "r",
    [
        make(id=1, priority="P3"),
        make(id=2, kind="regression", assignee=None, court="lead"),
        review(id=3),
        make(id=4, kind="regression", priority="P1"),
        make(id=5, status="waiting", court="requester"),
    ],
    ids=["question", "unowned regression", "security review", "P1 regression", "waiting on the requester"],
)
def test_the_next_check_is_never_later_than_the_next_nag(r: Request) -> None:
    """The jobs look at a request only once its next check has come: over 100 days of silence, run every 15
    minutes as the nags job would, no nag of any rule falls due before the next check said it could."""
    events, sent = [created(r)], set()
    if r.status == "waiting":
        events.append(ev(r, r.created_at, "waiting", court="requester", status="waiting"))
    check = next_check_at(r, events, CFG, now=r.created_at, sent=sent)
    nagged = []
    now = r.created_at
    while now < r.created_at + timedelta(days=100):
        now += timedelta(minutes=15)
        fresh = nags_due([(r, events)], CFG, now=now, sent=sent)
        if fresh:
            assert check is not None and check <= now, (r.id, [n.step for n in fresh], check, now)
            sent |= sent_of(fresh)
            nagged += [(n.rule, n.step) for n in fresh]
        if check is not None and check <= now or fresh:
            check = next_check_at(r, events, CFG, now=now, sent=sent)
    assert nagged, r.id
    assert (check is not None) == r.is_security_review, r.id  # only the review's ladder repeats for ever


def test_the_next_check_falls_on_the_thresholds_of_the_table():
    """Each rule's next check is the instant its next step is reached: 75 % of an SLA target, the owners'
    4 business hours, the first rung's 7 days of silence."""
    question, unowned = make(id=1), make(id=2, kind="regression", priority="P4")  # P4: first response in 40 h
    stale = review(id=3, status="waiting", court="requester")  # its SLA clocks stand still
    assert next_check_at(question, [created(question)], CFG, now=CREATED, sent=set()) == bln(23, 13)  # P2: 3 of 4 h
    assert next_check_at(unowned, [created(unowned)], CFG, now=CREATED, sent=set()) == bln(23, 14)
    assert next_check_at(stale, [created(stale)], CFG, now=CREATED, sent=set()) == CREATED + timedelta(days=7)

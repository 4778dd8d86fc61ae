"""Digest figures with explicit times, through a real store: each request and its log stored, their facts kept
as the bot keeps them, the figures aggregated from the facts — counts, medians, attainment, breaches, lists,
confidentiality, scope, and last week's figures from the same facts."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.blocks.digest import change
from bot.domain.digest import DigestFigures, week_ending
from bot.domain.models import Event, Request
from bot.usecases.facts import facts_of
from bot.usecases.jobs import Jobs
from storage.db import Db
from storage.store import Store
from tests.test_nags import CFG, ev, make as _make, bln

NOW = bln(30, 10)  # Monday 30 Nov, 10:00 Berlin: the week is (Mon 23 10:00, Mon 30 10:00]
HOUR = 3600.0


def make(id: int, **fields) -> tuple[Request, list[Event]]:
    """A request and its log, which `steps` (event type, Berlin time, data) extend after creation."""
    steps = fields.pop("steps", [])
    request = _make(id, **fields)
    events = [ev(request, request.created_at, "created", actor=request.requester, court=request.court)]
    events += [ev(request, at, type, **data) for type, at, data in steps]
    return request, events


def claimed(at):
    return ("claimed", at, {"court": "assignee", "status": "claimed"})


def resolved(at):
    return ("resolved", at, {"court": "nobody", "status": "resolved"})


def world() -> list[tuple[Request, list[Event]]]:
    return [
        # A: filed and answered in 1 h, resolved after 8 business hours, all this week.
        make(
            1,
            created=bln(24, 10),
            status="resolved",
            court="nobody",
            first_response_at=bln(24, 11),
            resolved_at=bln(25, 10),
            steps=[claimed(bln(24, 11)), resolved(bln(25, 10))],
        ),
        # B: first response after 20 business hours (target 16: missed, due Fri 27 10:00), still open.
        make(
            2,
            kind="feature",
            priority="P3",
            created=bln(25, 10),
            status="claimed",
            first_response_at=bln(27, 14),
            steps=[claimed(bln(27, 14)), ("snoozed", bln(29, 12), {"until": bln(1, 10, month=12).isoformat()})],
        ),
        # C: a regression from last week, nobody answered, nobody owns it.
        make(3, kind="regression", created=bln(16, 11)),
        # D: a confidential security review, silent since 1 Oct.
        make(
            4,
            kind="security_review",
            priority="P3",
            assignee="U0SEC1",
            confidential=True,
            stage="in_review",
            created=bln(1, 10, month=10),
            status="claimed",
            first_response_at=bln(1, 11, month=10),
            steps=[("review_started", bln(1, 11, month=10), {"court": "reviewer", "status": "claimed"})],
        ),
        # E: another domain.
        make(5, domain="search", assignee="U0ENG3", priority="P4", created=bln(24, 10)),
        # F: filed, answered and resolved last week.
        make(
            6,
            created=bln(17, 10),
            status="resolved",
            court="nobody",
            first_response_at=bln(17, 10, 30),
            resolved_at=bln(18, 10),
            steps=[claimed(bln(17, 10, 30)), resolved(bln(18, 10))],
        ),
        # G: filed last week, resolved this week (open at the end of last week).
        make(
            7,
            kind="eval",
            priority="P3",
            created=bln(19, 10),
            status="resolved",
            court="nobody",
            first_response_at=bln(19, 11),
            resolved_at=bln(24, 10),
            steps=[claimed(bln(19, 11)), resolved(bln(24, 10))],
        ),
    ]


def stored(path: Path, items: list[tuple[Request, list[Event]]]) -> Jobs:
    """A store holding `items` (their ids in order from 1), each request's facts kept as the bot keeps them."""
    store = Store(Db(path / "digest.db"), facts_of=facts_of(CFG))
    for request, events in items:
        with store.transaction() as tx:
            assert tx.insert_request(request, origin_key=None).id == request.id
            for event in events:
                tx.add_event(event)
    return Jobs(store, CFG)


def figures(
    path: Path,
    items: list[tuple[Request, list[Event]]],
    scope: str | None = "support",
    *,
    channels: list[str] | None = None,
) -> DigestFigures:
    return stored(path, items).digest_figures(now=NOW, channels=channels)[scope]


def test_a_digest_covers_the_week_ending_now():
    assert week_ending(NOW) == (NOW - timedelta(days=7), NOW)


def test_domain_figures_of_the_week(tmp_path):
    f = figures(tmp_path, world())
    assert (f.scope, f.week_start, f.week_end) == ("support", bln(23, 10), NOW)
    assert (f.opened, f.resolved) == (2, 2)  # A, B opened; A, G resolved
    assert f.open_by_kind == {"feature": 1, "regression": 1, "security_review": 1}
    assert f.median_first_response_seconds == (1 * HOUR + 20 * HOUR) / 2  # A, B
    assert f.median_resolution_seconds == (8 * HOUR + 24 * HOUR) / 2  # A, G
    assert f.sla_attainment == 75.0  # met: A both, G resolution; missed: B first response
    # Targets due this week and not met: B's first response (due Fri 27 10:00, answered at 14:00) and C's resolution
    # (due Mon 23 11:00). C's first response fell due last week and D's resolution in October: breaches of earlier
    # weeks, counted in those weeks (the log replayed as of the week's end counted every open breach again, each week).
    assert f.breaches == 2
    assert f.unowned_regressions == [(3, "AIR-3", 79.0)]
    assert f.snoozed == [(2, "AIR-2", bln(1, 10, month=12), "U0ENG1")]


def test_confidential_requests_are_only_counted_outside_their_private_channel(tmp_path):
    jobs = stored(tmp_path, world())
    public = jobs.digest_figures(now=NOW)["support"]
    assert public.confidential_open == 1
    assert public.stale_reviews == []
    assert (public.hidden_stalled, public.stalled_total) == ((1, 60), 1)  # counted: 1, silent 60 days
    assert public.top_rung == []  # 60 days: rung 3 of 4
    assert public.oldest_open == [(3, "AIR-3", 13), (2, "AIR-2", 5)]
    private = jobs.digest_figures(now=NOW, channels=["G0SUPSEC"])["support"]
    assert private.confidential_open == 1
    assert private.stale_reviews == [(4, "AIR-4", 60)]
    assert private.oldest_open == [(4, "AIR-4", 60), (3, "AIR-3", 13), (2, "AIR-2", 5)]


def test_last_week_is_counted_from_the_same_facts(tmp_path):
    p = figures(tmp_path, world()).previous
    assert p is not None
    assert (p.start, p.end) == (bln(16, 10), bln(23, 10))
    assert (p.opened, p.resolved) == (3, 1)  # C, F, G opened; F resolved
    assert p.median_first_response_seconds == (0.5 * HOUR + 1 * HOUR) / 2  # F, G
    assert p.median_resolution_seconds == 8 * HOUR  # F
    assert p.sla_attainment == 100.0
    assert p.breaches == 1  # C's first response, due Mon 16 15:00; C's resolution was not due yet


def test_week_over_week_change(tmp_path):
    f = figures(tmp_path, world())
    assert change(f.opened, f.previous.opened) == "-1"
    assert change(f.resolved, f.previous.resolved) == "+1"
    assert change(f.breaches, f.previous.breaches) == "+1"
    assert change(f.sla_attainment, f.previous.sla_attainment, points=True) == "-25 pts"
    assert change(f.median_resolution_seconds, f.previous.median_resolution_seconds) == "+100 %"


@pytest.mark.parametrize(
    ("current", "previous", "text"),
    [
        (5, 2, "+3"),
        (1, 3, "-2"),
        (2, 2, "±0"),
        (88.0, 100.0, "-12 %"),
        (3.0, 3.0, "±0"),
        (None, 3, "—"),
        (3, None, "—"),
        (2.0, 0.0, "—"),
        (0, 0, "±0"),
    ],
)
def test_change(current, previous, text):
    assert change(current, previous) == text


def test_org_wide_and_other_domain_scopes(tmp_path):
    together = stored(tmp_path, world()).digest_figures(now=NOW)
    org = together[None]
    assert org.opened == 3 and org.open_by_kind["question"] == 1
    search = together["search"]
    assert (search.opened, search.resolved, search.open_by_kind) == (1, 0, {"question": 1})
    assert search.sla_attainment is None and search.median_first_response_seconds is None


def test_oldest_open_keeps_the_five_oldest(tmp_path):
    items = [make(i, created=bln(1, 10, month=11) + timedelta(days=i)) for i in range(1, 9)]
    f = figures(tmp_path, items)
    assert [key for _, key, _ in f.oldest_open] == ["AIR-1", "AIR-2", "AIR-3", "AIR-4", "AIR-5"]


def test_the_top_of_the_ladder_is_named_even_when_it_cannot_be_listed(tmp_path):
    items = [
        *world(),
        make(
            8,
            kind="security_review",
            priority="P3",
            assignee="U0SEC1",
            confidential=True,
            created=bln(1, 10, month=8),
            status="claimed",
            court="reviewer",
        ),
    ]
    org = figures(tmp_path, items, None)
    assert org.top_rung == [(8, "AIR-8", 121, "reviewer", None)]
    assert org.hidden_stalled == (2, 121) and org.stale_reviews == []


def test_a_breach_counts_in_the_week_it_fell_due_not_every_week_after(tmp_path):
    """A question nobody answers: its first response falls due (4 business hours) in the week it was filed, its
    resolution (40) a week later; each is one breach, in its own week, however long the request stays open."""
    items = [make(1, created=bln(9, 10))]  # Mon 9 Nov: first response due Mon 9 14:00, resolution Mon 16 10:00
    jobs = stored(tmp_path, items)
    weeks = {at: jobs.digest_figures(now=at)["support"].breaches for at in (bln(16, 9), bln(23, 9), bln(30, 9))}
    assert weeks == {bln(16, 9): 1, bln(23, 9): 1, bln(30, 9): 0}


def test_a_withdrawn_request_owes_no_first_response(tmp_path):
    """The clocks stop while a request is closed: withdrawn before anyone answered, it never breaches."""
    request, events = make(
        1,
        created=bln(24, 10),
        status="declined",
        court="nobody",
        resolved_at=bln(24, 11),
        steps=[("withdrawn", bln(24, 11), {"court": "nobody", "status": "declined"})],
    )
    f = figures(tmp_path, [(request, events)])
    # its resolution cycle ended in time, but a withdrawal is no resolution: in none of the resolution figures
    assert (f.opened, f.resolved, f.breaches, f.sla_attainment, f.median_resolution_seconds) == (1, 0, 0, None, None)

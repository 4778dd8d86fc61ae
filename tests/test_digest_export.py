"""The digest and the export read the same kept facts: after two weeks of requests filed, answered, paused,
resolved, withdrawn and left to breach through the real app, every figure the digest counts for the week and the
week before equals the one derived from `ai-intake export`'s rows taken at the same moment."""

from collections import Counter
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from bot.blocks import ids
from bot.domain.digest import DigestFigures
from bot.usecases.export import export_rows
from tests.harness import Harness


def in_week(text: str | None, start: datetime, end: datetime) -> bool:
    return text is not None and start < datetime.fromisoformat(text) <= end


def from_export(rows: list[dict[str, Any]], scope: str | None, start: datetime, end: datetime) -> dict[str, Any]:
    """The digest's figures of (start, end] for `scope` (None: every request), counted off export rows."""
    mine = [r for r in rows if scope is None or r["domain"] == scope]
    satisfied = {"first_response": [], "resolution": []}
    states: Counter[str] = Counter()
    breaches = 0
    for row in mine:
        # a resolution counts only when it was one: withdrawn or closed as a duplicate (declined), in none of the figures
        resolved_at = row["resolved_at"] if row["status"] == "resolved" else None
        for target, at in (("first_response", row["first_response_at"]), ("resolution", resolved_at)):
            sla = row["sla"][target]
            if in_week(at, start, end):
                satisfied[target].append(sla["business_seconds_elapsed"])
                states[sla["state"]] += 1
            breaches += in_week(sla["due_at"], start, end) and sla["state"] != "met"
    resolved = sum(
        any(e["data"].get("status") == "resolved" and in_week(e["at"], start, end) for e in row["events"])
        for row in mine
    )
    judged = states["met"] + states["missed"]
    return {
        "opened": sum(in_week(r["created_at"], start, end) for r in mine),
        "resolved": resolved,
        "median_first_response_seconds": median(satisfied["first_response"]) if satisfied["first_response"] else None,
        "median_resolution_seconds": median(satisfied["resolution"]) if satisfied["resolution"] else None,
        "sla_attainment": 100.0 * states["met"] / judged if judged else None,
        "breaches": breaches,
        "open_by_kind": dict(
            sorted(Counter(r["kind"] for r in mine if r["status"] in ("open", "claimed", "waiting")).items())
        ),
        "confidential_open": sum(r["confidential"] and r["status"] in ("open", "claimed", "waiting") for r in mine),
    }


def from_digest(f: DigestFigures, *, previous: bool = False) -> dict[str, Any]:
    week = f.previous if previous else f
    assert week is not None
    names = (
        "opened",
        "resolved",
        "median_first_response_seconds",
        "median_resolution_seconds",
        "sla_attainment",
        "breaches",
    )
    found = {name: getattr(week, name) for name in names}
    if not previous:
        found.update(open_by_kind=f.open_by_kind, confidential_open=f.confidential_open)
    return found


def two_weeks(h: Harness) -> None:
    """Requests of both domains over two weeks: answered at once or late, paused, resolved, withdrawn, left open."""
    for day in range(10):
        h.command(f"question: refund eval number {day}?", user="U0REQ")
        h.command(f"regression: search ranking {day} ignores the language", user="U0REQ2", channel="C0SEARCH")
        if day % 3 == 0:
            h.command(f"security review: vendor model {day}", user="U0REQ")
        h.settle()
        h.clock.advance(hours=2 + day % 4)
        for key in (f"AIR-{n}" for n in range(1, 40)):
            request = h.bot.queries.get(int(key.split("-")[1]))
            if request is None or not request.is_open:
                continue
            engineer = "U0ENG1" if request.domain == "support" else "U0ENG3"
            if request.status == "open" and (request.id + day) % 3 == 0:
                h.click(ids.CLAIM, key, user=engineer)
            elif request.status == "claimed" and (request.id + day) % 4 == 0:
                h.click(ids.WAIT, key, user=engineer)
            elif request.status == "claimed" and (request.id + day) % 5 == 1:
                h.click(ids.RESOLVE, key, user=engineer)
            elif request.status == "open" and (request.id + day) % 7 == 0 and request.requester == "U0REQ":
                h.bot.intake.withdraw(key, "U0REQ")
        h.settle()
        h.clock.advance(days=1)


def test_the_digests_figures_are_those_of_the_export(harness: Harness) -> None:
    h = harness
    two_weeks(h)
    now = h.clock()
    figures = h.bot.jobs.digest_figures(now=now)
    rows = list(export_rows(h.bot.store, h.bot.config, now=now))
    assert sum(r["sla"]["resolution"]["state"] == "met" for r in rows) and any(r["status"] == "declined" for r in rows)
    for scope in ("support", "search", None):
        f = figures[scope]
        assert from_digest(f) == from_export(rows, scope, f.week_start, f.week_end), scope
        start = f.week_start - timedelta(days=7)
        before = from_export(rows, scope, start, f.week_start)
        del before["open_by_kind"], before["confidential_open"]  # of now, not of a week ago
        assert from_digest(f, previous=True) == before, scope
    assert figures[None].breaches and figures[None].sla_attainment not in (None, 100.0)

"""The facts kept for each request as it changes: after any sequence of use cases (through the service, on a real
database, the clock moving between them) the stored facts are those its event log gives, and read later they say
what the log says; `ai-intake doctor` names a request whose facts differ and `--fix` rewrites them; a database
whose requests have none (from before them) gets them when the bot starts."""

import sqlite3
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runtime.config import parse_config
from bot.domain.errors import IntakeError
from bot.domain.facts import courts_at, request_facts, sla_at
from bot.domain.history import court_seconds, request_sla
from bot.domain.models import Draft
from bot.usecases.facts import Facts, facts_of
from bot.usecases.jobs import Jobs
from bot.usecases.service import Intake
from storage.db import Db
from storage.store import Store
from tests.harness import CONFIG, START, fresh_database
from tests.test_cli import base_env, run_cli

CFG = parse_config(CONFIG)
PEOPLE = ("U0REQ", "U0REQ2", "U0ENG1", "U0ENG2", "U0SEC1", "U0LEAD", "U0PPM", "U0ADMIN")
KINDS = ("question", "regression", "security_review", "feature")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def world(path: Path) -> tuple[Store, Intake, Jobs, Clock]:
    clock = Clock(START)
    store = Store(Db(fresh_database(path)), facts_of=facts_of(CFG))
    return store, Intake(store, CFG, clock=clock), Jobs(store, CFG), clock


def file(intake: Intake, n: int, kind: str, who: str) -> None:
    intake.file_request(
        Draft(
            title=f"refund answer {n} is wrong",
            kind=kind,
            requester=who,
            source="command",
            channel="C0SUPPORT",
            origin_ts=f"{1700000000 + n}.000100",
        )
    )


ACTIONS = {
    "claim": lambda i, key, who, n: i.claim(key, who),
    "wait": lambda i, key, who, n: i.wait(key, who),
    "resolve": lambda i, key, who, n: i.resolve(key, who),
    "withdraw": lambda i, key, who, n: i.withdraw(key, who),
    "reopen": lambda i, key, who, n: i.reopen(key, who),
    "own": lambda i, key, who, n: i.own(key, who),
    "disclaim": lambda i, key, who, n: i.disclaim(key, who, reason="the prompt is the platform's"),
    "snooze": lambda i, key, who, n: i.snooze(key, who, days=1),
    "start review": lambda i, key, who, n: i.review(key, who, step="start"),
    "approve": lambda i, key, who, n: i.review(key, who, step="approve"),
    "ask changes": lambda i, key, who, n: i.review(key, who, step="changes"),
    "reassign": lambda i, key, who, n: i.reassign(key, who, to="U0ENG2"),
    "move": lambda i, key, who, n: i.move(key, who, to="search"),
    "hand": lambda i, key, who, n: i.hand(key, who, to="U0ENG1"),
}

filings = st.lists(
    st.tuples(st.just("file"), st.sampled_from(KINDS), st.sampled_from(PEOPLE[:2])), min_size=1, max_size=4
)
WORKERS = ("U0ENG1", "U0ENG1", "U0ENG2", "U0SEC1", "U0LEAD", "U0REQ", "U0PPM")
"""Who acts: mostly people whose actions the rules allow (engineers of support, its reviewer and lead)."""
actions = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(sorted(ACTIONS)), st.integers(1, 4), st.sampled_from(WORKERS)),
        st.tuples(st.sampled_from(["wait", "reopen", "claim"]), st.integers(1, 4), st.sampled_from(WORKERS[:2])),
        st.tuples(st.just("reply"), st.integers(1, 4), st.sampled_from(PEOPLE)),
        st.tuples(st.just("time"), st.integers(1, 5 * 24 * 60 * 60), st.just("")),
        st.tuples(st.just("nags"), st.just(0), st.just("")),
    ),
    min_size=5,
    max_size=40,
)
steps = st.builds(lambda filed, then: [*filed, *then], filings, actions)
"""A script: a few requests filed, then use cases on them (by whoever: the rules refuse some), the clock moving
and the nag jobs running between them."""


def play(intake: Intake, jobs: Jobs, clock: Clock, script: list[tuple]) -> None:
    """Each step through the service at the clock's time; a step the rules refuse changes nothing."""
    filed = 0
    for n, (what, arg, who) in enumerate(script):
        try:
            if what == "file":
                filed += 1
                file(intake, filed, arg, who)
            elif what == "time":
                clock.at += timedelta(seconds=arg)
            elif what == "nags":
                jobs.run_nags(job="nags", now=clock.at)  # may close a request its requester left unanswered
                jobs.run_nags(job="sla", now=clock.at)
            elif what == "reply":
                intake.comment(
                    channel="C0SUPPORT",
                    thread_ts=f"{1700000000 + (arg - 1) % filed + 1}.000100",
                    ts=f"{1800000000 + n}.000100",
                    user=who,
                    text="any news?",
                )
            else:
                ACTIONS[what](intake, f"AIR-{(arg - 1) % filed + 1}", who, n)
        except IntakeError:
            pass


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(0, 30 * 24 * 3600))
def test_after_any_sequence_of_use_cases_the_kept_facts_are_what_the_log_says(script: list[tuple], later: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, intake, jobs, clock = world(Path(tmp) / "facts.db")
        play(intake, jobs, clock, script)
        assert list(Facts(store, CFG).check()) == []  # what `ai-intake doctor` finds
        now = clock.at + timedelta(seconds=later)
        with store.reading() as tx:
            items = tx.page_after(0, limit=100)
            kept = tx.facts.of([r.id for r, _ in items])
        for request, events in items:  # read later, they say what the log says then
            assert sla_at(kept[request.id], CFG, request.domain, now=now) == request_sla(request, events, CFG, now=now)
            assert courts_at(kept[request.id], now=now) == court_seconds(events, now=now)
        store_db_close(store)


def store_db_close(store: Store) -> None:
    store._db.close()  # noqa: SLF001  (the temporary directory goes next)


def test_every_kind_of_change_keeps_the_facts_of_its_log(tmp_path: Path) -> None:
    """The changes a random script rarely reaches, in one story: a question waits on its requester until it closes
    as no answer and she reopens it by answering; a resolved regression is reopened and resolved again; a review
    goes to changes requested and back; a duplicate is closed; a request moves. After each, the facts are the log's."""
    store, intake, jobs, clock = world(tmp_path / "facts.db")
    for n, kind in enumerate(("question", "regression", "security_review", "question", "feature"), 1):
        file(intake, n, kind, "U0REQ")

    def hours(n: float) -> None:
        clock.at += timedelta(hours=n)
        assert list(Facts(store, CFG).check()) == []

    intake.claim("AIR-1", "U0ENG1")
    hours(1)
    intake.wait("AIR-1", "U0ENG1")
    hours(24 * 9)
    jobs.run_nags(job="nags", now=clock.at)
    hours(1)  # closed as no answer
    with store.reading() as tx:
        assert tx.get(1).closed_as == "no_answer"
    intake.comment(
        channel="C0SUPPORT", thread_ts="1700000001.000100", ts="1800000001.000100", user="U0REQ", text="here it is"
    )
    hours(2)  # her answer reopens it
    intake.resolve("AIR-2", "U0ENG1")
    hours(3)
    intake.reopen("AIR-2", "U0ENG2")
    hours(5)
    intake.resolve("AIR-2", "U0ENG2")
    hours(1)
    intake.review("AIR-3", "U0SEC1", step="changes")
    hours(30)
    intake.comment(
        channel="C0SUPPORT", thread_ts="1700000003.000100", ts="1800000003.000100", user="U0REQ", text="changed it"
    )
    hours(2)
    intake.mark_duplicate("AIR-4", "U0ENG1", of="AIR-1")
    hours(1)
    intake.move("AIR-5", "U0ENG1", to="search")
    hours(4)
    with store.reading() as tx:
        types = [e.type for _, events in tx.page_after(0, limit=10) for e in events]
        kept = tx.facts.of([1, 2])
    assert {"closed", "reopened", "review_changes_requested", "replied", "moved", "resolved"} <= set(types)
    assert [(c.target, c.cycle, c.ended_by) for c in kept[1].clocks] == [
        ("first_response", 1, None),
        ("resolution", 1, "declined"),
        ("resolution", 2, None),
    ]
    assert kept[1].clocks[1].clock.state is None  # closed as no answer: neither met nor missed
    assert [(c.cycle, c.ended_by, c.clock.state) for c in kept[2].clocks[1:]] == [
        (1, "resolved", "missed"),
        (2, "resolved", "met"),
    ]


def test_a_withdrawn_question_stops_both_clocks(tmp_path: Path) -> None:
    store, intake, jobs, clock = world(tmp_path / "facts.db")
    file(intake, 1, "question", "U0REQ")
    clock.at += timedelta(hours=1)
    intake.withdraw("AIR-1", "U0REQ")
    with store.reading() as tx:
        facts = tx.facts.of([1])[1]
    week_later = clock.at + timedelta(days=7)
    sla = sla_at(facts, CFG, "support", now=week_later)
    assert sla.first_response.state == "on_track" and sla.first_response.business_seconds_elapsed == 3600
    assert sla.resolution.state == "met"
    assert [(c.target, c.cycle, c.ended_by) for c in facts.clocks] == [
        ("first_response", 1, None),
        ("resolution", 1, "declined"),
    ]


def test_doctor_names_a_request_whose_facts_differ_and_fix_rewrites_them(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    store, intake, _, clock = world(Path(env["AI_INTAKE_DB"]))
    for n, kind in enumerate(("question", "regression", "security_review"), 1):
        file(intake, n, kind, "U0REQ")
    clock.at += timedelta(hours=2)
    intake.claim("AIR-2", "U0ENG1")
    store_db_close(store)
    healthy = run_cli("doctor", env=env)
    assert (healthy.returncode, healthy.stdout) == (
        0,
        "checked 3 request(s): every one's facts are what its log says\n",
    )

    with sqlite3.connect(env["AI_INTAKE_DB"]) as conn:  # facts that drifted from the log
        conn.execute("UPDATE sla_clocks SET due_at = '2026-11-24T08:00:00.000000+00:00' WHERE request_id = 2")
        conn.execute("UPDATE request_facts SET stalled_since = NULL WHERE request_id = 3")
    sick = run_cli("doctor", env=env)
    assert sick.returncode == 1
    assert sick.stdout.splitlines() == [
        "AIR-2: SLA clocks (kept facts differ from its log)",
        "AIR-3: stalled since (kept facts differ from its log)",
        "checked 3 request(s): 2 differ; `ai-intake doctor --fix` rewrites them from their logs",
    ]
    fixed = run_cli("doctor", "--fix", env=env)
    assert (fixed.returncode, fixed.stdout.splitlines()[-1]) == (
        0,
        "checked 3 request(s): rewrote the facts of 2 from their logs",
    )
    assert run_cli("doctor", env=env).returncode == 0


def test_requests_from_before_the_facts_get_them_when_the_bot_starts(tmp_path: Path) -> None:
    path = tmp_path / "facts.db"
    bare = Store(Db(path))  # keeps no facts: as a database from before them
    store, _, _, clock = world(path)
    intake = Intake(bare, CFG, clock=clock)  # the use cases of an older version, writing no facts
    for n in range(1, 4):
        file(intake, n, "question", "U0REQ")
    with bare.reading() as tx:
        assert tx.facts.of([1, 2, 3]) == {} and tx.facts.count_outdated(version=1) == 3
    with store.transaction() as tx:
        tx.facts.set_basis(version=0, basis="an older version")
    Facts(store, CFG).prepare()
    assert list(Facts(store, CFG).check()) == []
    with store.reading() as tx:
        events = {r.id: (r, e) for r, e in tx.page_after(0, limit=10)}
        assert tx.facts.of([1, 2, 3]) == {i: request_facts(*events[i], CFG) for i in (1, 2, 3)}


def test_a_changed_config_recomputes_the_open_requests_facts(tmp_path: Path) -> None:
    store, intake, _, clock = world(tmp_path / "facts.db")
    file(intake, 1, "question", "U0REQ")
    file(intake, 2, "question", "U0REQ")
    intake.resolve("AIR-2", "U0ENG1")
    Facts(store, CFG).prepare()  # the basis of today's config
    faster = parse_config({**CONFIG, "sla": {"P4": {"first_response": 20, "resolution": 200}}})  # questions are P4
    Facts(store, faster).prepare()
    with store.reading() as tx:
        kept = tx.facts.of([1, 2])
    assert kept[1].current("first_response").target_seconds == 20 * 3600  # open: under the new targets
    assert kept[2].current("first_response").target_seconds == 40 * 3600  # closed: as it closed
    assert [d.request_id for d in Facts(store, faster).check()] == [2]


def test_a_big_catch_up_runs_beside_the_bot_and_the_digest_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "facts.db"
    _, intake, _, _ = world(path)
    intake._store = Store(Db(path))  # noqa: SLF001  (writing no facts)
    for n in range(1, 6):
        file(intake, n, "question", "U0REQ")
    store = Store(Db(path), facts_of=facts_of(CFG))
    with store.transaction() as tx:
        tx.facts.set_basis(version=0, basis="an older version")
    facts = Facts(store, CFG, at_once=2)
    facts.prepare()
    jobs = Jobs(store, CFG, facts_ready=facts.wait)
    figures = jobs.digest_figures(now=START + timedelta(hours=1))
    assert figures["support"].opened == 5
    assert list(facts.check()) == []


def test_facts_are_the_same_whenever_they_are_computed() -> None:
    """No fact depends on when it is computed: the time of the change is the log's own."""
    store, intake, jobs, clock = world(Path(tempfile.mkdtemp()) / "facts.db")
    file(intake, 1, "security_review", "U0REQ")
    clock.at += timedelta(days=2)
    intake.review("AIR-1", "U0SEC1", step="start")
    with store.reading() as tx:
        [(request, events)] = tx.page_after(0, limit=1)
        kept = tx.facts.of([1])[1]
    assert request_facts(request, events, CFG) == kept
    assert kept.stalled_since == clock.at.astimezone(timezone.utc)
    store_db_close(store)

"""GET /metrics: Prometheus's text format, scraped over HTTP after real traffic through the real app.

The figures are checked against what happened: the requests filed, the acknowledgements per surface,
every Web API call the fake Slack recorded (and every one it refused), the nags recorded, the jobs run,
the open requests and the outbox as the store holds them.
"""

import inspect
import platform
import time
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.entry.run import start_metrics_server
from bot.runtime.metrics import SURFACES, Metrics, version_of
from bot.entry.server import METRICS_PATH, make_metrics_server, make_server
from bot.runtime.settings import DEFAULT_METRICS_PORT, Settings, SettingsError, load_settings
from tests.fake_slack import FakeSlack
from tests.harness import Harness, close_server, serve_until_closed, start_harness
from tests.stories import writer_held
from tests.socket_slack import command_over_socket
from tests.test_console import open_typist
from tests.test_docs import first_column
from storage.health import outbox_state

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Scrape:
    """One scrape: every sample by (name, labels)."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    content_type: str

    def __call__(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when the scrape has no such sample (a counter not yet counted)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def labelled(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        return {labels: value for (sample, labels), value in self.samples.items() if sample == name}


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def scrape(url: str) -> Scrape:
    status, content_type, text = get(url + METRICS_PATH)
    assert status == 200, (status, text)
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples, content_type)


@dataclass
class Served:
    url: str
    server: Any
    thread: threading.Thread

    def close(self) -> None:
        close_server(self.server, self.thread)


def served(server: Any) -> Served:
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    return Served(f"http://127.0.0.1:{server.effective_port}", server, thread)


@pytest.fixture
def metrics_port(harness: Harness) -> Iterator[str]:
    """The harness's bot, with /metrics served on a port of its own (as AI_INTAKE_METRICS_PORT does)."""
    server = served(make_metrics_server(harness.bot, host="127.0.0.1", port=0))
    yield server.url
    server.close()


# -- the story -----------------------------------------------------------------------------------
def web_api_calls(fake: FakeSlack) -> tuple[Counter, Counter]:
    """What the fake Slack recorded: calls by method, and refused calls by (method, error)."""
    calls = Counter(call.method for call in fake.calls)
    errors = Counter((call.method, call.response.get("error")) for call in fake.calls if not call.response.get("ok"))
    return calls, errors


def assert_web_api_figures_match(m: Scrape, fake: FakeSlack) -> None:
    calls, errors = web_api_calls(fake)
    assert {dict(k)["method"]: v for k, v in m.labelled("ai_intake_web_api_calls_total").items()} == calls
    assert {
        (dict(k)["method"], dict(k)["error"]): v for k, v in m.labelled("ai_intake_web_api_errors_total").items()
    } == errors


def test_the_figures_move_with_real_traffic(harness: Harness, metrics_port: str) -> None:
    h = harness
    m = scrape(metrics_port)
    assert m.content_type.startswith("text/plain; version=0.0.4")
    assert not m.labelled("ai_intake_requests_filed_total")
    assert {dict(k)["status"]: v for k, v in m.labelled("ai_intake_open_requests").items()} == {
        "open": 0,
        "claimed": 0,
        "waiting": 0,
    }
    assert (m("ai_intake_outbox_pending"), m("ai_intake_outbox_oldest_pending_seconds")) == (0, 0)
    assert all(m("ai_intake_ack_seconds_count", surface=s) == 0 for s in SURFACES)
    assert m("ai_intake_web_api_calls_total", method="auth.test") >= 1  # asked at start-up, through the same client
    assert_web_api_figures_match(m, h.fake)

    # a quick-create: filed, acknowledged, its card waiting in the outbox until the worker sends it
    assert h.command("regression: refund window wrong").status == 200
    assert h.bot.pool.wait_idle(timeout=10)
    h.clock.advance(minutes=5)
    m = scrape(metrics_port)
    assert m("ai_intake_requests_filed_total", kind="regression", domain="support") == 1
    assert m("ai_intake_ack_seconds_count", surface="command") == 1
    assert m("ai_intake_ack_seconds_sum", surface="command") > 0
    assert m("ai_intake_open_requests", status="open") == 1
    assert m("ai_intake_outbox_pending") >= 1 and m("ai_intake_outbox_oldest_pending_seconds") == 300
    h.settle()
    m = scrape(metrics_port)
    assert (m("ai_intake_outbox_pending"), m("ai_intake_outbox_oldest_pending_seconds")) == (0, 0)
    assert m("ai_intake_web_api_calls_total", method="chat.postMessage") >= 1  # the card

    # every other surface: a click, a mention, the message shortcut, the form
    assert h.click("request.claim", "AIR-1", user="U0ENG1").status == 200
    h.mention("<@U0BOT> regression: the refund agent quotes the wrong window")
    ts = h.fake.add_message("C0RANDOM", "which language does the helpdesk agent answer in?", user="U0AUTHOR")
    assert (
        h.interact(
            {
                "type": "message_action",
                "callback_id": "ai_request.from_message",
                "trigger_id": h.fake.new_trigger_id(),
                "response_url": h.fake.response_url(),
                "user": {"id": "U0REQ", "name": "req", "team_id": "T0TEAM"},
                "channel": {"id": "C0RANDOM", "name": "random"},
                "message_ts": ts,
                "action_ts": "1.1",
                "message": {
                    "type": "message",
                    "user": "U0AUTHOR",
                    "ts": ts,
                    "text": "which language does the helpdesk agent answer in?",
                },
            }
        ).status
        == 200
    )
    h.command("", channel="C0SEARCH")
    h.settle()
    view = h.fake.calls_to("views.open")[-1]["view"]
    form = {
        "title": {"type": "plain_text_input", "value": "Ranking eval misses long queries"},
        "kind": {"type": "static_select", "selected_option": {"value": "eval"}},
        "priority": {"type": "static_select", "selected_option": {"value": "P3"}},
    }
    assert h.submit(view, form, user="U0REQ").status == 200
    h.settle()
    m = scrape(metrics_port)
    acks = {s: m("ai_intake_ack_seconds_count", surface=s) for s in SURFACES}
    assert acks == {"command": 2, "event": 1, "block_actions": 1, "view_submission": 1, "shortcut": 1, "other": 0}
    assert {tuple(sorted(dict(k).values())): v for k, v in m.labelled("ai_intake_requests_filed_total").items()} == {
        ("regression", "support"): 2,
        ("question", "support"): 1,
        ("eval", "search"): 1,
    }
    assert {dict(k)["status"]: v for k, v in m.labelled("ai_intake_open_requests").items()} == {
        "open": 3,
        "claimed": 1,
        "waiting": 0,
    }
    assert m("ai_intake_web_api_calls_total", method="views.open") == 1

    # the jobs: the unowned regression (AIR-2) nags its owners, then breaches its first response
    now = h.clock.advance(hours=6)  # 16:05 in Berlin: six business hours after it was filed
    assert h.bot.jobs.run_nags(job="nags", now=now)
    assert h.bot.jobs.run_nags(job="sla", now=now)
    h.settle()
    m = scrape(metrics_port)
    assert {dict(k)["rule"]: v for k, v in m.labelled("ai_intake_nags_total").items()} == {
        "regression.unowned": 1,
        "sla.breached": 1,
        "sla.at_risk": 0,
        "review.stale": 0,
        "requester.no_answer": 0,
        "change.unacknowledged": 0,
    }
    assert {dict(k)["target"]: v for k, v in m.labelled("ai_intake_sla_breaches_total").items()} == {
        "first_response": 1,
        "resolution": 0,
    }
    for job in ("nags", "sla"):
        assert m("ai_intake_job_duration_seconds_count", job=job) == 1
        assert m("ai_intake_job_last_success_timestamp_seconds", job=job) == now.timestamp()
    assert m("ai_intake_job_duration_seconds_count", job="digest") == 0
    assert (
        m("ai_intake_web_api_errors_total", method="users.info", error="user_not_found") >= 1
    )  # owners Slack does not know

    # the same run again records nothing new: the nag counters stand still, the runs are counted
    later = h.clock.advance(minutes=15)
    assert h.bot.jobs.run_nags(job="nags", now=later) == []
    m = scrape(metrics_port)
    assert m("ai_intake_nags_total", rule="regression.unowned") == 1
    assert m("ai_intake_job_duration_seconds_count", job="nags") == 2
    assert m("ai_intake_job_last_success_timestamp_seconds", job="nags") == later.timestamp()

    # the digest, and then every Web API call the fake recorded is the one the bot counted
    posts_before = m("ai_intake_web_api_calls_total", method="chat.postMessage")
    assert len(h.bot.jobs.send_digest(now=later)) == 3
    h.settle()
    m = scrape(metrics_port)
    assert m("ai_intake_job_duration_seconds_count", job="digest") == 1
    assert m("ai_intake_job_last_success_timestamp_seconds", job="digest") == later.timestamp()
    assert m("ai_intake_web_api_calls_total", method="chat.postMessage") == posts_before + 3
    assert_web_api_figures_match(m, h.fake)
    assert_web_api_figures_match(scrape(metrics_port), h.fake)  # a scrape itself calls nobody


def sample(h: Harness, name: str, **labels: str) -> float | None:
    return h.bot.metrics.registry.get_sample_value(name, labels)


def test_a_call_and_its_retries_count_once(harness: Harness) -> None:
    harness.fake.add_user("U0ENG1", name="eng1")
    harness.fake.fail("users.info", status=429, retry_after=0)  # slack_sdk waits Retry-After (0 s) and asks again
    assert harness.bot.app.client.users_info(user="U0ENG1")["ok"]
    assert len(harness.fake.calls_to("users.info")) == 2
    assert sample(harness, "ai_intake_web_api_calls_total", method="users.info") == 1
    assert not [k for (name, k), _ in scrape_registry(harness).items() if name == "ai_intake_web_api_errors_total"]


def test_a_call_that_gets_no_answer_is_an_error_named_by_its_exception(harness: Harness) -> None:
    harness.fake.reset("users.info", times=3)  # the first try and both retries: the connection drops
    with pytest.raises(Exception) as caught:
        harness.bot.app.client.users_info(user="U0ENG1")
    error = type(caught.value).__name__
    assert sample(harness, "ai_intake_web_api_calls_total", method="users.info") == 1
    assert sample(harness, "ai_intake_web_api_errors_total", method="users.info", error=error) == 1


def scrape_registry(h: Harness) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for f in h.bot.metrics.registry.collect() for s in f.samples}


def test_a_failing_job_run_is_timed_but_is_no_success(harness: Harness) -> None:
    metrics = harness.bot.metrics
    with pytest.raises(RuntimeError):
        with metrics.job_run("digest", now=harness.clock()):
            raise RuntimeError("the digest failed")
    assert metrics.registry.get_sample_value("ai_intake_job_duration_seconds_count", {"job": "digest"}) == 1
    assert metrics.registry.get_sample_value("ai_intake_job_last_success_timestamp_seconds", {"job": "digest"}) is None


def test_a_dry_run_is_not_a_run(harness: Harness) -> None:
    harness.bot.jobs.run_nags(job="nags", now=harness.clock(), dry_run=True)
    assert (
        harness.bot.metrics.registry.get_sample_value("ai_intake_job_duration_seconds_count", {"job": "nags"}) is None
    )


# -- where it is served ------------------------------------------------------------------------------
def test_the_bots_port_never_serves_metrics(harness: Harness) -> None:
    harness.command("regression: refund window wrong")
    assert harness.bot.pool.wait_idle(timeout=10)
    assert (
        get(harness.url + METRICS_PATH)[0] == 404
    )  # the port that faces Slack shows no figures, whatever the settings
    assert "metrics" not in inspect.signature(make_server).parameters


def test_the_metrics_port_serves_metrics_and_nothing_else(harness: Harness, metrics_port: str) -> None:
    assert scrape(metrics_port)("ai_intake_outbox_pending") == 0
    for path in ("/slack/events", "/healthz", "/"):
        status, _, body = get(metrics_port + path)
        assert (status, body) == (404, "not found: this port serves /metrics")


def test_openmetrics_when_prometheus_asks_for_it(harness: Harness, metrics_port: str) -> None:
    request = urllib.request.Request(
        metrics_port + METRICS_PATH, headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("application/openmetrics-text")
        assert reply.read().decode().endswith("# EOF\n")


def test_socket_mode_gets_metrics_on_a_port_of_its_own_and_its_acks_are_timed(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    h = start_harness(tmp_path, fake_slack)
    settings = Settings(app_token=fake_slack.app_token, metrics_port=0, host="127.0.0.1", port=3000)
    assert settings.metrics_server_port == 0
    server = start_metrics_server(h.bot, settings)
    try:
        assert command_over_socket(fake_slack, h.bot.app, "regression: refund window wrong")["envelope_id"] == "env-1"
        m = scrape(f"http://127.0.0.1:{server.effective_port}")
        assert m("ai_intake_ack_seconds_count", surface="command") == 1
        assert m("ai_intake_requests_filed_total", kind="regression", domain="support") == 1
    finally:
        server.close()
        h.stop()


def test_no_metrics_server_unless_asked(harness: Harness) -> None:
    assert start_metrics_server(harness.bot, Settings()) is None


# -- each bot its own registry ------------------------------------------------------------------------
def test_each_bot_counts_in_a_registry_of_its_own(tmp_path: Path, fake_slack: FakeSlack) -> None:
    first = start_harness(tmp_path, fake_slack, db_name="first.db")
    second = start_harness(tmp_path, fake_slack, db_name="second.db")
    try:
        first.command("regression: refund window wrong")
        assert first.bot.pool.wait_idle(timeout=10)
        count = {"kind": "regression", "domain": "support"}
        assert first.bot.metrics.registry.get_sample_value("ai_intake_requests_filed_total", count) == 1
        assert second.bot.metrics.registry.get_sample_value("ai_intake_requests_filed_total", count) is None
        assert not [f for f in prometheus_client.REGISTRY.collect() if f.name.startswith("ai_intake_")]
    finally:
        first.stop()
        second.stop()


def test_the_store_figures_are_two_cheap_queries(harness: Harness) -> None:
    """What a scrape asks the store: open requests counted by status off an index, and the outbox's figures off its
    due index (the pending rows only)."""
    seen: list[str] = []
    with harness.bot.store.reading() as tx:
        tx.db.conn.set_trace_callback(seen.append)
        try:
            tx.open_count_by_status()
            outbox_state(harness.bot.db, now=harness.clock())  # on this thread's reader too
        finally:
            tx.db.conn.set_trace_callback(None)
        queries = [sql for sql in seen if sql.startswith("SELECT")]
        plans = [" ".join(row[3] for row in tx.db.conn.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in queries]
    assert len(plans) == 2, queries
    assert plans[0].startswith("SEARCH requests USING COVERING INDEX"), plans[0]
    assert plans[1].startswith("SEARCH outbox USING INDEX outbox_due") or plans[1].startswith(
        "SEARCH outbox USING COVERING"
    ), plans[1]


# -- settings ---------------------------------------------------------------------------------------
def test_metrics_are_off_by_default() -> None:
    settings = load_settings({})
    assert (settings.metrics, settings.metrics_port, settings.metrics_server_port) == (False, None, None)


@pytest.mark.parametrize(
    "text, on", [("on", True), ("ON", True), ("true", True), ("1", True), ("off", False), ("", False), ("no", False)]
)
def test_ai_intake_metrics_turns_them_on_on_a_port_of_their_own(text: str, on: bool) -> None:
    settings = load_settings({"AI_INTAKE_METRICS": text})
    assert settings.metrics_server_port == (DEFAULT_METRICS_PORT if on else None)
    socket_mode = load_settings({"AI_INTAKE_METRICS": text, "SLACK_APP_TOKEN": "xapp-1", "PORT": "8080"})
    assert socket_mode.metrics_server_port == (DEFAULT_METRICS_PORT if on else None)


def test_ai_intake_metrics_port_names_that_port() -> None:
    assert load_settings({"AI_INTAKE_METRICS_PORT": "9200"}).metrics_server_port == 9200
    assert load_settings({"AI_INTAKE_METRICS": "on", "AI_INTAKE_METRICS_PORT": "9200"}).metrics_server_port == 9200


@pytest.mark.parametrize(
    "env, message",
    [
        ({"AI_INTAKE_METRICS": "maybe"}, "AI_INTAKE_METRICS must be on or off, got 'maybe'."),
        (
            {"AI_INTAKE_METRICS_PORT": "metrics"},
            "AI_INTAKE_METRICS_PORT must be a port number (1-65535), got 'metrics'.",
        ),
        ({"AI_INTAKE_METRICS_PORT": "70000"}, "AI_INTAKE_METRICS_PORT must be a port number (1-65535), got '70000'."),
        (
            {"AI_INTAKE_METRICS_PORT": "3000"},
            "AI_INTAKE_METRICS_PORT must differ from PORT (3000): /metrics is served on a "
            "port of its own, never beside /slack/events.",
        ),
        (
            {"AI_INTAKE_METRICS": "on", "PORT": "9102"},
            "AI_INTAKE_METRICS_PORT must differ from PORT (9102): /metrics is served "
            "on a port of its own, never beside /slack/events.",
        ),
    ],
)
def test_a_bad_metrics_setting_is_one_sentence(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert str(caught.value) == message


# -- docs ---------------------------------------------------------------------------------------------
def exposed_names(metrics: Metrics) -> set[str]:
    """The names a scrape shows for each metric family (a counter's with `_total`)."""
    return {f.name + ("_total" if f.type == "counter" else "") for f in metrics.registry.collect()}


def test_the_docs_list_every_metric(harness: Harness) -> None:
    names = exposed_names(harness.bot.metrics)
    assert {"ai_intake_requests_filed_total", "ai_intake_open_requests", "ai_intake_ack_seconds"} <= names
    assert all(name.startswith(("ai_intake_", "process_")) for name in names)
    listed = set(first_column("operations.md", "The metrics"))
    assert listed == names


def test_the_operations_page_shows_how_to_scrape() -> None:
    page = (ROOT / "docs" / "operations.md").read_text()
    assert "AI_INTAKE_METRICS=on" in page and "AI_INTAKE_METRICS_PORT" in page
    assert "scrape_configs:" in page and "metrics_path: /metrics" in page


# -- the console ----------------------------------------------------------------------------------------
def test_the_console_shows_what_a_scrape_would(tmp_path: Path) -> None:
    typist = open_typist(tmp_path)
    try:
        typist.type("/ai-request regression: refund bot answers with the wrong window")
        shown = typist.type("/metrics")
        assert '  ai_intake_requests_filed_total{domain="support",kind="regression"} 1.0\n' in shown
        assert '  ai_intake_open_requests{status="open"} 1.0\n' in shown
        assert "_bucket" not in shown and "_created" not in shown and "# TYPE" not in shown
        everything = typist.type("/metrics all")
        assert "# TYPE ai_intake_ack_seconds histogram" in everything
        assert 'ai_intake_ack_seconds_bucket{le="3.0",surface="command"} 1.0' in everything
    finally:
        typist.session.close()


# -- refusals, hooks, busy answers, messages given up, the process, hand-runs ------------------------
def test_refusals_and_hook_answers_are_counted_and_health_is_not(harness: Harness, metrics_port: str) -> None:
    body = b"token=x&team_id=T0TEAM&command=%2Fai-request&text=hi"
    assert harness.post(body, "application/x-www-form-urlencoded", sign=False).status == 401  # no signature
    assert get(harness.url + "/wp-login.php")[0] == 404
    hook = urllib.request.Request(
        harness.url + "/hooks/changes", data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(hook, timeout=10)
    get(harness.url + "/healthz")
    get(harness.url + "/readyz")
    m = scrape(metrics_port)
    assert (m("ai_intake_refusals_total", status="401"), m("ai_intake_refusals_total", status="404")) == (1, 1)
    assert m("ai_intake_hook_answers_total", path="/hooks/changes", status=str(unsigned.value.code)) == 1
    assert (
        "ai_intake_refusals_total",
        frozenset({("status", "503")}),
    ) not in m.samples  # a 503 from /readyz is an answer


def test_a_busy_answer_is_counted(harness: Harness) -> None:
    with writer_held(harness):  # held past the 2 s a person can wait
        answer = harness.command("question: how do evals work").json()["text"]
    assert "busy" in answer and harness.bot.queries.get(1) is None
    assert harness.bot.metrics.registry.get_sample_value("ai_intake_busy_answers_total") == 1


def test_a_message_slack_refuses_for_good_is_counted_as_given_up(harness: Harness, fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    harness.command("question: how do evals work")
    harness.settle()
    value = harness.bot.metrics.registry.get_sample_value
    assert value("ai_intake_outbox_given_up_total", {"kind": "card", "why": "refused"}) == 1


def test_build_info_and_the_process(harness: Harness, metrics_port: str) -> None:
    m = scrape(metrics_port)
    assert m("ai_intake_build_info", version=version_of("ai-intake"), python=platform.python_version()) == 1
    assert m("process_start_time_seconds") > 0 and m("process_resident_memory_bytes") > 0


def test_a_hand_run_job_shows_in_the_running_bots_metrics(harness: Harness, tmp_path: Path, metrics_port: str) -> None:
    from tests.test_jobs_cli import release_the_outbox, run

    harness.command("regression: refund window wrong")
    harness.settle()
    release_the_outbox(harness)
    done = run(harness, tmp_path, "nags", "--wait", "5")  # another process, on the bot's database
    assert done.returncode == 0, done.stderr
    m = scrape(metrics_port)
    assert m("ai_intake_hand_run_last_ok", job="nags") == 1
    assert abs(m("ai_intake_hand_run_last_timestamp_seconds", job="nags") - time.time()) < 3600
    assert ("ai_intake_hand_run_last_ok", frozenset({("job", "sla")})) not in m.samples  # never run by hand

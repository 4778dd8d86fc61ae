"""Machines file regressions and log changes over HTTP, on the bot's own server: the contract of
POST /hooks/regressions and /hooks/changes, through the real app on 127.0.0.1 (signed like a real
sender), with every refusal writing nothing."""

import copy
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.blocks.reasons import reason_text
from bot.hooks import MAX_BODY_BYTES, signed_headers
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, Reply, start_harness

SAMPLES = Path(__file__).resolve().parent / "samples" / "hooks"
SECRETS = {"monitoring": "s3cret-monitoring", "deploys": "s3cret-deploys", "prompts": "s3cret-prompts"}
HOOKS: dict[str, Any] = {
    "hooks": {
        "monitoring": {"secret_env": "MONITORING_HOOK_SECRET"},
        "deploys": {"secret_env": "DEPLOY_HOOK_SECRET"},
        "prompts": {"secret_env": "PROMPTS_HOOK_SECRET"},
        "unset": {"secret_env": "UNSET_HOOK_SECRET"},
    },
    "assets": [
        {"name": "refund-intent", "kind": "intent", "domain": "support", "platform_owner": "U0PROMPT"},
        {"name": "refund-answer", "kind": "prompt", "domain": "support", "product_owner": "U0PPMX"},
    ],
}
REGRESSION = {
    "id": "refund-accuracy-1",
    "title": "Refund answers quote a 30-day window",
    "domain": "support",
    "description": "The judge flags 12% of refund answers.",
    "links": ["https://grafana.example.com/d/refunds"],
    "priority": "P1",
}
CHANGE = {
    "id": "deploy-2291",
    "side": "product",
    "what": "express-refund intent",
    "domain": "support",
    "kind": "intent",
    "version": "2",
}


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **HOOKS}, hook_secrets=SECRETS)
    yield harness
    harness.stop()


def post(
    h: Harness,
    path: str,
    body: Any,
    *,
    source: str = "monitoring",
    secret: str | None = None,
    skew: int = 0,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signed = signed_headers(
        raw, source=source, secret=secret or SECRETS.get(source, "x"), timestamp=int(h.clock().timestamp()) + skew
    )
    request = urllib.request.Request(
        h.url + path, data=raw if method == "POST" else None, headers={**signed, **(headers or {})}, method=method
    )
    return answer_of(h, request)


def answer_of(h: Harness, request: urllib.request.Request) -> Reply:
    """The bot's answer to `request`, once what it queued has gone out."""
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            reply = Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as exc:
        reply = Reply(exc.code, exc.read().decode())
    h.settle()
    return reply


def nothing_written(h: Harness) -> bool:
    with h.bot.store.reading() as tx:
        return h.bot.queries.get(1) is None and tx.changes.latest(None, limit=1) == [] and tx.outbox.rows() == []


def cards(h: Harness) -> list[dict[str, Any]]:
    return [c for c in h.fake.calls_to("chat.postMessage") if "card.head" in json.dumps(c.get("blocks"))]


# -- off unless configured --------------------------------------------------------------------------
def test_without_hooks_in_the_config_the_endpoints_are_not_there(harness: Harness) -> None:
    for path in ("/hooks/regressions", "/hooks/changes"):
        reply = post(harness, path, REGRESSION)
        assert reply.status == 404 and "hooks are off" in reply.json()["error"]
    assert nothing_written(harness)


# -- regressions ------------------------------------------------------------------------------------
def test_a_regression_is_filed_once_routed_and_names_its_source(h: Harness) -> None:
    reply = post(h, "/hooks/regressions", REGRESSION)
    assert (reply.status, reply.json()["key"]) == (201, "AIR-1")
    request = h.bot.queries.get(1)
    assert (request.kind, request.domain, request.priority, request.source, request.requester, request.assignee) == (
        "regression",
        "support",
        "P1",
        "hook",
        "monitoring",
        "U0ENG1",
    )
    assert request.links == ["https://grafana.example.com/d/refunds"]
    assert "Filed by the monitoring hook (its id: refund-accuracy-1)." in request.description
    assert "*Requester*\\nthe `monitoring` hook" in h.card_text("AIR-1")
    again = post(h, "/hooks/regressions", {**REGRESSION, "title": "changed title"})
    assert (again.status, again.json()) == (
        200,
        {"key": "AIR-1", "results": [{"id": "refund-accuracy-1", "key": "AIR-1", "outcome": "repeat"}]},
    )
    assert len(cards(h)) == 1 and h.bot.queries.get(2) is None
    other = post(h, "/hooks/regressions", REGRESSION, source="deploys")  # another source's id is another regression
    assert (other.status, other.json()["key"]) == (201, "AIR-2")


def test_a_regression_naming_an_asset_records_it(h: Harness) -> None:
    reply = post(h, "/hooks/regressions", {**REGRESSION, "domain": None, "asset": "refund-intent"} | {"id": "a"})
    assert reply.status == 201
    request = h.bot.queries.get(1)
    assert (request.domain, request.asset) == ("support", "refund-intent")


def test_a_machine_filed_regression_is_nagged_like_any_other(h: Harness) -> None:
    post(h, "/hooks/regressions", REGRESSION)
    h.clock.advance(hours=9)  # past four business hours unowned
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    _, events = h.bot.queries.status("AIR-1", "U0ADMIN")
    assert any(e.type == "nag" and e.data["rule"] == "regression.unowned" for e in events)


@pytest.mark.parametrize(
    ("headers", "source", "secret", "skew", "why"),
    [
        ({}, "nobody", "s3cret", 0, "unknown hook source 'nobody'"),
        ({}, "unset", "anything", 0, "unknown hook source 'unset'"),  # configured, but its secret is not set
        ({}, "monitoring", "wrong-secret", 0, "does not match the body"),
        ({}, "monitoring", None, -301, "seconds from our clock"),
        ({"X-AI-Intake-Signature": ""}, "monitoring", None, 0, "header is missing"),
        ({"X-AI-Intake-Timestamp": "yesterday"}, "monitoring", None, 0, "must be the time of signing"),
    ],
)
def test_a_refused_signature_is_401_and_writes_nothing(
    h: Harness, headers: dict[str, str], source: str, secret: str | None, skew: int, why: str
) -> None:
    reply = post(h, "/hooks/regressions", REGRESSION, source=source, secret=secret, skew=skew, headers=headers)
    assert reply.status == 401 and why in reply.json()["error"]
    assert nothing_written(h)


@pytest.mark.parametrize(
    ("body", "query", "field", "why"),
    [
        (b"not json", "", None, "not JSON"),
        ({"id": "x"}, "", "title", "title"),
        ({**REGRESSION, "domain": "billing"}, "", "domain", "unknown domain 'billing'"),
        ({**REGRESSION, "asset": "nope"}, "", "asset", "unknown asset 'nope'"),
        ({**REGRESSION, "tittle": "x"}, "", "tittle", "tittle"),
        (REGRESSION, "?format=fax", "format", "unknown format 'fax'"),
    ],
)
def test_a_bad_body_is_400_naming_the_field(h: Harness, body: Any, query: str, field: str | None, why: str) -> None:
    reply = post(h, "/hooks/regressions" + query, body)
    assert reply.status == 400 and why in reply.json()["error"]
    assert reply.json().get("field") == field
    assert nothing_written(h)


def test_a_body_over_1_mb_is_413_before_it_is_read(h: Harness) -> None:
    big = {**REGRESSION, "description": "x" * MAX_BODY_BYTES}
    reply = post(h, "/hooks/regressions", big)
    assert reply.status == 413 and "at most 1000000 bytes" in reply.json()["error"]
    raw = json.dumps(big).encode()
    connection = http.client.HTTPConnection("127.0.0.1", int(h.url.rsplit(":", 1)[1]), timeout=10)
    headers = signed_headers(
        raw, source="monitoring", secret=SECRETS["monitoring"], timestamp=int(h.clock().timestamp())
    )
    connection.request(
        "POST", "/hooks/regressions", body=iter([raw[:1000], raw[1000:]]), headers=headers, encode_chunked=True
    )
    chunked = connection.getresponse()
    assert chunked.status == 413  # no Content-Length: read up to the limit, then refused
    connection.close()
    assert nothing_written(h)


def test_only_post(h: Harness) -> None:
    reply = post(h, "/hooks/regressions", b"", method="GET")
    assert reply.status == 405
    assert post(h, "/hooks/elsewhere", REGRESSION).status == 404


# -- the formats tools send --------------------------------------------------------------------------
def test_an_alertmanager_group_files_each_alert_and_a_resolved_one_recovers_it(h: Harness) -> None:
    firing = (SAMPLES / "alertmanager-firing.json").read_bytes()
    reply = post(h, "/hooks/regressions?format=alertmanager&domain=search", firing)
    assert reply.status == 201
    assert [(r["key"], r["outcome"]) for r in reply.json()["results"]] == [("AIR-1", "filed"), ("AIR-2", "filed")]
    assert (h.bot.queries.get(1).domain, h.bot.queries.get(2).domain) == ("support", "search")
    assert h.bot.queries.get(1).asset == "refund-intent"
    resolved = post(h, "/hooks/regressions?format=alertmanager", (SAMPLES / "alertmanager-resolved.json").read_bytes())
    assert (resolved.status, resolved.json()["key"], resolved.json()["results"][0]["outcome"]) == (
        200,
        "AIR-1",
        "recovered",
    )
    request = h.bot.queries.get(1)
    assert request.status == "open"  # recovered is news for the owner, not a resolution
    assert "The `monitoring` hook reported it recovered" in h.card_text("AIR-1")
    thread = [m["text"] for m in h.fake.thread(request.card_channel, request.card_ts)]
    assert "The `monitoring` hook reports this recovered." in thread
    again = post(h, "/hooks/regressions?format=alertmanager", (SAMPLES / "alertmanager-resolved.json").read_bytes())
    assert (again.status, again.json()["results"]) == (200, [])  # the same bytes again: a replay, nothing changes
    fires_again = json.loads(firing)
    fires_again["alerts"][0]["startsAt"] = "2026-11-27T08:00:00.000Z"  # a new firing: a new body
    refired = post(h, "/hooks/regressions?format=alertmanager", fires_again)
    assert [r["outcome"] for r in refired.json()["results"]] == ["refired", "repeat"] and len(cards(h)) == 2
    assert "reported it firing again" in h.card_text("AIR-1")


def test_a_resolved_alert_with_nothing_open_files_nothing(h: Harness) -> None:
    reply = post(h, "/hooks/regressions?format=alertmanager", (SAMPLES / "alertmanager-resolved.json").read_bytes())
    assert (reply.status, reply.json()["key"], reply.json()["results"][0]["outcome"]) == (200, None, "not_found")
    assert h.bot.queries.get(1) is None


def test_a_tools_unknown_domain_label_goes_to_triage_instead_of_refusing(h: Harness) -> None:
    body = json.loads((SAMPLES / "alertmanager-firing.json").read_text())
    body["alerts"][0]["labels"]["domain"] = "billing"
    body["alerts"][1]["labels"]["domain"] = "billing"
    reply = post(h, "/hooks/regressions?format=alertmanager", body)
    assert reply.status == 201
    first, second = h.bot.queries.get(1), h.bot.queries.get(2)
    assert (first.domain, first.asset) == ("support", "refund-intent")  # its asset still says where it belongs
    assert "mentions" in reason_text(second.route_reasons[0])  # nothing does: triage reads its words
    assert (
        "Left out: unknown domain 'billing'" in first.description and "Left out: unknown domain" in second.description
    )


# -- changes ----------------------------------------------------------------------------------------
def test_a_change_is_logged_once_and_the_other_side_asked(h: Harness) -> None:
    reply = post(h, "/hooks/changes", CHANGE, source="deploys")
    assert (reply.status, reply.json()["change"]) == (201, "CHG-1")
    record = h.bot.changelog.get("CHG-1")
    assert (record.change.shipped_by, record.change.origin.id, record.change.asked) == (
        "deploys",
        "deploy-2291",
        "U0MLPM",
    )
    questions = [c for c in h.fake.calls_to("chat.postMessage") if "change.question" in json.dumps(c.get("blocks"))]
    assert len(questions) == 1 and "(the `deploys` hook, CHG-1)" in json.dumps(questions[0]["blocks"])
    replayed = post(h, "/hooks/changes", CHANGE, source="deploys")
    assert (replayed.status, replayed.json()["results"]) == (200, [])
    again = post(h, "/hooks/changes", {**CHANGE, "version": "2.0"}, source="deploys")  # the same id, sent anew
    assert (again.status, again.json()["change"], again.json()["results"][0]["outcome"]) == (200, "CHG-1", "repeat")
    assert (
        len([c for c in h.fake.calls_to("chat.postMessage") if "change.question" in json.dumps(c.get("blocks"))]) == 1
    )


def test_a_change_without_a_domain_is_refused_naming_it(h: Harness) -> None:
    reply = post(h, "/hooks/changes", {**CHANGE, "domain": None}, source="deploys")
    assert reply.status == 400 and reply.json()["field"] == "domain" and "?domain=" in reply.json()["error"]
    assert nothing_written(h)


def test_a_langfuse_prompt_version_is_a_platform_change_of_the_listed_asset(h: Harness) -> None:
    raw = (SAMPLES / "langfuse-prompt-created.json").read_bytes()
    reply = post(h, "/hooks/changes?format=langfuse&domain=support", raw, source="prompts")
    assert reply.status == 201
    change = h.bot.changelog.get(reply.json()["change"]).change
    assert (change.side, change.kind, change.asset, change.asked) == ("platform", "prompt", "refund-answer", "U0PPMX")


# -- Socket Mode ------------------------------------------------------------------------------------
def test_in_socket_mode_the_hooks_listen_on_port_without_slack_events(h: Harness) -> None:
    from bot.entry.run import serve_hooks
    from bot.runtime.settings import Settings

    server = serve_hooks(h.bot, Settings(app_token="xapp-1", host="127.0.0.1", port=0), scheduler_running=lambda: True)
    try:
        base = f"http://127.0.0.1:{server.effective_port}"
        raw = json.dumps(REGRESSION).encode()
        headers = signed_headers(
            raw, source="monitoring", secret=SECRETS["monitoring"], timestamp=int(h.clock().timestamp())
        )
        with urllib.request.urlopen(
            urllib.request.Request(base + "/hooks/regressions", data=raw, headers=headers), timeout=10
        ) as r:
            assert r.status == 201
        with pytest.raises(urllib.error.HTTPError) as refused:  # Slack's requests come over the socket, never here
            urllib.request.urlopen(
                urllib.request.Request(
                    base + "/slack/events", data=b"{}", headers={"Content-Type": "application/json"}
                ),
                timeout=10,
            )
        assert refused.value.code == 404
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            assert r.status == 200
    finally:
        server.close()


def test_in_socket_mode_the_hooks_server_never_serves_metrics(h: Harness) -> None:
    from bot.entry.run import serve_hooks
    from bot.runtime.settings import Settings

    settings = Settings(app_token="xapp-1", host="127.0.0.1", port=0, metrics=True)
    server = serve_hooks(h.bot, settings, scheduler_running=lambda: True)
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{server.effective_port}/metrics", timeout=10)
        assert refused.value.code == 404  # /metrics is on a port of its own (9102), not beside the hooks
    finally:
        server.close()


def test_a_lone_surrogate_is_filed_cleaned_and_an_invisible_title_is_400(h: Harness) -> None:
    raw = b'{"id": "s-1", "title": "Refund answers \\ud800 wrong", "domain": "support"}'
    reply = post(h, "/hooks/regressions", raw)
    assert reply.status == 201 and h.bot.queries.get(1).title == "Refund answers \ufffd wrong"
    blank = post(h, "/hooks/regressions", {"id": "s-2", "title": "\u202e\u2066\u200b", "domain": "support"})
    assert (blank.status, blank.json()["field"]) == (400, "title")
    assert h.bot.queries.get(2) is None


def test_a_source_bound_by_the_config_cannot_be_rerouted_by_the_url(tmp_path: Path, fake_slack: FakeSlack) -> None:
    from bot.domain.catalog import HOOK_FORMATS
    from bot.hooks import format_names

    assert list(HOOK_FORMATS) == format_names()
    hooks = {"hooks": {"alerts": {"secret_env": "ALERTS_HOOK_SECRET", "format": "alertmanager", "domain": "search"}}}
    bound = start_harness(
        tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **hooks}, hook_secrets={"alerts": "s3cret-alerts"}
    )
    try:
        firing = json.loads((SAMPLES / "alertmanager-firing.json").read_text())
        for query, field in (("?format=sentry", "format"), ("?domain=support", "domain")):
            moved = post(bound, "/hooks/regressions" + query, firing, source="alerts", secret="s3cret-alerts")
            assert (moved.status, moved.json()["field"]) == (400, field) and "binds source alerts" in moved.json()[
                "error"
            ]
        reply = post(bound, "/hooks/regressions", firing, source="alerts", secret="s3cret-alerts")  # no parameters
        assert reply.status == 201 and bound.bot.queries.get(2).domain == "search"  # the alert without a domain label
    finally:
        bound.stop()

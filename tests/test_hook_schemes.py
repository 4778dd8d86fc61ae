"""A source may sign the way its tool does (Sentry, Langfuse, Grafana Alerting) instead of with our headers:
each scheme as the tool documents it, the five minutes of skew, a source named by `?source=`; through the
real app with recorded samples, every refusal writing nothing."""

import copy
import hashlib
import hmac
import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.runtime.config import ConfigError, parse_config
from bot.hooks import HookVerifier, Unauthorized, signed_headers
from bot.hooks.schemes import SCHEMES, sign
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, Reply, start_harness
from tests.test_hook_endpoints import answer_of

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
TS = int(NOW.timestamp())
BODY = b'{"action": "triggered", "data": {}}'
SECRETS = {"sentry": "sentry-client-secret", "langfuse": "lf-whsec_0123", "grafana": "grafana-hmac", "ours": "s3cret"}
SCHEME_OF = {"sentry": "sentry", "langfuse": "langfuse", "grafana": "grafana", "ours": "ai-intake"}
SAMPLES = Path(__file__).resolve().parent / "samples" / "hooks"


def verifier() -> HookVerifier:
    return HookVerifier(SECRETS, clock=lambda: NOW, schemes=SCHEME_OF)


def refused(headers: dict[str, str], *, source: str, body: bytes = BODY) -> str:
    with pytest.raises(Unauthorized) as caught:
        verifier().verify(headers, body, source=source)
    return caught.value.message


def test_each_tool_signs_as_it_documents() -> None:
    body = BODY
    sentry = hmac.new(b"sentry-client-secret", body, hashlib.sha256).hexdigest()
    assert (
        verifier().verify({"Sentry-Hook-Signature": sentry, "Sentry-Hook-Timestamp": str(TS)}, body, source="sentry")
        == "sentry"
    )
    langfuse = hmac.new(b"lf-whsec_0123", f"{TS}.".encode() + body, hashlib.sha256).hexdigest()
    assert verifier().verify({"x-langfuse-signature": f"t={TS},v1={langfuse}"}, body, source="langfuse") == "langfuse"
    grafana = hmac.new(b"grafana-hmac", f"{TS}:".encode() + body, hashlib.sha256).hexdigest()
    assert (
        verifier().verify(
            {"X-Grafana-Alert-Signature": grafana, "X-Grafana-Alert-Timestamp": str(TS)}, body, source="grafana"
        )
        == "grafana"
    )
    for name in SCHEMES:  # our helper signs the same way
        assert verifier().verify(sign(name, body, secret=SECRETS[name], timestamp=TS), body, source=name) == name


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_wrong_secret_a_stale_time_or_a_missing_header_is_refused(name: str) -> None:
    assert "does not match" in refused(sign(name, BODY, secret="not-it", timestamp=TS), source=name)
    assert "seconds from our clock" in refused(sign(name, BODY, secret=SECRETS[name], timestamp=TS - 301), source=name)
    assert "missing" in refused({"Content-Type": "application/json"}, source=name)
    assert "does not match" in refused(
        sign(name, BODY, secret=SECRETS[name], timestamp=TS), source=name, body=BODY + b" "
    )


def test_a_tool_source_does_not_take_our_headers_nor_ours_a_tools() -> None:
    ours = signed_headers(BODY, source="sentry", secret=SECRETS["sentry"], timestamp=TS)
    assert "Sentry-Hook-Signature" in refused(ours, source="sentry").replace(
        "sentry-hook-signature", "Sentry-Hook-Signature"
    )
    with pytest.raises(Unauthorized):
        verifier().verify(sign("sentry", BODY, secret=SECRETS["ours"], timestamp=TS), BODY, source="ours")


@given(st.binary(max_size=512), st.sampled_from(sorted(SCHEMES)))
@settings(max_examples=60, deadline=None, derandomize=True)
def test_any_body_signed_verifies_and_any_other_body_does_not(body: bytes, name: str) -> None:
    headers = sign(name, body, secret=SECRETS[name], timestamp=TS)
    assert verifier().verify(headers, body, source=name) == name
    with pytest.raises(Unauthorized):
        verifier().verify(headers, body + b"x", source=name)


def test_the_config_names_a_scheme() -> None:
    config = parse_config({**copy.deepcopy(CONFIG), "hooks": {"sentry": {"secret_env": "S", "signature": "sentry"}}})
    assert config.hooks["sentry"].signature == "sentry"
    with pytest.raises(ConfigError) as caught:
        parse_config({**copy.deepcopy(CONFIG), "hooks": {"x": {"secret_env": "S", "signature": "pagerduty"}}})
    assert caught.value.problems[0].startswith(
        "hooks.x.signature: expected one of ai-intake, sentry, langfuse, grafana"
    )


# -- through the app -----------------------------------------------------------------------------------
@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    hooks = {name: {"secret_env": f"{name.upper()}_SECRET", "signature": SCHEME_OF[name]} for name in SECRETS}
    harness = start_harness(
        tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), "hooks": hooks}, hook_secrets=SECRETS
    )
    yield harness
    harness.stop()


def post(h: Harness, path: str, body: bytes, headers: dict[str, str]) -> Reply:
    return answer_of(h, urllib.request.Request(h.url + path, data=body, headers=headers, method="POST"))


def test_sentry_grafana_and_langfuse_post_without_a_relay(h: Harness) -> None:
    ts = int(h.clock().timestamp())
    sentry = (SAMPLES / "sentry-issue-alert.json").read_bytes()
    reply = post(
        h,
        "/hooks/regressions?source=sentry&format=sentry&domain=support",
        sentry,
        sign("sentry", sentry, secret=SECRETS["sentry"], timestamp=ts),
    )
    assert reply.status == 201 and h.bot.queries.get(1).requester == "sentry"
    grafana = (SAMPLES / "grafana-firing.json").read_bytes()
    reply = post(
        h,
        "/hooks/regressions?source=grafana&format=grafana&domain=search",
        grafana,
        sign("grafana", grafana, secret=SECRETS["grafana"], timestamp=ts),
    )
    assert reply.status == 201
    langfuse = (SAMPLES / "langfuse-prompt-created.json").read_bytes()
    reply = post(
        h,
        "/hooks/changes?source=langfuse&format=langfuse&domain=support",
        langfuse,
        sign("langfuse", langfuse, secret=SECRETS["langfuse"], timestamp=ts),
    )
    assert reply.status == 201 and h.bot.changelog.get(json.loads(reply.body)["change"]).change.shipped_by == "langfuse"


def test_a_tools_request_with_a_bad_signature_writes_nothing(h: Harness) -> None:
    ts = int(h.clock().timestamp())
    sentry = (SAMPLES / "sentry-issue-alert.json").read_bytes()
    forged: dict[str, Any] = sign("sentry", sentry, secret="guessed", timestamp=ts)
    for path in (
        "/hooks/regressions?source=sentry&format=sentry&domain=support",
        "/hooks/regressions?format=sentry&domain=support",
    ):  # no source named at all
        assert post(h, path, sentry, forged).status == 401
    assert h.bot.queries.get(1) is None
    with h.bot.store.reading() as tx:
        assert tx.outbox.rows() == []


def test_the_docs_describe_every_scheme() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "changes.md").read_text()
    for scheme in SCHEMES.values():
        assert f"| `{scheme.name}` | {scheme.tool} | {scheme.described} |" in docs


def test_grafana_signing_without_a_timestamp_header_is_accepted_as_grafana_documents_it() -> None:
    signature = hmac.new(b"grafana-hmac", BODY, hashlib.sha256).hexdigest()  # the body alone, no time
    assert verifier().verify({"X-Grafana-Alerting-Signature": signature}, BODY, source="grafana") == "grafana"
    assert "does not match" in refused({"X-Grafana-Alerting-Signature": signature}, source="grafana", body=BODY + b" ")
    timed = hmac.new(b"grafana-hmac", f"{TS}:".encode() + BODY, hashlib.sha256).hexdigest()
    for header in ("X-Grafana-Alerting-Timestamp", "X-Grafana-Alerting-Signature-Timestamp"):
        assert (
            verifier().verify({"X-Grafana-Alerting-Signature": timed, header: str(TS)}, BODY, source="grafana")
            == "grafana"
        )


def test_grafanas_test_button_files_nothing_and_its_resolved_half_is_no_error(h: Harness) -> None:
    for name in ("grafana-test-notification", "grafana-test-notification-resolved"):
        body = (SAMPLES / f"{name}.json").read_bytes()
        reply = post(
            h,
            "/hooks/regressions?source=grafana&format=grafana&domain=search",
            body,
            sign("grafana", body, secret=SECRETS["grafana"], timestamp=None),
        )  # Grafana's default: no time
        assert reply.status == 200 and json.loads(reply.body)["results"] == []
        assert json.loads(reply.body)["skipped"][0].startswith("Grafana's test notification")
    assert h.bot.queries.get(1) is None
    assert [c for c in h.fake.calls_to("chat.postMessage")] == []


def test_an_exact_replay_changes_nothing_whether_or_not_the_tool_signs_a_time(h: Harness) -> None:
    grafana = (SAMPLES / "grafana-firing.json").read_bytes()
    untimed = sign("grafana", grafana, secret=SECRETS["grafana"], timestamp=None)
    assert post(h, "/hooks/regressions?source=grafana&format=grafana", grafana, untimed).status == 201
    h.clock.advance(days=2)
    replayed = post(h, "/hooks/regressions?source=grafana&format=grafana&domain=support", grafana, untimed)
    assert replayed.status == 200 and json.loads(replayed.body)["replay"].startswith("this exact body was handled")
    assert h.bot.queries.get(1).domain == "search" and h.bot.queries.get(2) is None  # the URL changed nothing either
    # Sentry does not sign its timestamp: a captured critical/resolved pair re-sent with fresh ones toggles nothing.
    path = "/hooks/regressions?source=sentry&format=sentry&domain=support"
    bodies = [(SAMPLES / f"sentry-metric-alert-{n}.json").read_bytes() for n in ("critical", "resolved")]
    for body in bodies:
        post(h, path, body, sign("sentry", body, secret=SECRETS["sentry"], timestamp=int(h.clock().timestamp())))
    request = h.bot.queries.get(2)
    thread = len(h.fake.thread(request.card_channel, request.card_ts))
    for _ in range(3):
        h.clock.advance(minutes=10)
        for body in bodies:
            reply = post(
                h, path, body, sign("sentry", body, secret=SECRETS["sentry"], timestamp=int(h.clock().timestamp()))
            )
            assert (reply.status, json.loads(reply.body)["results"]) == (200, [])
    assert len(h.fake.thread(request.card_channel, request.card_ts)) == thread

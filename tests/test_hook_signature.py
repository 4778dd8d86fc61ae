"""Who may post to the hooks: Slack's signing scheme per source, five minutes of skew, on an injected clock."""

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hooks import (
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    SOURCE_HEADER,
    TIMESTAMP_HEADER,
    HookVerifier,
    Unauthorized,
    signed_headers,
)

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
SECRETS = {"monitoring": "s3cret-monitoring", "deploys": "s3cret-deploys", "off": ""}
BODY = b'{"id": "alert-1", "title": "refund answers quote 30 days"}'


def verifier(now: datetime = NOW) -> HookVerifier:
    return HookVerifier(SECRETS, clock=lambda: now)


def headers(
    body: bytes = BODY, *, source: str = "monitoring", secret: str = "s3cret-monitoring", at: datetime = NOW
) -> dict[str, str]:
    return signed_headers(body, source=source, secret=secret, timestamp=int(at.timestamp()))


def refusal(hdrs: dict[str, str], body: bytes = BODY, *, now: datetime = NOW) -> str:
    with pytest.raises(Unauthorized) as caught:
        verifier(now).verify(hdrs, body)
    assert caught.value.status == 401
    return caught.value.message


def test_a_signed_request_names_its_source() -> None:
    assert verifier().verify(headers(), BODY) == "monitoring"
    assert verifier().verify(headers(source="deploys", secret="s3cret-deploys"), BODY) == "deploys"


def test_the_signature_is_slacks_scheme_so_any_client_can_compute_it() -> None:
    ts = str(int(NOW.timestamp()))
    expected = "v0=" + hmac.new(b"s3cret-monitoring", f"v0:{ts}:".encode() + BODY, hashlib.sha256).hexdigest()
    hdrs = {SOURCE_HEADER: "monitoring", TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: expected}
    assert headers()[SIGNATURE_HEADER] == expected
    assert verifier().verify(hdrs, BODY) == "monitoring"


def test_header_names_match_in_any_case() -> None:
    lower = {k.lower(): v for k, v in headers().items()}
    assert verifier().verify(lower, BODY) == "monitoring"


def test_five_minutes_of_skew_either_way_and_not_a_second_more() -> None:
    for skew in (MAX_SKEW_SECONDS, -MAX_SKEW_SECONDS, 0):
        assert verifier().verify(headers(at=NOW + timedelta(seconds=skew)), BODY) == "monitoring"
    for skew in (MAX_SKEW_SECONDS + 1, -MAX_SKEW_SECONDS - 1, 86400):
        message = refusal(headers(at=NOW + timedelta(seconds=skew)))
        assert "seconds from our clock (at most 300)" in message


def test_the_clock_is_the_injected_one() -> None:
    signed_yesterday = headers(at=NOW - timedelta(days=1))
    assert verifier(now=NOW - timedelta(days=1)).verify(signed_yesterday, BODY) == "monitoring"
    refusal(signed_yesterday, now=NOW)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda h: h.pop(SOURCE_HEADER), "the X-AI-Intake-Source header is missing"),
        (lambda h: h.update({SOURCE_HEADER: "grafana"}), "unknown hook source 'grafana'"),
        (lambda h: h.update({SOURCE_HEADER: "off"}), "unknown hook source 'off'"),
        (lambda h: h.pop(TIMESTAMP_HEADER), "X-AI-Intake-Timestamp must be the time of signing in unix seconds"),
        (lambda h: h.update({TIMESTAMP_HEADER: "1795599000.5"}), "unix seconds"),
        (lambda h: h.update({TIMESTAMP_HEADER: "-5"}), "unix seconds"),
        (lambda h: h.update({TIMESTAMP_HEADER: "2026-11-25T09:30:00Z"}), "unix seconds"),
        (lambda h: h.pop(SIGNATURE_HEADER), "the X-AI-Intake-Signature header is missing"),
        (lambda h: h.update({SIGNATURE_HEADER: "v0=" + "0" * 64}), "does not match the body"),
        (lambda h: h.update({SIGNATURE_HEADER: h[SIGNATURE_HEADER].removeprefix("v0=")}), "does not match the body"),
    ],
)
def test_what_is_refused_and_why(change, message: str) -> None:
    hdrs = headers()
    change(hdrs)
    assert message in refusal(hdrs)


def test_another_sources_secret_does_not_sign_for_this_one() -> None:
    assert "does not match" in refusal(headers(secret="s3cret-deploys"))


def test_a_changed_body_or_timestamp_breaks_the_signature() -> None:
    hdrs = headers()
    assert "does not match" in refusal(hdrs, BODY.replace(b"30", b"60"))
    hdrs[TIMESTAMP_HEADER] = str(int(hdrs[TIMESTAMP_HEADER]) + 1)
    assert "does not match" in refusal(hdrs)


def test_a_body_that_is_not_utf8_cannot_be_verified() -> None:
    body = b'{"title": "\xff\xfe"}'
    hdrs = headers(b"")
    assert "not UTF-8" in refusal(hdrs, body)


def test_sources_without_a_secret_are_off() -> None:
    assert verifier().sources == frozenset({"monitoring", "deploys"})
    assert HookVerifier({"monitoring": "  "}, clock=lambda: NOW).sources == frozenset()


@settings(max_examples=80, deadline=None)
@given(
    body=st.text(max_size=300).map(str.encode),
    skew=st.integers(min_value=-MAX_SKEW_SECONDS, max_value=MAX_SKEW_SECONDS),
    secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
)
def test_any_body_signed_within_the_skew_verifies_and_a_flipped_byte_does_not(
    body: bytes, skew: int, secret: str
) -> None:
    checker = HookVerifier({"monitoring": secret}, clock=lambda: NOW)
    hdrs = headers(body, secret=secret, at=NOW + timedelta(seconds=skew))
    assert checker.verify(hdrs, body) == "monitoring"
    tampered = (body[:-1] + bytes([body[-1] ^ 1])) if body else b" "
    with pytest.raises(Unauthorized):
        checker.verify(hdrs, tampered)

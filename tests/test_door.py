"""Requests at the door of `/slack/events`: bad signatures and bad bodies are refused cleanly, and no body is logged.

Everything here goes through the real server (waitress on 127.0.0.1) and the real Bolt app, and
reads the log as a DEBUG-level root handler sees it: every record of every library.
"""

import http.client
import json
import logging
import socket
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.modal import DESCRIPTION_MAX, TITLE_MAX, request_modal
from bot.entry.server import MAX_BODY_BYTES
from tests.harness import SIGNING_SECRET, TEAM, Harness, signed_headers

MARKER = "SECRET-BODY-MARKER-7f3a"
FORM = "application/x-www-form-urlencoded"


class Everything(logging.Handler):
    """Keeps every record: its message, its traceback and its extra fields, as text."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        tail = logging.Formatter().formatException(record.exc_info) if record.exc_info else (record.exc_text or "")
        self.texts.append(f"{record.levelname} {record.name}: {record.getMessage()} {tail} {record.__dict__!r}")

    def text(self) -> str:
        return "\n".join(self.texts)


@pytest.fixture
def logged() -> Iterator[Everything]:
    root = logging.getLogger()
    handler, level = Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def command_body(text: str) -> bytes:
    return urllib.parse.urlencode(
        {
            "team_id": TEAM,
            "channel_id": "C0SUPPORT",
            "user_id": "U0REQ",
            "command": "/ai-request",
            "api_app_id": "A0APP",
            "text": text,
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/none",
        }
    ).encode()


def raw_post(h: Harness, body: bytes, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    """POST with exactly these headers (a header may repeat), on a fresh connection."""
    conn = http.client.HTTPConnection(h.url.removeprefix("http://"), timeout=10)
    try:
        conn.putrequest("POST", "/slack/events")
        for name, value in [("Content-Type", FORM), ("Content-Length", str(len(body))), *headers]:
            conn.putheader(name, value.encode())
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def nothing_filed(h: Harness) -> bool:
    h.settle()
    return h.bot.queries.get(1) is None


# -- 9.2: no request body in the log ---------------------------------------------------------------
def test_refused_requests_leave_no_body_in_the_log_at_any_level(harness: Harness, logged: Everything) -> None:
    body = command_body(f"security review: {MARKER} vendor shares PII")
    stale = signed_headers(body, timestamp=int(time.time()) - 400)
    wrong = signed_headers(body, secret="not-the-signing-secret-at-all")
    assert harness.post(body, FORM, headers=stale, sign=False).status == 401
    assert harness.post(body, FORM, headers=wrong, sign=False).status == 401
    assert harness.post(body, FORM, sign=False).status == 401
    assert nothing_filed(harness)
    assert MARKER not in logged.text()
    refusals = [r.getMessage() for r in logged.records if r.name == "bot.listeners.trust"]
    assert len(refusals) == 3 and refusals[0].startswith(
        "refused a request: its timestamp is 40"
    )  # 400 s, give or take one
    assert refusals[1:] == [
        "refused a request: the signature does not match (is SLACK_SIGNING_SECRET the app's?)",
        "refused a request: X-Slack-Request-Timestamp is missing, repeated or not a number",
    ]


def test_a_signed_confidential_request_leaves_no_text_in_the_log_at_debug(harness: Harness, logged: Everything) -> None:
    reply = harness.command(f"security review: {MARKER} vendor shares PII")
    assert reply.status == 200 and "AIR-1" in reply.body
    harness.settle()
    assert harness.bot.queries.get(1).title.endswith("vendor shares PII")
    assert any(r.name.startswith("slack_sdk") for r in logged.records)  # the Web API calls were logged, without content
    assert MARKER not in logged.text()


def test_a_body_over_the_limit_is_refused_before_it_is_read(harness: Harness) -> None:
    port = int(harness.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
            f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        )  # and never the body
        assert sock.recv(100).startswith(b"HTTP/1.1 413")
    try:  # sent whole: the server answers 413 as soon as it has read the headers, and may close while we still send
        status, _ = raw_post(harness, b"a=" + b"x" * MAX_BODY_BYTES, [])
        assert status == 413
    except (ConnectionResetError, BrokenPipeError):
        pass  # it refused before it had read the body (the answer was lost with the reset)
    assert nothing_filed(harness)


def interaction(payload: dict[str, Any]) -> bytes:
    """An interactivity body as Slack sends it, with every non-ASCII character \\u-escaped (the largest form)."""
    base = {
        "team": {"id": TEAM, "domain": "acme"},
        "api_app_id": "A0APP",
        "token": "legacy",
        "is_enterprise_install": False,
        "user": {"id": "U0REQ", "name": "u0req", "team_id": TEAM},
    }
    return urllib.parse.urlencode({"payload": json.dumps({**base, **payload})}).encode()


def test_the_biggest_legitimate_payloads_pass_well_under_the_limit(harness: Harness) -> None:
    assert harness.command("regression: refund window wrong").status == 200
    harness.settle()
    request = harness.bot.queries.get(1).model_copy(
        update={
            "description": "🔥" * DESCRIPTION_MAX,
            "title": "🔥" * TITLE_MAX,
            "links": ["https://example.com/" + "é" * 1500] * 2,
        }
    )
    view = {**request_modal(harness.bot.config, request=request).to_dict(), "id": "V0VIEW", "team_id": TEAM}
    view["state"] = {
        "values": {
            ids.TITLE: {ids.INPUT: {"type": "plain_text_input", "value": "🔥" * TITLE_MAX}},
            ids.KIND: {ids.INPUT: {"type": "static_select", "selected_option": {"value": "regression"}}},
            ids.PRIORITY: {ids.INPUT: {"type": "static_select", "selected_option": {"value": "P2"}}},
            ids.DESCRIPTION: {ids.INPUT: {"type": "plain_text_input", "value": "🎉" * DESCRIPTION_MAX}},
            f"{ids.LINKS}.0": {ids.INPUT: {"type": "url_text_input", "value": "https://example.com/" + "é" * 1500}},
            f"{ids.LINKS}.1": {ids.INPUT: {"type": "url_text_input", "value": "https://example.com/" + "ü" * 1500}},
            ids.CONFIDENTIAL: {ids.INPUT: {"type": "checkboxes", "selected_options": []}},
        }
    }
    form = interaction({"type": "view_submission", "trigger_id": harness.fake.new_trigger_id(), "view": view})
    text = "監視" * 20_000  # a 40,000-character message, and its rich_text block as Slack adds it
    ts = harness.fake.add_message("C0SUPPORT", text, user="U0REQ")
    message = {
        "type": "message",
        "user": "U0REQ",
        "text": text,
        "ts": ts,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "b",
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
            }
        ],
    }
    shortcut = interaction(
        {
            "type": "message_action",
            "callback_id": ids.FROM_MESSAGE,
            "trigger_id": harness.fake.new_trigger_id(),
            "response_url": harness.fake.response_url(),
            "channel": {"id": "C0SUPPORT", "name": "support"},
            "message_ts": ts,
            "message": message,
        }
    )
    print(f"view_submission: {len(form):,} bytes; message shortcut: {len(shortcut):,} bytes")
    assert 100_000 < len(form) < MAX_BODY_BYTES / 6  # about 160 KB
    assert 400_000 < len(shortcut) < MAX_BODY_BYTES * 0.75  # about 720 KB
    assert harness.post(form, FORM).status == 200
    assert harness.post(shortcut, FORM).status == 200
    harness.settle()
    assert harness.bot.queries.get(1).description.startswith("🎉🎉")
    assert harness.bot.queries.get(2).description.startswith("監視監視")


# -- 9.5: bad timestamps and bodies are the sender's fault -----------------------------------------
@pytest.mark.parametrize("timestamp", ["not-a-number", "", "1e9", "١٧٠٠٠٠٠٠٠٠", "99999999999999999999999"])
def test_a_malformed_timestamp_is_refused_with_401_and_no_traceback(
    harness: Harness, logged: Everything, timestamp: str
) -> None:
    body = command_body("regression: refund window wrong")
    signature = signed_headers(body)["X-Slack-Signature"]
    status, _ = raw_post(harness, body, [("X-Slack-Request-Timestamp", timestamp), ("X-Slack-Signature", signature)])
    assert status == 401
    assert nothing_filed(harness)
    assert not [r for r in logged.records if r.levelno >= logging.ERROR] and "Traceback" not in logged.text()


def test_a_timestamp_sent_twice_is_refused_with_401(harness: Harness, logged: Everything) -> None:
    body = command_body("regression: refund window wrong")
    headers = signed_headers(body)
    status, _ = raw_post(
        harness,
        body,
        [
            ("X-Slack-Request-Timestamp", headers["X-Slack-Request-Timestamp"]),
            ("X-Slack-Request-Timestamp", headers["X-Slack-Request-Timestamp"]),
            ("X-Slack-Signature", headers["X-Slack-Signature"]),
        ],
    )
    assert status == 401
    assert nothing_filed(harness)
    assert not [r for r in logged.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_deeply_nested_json_is_refused_with_400_and_one_warning(
    harness: Harness, logged: Everything, signed: bool
) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    event = b'{"type": "event_callback", "event": ' + nested + b"}"
    status, _ = raw_post(
        harness, event, [("Content-Type", "application/json"), *(signed_headers(event).items() if signed else [])]
    )
    assert status == 400
    form = urllib.parse.urlencode({"payload": nested.decode()}).encode()
    status, _ = raw_post(harness, form, list(signed_headers(form).items()) if signed else [])
    assert status == 400
    assert nothing_filed(harness)
    assert not [r for r in logged.records if r.levelno >= logging.ERROR] and "Traceback" not in logged.text()
    ours = [
        r for r in logged.records if r.levelno == logging.WARNING and not r.name.startswith("waitress")
    ]  # a busy machine makes waitress warn of its queue
    assert [r.getMessage() for r in ours] == ["refused a request whose body Bolt could not read"] * 2


def test_the_signing_secret_still_lets_slack_in(harness: Harness) -> None:
    reply = harness.post(command_body("regression: refund window wrong"), FORM)
    assert reply.status == 200 and "AIR-1" in reply.body
    assert SIGNING_SECRET  # the harness signs with it


def test_over_socket_mode_no_envelope_reaches_the_log_at_debug(tmp_path, fake_slack, logged: Everything) -> None:
    from tests.harness import start_harness
    from tests.socket_slack import command_over_socket

    h = start_harness(tmp_path, fake_slack)
    try:
        assert (
            "AIR-1"
            in command_over_socket(fake_slack, h.bot.app, f"regression: {MARKER} refund window", team=TEAM)["payload"][
                "text"
            ]
        )
        h.settle()
        assert MARKER in h.bot.queries.get(1).title
        assert any(r.name.startswith("slack_bolt") for r in logged.records)
        bots = [
            text
            for record, text in zip(logged.records, logged.texts)
            if not record.name.startswith("websockets.server")
        ]
        assert MARKER not in "\n".join(bots)  # (the test's own stand-in for Slack logs what it sends)
    finally:
        h.stop()

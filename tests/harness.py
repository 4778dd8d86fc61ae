"""Drive the real Bolt app over HTTP with requests signed exactly as Slack signs them.

The bot runs in this process under its production server (waitress) on 127.0.0.1; its Web API
calls go to the fake Slack (`fake_slack.py`). `settle()` waits for the listeners to finish and
drains the outbox, so a test can assert on what was posted without sleeping.

A command, a click or a shortcut is acked at once with an empty 200 and worked after, by the inbox worker
(`bot.listeners.inbox`), which posts the answer to the delivery's response_url. `post()` (and so `command`,
`click`, `interact`, …) waits until the delivery was worked and returns what the person sees: the body of that
response_url post as a `Reply` (status 200), or the empty 200 when there was nothing to answer. What the HTTP side
itself answered (an empty 200, or a refusal at the door: 400, 401, 413 …) is `Reply.ack`; a refusal is returned
as it is, since nothing was kept to work.
"""

import atexit
import hashlib
import hmac
import json
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.entry.app import Bot, build_app
from bot.runtime.config import parse_config
from bot.entry.server import make_server
from storage.db import Db
from tests.fake_slack import FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789"
TEAM = "T0TEAM"
FORM = "application/x-www-form-urlencoded"
RETRY_INTERVALS = FixedValueRetryIntervalCalculator(0.02)
"""The Slack clients' wait between retries of a connection error or a 5xx answer in one call: short and fixed, so an
outage a test plays costs it no seconds of sleep and no randomness (the bot's default is slack_sdk's backoff with
jitter, 0.5 s then 1 s, each plus up to 1 s). A 429 still waits its Retry-After (`bot.runtime.retries`)."""
START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Berlin

CONFIG: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "admins": ["U0ADMIN"],
    "triage_channel": "C0TRIAGE",
    "digest": {"channel": "C0DIGEST", "cron": "0 9 * * mon"},
    "business_hours": {"days": "mon-fri", "start": "09:00", "end": "17:00"},
    "domains": [
        {
            "name": "support",
            "channels": ["C0SUPPORT"],
            "engineers": ["U0ENG1", "U0ENG2"],
            "reviewers": ["U0SEC1"],
            "product_owner": "U0PPM",
            "platform_owner": "U0MLPM",
            "lead": "U0LEAD",
            "keywords": ["refund", "ticket", "helpdesk", "agent"],
            "review_channel": "G0SUPSEC",
        },
        {
            "name": "search",
            "channels": ["C0SEARCH"],
            "engineers": ["U0ENG3"],
            "reviewers": ["U0SEC2"],
            "product_owner": "U0PPM2",
            "platform_owner": "U0MLPM2",
            "lead": "U0LEAD2",
            "keywords": ["ranking", "query", "index"],
        },
    ],
    "holidays": ["2026-12-25"],
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.now += timedelta(**delta)
            return self.now


def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature: v0= + hex HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_form(fake: FakeSlack, text: str, *, user: str = "U0REQ", channel: str = "C0SUPPORT", **extra: str) -> bytes:
    """A `/ai-request` command's form body as Slack sends it, with a fresh response_url and trigger id of `fake`."""
    form = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": "support",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/ai-request",
        "text": text,
        "api_app_id": "A0APP",
        "is_enterprise_install": "false",
        "response_url": fake.response_url(),
        "trigger_id": fake.new_trigger_id(),
        **extra,
    }
    return urllib.parse.urlencode(form).encode()


def send_form(base_url: str, body: bytes, *, timeout: float) -> tuple[int, bytes]:
    """POST a form body to a running bot's /slack/events, signed as Slack signs it: (status, body of the answer)."""
    request = urllib.request.Request(
        base_url + "/slack/events", data=body, method="POST", headers={"Content-Type": FORM, **signed_headers(body)}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


@dataclass
class Reply:
    """What the person sees of a delivery: the answer posted to its response_url (or the HTTP answer, when the door
    refused it or nothing was posted). `ack`: what the HTTP request itself was answered, as sent."""

    status: int
    body: str
    ack: "Reply | None" = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Harness:
    bot: Bot
    fake: FakeSlack
    clock: Clock
    url: str
    server: Any
    thread: threading.Thread
    _seq: int = field(default=0)

    # -- sending -------------------------------------------------------------------------------
    def post(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None, sign: bool = True
    ) -> Reply:
        all_headers = {"Content-Type": content_type, **(signed_headers(body) if sign else {}), **(headers or {})}
        ack = self.post_only(body, all_headers)
        if ack.status != 200 or ack.body:
            return ack  # refused at the door, or answered in the request (a form's errors)
        assert self.bot.inbox.wait_idle(timeout=10), "the inbox was not worked"
        signature = next((v for k, v in all_headers.items() if k.lower() == "x-slack-signature"), "")
        answered = self.bot.inbox.answers.get(f"sig:{signature}")
        if answered is None:
            return Reply(200, "", ack=ack)
        url, answer = answered
        posted = [r["body"] for r in self.fake.responses if r["url"] == url and r["body"] == answer]
        return Reply(200, json.dumps(posted[-1] if posted else answer), ack=ack)

    def post_only(self, body: bytes, headers: dict[str, str]) -> Reply:
        """POST to /slack/events and return the HTTP answer itself, without waiting for the inbox."""
        request = urllib.request.Request(self.url + "/slack/events", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode())

    def command(self, text: str, *, user: str = "U0REQ", channel: str = "C0SUPPORT", **extra: str) -> Reply:
        return self.post(self.command_body(text, user=user, channel=channel, **extra), FORM)

    def command_body(self, text: str, *, user: str = "U0REQ", channel: str = "C0SUPPORT", **extra: str) -> bytes:
        """A `/ai-request` command's form body as Slack sends it, with a fresh response_url and trigger id."""
        return command_form(self.fake, text, user=user, channel=channel, **extra)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        self._seq += 1
        envelope = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": event_id or f"Ev{self._seq:08d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}],
        }
        return self.post(json.dumps(envelope).encode(), "application/json", headers=headers)

    def interact(self, payload: dict[str, Any]) -> Reply:
        base = {
            "team": {"id": TEAM, "domain": "acme"},
            "api_app_id": "A0APP",
            "token": "legacy",
            "is_enterprise_install": False,
        }
        body = urllib.parse.urlencode({"payload": json.dumps({**base, **payload})}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def click(
        self, action_id: str, value: str, *, user: str, channel: str | None = None, ts: str | None = None, **action: Any
    ) -> Reply:
        request = (
            self.bot.queries.get(int(value.split("-")[-1]))
            if value.upper().startswith("AIR-") and value.split("-")[-1].isdigit()
            else None
        )
        channel = channel or (request.card_channel if request else "C0SUPPORT")
        ts = ts or (request.card_ts if request else "1700000000.000001")
        element = {
            "action_id": action_id,
            "block_id": "card.actions",
            "type": "button",
            "value": value,
            "action_ts": "1700000000.1",
            **action,
        }
        return self.interact(
            {
                "type": "block_actions",
                "user": {"id": user, "name": user.lower(), "team_id": TEAM},
                "trigger_id": self.fake.new_trigger_id(),
                "response_url": self.fake.response_url(),
                "channel": {"id": channel, "name": "x"},
                "container": {"type": "message", "message_ts": ts, "channel_id": channel},
                "message": {"ts": ts, "type": "message", "text": "", "blocks": []},
                "actions": [element],
            }
        )

    def reassign(self, key: str, *, user: str, to: str) -> Reply:
        """Pick `to` in the card's "Reassign…" user select (the select carries no value: the card names the key)."""
        request = self.bot.queries.get(int(key.split("-")[1]))
        return self.interact(
            {
                "type": "block_actions",
                "user": {"id": user, "name": user.lower(), "team_id": TEAM},
                "trigger_id": self.fake.new_trigger_id(),
                "response_url": self.fake.response_url(),
                "channel": {"id": request.card_channel, "name": "x"},
                "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
                "message": self.card(key),
                "actions": [
                    {
                        "action_id": "request.reassign",
                        "block_id": "card.actions",
                        "type": "users_select",
                        "selected_user": to,
                        "action_ts": "1.1",
                    }
                ],
            }
        )

    def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str) -> Reply:
        submitted = {
            **view,
            "id": "V0VIEW",
            "team_id": TEAM,
            "state": {"values": {b: {"value": v} for b, v in values.items()}},
        }
        return self.interact(
            {
                "type": "view_submission",
                "user": {"id": user, "name": user.lower(), "team_id": TEAM},
                "trigger_id": self.fake.new_trigger_id(),
                "view": submitted,
            }
        )

    def mention(
        self,
        text: str,
        *,
        user: str = "U0REQ",
        channel: str = "C0SUPPORT",
        ts: str | None = None,
        thread_ts: str | None = None,
        event_id: str | None = None,
    ) -> tuple[Reply, str]:
        ts = ts or self.fake.add_message(channel, text, user=user, thread_ts=thread_ts)
        event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts}
        if thread_ts:
            event["thread_ts"] = thread_ts
        reply = self.event(event, event_id=event_id)
        # Events are handled after their ack (the bot asks Slack about the message first): waiting for the listener
        # keeps what a test does next after it, as a person's next line comes after the bot answered the last.
        assert self.bot.pool.wait_idle(timeout=10), "a listener did not finish"
        return reply, ts

    def reply_in_thread(self, channel: str, thread_ts: str, text: str, *, user: str) -> str:
        ts = self.fake.add_message(channel, text, user=user, thread_ts=thread_ts)
        self.event(
            {
                "type": "message",
                "channel": channel,
                "user": user,
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
                "event_ts": ts,
                "channel_type": "channel",
            }
        )
        return ts

    # -- waiting and reading -------------------------------------------------------------------
    def settle(self) -> None:
        """Wait for running listeners, then send everything queued (repeat until quiet)."""
        for _ in range(20):
            assert self.bot.inbox.wait_idle(timeout=10), "the inbox was not worked"
            assert self.bot.pool.wait_idle(timeout=10), "a listener did not finish"
            if self.bot.outbox.drain() == 0 and self.bot.pool.wait_idle(timeout=0):
                return
        raise AssertionError("the outbox never settled")

    def card(self, key: str) -> dict[str, Any]:
        """The card message of a request as the fake Slack holds it now."""
        request = self.bot.queries.get(int(key.split("-")[1]))
        assert request and request.card_ts, f"{key} has no card"
        return next(m for m in self.fake.messages(request.card_channel) if m["ts"] == request.card_ts)

    def card_text(self, key: str) -> str:
        return json.dumps(self.card(key)["blocks"])

    def told(self) -> list[str]:
        """The texts posted to response_urls besides the commands' answers (refusals, notices, errors)."""
        answered = {url for url, _ in self.bot.inbox.answers.values()}
        return [r["body"].get("text", "") for r in self.fake.responses if r["url"] not in answered]

    def ephemerals(self, user: str) -> list[str]:
        """Every text shown only to `user` (postEphemeral and response_url posts)."""
        texts = [c["text"] for c in self.fake.calls_to("chat.postEphemeral") if c.get("user") == user]
        return texts + [r["body"].get("text", "") for r in self.fake.responses]

    def stop(self) -> None:
        close_server(self.server, self.thread)
        self.bot.stop()
        self.bot.pool.shutdown(wait=False)  # its idle threads too: no test leaves them beside the tests after it


def serve_until_closed(server: Any) -> None:
    """waitress has no stop(): closing its sockets (`close_server`, from the loop itself) ends the loop, or it ends with
    EBADF when they are closed from another thread, which is a normal end here too. Its
    worker threads are then stopped too (waitress stops them only on SystemExit or KeyboardInterrupt), so a test
    leaves none of them waiting beside the tests after it."""
    try:
        server.run()
    except (OSError, ValueError):
        pass
    finally:
        server.task_dispatcher.shutdown()


_MIGRATED: list[Path] = []


def fresh_database(path: Path) -> Path:
    """A new database at `path`, as `Db` makes one (every migration applied, no rows), copied from one made once per
    process: migrating an empty file for each harness cost more than many tests. Applying the migrations to an
    empty file is proved in tests/test_storage.py. A file already at `path` is left as it is."""
    if not _MIGRATED:
        folder = Path(tempfile.mkdtemp(prefix="ai-intake-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        Db(folder / "migrated.db").close()  # checkpointed on close: the whole database is in the one file
        _MIGRATED.append(folder / "migrated.db")
    if not path.exists():
        shutil.copyfile(_MIGRATED[0], path)
    return path


def close_server(server: Any, thread: threading.Thread) -> None:
    """Close a waitress server from its own loop, and wait for the loop to end. waitress reads its loop's timeout in
    whole seconds (0.05 was 0: a loop that polled without sleeping, burning a core's share for as long as a harness
    lived), so the servers here poll for a second, as in production, and the trigger wakes the loop to close."""
    closed = threading.Event()

    def close() -> None:
        server.close()
        closed.set()

    try:
        server.trigger.pull_trigger(close)
    except OSError:  # the trigger is closed already (its loop saw it go): close from here, the loop ends within 1 s
        close()
    thread.join(timeout=5)
    if not closed.is_set():  # the loop had already ended: close it from here
        server.close()


def start_harness(
    tmp_path: Path,
    fake: FakeSlack,
    *,
    config: dict[str, Any] | None = None,
    db_name: str = "intake.db",
    clock: Clock | None = None,
    hook_secrets: dict[str, str] | None = None,
    post_interval: float = 0,
) -> Harness:
    """`post_interval`: the outbox's pace per channel (seconds a token takes to come back; 0, the default: no pacing)."""
    clock = clock or Clock()
    bot = build_app(
        config=parse_config(config or CONFIG),
        db_path=str(fresh_database(tmp_path / db_name)),
        token=fake.token,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
        clock=clock,
        post_interval=post_interval,
        hook_secrets=hook_secrets,
        retry_intervals=RETRY_INTERVALS,
    )
    bot.inbox.start()  # the outbox is drained by hand (`settle`); the inbox works as it does in production
    server = make_server(bot, host="127.0.0.1", port=0)  # polls for a second; `close_server` wakes it to close
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    return Harness(
        bot=bot, fake=fake, clock=clock, url=f"http://127.0.0.1:{server.effective_port}", server=server, thread=thread
    )


def write_config(path: Path, data: dict[str, Any] | None = None) -> Path:
    path.write_text(yaml.safe_dump(data or CONFIG, sort_keys=False))
    return path

"""A fake Slack Web API: a real HTTP server on 127.0.0.1 that answers like Slack.

Every call is checked against the contract file, tests/contract/slack.json (the facts we keep from
Slack's published method descriptions and Block Kit limits; docs/testing.md says how it is made):
methods it does not describe, unknown or missing arguments, JSON bodies to methods that take none, a
bot token where bots may not call, Block Kit that `slack_sdk.models` rejects or that breaks the limits
`slack_sdk` does not check. What breaks Slack's contract is answered the way Slack does *and* recorded
in `violations`; the `fake_slack` fixture fails the test on any. Errors that depend on the fake
workspace's state (`message_not_found`, `channel_not_found`, ...) are answered but are not violations.
"""

from __future__ import annotations

import copy
import functools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.contract import contract

# The limits slack_sdk's `.to_dict()` does not enforce.
_LIMITS = contract()["limits"]
MAX_MESSAGE_BLOCKS = _LIMITS["message_blocks"]
MAX_FIELD_CHARS = _LIMITS["section_field_chars"]
MAX_MESSAGE_TEXT = _LIMITS["message_text_chars"]
MAX_BLOCK_TEXT = _LIMITS["message_block_text_chars_seen"] - 1_000  # Slack refuses "about" there: stay under it
MAX_VIEW_BYTES = _LIMITS["view_kilobytes"] * 1_000
MAX_RESPONSE_URL_USES = _LIMITS["response_url_uses"]

BOT_ID = "B0BOT"
APP_ID = "A0APP"
WORKSPACE_URL = "https://fake-team.slack.com/"
JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
ALWAYS_ALLOWED = {"team_id"}  # Bolt's WebClient adds team_id to every call

# Where Slack's descriptions are silent, Slack still wants one of these (each is marked optional).
ONE_OF_REQUIRED = {
    "views.open": ("trigger_id", "interactivity_pointer"),
    "views.push": ("trigger_id", "interactivity_pointer"),
    "views.update": ("view_id", "external_id"),
}
# `text` is described as optional; Slack answers no_text when a message has no content at all.
NEEDS_CONTENT = {"chat.postMessage", "chat.postEphemeral"}
CONTENT_ARGS = ("text", "blocks", "attachments", "markdown_text")
# apps.connections.open is described with no scope at all, yet Slack takes only app-level tokens.
APP_TOKEN_METHODS = {"apps.connections.open"}
VIEW_TYPES = {"views.open": "modal", "views.push": "modal", "views.publish": "home"}


def method_spec(method: str) -> dict[str, Any] | None:
    """What the contract file says of `method` (args, required, json_body, bot_scopes, errors), or None.

    None is answered `unknown_method`: a misspelt method, or a real one the contract does not describe.
    """
    return contract()["methods"].get(method)


def required_args(spec: dict[str, Any]) -> set[str]:
    """The required arguments, with `token` (which may come as a header) left out."""
    return set(spec["required"]) - {"token"}


def known_args(spec: dict[str, Any]) -> set[str]:
    """Every argument the method takes, plus what Bolt adds to every call."""
    return set(spec["args"]) | ALWAYS_ALLOWED


@dataclass
class Call:
    """One request to `/api/<method>`: its merged arguments (token left out) and what it got back."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)


class SlackError(Exception):
    """An `ok: false` answer; `violation` also records a breach of Slack's contract."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        violation: str | None = None,
        messages: tuple[str, ...] = (),
    ) -> None:
        super().__init__(error)
        self.error, self.status, self.headers = error, status, headers or {}
        self.violation, self.messages = violation, messages

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None

    def raise_(self) -> None:
        if self.status == 429:
            retry = str(1 if self.retry_after is None else self.retry_after)
            raise SlackError("ratelimited", status=429, headers={"Retry-After": retry})
        raise SlackError(self.error or "fatal_error", status=self.status)


@dataclass
class _Request:
    verb: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class FakeSlack:
    """Slack's Web API on a free local port; `url` is the `base_url` for a `WebClient`."""

    def __init__(self, *, bot_user_id: str = "U0BOT", team_id: str = "T0TEAM", token: str = "xoxb-test-token") -> None:
        self.bot_user_id, self.team_id, self.token = bot_user_id, team_id, token
        self.enterprise_id: str | None = None  # set for a workspace in an Enterprise Grid org (auth.test says so)
        self.app_token = "xapp-test-token"
        self.socket_url = "ws://127.0.0.1:1/"
        self.latency = 0.0  # seconds every Web API answer takes (a slow Slack)
        self.held = threading.Event()  # set once a held call has been carried out (see hold_answer)
        self.release = threading.Event()
        self._hold: tuple[str, int] | None = None
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.unknown_channels: set[str] = set()
        self.not_in_channels: set[str] = set()
        self.private_channels: set[str] = set()  # conversations.info answers these as private channels
        self.views: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, list[dict[str, Any]]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._resets: dict[str, int] = {}
        self._fresh_triggers: set[str] = set()
        self._used_triggers: set[str] = set()
        self._response_urls: dict[str, int] = {}
        self._last_us = 0
        self._serial = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_user(bot_user_id, name="ai-intake", is_bot=True)

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 from a daemon thread; calling it again does nothing."""
        if self._server is None:
            self._server = _Server(("127.0.0.1", 0), _Handler)
            self._server.fake = self
            serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # stop() waits one poll
            self._thread = threading.Thread(target=serve, name="fake-slack", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; the recorded state stays readable."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base(self) -> str:
        """`http://127.0.0.1:<port>`; only while started."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The Web API base URL, for `WebClient(base_url=...)`."""
        return f"{self.base}/api/"

    # ---- what tests set up -----------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` calls to `method` ("*": any method) fail before any other check.

        status 429 answers `ratelimited` with `Retry-After: retry_after` (default 1 s); any other status
        answers `{"ok": false, "error": error or "fatal_error"}` with that HTTP status.
        """
        with self._lock:
            self._failures.setdefault(method, []).extend(_Failure(status, error, retry_after) for _ in range(times))

    def reset(self, method: str, *, times: int = 1) -> None:
        """Drop the connection of the next `times` calls to `method` ("*": any) without answering (a reset)."""
        with self._lock:
            self._resets[method] = self._resets.get(method, 0) + times

    def _take_reset(self, method: str) -> bool:
        with self._lock:
            for key in (method, "*"):
                if self._resets.get(key):
                    self._resets[key] -= 1
                    return True
            return False

    def recover(self) -> None:
        """Slack is back: the failures and dropped connections still pending (`fail`, `reset`) are forgotten."""
        with self._lock:
            self._failures.clear()
            self._resets.clear()

    def hold_answer(self, method: str, *, nth: int) -> None:
        """Carry out the `nth` call to `method` (from now), then withhold its answer until `release` is set.

        The caller sees a request that reached Slack but never got its answer: what a crash looks like.
        """
        with self._lock:
            self._hold = (method, nth)
            self.held.clear()
            self.release.clear()

    def _should_hold(self, method: str) -> bool:
        with self._lock:
            if self._hold is None or self._hold[0] != method:
                return False
            remaining = self._hold[1] - 1
            self._hold = (method, remaining) if remaining > 0 else None
            return remaining == 0

    def new_trigger_id(self) -> str:
        """A trigger id that `views.open` / `views.push` accept once."""
        with self._lock:
            trigger = f"{self._next_serial()}.{int(time.time())}.{self._serial:032x}"
            self._fresh_triggers.add(trigger)
            return trigger

    def response_url(self) -> str:
        """A fresh response_url under `base` that takes up to 5 POSTs, recorded in `responses`."""
        with self._lock:
            path = f"/response/{self._next_serial()}"
            self._response_urls[path] = 0
            return self.base + path

    def add_user(
        self, user_id: str, *, name: str | None = None, tz: str = "Europe/Berlin", is_bot: bool = False
    ) -> None:
        """Make `users.info` know `user_id`; `tz` is an IANA zone name."""
        name = name or user_id.lower()
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name,
            "deleted": False,
            "tz": tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": is_bot,
            "is_admin": False,
            "profile": {"real_name": name, "display_name": name},
        }
        with self._lock:
            self._users[user_id] = user

    def add_message(self, channel: str, text: str, *, user: str = "U0SOMEONE", thread_ts: str | None = None) -> str:
        """Seed a message written by `user`; returns its ts."""
        with self._lock:
            message = {"type": "message", "user": user, "text": text, "team": self.team_id}
            return self._keep(channel, message, thread_ts=thread_ts)["ts"]

    # ---- what tests read -------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The merged arguments of every call to `method`, whatever it was answered."""
        with self._lock:
            return [call.args for call in self.calls if call.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Copies of the messages kept in `channel` (thread replies included), oldest first."""
        with self._lock:
            return copy.deepcopy(sorted(self._channels.get(channel, []), key=lambda m: m["ts"]))

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The parent `ts` (if kept) and its replies, oldest first."""
        return [m for m in self.messages(channel) if ts in (m["ts"], m.get("thread_ts"))]

    def take_violations(self) -> list[str]:
        """The violations seen so far, forgotten: for tests that provoke one on purpose."""
        with self._lock:
            taken, self.violations[:] = list(self.violations), []
            return taken

    def assert_clean(self) -> None:
        """Raise AssertionError listing every contract violation seen."""
        with self._lock:
            if self.violations:
                raise AssertionError("Slack API contract violations:\n  " + "\n  ".join(self.violations))

    # ---- HTTP entry points (called from server threads) ------------------------------------------
    def handle(self, request: _Request) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answer one HTTP request: (status, extra headers, JSON body)."""
        if request.path.startswith("/api/"):
            return self._api(request.path.removeprefix("/api/"), request)
        if request.path in self._response_urls and request.verb == "POST":
            return self._respond(request)
        return 404, {}, {"ok": False, "error": "not_found"}

    def _api(self, method: str, request: _Request) -> tuple[int, dict[str, str], dict[str, Any]]:
        spec = method_spec(method)
        plain, posted_json, problem = _read_args(request)
        with self._lock:
            if posted_json and spec is not None and not spec["json_body"]:
                self._violate(method, "sent a JSON body, which this method ignores (it takes no JSON input)")
                posted_json = {}
            args = {**plain, **posted_json}
            token = args.pop("token", None) or _bearer(request.headers.get("authorization"))
            call = Call(method, args, token)
            headers: dict[str, str] = {}
            try:
                if problem:
                    raise SlackError("invalid_arguments", violation=problem)
                response = self._answer(method, spec, args, token)
            except SlackError as error:
                if error.violation:
                    self._violate(method, error.violation)
                call.status, response, headers = error.status, error.body(), error.headers
            except Exception as exc:  # a bug in the fake (or an argument it cannot read): make it loud
                self._violate(method, f"the fake failed on {args!r:.200}: {exc!r}")
                call.status, response = 500, {"ok": False, "error": "fatal_error"}
            call.response = response
            self.calls.append(call)
            return call.status, headers, response

    def _answer(
        self, method: str, spec: dict[str, Any] | None, args: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        if spec is None:
            raise SlackError(
                "unknown_method",
                violation=f"{method} is not in tests/contract/slack.json: misspelt, or a "
                "method the contract does not describe yet (add it in tests/contract/refresh.py)",
            )
        self._injected_failure(method)
        self._check_token(method, spec, token)
        self._check_args(method, spec, args)
        self._check_channel(args)
        self._check_surfaces(method, args)
        handler = _HANDLERS.get(method)
        return {"ok": True, **(handler(self, args) if handler else {})}

    def _respond(self, request: _Request) -> tuple[int, dict[str, str], dict[str, Any]]:
        plain, posted, problem = _read_args(request)
        body = {**plain, **posted}
        with self._lock:
            self._response_urls[request.path] += 1
            self.responses.append({"url": self.base + request.path, "body": body})
            if problem or self._response_urls[request.path] > MAX_RESPONSE_URL_USES:
                self._violate("response_url", problem or f"used more than {MAX_RESPONSE_URL_USES} times")
                return 404, {}, {"ok": False, "error": "used_url"}
            try:
                self._check_surfaces("response_url", body)
            except SlackError as error:
                self._violate("response_url", error.violation or error.error)
                return 400, {}, error.body()
            return 200, {}, {"ok": True}

    # ---- checks ----------------------------------------------------------------------------------
    def _violate(self, method: str, what: str) -> None:
        self.violations.append(f"{method}: {what}")

    def _injected_failure(self, method: str) -> None:
        for key in (method, "*"):
            if self._failures.get(key):
                self._failures[key].pop(0).raise_()

    def _check_token(self, method: str, spec: dict[str, Any], token: str | None) -> None:
        if token is None:
            if "token" in spec["required"]:
                raise SlackError("not_authed")
            return
        if token not in (self.token, self.app_token):
            raise SlackError("invalid_auth")
        wrong_kind = (token == self.app_token) != (method in APP_TOKEN_METHODS)
        if wrong_kind or (token == self.token and not _bots_may_call(spec)):
            raise SlackError("not_allowed_token_type", violation=f"cannot be called with token {token!r}")

    def _check_args(self, method: str, spec: dict[str, Any], args: dict[str, Any]) -> None:
        if unknown := sorted(set(args) - known_args(spec)):
            raise SlackError(
                "invalid_arguments",
                violation=f"unknown arguments {unknown}",
                messages=tuple(f"[ERROR] unknown argument: {name}" for name in unknown),
            )
        missing = sorted(required_args(spec) - set(args))
        choices = ONE_OF_REQUIRED.get(method, ())
        if choices and not any(args.get(name) for name in choices):
            missing.append(" or ".join(choices))
        if missing:
            raise SlackError(
                "invalid_arguments",
                violation=f"missing required arguments {missing}",
                messages=tuple(f"[ERROR] missing required field: {name}" for name in missing),
            )
        if method in NEEDS_CONTENT and not any(args.get(name) for name in CONTENT_ARGS):
            raise SlackError("no_text", violation="a message needs text, blocks or attachments")

    def _check_channel(self, args: dict[str, Any]) -> None:
        if args.get("channel") in self.unknown_channels:
            raise SlackError("channel_not_found")
        if args.get("channel") in self.not_in_channels:
            raise SlackError("not_in_channel")

    def _check_surfaces(self, method: str, args: dict[str, Any]) -> None:
        """Decode JSON-string fields in place, then check blocks and views against Block Kit."""
        for name in JSON_FIELDS:
            if isinstance(args.get(name), str):
                try:
                    args[name] = json.loads(args[name])
                except json.JSONDecodeError:
                    error = "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
                    raise SlackError(error, violation=f"`{name}` is not valid JSON") from None
        if args.get("blocks") is not None:
            _check_message_blocks(args["blocks"])
        if "view" in args:
            _check_view(args["view"], VIEW_TYPES.get(method))
        if len(text := str(args.get("text") or "")) > MAX_MESSAGE_TEXT:
            self._violate(method, f"text of {len(text):,} characters is cut at {MAX_MESSAGE_TEXT:,}")

    # ---- state -----------------------------------------------------------------------------------
    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _next_ts(self) -> str:
        """A unique, increasing Slack ts ("%10d.%06d")."""
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return "%10d.%06d" % divmod(self._last_us, 1_000_000)

    def _keep(self, channel: str, message: dict[str, Any], *, thread_ts: str | None) -> dict[str, Any]:
        message["ts"] = self._next_ts()
        if thread_ts:
            message["thread_ts"] = thread_ts
            self._note_reply(channel, thread_ts, message)
        self._channels.setdefault(channel, []).append(message)
        return message

    def _note_reply(self, channel: str, thread_ts: str, reply: dict[str, Any]) -> None:
        parent = self._find(channel, thread_ts)
        if parent is not None:
            parent.update(thread_ts=thread_ts, latest_reply=reply["ts"], reply_count=parent.get("reply_count", 0) + 1)

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._channels.get(channel, []) if m["ts"] == ts), None)

    def _found(self, channel: str, ts: str) -> dict[str, Any]:
        message = self._find(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _exchange_trigger(self, args: dict[str, Any]) -> None:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if trigger in self._used_triggers:
            raise SlackError("exchanged_trigger_id", violation=f"trigger_id {trigger} used twice")
        if trigger not in self._fresh_triggers:
            raise SlackError("invalid_trigger_id", violation=f"trigger_id {trigger} was never issued")
        self._fresh_triggers.discard(trigger)
        self._used_triggers.add(trigger)

    def _store_view(self, view: dict[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
        view_id = view_id or f"V{self._next_serial():08d}"
        previous = self.views.get(view_id, {})
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "callback_id": "",
            "external_id": "",
            "private_metadata": "",
            "state": {"values": {}},
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": None,
            **View(**view).to_dict(),
            "hash": f"{int(time.time())}.{self._next_serial():08x}",
        }
        self.views[view_id] = stored
        return copy.deepcopy(stored)

    def _view_to_update(self, args: dict[str, Any]) -> dict[str, Any]:
        external = args.get("external_id")
        found = self.views.get(args.get("view_id", "")) or next(
            (v for v in self.views.values() if external and v["external_id"] == external), None
        )
        if found is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != found["hash"]:
            raise SlackError("hash_conflict")
        return found


# ---- method handlers: each returns the answer's fields besides "ok" ----------------------------------
def _auth_test(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "url": WORKSPACE_URL,
        "team": "Fake Team",
        "user": "ai-intake",
        "team_id": fake.team_id,
        "user_id": fake.bot_user_id,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "app_name": "ai-intake",
        "is_enterprise_install": False,
    }
    if fake.enterprise_id:
        answer["enterprise_id"] = fake.enterprise_id
    return answer


def _users_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    if args["user"] not in fake._users:
        raise SlackError("user_not_found")
    return {"user": copy.deepcopy(fake._users[args["user"]])}


def _bot_message(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    message = {
        "type": "message",
        "user": fake.bot_user_id,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": fake.team_id,
        "text": _message_text(args),
    }
    message.update({k: args[k] for k in ("blocks", "attachments", "metadata") if args.get(k) is not None})
    if args.get("thread_ts") and _truthy(args.get("reply_broadcast")):
        message["subtype"] = "thread_broadcast"
    return message


def _message_text(args: dict[str, Any]) -> str:
    """`text` as Slack keeps it: cut at 40,000 characters (the cut is recorded as a violation)."""
    return str(args.get("text") or "")[:MAX_MESSAGE_TEXT]


def _post_message(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel = _dm_channel(args["channel"])
    message = fake._keep(channel, _bot_message(fake, args), thread_ts=args.get("thread_ts"))
    return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}


def _post_ephemeral(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"message_ts": fake._next_ts()}  # ephemeral messages are not kept


def _update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    message = fake._found(args["channel"], args["ts"])
    if "text" in args:
        message["text"] = _message_text(args)
    message.update({k: args[k] for k in ("blocks", "attachments", "metadata") if k in args})
    message["edited"] = {"user": fake.bot_user_id, "ts": fake._next_ts()}
    return {"channel": args["channel"], "ts": args["ts"], "text": message["text"], "message": copy.deepcopy(message)}


def _delete(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    message = fake._found(args["channel"], args["ts"])
    fake._channels[args["channel"]].remove(message)
    return {"channel": args["channel"], "ts": args["ts"]}


def _permalink(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    message = fake._found(args["channel"], args["message_ts"])
    link = f"{WORKSPACE_URL}archives/{args['channel']}/p{message['ts'].replace('.', '')}"
    if message.get("thread_ts", message["ts"]) != message["ts"]:
        link += f"?thread_ts={message['thread_ts']}&cid={args['channel']}"
    return {"channel": args["channel"], "permalink": link}


def _history(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    top = [
        m
        for m in fake.messages(args["channel"])
        if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
    ]
    return _page(list(reversed(_between(top, args))), args)


def _replies(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """The thread `ts` belongs to, as Slack answers: `ts` may be the parent's or any reply's; the parent
    comes first (whatever `oldest`/`latest` say), then the replies in that range; `limit` counts both."""
    message = fake._find(args["channel"], args["ts"])
    if message is None:
        raise SlackError("thread_not_found")
    parent_ts = message.get("thread_ts", message["ts"])
    parent = fake._find(args["channel"], parent_ts)
    replies = [m for m in fake.messages(args["channel"]) if m.get("thread_ts") == parent_ts and m["ts"] != parent_ts]
    return _page(([copy.deepcopy(parent)] if parent else []) + _between(replies, args), args)


def _between(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """conversations.* `oldest`/`latest`/`inclusive` (exclusive unless inclusive is truthy)."""
    try:
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or time.time() + 1)
    except (TypeError, ValueError):
        raise SlackError("invalid_ts_latest" if args.get("latest") else "invalid_ts_oldest") from None
    if _truthy(args.get("inclusive")):
        return [m for m in messages if oldest <= float(m["ts"]) <= latest]
    return [m for m in messages if oldest < float(m["ts"]) < latest]


def _page(messages: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    limit = int(args.get("limit") or 100)
    return {"messages": messages[:limit], "has_more": len(messages) > limit, "response_metadata": {"next_cursor": ""}}


def _conversations_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """A channel as Slack describes it: a DM for D… ids; private when the test said so (or a legacy G… id)."""
    channel = args["channel"]
    im = channel.startswith("D")
    private = channel in fake.private_channels or channel.startswith("G")
    return {
        "channel": {
            "id": channel,
            "name": channel.lower(),
            "is_channel": not (im or private),
            "is_group": private,
            "is_im": im,
            "is_mpim": False,
            "is_private": private or im,
            "is_archived": False,
            "is_ext_shared": False,
            "is_shared": False,
            "context_team_id": fake.team_id,
        }
    }


def _conversations_open(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    users = str(args.get("users") or "").split(",")
    return {"channel": {"id": args.get("channel") or _dm_channel(users[0]), "is_im": True}}


def _views_open(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    fake._exchange_trigger(args)
    return {"view": fake._store_view(args["view"])}


def _views_update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"view": fake._store_view(args["view"], view_id=fake._view_to_update(args)["id"])}


def _views_publish(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"view": fake._store_view(args["view"], view_id=f"VHOME{args['user_id']}")}


def _connections_open(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"url": fake.socket_url}


_HANDLERS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "users.info": _users_info,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "chat.update": _update,
    "chat.delete": _delete,
    "chat.getPermalink": _permalink,
    "conversations.history": _history,
    "conversations.replies": _replies,
    "conversations.open": _conversations_open,
    "conversations.info": _conversations_info,
    "views.open": _views_open,
    "views.push": _views_open,
    "views.update": _views_update,
    "views.publish": _views_publish,
    "apps.connections.open": _connections_open,
}


# ---- Block Kit ---------------------------------------------------------------------------------------
def _check_message_blocks(blocks: Any) -> None:
    """Raise `invalid_blocks` / `msg_blocks_too_long` (with a violation) like Slack does for a message."""
    normalized = _parsed_blocks(blocks, error="invalid_blocks")
    if len(normalized) > MAX_MESSAGE_BLOCKS:
        _refuse("invalid_blocks", f"{len(normalized)} blocks, more than {MAX_MESSAGE_BLOCKS}")
    for index, block in enumerate(normalized):
        for field_ in block.get("fields", []):
            if len(field_.get("text", "")) > MAX_FIELD_CHARS:
                _refuse("invalid_blocks", f"block {index}: a section field is over {MAX_FIELD_CHARS:,} characters")
    if (total := _text_length(normalized)) > MAX_BLOCK_TEXT:
        _refuse("msg_blocks_too_long", f"{total:,} characters of block text, over about {MAX_BLOCK_TEXT:,}")


def _check_view(view: Any, expected_type: str | None) -> None:
    """Raise `invalid_arguments` / `view_too_large` (with a violation) for a view Slack would refuse."""
    if not isinstance(view, dict):
        _refuse("invalid_arguments", "`view` is not an object")
    if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
        _refuse("view_too_large", f"view larger than {MAX_VIEW_BYTES:,} bytes")
    if expected_type and view.get("type") != expected_type:
        _refuse("invalid_arguments", f"view type must be {expected_type}, not {view.get('type')!r}")
    if view.get("type") == "modal" and not view.get("title"):
        _refuse("invalid_arguments", "missing required field: title")
    _parsed_blocks(view.get("blocks", []), error="invalid_arguments")
    try:
        normalized = View(**view).to_dict()
    except Exception as exc:  # slack_sdk raises SlackObjectFormationError, TypeError, ValueError ...
        _refuse("invalid_arguments", f"view: {exc}")
    if lost := _lost_fields(view, normalized):
        _refuse("invalid_arguments", f"view fields slack_sdk does not know or changed: {lost[:5]}")


def _parsed_blocks(blocks: Any, *, error: str) -> list[dict[str, Any]]:
    """`Block.parse_all(...)` then `.to_dict()`, refusing unknown types and fields slack_sdk drops."""
    if not isinstance(blocks, list):
        _refuse("invalid_blocks_format", "`blocks` is not a list")
    normalized = []
    for index, raw in enumerate(blocks):
        try:
            block = Block.parse_all([raw])[0]
            as_dict = block.to_dict() if block is not None else None
        except Exception as exc:  # slack_sdk raises SlackObjectFormationError, TypeError, ...
            _refuse(error, f"block {index}: {exc}")
        if as_dict is None:
            _refuse(error, f"block {index}: unknown block type in {raw!r:.80}")
        if lost := _lost_fields(raw, as_dict):
            _refuse(error, f"block {index}: fields slack_sdk does not know or changed: {lost[:5]}")
        normalized.append(as_dict)
    return normalized


def _lost_fields(sent: Any, parsed: Any, path: str = "") -> list[str]:
    """Paths of `sent` that did not survive slack_sdk's parse unchanged (typos, wrong types)."""
    if isinstance(sent, dict):
        if not isinstance(parsed, dict):
            return [path or "/"]
        return [
            p
            for k, v in sent.items()
            for p in (_lost_fields(v, parsed[k], f"{path}/{k}") if k in parsed else [f"{path}/{k}"])
        ]
    if isinstance(sent, list):
        if not isinstance(parsed, list) or len(sent) != len(parsed):
            return [path]
        return [p for i, (s, q) in enumerate(zip(sent, parsed)) for p in _lost_fields(s, q, f"{path}/{i}")]
    return [] if sent == parsed else [path]


def _text_length(value: Any) -> int:
    """Characters in every text string of a block tree (`{"type": ..., "text": "..."}` objects)."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_length(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_text_length(v) for v in value)
    return 0


def _refuse(error: str, what: str) -> NoReturn:
    """Answer `error` the way Slack does (with `response_metadata.messages`) and record `what`."""
    raise SlackError(error, violation=what, messages=(f"[ERROR] {what}",))


# ---- helpers -----------------------------------------------------------------------------------------
def _bots_may_call(spec: dict[str, Any]) -> bool:
    """False for methods that grant scopes to some token types but not to bots (user-only methods)."""
    return spec["bot_scopes"] is not None


def _dm_channel(channel: str) -> str:
    """chat.postMessage to a user id posts in the DM with that user (answered as a D… id)."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _read_args(request: _Request) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(query and form arguments, JSON-body arguments, what was malformed)."""
    plain: dict[str, Any] = dict(parse_qsl(request.query, keep_blank_values=True))
    content_type = request.headers.get("content-type", "")
    if not request.body:
        return plain, {}, None
    if content_type.startswith("application/json"):
        try:
            posted = json.loads(request.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return plain, {}, "the body is not valid JSON"
        if not isinstance(posted, dict):
            return plain, {}, "the JSON body is not an object"
        return plain, posted, None
    if content_type.startswith("multipart/form-data"):
        return {**plain, **_multipart(content_type, request.body)}, {}, None
    return {**plain, **dict(parse_qsl(request.body.decode(), keep_blank_values=True))}, {}, None


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = message.iter_parts() if message.is_multipart() else []
    return {part.get_param("name", header="content-disposition"): part.get_content() for part in parts}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: the outbox's lanes and a test's threads connecting at once overflowed
    # it, and a connection whose SYN was dropped waited a second for the kernel to send it again.
    request_queue_size = 128
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, verb: str) -> None:
        parts = urlsplit(self.path)
        declared = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(declared)
        if len(body) < declared:  # the client died while sending (a kill -9 mid-call): Slack never sees half a request
            self.close_connection = True
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        if parts.path.startswith("/api/") and self.server.fake._take_reset(parts.path.removeprefix("/api/")):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.server.fake.latency and parts.path.startswith("/api/"):
            time.sleep(self.server.fake.latency)
        status, extra, answer = self.server.fake.handle(_Request(verb, parts.path, parts.query, headers, body))
        if self.server.fake._should_hold(parts.path.removeprefix("/api/")):
            self.server.fake.held.set()
            self.server.fake.release.wait(timeout=30)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the calls through `FakeSlack.calls` when it matters."""


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack; the test fails if any call broke Slack's contract."""
    fake = FakeSlack().start()
    yield fake
    fake.stop()
    fake.assert_clean()

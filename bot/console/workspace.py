"""The console's stand-in for Slack: a small Web API on 127.0.0.1 that keeps what a workspace keeps.

The bot talks to it exactly as it talks to Slack — its WebClient (and the one Bolt makes for each
request, from the same base URL) posts to `http://127.0.0.1:<port>/api/<method>`, and answers to
`response_url`s go to `/response/<n>` — so nothing in the bot knows it is in a console. It answers
the methods the bot calls (auth.test, users.info, chat.postMessage, chat.update, chat.postEphemeral,
chat.getPermalink, conversations.history, conversations.replies, conversations.info, conversations.open,
views.open, views.publish) and keeps channels, threads, ephemeral messages, open forms and App Home tabs.
Everything that appears on someone's screen is also put on a list (`take_shown`) in order, which
the console prints after each line typed. It checks the token, and little else: the tests'
fake Slack (tests/fake_slack.py) is the one that holds the bot to Slack's published contract.
"""

import copy
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.console.directory import BOT_NAME, Directory, dm_channel
from bot.console.payloads import APP_ID, TEAM_ID

BOT_ID = "B0AIINTAKE"
WORKSPACE_URL = "https://ai-intake-console.slack.com/"


@dataclass
class Message:
    """A message kept in a channel (top level or in a thread)."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot: bool = False
    metadata: dict[str, Any] | None = None

    def as_slack(self) -> dict[str, Any]:
        """The message as conversations.history and interaction payloads carry it."""
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text, "team": TEAM_ID}
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.bot:
            out.update(bot_id=BOT_ID, app_id=APP_ID)
        if self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out


@dataclass
class Shown:
    """Something that appeared on someone's screen.

    what: "message" (posted), "update" (a message edited in place), "ephemeral" (only `user` sees
    it), "modal" (a form opened for `user`), "home" (`user`'s App Home tab).
    """

    what: str
    at: datetime
    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    user: str | None = None
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    view: dict[str, Any] | None = None


class SlackError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Workspace:
    """One Slack workspace in memory, served on 127.0.0.1 while started. Thread-safe."""

    def __init__(self, *, clock: Callable[[], datetime], names: Directory, timezone: str) -> None:
        self.clock = clock
        self.names = names
        self.timezone = timezone  # everyone's, in users.info
        self.token = "xoxb-console-" + secrets.token_hex(8)
        self.problems: list[str] = []
        self._lock = threading.RLock()
        self._channels: dict[str, list[Message]] = {}
        self._ephemeral: dict[str, Shown] = {}
        self._shown: list[Shown] = []
        self._triggers: dict[str, str] = {}
        self._responses: dict[str, tuple[str, str | None]] = {}
        self._modals: dict[str, dict[str, Any]] = {}
        self._homes: dict[str, dict[str, Any]] = {}
        self._last_us = 0
        self._serial = 0
        self._server: ThreadingHTTPServer | None = None

    # -- serving --------------------------------------------------------------------------------
    def start(self) -> "Workspace":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.workspace = self  # type: ignore[attr-defined]
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="console-slack", daemon=True
        ).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base(self) -> str:
        assert self._server is not None, "the workspace is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The Web API base URL to give the bot (`build_app(api_url=...)`)."""
        return self.base + "/api/"

    # -- what the console does as the people in it -------------------------------------------------
    def new_trigger(self, user: str) -> str:
        """A trigger_id for an interaction by `user`, in Slack's shape (two numbers and a hex digest, dotted);
        views.open takes it once and opens the form for them."""
        with self._lock:
            serial = self._next_serial()
            trigger = f"{serial}.{serial}.{secrets.token_hex(6)}"
            self._triggers[trigger] = user
            return trigger

    def new_response_url(self, user: str, channel: str | None) -> str:
        """A response_url: what is posted to it is shown to `user` alone, in `channel`."""
        with self._lock:
            path = f"/response/{self._next_serial()}"
            self._responses[path] = (user, channel)
            return self.base + path

    def post_as(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> Message:
        """A person writes in a channel (or a thread); not shown back (the console echoed the typing)."""
        with self._lock:
            return self._keep(Message(channel=channel, ts="", user=user, text=text, thread_ts=thread_ts))

    def show_ephemeral(self, user: str, channel: str | None, text: str, blocks: list[dict[str, Any]] | None) -> None:
        """An answer only `user` sees (a slash command's acknowledgement, say)."""
        with self._lock:
            self._ephemeral_shown(user, channel, text, blocks or [])

    def stamp(self) -> str:
        """A fresh ts (for an event that is no message, like opening the App Home)."""
        with self._lock:
            return self._next_ts()

    def take_shown(self) -> list[Shown]:
        """What appeared since the last call, oldest first."""
        with self._lock:
            shown, self._shown = self._shown, []
            return shown

    def take_problems(self) -> list[str]:
        """Calls the stand-in could not answer since the last call (a method it does not know, say)."""
        with self._lock:
            problems, self.problems = self.problems, []
            return problems

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            return next((m for m in self._channels.get(channel, []) if m.ts == ts), None)

    def messages(self, channel: str) -> list[Message]:
        with self._lock:
            return list(self._channels.get(channel, []))

    def ephemeral(self, ts: str) -> Shown | None:
        with self._lock:
            return self._ephemeral.get(ts)

    def modal(self, user: str) -> dict[str, Any] | None:
        """The form open on `user`'s screen, if any."""
        with self._lock:
            return copy.deepcopy(self._modals.get(user))

    def close_modal(self, user: str) -> None:
        with self._lock:
            self._modals.pop(user, None)

    def home(self, user: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._homes.get(user))

    # -- the Web API ------------------------------------------------------------------------------
    def call(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Answer one Web API call as Slack would: {"ok": true, …} or {"ok": false, "error": …}."""
        handler = _METHODS.get(method)
        if handler is None:
            self.problems.append(f"the bot called {method}, which the console's Slack does not know")
            return {"ok": False, "error": "unknown_method"}
        if token != self.token:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        for name in ("blocks", "view", "metadata"):
            if isinstance(args.get(name), str):
                args[name] = json.loads(args[name])
        try:
            with self._lock:
                return {"ok": True, **handler(self, args)}
        except SlackError as exc:
            return {"ok": False, "error": exc.error}
        except (KeyError, ValueError) as exc:
            self.problems.append(f"{method} could not be answered: {exc!r}")
            return {"ok": False, "error": "invalid_arguments"}

    def respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A POST to a response_url: an ephemeral answer to whoever acted."""
        with self._lock:
            if path not in self._responses:
                return 404, {"ok": False, "error": "expired_url"}
            user, channel = self._responses[path]
            if not body.get("delete_original"):
                self._ephemeral_shown(user, channel, str(body.get("text") or ""), body.get("blocks") or [])
            return 200, {"ok": True}

    # -- keeping --------------------------------------------------------------------------------
    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _next_ts(self) -> str:
        """A unique, increasing ts at the console's clock (Slack's ts is the posting time)."""
        self._last_us = max(int(self.clock().timestamp() * 1_000_000), self._last_us + 1)
        return "%d.%06d" % divmod(self._last_us, 1_000_000)

    def _keep(self, message: Message) -> Message:
        message.ts = self._next_ts()
        self._channels.setdefault(message.channel, []).append(message)
        return message

    def _ephemeral_shown(self, user: str, channel: str | None, text: str, blocks: list[dict[str, Any]]) -> str:
        ts = self._next_ts()
        shown = Shown(
            "ephemeral", self.clock(), channel=channel, ts=ts, user=user, text=text, blocks=copy.deepcopy(blocks)
        )
        self._ephemeral[ts] = shown
        self._shown.append(shown)
        return ts

    def _found(self, channel: str, ts: str) -> Message:
        message = next((m for m in self._channels.get(channel, []) if m.ts == ts), None)
        if message is None:
            raise SlackError("message_not_found")
        return message


# -- method handlers: each returns the answer's fields besides "ok" -----------------------------------
def _auth_test(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": WORKSPACE_URL,
        "team": "ai-intake console",
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": ws.names.bot_user_id,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def _users_info(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = args["user"]
    name = ws.names.user_name(user)
    return {
        "user": {
            "id": user,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": name,
            "deleted": False,
            "is_bot": user == ws.names.bot_user_id,
            "tz": ws.timezone,
            "profile": {"real_name": name, "display_name": name},
        }
    }


def _post_message(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel = args["channel"]
    channel = dm_channel(channel) if channel[:1] in ("U", "W") else channel
    message = ws._keep(
        Message(
            channel=channel,
            ts="",
            user=ws.names.bot_user_id,
            text=str(args.get("text") or ""),
            blocks=args.get("blocks") or [],
            thread_ts=args.get("thread_ts"),
            bot=True,
            metadata=args.get("metadata"),
        )
    )
    ws._shown.append(
        Shown(
            "message",
            ws.clock(),
            channel=channel,
            ts=message.ts,
            thread_ts=message.thread_ts,
            text=message.text,
            blocks=copy.deepcopy(message.blocks),
        )
    )
    return {"channel": channel, "ts": message.ts, "message": message.as_slack()}


def _update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = ws._found(args["channel"], args["ts"])
    before = (message.text, message.blocks)
    if "text" in args:
        message.text = str(args["text"] or "")
    if "blocks" in args:
        message.blocks = args["blocks"] or []
    if (message.text, message.blocks) != before:  # an edit that changes nothing shows nothing
        ws._shown.append(
            Shown(
                "update",
                ws.clock(),
                channel=message.channel,
                ts=message.ts,
                thread_ts=message.thread_ts,
                text=message.text,
                blocks=copy.deepcopy(message.blocks),
            )
        )
    return {"channel": message.channel, "ts": message.ts, "text": message.text, "message": message.as_slack()}


def _post_ephemeral(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    ts = ws._ephemeral_shown(args["user"], args["channel"], str(args.get("text") or ""), args.get("blocks") or [])
    return {"message_ts": ts}


def _permalink(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = ws._found(args["channel"], args["message_ts"])
    return {
        "channel": message.channel,
        "permalink": f"{WORKSPACE_URL}archives/{message.channel}/p{message.ts.replace('.', '')}",
    }


def _history(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    top = [m for m in ws._channels.get(args["channel"], []) if m.thread_ts in (None, m.ts)]
    return _page(list(reversed(_between(top, args))), args)


def _replies(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """The thread `ts` belongs to (`ts` may be the parent's or a reply's): the parent first, then the replies
    in the range asked."""
    message = ws.message(args["channel"], args["ts"])
    if message is None:
        raise SlackError("thread_not_found")
    parent_ts = message.thread_ts or message.ts
    parent = ws.message(args["channel"], parent_ts)
    replies = [m for m in ws._channels.get(args["channel"], []) if m.thread_ts == parent_ts and m.ts != parent_ts]
    return _page(([parent] if parent else []) + _between(replies, args), args)


def _between(messages: list[Message], args: dict[str, Any]) -> list[Message]:
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    if str(args.get("inclusive")).lower() in ("1", "true"):
        return [m for m in messages if oldest <= float(m.ts) <= latest]
    return [m for m in messages if oldest < float(m.ts) < latest]


def _page(messages: list[Message], args: dict[str, Any]) -> dict[str, Any]:
    limit = int(args.get("limit") or 100)
    return {
        "messages": [m.as_slack() for m in messages[:limit]],
        "has_more": len(messages) > limit,
        "response_metadata": {"next_cursor": ""},
    }


def _conversations_info(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """A channel of the console: private when the directory says so (a domain's review channel, a G… id), a DM for D…."""
    channel = args["channel"]
    im, private = channel.startswith("D"), ws.names.is_private(channel)
    return {
        "channel": {
            "id": channel,
            "name": ws.names.channels.get(channel, channel.lower()),
            "is_channel": not (im or private),
            "is_group": private,
            "is_im": im,
            "is_mpim": False,
            "is_private": private or im,
        }
    }


def _conversations_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = str(args.get("users") or "").split(",")[0]
    return {"channel": {"id": args.get("channel") or dm_channel(user), "is_im": True}}


def _views_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = ws._triggers.pop(args.get("trigger_id") or "", None)
    if user is None:
        raise SlackError("invalid_trigger_id")
    view = {
        **args["view"],
        "id": f"V{ws._next_serial():08d}",
        "team_id": TEAM_ID,
        "state": {"values": {}},
        "hash": f"{ws._next_serial():08x}",
    }
    ws._modals[user] = view
    ws._shown.append(Shown("modal", ws.clock(), user=user, view=copy.deepcopy(view)))
    return {"view": copy.deepcopy(view)}


def _views_publish(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = args["user_id"]
    view = {**args["view"], "id": f"VHOME{user}", "team_id": TEAM_ID}
    ws._homes[user] = view
    ws._shown.append(Shown("home", ws.clock(), user=user, view=copy.deepcopy(view)))
    return {"view": copy.deepcopy(view)}


_METHODS: dict[str, Callable[[Workspace, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "users.info": _users_info,
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "chat.postEphemeral": _post_ephemeral,
    "chat.getPermalink": _permalink,
    "conversations.history": _history,
    "conversations.replies": _replies,
    "conversations.open": _conversations_open,
    "conversations.info": _conversations_info,
    "views.open": _views_open,
    "views.publish": _views_publish,
}


# -- HTTP ------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        workspace: Workspace = self.server.workspace  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        args = _read_args(
            parts.query,
            self.rfile.read(int(self.headers.get("Content-Length") or 0)),
            self.headers.get("Content-Type", ""),
        )
        if parts.path.startswith("/api/"):
            token = args.pop("token", None) or _bearer(self.headers.get("Authorization"))
            status, answer = 200, workspace.call(parts.path.removeprefix("/api/"), args, token)
        else:
            status, answer = workspace.respond(parts.path, args)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the console shows what the calls did, not the calls."""


def _read_args(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if content_type.startswith("application/json") and body:
        posted = json.loads(body)
        return {**args, **(posted if isinstance(posted, dict) else {})}
    return {**args, **dict(parse_qsl(body.decode(), keep_blank_values=True))}


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None

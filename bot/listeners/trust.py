"""What the bot takes from Slack at the door: signed requests, for this installation, with text it can store.

- `verify_signature` (HTTP mode; Bolt's own check is turned off in `build_app`, because it logs a
  refused request's body and answers a malformed timestamp with a 500 and a traceback) refuses
  with 401 a request whose signature or timestamp is missing, malformed (not one number, sent
  twice), stale (over 5 minutes) or wrong, and logs one line saying which, never the body.
- `only_this_installation` acts only on payloads for the workspace, Enterprise Grid org and app
  that `auth.test` names at startup. A payload for another installation (the same app installed
  elsewhere signs with the same secret) is refused: 401 for commands and interactivity, an empty
  200 for events (so Slack does not send them again). In a Slack Connect channel the messages are
  shared, the authority is not: whatever a person of another workspace does (a button press, a
  form, a mention, a :ticket:, a thread reply) is acknowledged with an empty 200 and changes
  nothing: nothing is recorded, nothing is posted, nobody is told.
- `at_the_door` checks, after the signature, the shape of what Slack always sends (a block action's
  `actions` a list of objects each with an `action_id`, an event callback's `event` an object with a
  `type`, a command's `user_id` …), which Bolt and the listeners read without asking its type: a
  signed payload that breaks one is answered 400 naming the field, or for an event callback an
  empty 200 (so Slack does not send it again), with one WARNING line, never the body, never a
  traceback. Fields Slack sends only sometimes are left to the listeners, which take a value of the
  wrong type as absent.
- `storable_text` replaces every lone surrogate in the payload's text (JSON can carry "\\ud800",
  which UTF-8 cannot) with U+FFFD before any listener sees it, so what is stored can always be
  written out again.
"""

import hmac
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.domain.text import storable, storable_strings
from bot.listeners.inbox import WORKED

log = logging.getLogger(__name__)

SIGNATURE_MAX_AGE_SECONDS = 300
"""Slack's rule: a request signed more than 5 minutes ago (or ahead) is refused, so a captured one cannot be replayed later."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_NextFn = Callable[[], BoltResponse]
Middleware = Callable[[BoltRequest, _NextFn], BoltResponse]


@dataclass(frozen=True)
class Installation:
    """Who this bot is, from `auth.test`: its workspace, its Enterprise Grid org (if any), its app (if Slack says)."""

    team_id: str
    enterprise_id: str | None = None
    app_id: str | None = None


def register(app: App) -> None:
    """Cleans the text of every payload before a listener sees it (`guard` comes first, from `build_app`)."""
    app.use(storable_text)


def guard(app: App, client: WebClient) -> None:
    """Asks Slack who this bot is (`auth.test`, once) and refuses from then on what is not for this installation."""
    app.use(only_this_installation(installation(client)))


def installation(client: WebClient) -> Installation:
    """This bot's installation as `auth.test` answers; raises slack_sdk's SlackApiError when Slack refuses."""
    answer = client.auth_test()
    return Installation(
        team_id=answer["team_id"],
        enterprise_id=answer.get("enterprise_id") or None,
        app_id=answer.get("app_id") or None,
    )


# -- signatures ------------------------------------------------------------------------------------
def verify_signature(signing_secret: str, *, clock: Callable[[], float] = time.time) -> Callable[..., BoltResponse]:
    """The middleware that checks Slack's signature of each HTTP request (see the module docstring).

    `clock` gives Unix seconds: Slack's timestamps are wall-clock time, not the bot's business clock.
    """
    verifier = SignatureVerifier(signing_secret)

    def middleware(request: BoltRequest, next: _NextFn) -> BoltResponse:
        if request.mode == "socket_mode" or request.context.get(WORKED) is not None:
            return next()  # over the socket, or kept in the inbox: checked when it arrived
        problem = signature_problem(request.headers, request.raw_body, verifier=verifier, now=clock())
        if problem is None:
            return next()
        log.warning("refused a request: %s", problem)
        return BoltResponse(status=401, body={"error": "invalid request"})

    return middleware


def signature_problem(headers: dict[str, Any], body: str, *, verifier: SignatureVerifier, now: float) -> str | None:
    """Why the request is not signed by Slack right now (one phrase, no header or body text), or None."""
    timestamps = headers.get("x-slack-request-timestamp") or []
    signatures = headers.get("x-slack-signature") or []
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]):
        return "X-Slack-Request-Timestamp is missing, repeated or not a number"
    if len(signatures) != 1 or not _SIGNATURE.fullmatch(signatures[0]):
        return "X-Slack-Signature is missing, repeated or malformed"
    age = now - int(timestamps[0])
    if abs(age) > SIGNATURE_MAX_AGE_SECONDS:
        return (
            f"its timestamp is {abs(age):.0f} s {'old' if age > 0 else 'ahead'} (at most {SIGNATURE_MAX_AGE_SECONDS} s)"
        )
    expected = verifier.generate_signature(timestamp=timestamps[0], body=body) or ""
    if not hmac.compare_digest(expected, signatures[0]):
        return "the signature does not match (is SLACK_SIGNING_SECRET the app's?)"
    return None


# -- shape -----------------------------------------------------------------------------------------
INTERACTIVE_TYPES = frozenset(
    {"block_actions", "view_submission", "view_closed", "message_action", "shortcut", "block_suggestion"}
)


def at_the_door(signature: Middleware | None) -> Middleware:
    """The `before_authorize` middleware: the signature first (an unsigned payload is 401 whatever its shape),
    then the shape."""

    def middleware(request: BoltRequest, next: _NextFn) -> BoltResponse:
        if signature is None:
            return checked(request, next)
        return signature(request, lambda: checked(request, next))

    return middleware


# Slack's trigger ids: two numbers and a hex digest, dotted ("13345224609.738474920.8088930838d88f008e0").
TRIGGER_ID = re.compile(r"^[0-9]+\.[0-9]+\.[0-9a-f]+$")


def checked(request: BoltRequest, next: _NextFn) -> BoltResponse:
    body = request.body
    problem = shape_problem(body)
    if problem is None:
        return next()
    log.warning("refused a malformed payload: %s", problem)
    if isinstance(body, dict) and body.get("type") == "event_callback":
        return BoltResponse(status=200, body="")
    return BoltResponse(status=400, body={"error": f"malformed payload: {problem}"})


def shape_problem(body: Any) -> str | None:
    """What is wrong with the shape of a payload (a phrase naming the field), or None when it has Slack's shape."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    for name in ("type", "api_app_id", "team_id", "token", "command", "user_id", "channel_id", "text", "callback_id"):
        if name in body and not isinstance(body[name], str):
            return f"`{name}` is not a string"
    for name in ("team", "user", "channel", "enterprise", "container", "message", "view"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            return f"`{name}` is not an object"
    if "command" in body:
        return _command(body)
    kind = body.get("type")
    if kind == "event_callback":
        return _event(body)
    if kind in INTERACTIVE_TYPES:
        return _interactive(body, kind)
    return None


def _command(body: dict[str, Any]) -> str | None:
    for name in ("command", "user_id", "team_id", "trigger_id"):
        if not body.get(name):
            return f"a command without `{name}`"
    if not TRIGGER_ID.match(str(body["trigger_id"])):
        return "`trigger_id` is not a Slack trigger id"
    return None


def _event(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict):
        return "`event` is not an object"
    if not isinstance(event.get("type"), str):
        return "`event.type` is not a string"
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return "`authorizations` is not a list of objects"
    return None


def _interactive(body: dict[str, Any], kind: str) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return "`user.id` is missing"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "`actions` is not a list"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "an action without an `action_id`"
        if not all(isinstance(a.get("block_id", ""), str) for a in actions):
            return "an action's `block_id` is not a string"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return "`view.callback_id` is missing"
        state = view.get("state")
        if state is not None and not (isinstance(state, dict) and isinstance(state.get("values", {}), dict)):
            return "`view.state.values` is not an object"
    if kind in ("message_action", "shortcut") and not isinstance(body.get("callback_id"), str):
        return "`callback_id` is missing"
    return None


# -- installation and actor ------------------------------------------------------------------------
def only_this_installation(ours: Installation) -> Callable[..., BoltResponse]:
    """The middleware that refuses payloads for another installation and ignores people of another workspace."""

    def middleware(body: dict[str, Any], context: BoltContext, next: _NextFn) -> BoltResponse:
        is_event = body.get("type") == "event_callback"
        elsewhere = other_installation(body, context, ours)
        if elsewhere is not None:
            log.warning(
                "refused a payload for another installation (%s)",
                elsewhere,
                extra={
                    "team_id": context.team_id,
                    "enterprise_id": context.enterprise_id,
                    "api_app_id": body.get("api_app_id"),
                },
            )
            return (
                BoltResponse(status=200, body="")
                if is_event
                else BoltResponse(status=401, body={"error": "not this installation"})
            )
        outsider = foreign_actor_team(body, ours)
        if outsider is not None:
            log.info(
                "ignored what a person of another workspace did",
                extra={"team_id": outsider, "user_id": context.user_id},
            )
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def other_installation(body: dict[str, Any], context: BoltContext, ours: Installation) -> str | None:
    """Which app, workspace or org a payload is for when it is not `ours` (a phrase), else None.

    The workspace is Bolt's reading of the payload (`authorizations` for events, `team` for
    interactivity, `team_id` for commands). An enterprise id is compared when the payload names one;
    the app id when both the payload and `auth.test` name one.
    """
    app_id = body.get("api_app_id")
    if ours.app_id and app_id is not None and app_id != ours.app_id:
        return "another app"
    if context.team_id != ours.team_id:
        return "another workspace" if context.team_id else "no workspace named"
    if context.enterprise_id is not None and context.enterprise_id != ours.enterprise_id:
        return "another Enterprise Grid org"
    return None


def foreign_actor_team(body: dict[str, Any], ours: Installation) -> str | None:
    """The workspace (or org) of the person who acted when it is not ours, else None.

    Interactivity names it in `user.team_id`; a message or mention in a Slack Connect channel in
    `event.user_team` (or `event.team`, the author's workspace). An event in a channel shared with
    another organisation that names no workspace (a reaction, say) counts as foreign: who acted
    cannot be told, so it changes nothing.
    """
    user, event = body.get("user"), body.get("event")
    named = [user.get("team_id") if isinstance(user, dict) else None]
    is_event = body.get("type") == "event_callback" and isinstance(event, dict)
    if is_event:
        named += [event.get("user_team"), event.get("team")]
    named = [team for team in named if isinstance(team, str) and team]
    for team in named:
        if team not in (ours.team_id, ours.enterprise_id):
            return team
    if is_event and not named and body.get("is_ext_shared_channel") is True:
        return "unnamed, in a Slack Connect channel"
    return None


# -- text ------------------------------------------------------------------------------------------
def storable_text(body: dict[str, Any], context: BoltContext, next: _NextFn) -> BoltResponse:
    """Replace lone surrogates in every string of the payload (and of Bolt's context) before a listener sees it."""
    storable_strings(body)
    for key, value in list(context.items()):
        if isinstance(value, str):
            cleaned = storable(value)
            if cleaned is not value:
                context[key] = cleaned
    return next()

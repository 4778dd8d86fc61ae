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

log = logging.getLogger(__name__)

SIGNATURE_MAX_AGE_SECONDS = 300
"""Slack's rule: a request signed more than 5 minutes ago (or ahead) is refused, so a captured one cannot be replayed later."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_NextFn = Callable[[], BoltResponse]


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
    return Installation(team_id=answer["team_id"], enterprise_id=answer.get("enterprise_id") or None,
                        app_id=answer.get("app_id") or None)


# -- signatures ------------------------------------------------------------------------------------
def verify_signature(signing_secret: str, *, clock: Callable[[], float] = time.time) -> Callable[..., BoltResponse]:
    """The middleware that checks Slack's signature of each HTTP request (see the module docstring).

    `clock` gives Unix seconds: Slack's timestamps are wall-clock time, not the bot's business clock.
    """
    verifier = SignatureVerifier(signing_secret)

    def middleware(request: BoltRequest, next: _NextFn) -> BoltResponse:
        if request.mode == "socket_mode":
            return next()
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
        return f"its timestamp is {abs(age):.0f} s {'old' if age > 0 else 'ahead'} (at most {SIGNATURE_MAX_AGE_SECONDS} s)"
    expected = verifier.generate_signature(timestamp=timestamps[0], body=body) or ""
    if not hmac.compare_digest(expected, signatures[0]):
        return "the signature does not match (is SLACK_SIGNING_SECRET the app's?)"
    return None


# -- installation and actor ------------------------------------------------------------------------
def only_this_installation(ours: Installation) -> Callable[..., BoltResponse]:
    """The middleware that refuses payloads for another installation and ignores people of another workspace."""

    def middleware(body: dict[str, Any], context: BoltContext, next: _NextFn) -> BoltResponse:
        is_event = body.get("type") == "event_callback"
        elsewhere = other_installation(body, context, ours)
        if elsewhere is not None:
            log.warning("refused a payload for another installation (%s)", elsewhere,
                        extra={"team_id": context.team_id, "enterprise_id": context.enterprise_id,
                               "api_app_id": body.get("api_app_id")})
            return BoltResponse(status=200, body="") if is_event else BoltResponse(status=401, body={"error": "not this installation"})
        outsider = foreign_actor_team(body, ours)
        if outsider is not None:
            log.info("ignored what a person of another workspace did", extra={"team_id": outsider, "user_id": context.user_id})
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

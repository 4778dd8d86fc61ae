"""What the bot takes from Slack at the door: requests signed by Slack right now, with text it can store.

- `verify_signature` (HTTP mode; Bolt's own check is turned off in `build_app`, because it logs a
  refused request's body and answers a malformed timestamp with a 500 and a traceback) refuses
  with 401 a request whose signature or timestamp is missing, malformed (not one number, sent
  twice), stale (over 5 minutes) or wrong, and logs one line saying which, never the body.
- `storable_text` replaces every lone surrogate in the payload's text (JSON can carry "\\ud800",
  which UTF-8 cannot) with U+FFFD before any listener sees it, so what is stored can always be
  written out again.
"""

import hmac
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.domain.text import storable, storable_strings

log = logging.getLogger(__name__)

SIGNATURE_MAX_AGE_SECONDS = 300
"""Slack's rule: a request signed more than 5 minutes ago (or ahead) is refused, so a captured one cannot be replayed later."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_NextFn = Callable[[], BoltResponse]


def register(app: App) -> None:
    """Cleans the text of every payload before any listener sees it."""
    app.use(storable_text)


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

"""Who may post to the hooks: Slack's own request-signing scheme, one shared secret per source.

The sender names itself in X-AI-Intake-Source, puts the unix time in X-AI-Intake-Timestamp and signs
with `v0=` + hex HMAC-SHA256, keyed with the source's secret, of "v0:{timestamp}:{raw body}" in
X-AI-Intake-Signature. A timestamp more than five minutes from our clock is refused, so a captured
request cannot be replayed later. slack_sdk's SignatureVerifier does the check, on our clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime

from slack_sdk.signature import Clock, SignatureVerifier

from bot.hooks.errors import Unauthorized
from bot.hooks.schemes import OURS, SCHEMES, check

SOURCE_HEADER = "X-AI-Intake-Source"
TIMESTAMP_HEADER = "X-AI-Intake-Timestamp"
SIGNATURE_HEADER = "X-AI-Intake-Signature"
MAX_SKEW_SECONDS = 5 * 60
"""How far the timestamp may be from our clock; slack_sdk's verifier holds the same five minutes."""
_UNIX_SECONDS = re.compile(r"^\d{1,12}$")


class _InjectedClock(Clock):
    """slack_sdk's clock interface over ours (an aware datetime), so tests and `--at` control time."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock().timestamp()


class HookVerifier:
    """Checks that a hook request comes from a configured source: `secrets` maps each source to its
    secret (sources whose secret is empty are off); `schemes` names the tool's own signing scheme a
    source uses instead of ours (`bot.hooks.schemes`). `clock` gives the current instant."""

    def __init__(
        self, secrets: Mapping[str, str], *, clock: Callable[[], datetime], schemes: Mapping[str, str] | None = None
    ) -> None:
        self._clock = clock
        self._secrets = {source: secret for source, secret in secrets.items() if secret and secret.strip()}
        self._schemes = {source: name for source, name in (schemes or {}).items() if name != OURS}
        self._verifiers = {
            source: SignatureVerifier(secret, clock=_InjectedClock(clock)) for source, secret in self._secrets.items()
        }

    @property
    def sources(self) -> frozenset[str]:
        """The sources that can be verified (those with a secret)."""
        return frozenset(self._verifiers)

    def verify(self, headers: Mapping[str, str], body: bytes, *, source: str | None = None) -> str:
        """The source that signed `body`; raises Unauthorized saying what is wrong. Header names are
        matched in any case. `source`: the URL's `?source=`, for a tool that signs its own way."""
        found = {k.lower(): v for k, v in headers.items()}
        source = (found.get(SOURCE_HEADER.lower(), "") or source or "").strip()
        if not source:
            raise Unauthorized(
                f"the {SOURCE_HEADER} header is missing: name the hook source "
                "(or ?source= on the URL, for a tool that signs its own way)"
            )
        verifier = self._verifiers.get(source)
        if verifier is None:
            raise Unauthorized(f"unknown hook source {source[:40]!r}")
        if source in self._schemes:
            check(SCHEMES[self._schemes[source]], self._secrets[source], headers, body, now=self._clock().timestamp())
            return source
        timestamp = found.get(TIMESTAMP_HEADER.lower(), "").strip()
        if not _UNIX_SECONDS.match(timestamp):
            raise Unauthorized(f"{TIMESTAMP_HEADER} must be the time of signing in unix seconds")
        signature = found.get(SIGNATURE_HEADER.lower(), "").strip()
        if not signature:
            raise Unauthorized(f"the {SIGNATURE_HEADER} header is missing")
        self._check(verifier, body=body, timestamp=timestamp, signature=signature)
        return source

    def _check(self, verifier: SignatureVerifier, *, body: bytes, timestamp: str, signature: str) -> None:
        try:
            valid = verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except UnicodeDecodeError:
            raise Unauthorized("the body is not UTF-8 text, so its signature cannot be checked") from None
        if valid:
            return
        skew = abs(self._clock().timestamp() - int(timestamp))
        if skew > MAX_SKEW_SECONDS:
            raise Unauthorized(
                f"{TIMESTAMP_HEADER} is {int(skew)} seconds from our clock (at most {MAX_SKEW_SECONDS}); "
                "sign each request when it is sent"
            )
        raise Unauthorized(
            f'{SIGNATURE_HEADER} does not match the body: sign "v0:{{timestamp}}:{{body}}" with the source\'s secret'
        )


def signed_headers(body: bytes, *, source: str, secret: str, timestamp: int) -> dict[str, str]:
    """The headers a sender adds to post `body` as `source` at unix time `timestamp` (for clients and tests)."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return {
        SOURCE_HEADER: source,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature,
        "Content-Type": "application/json",
    }

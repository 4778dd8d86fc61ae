"""The tools' own webhook signatures, accepted per source instead of ours (`hooks: {sentry: {secret_env: …,
signature: sentry}}`), so Sentry, Langfuse and Grafana can post to the hooks without a relay.

Each scheme is the tool's documented one: an HMAC-SHA256, in hex, keyed with the secret the tool shows
when the webhook is made, over the raw body (and the time of sending, where the tool signs it); the time
must be within five minutes of our clock, as for our own scheme. A request that uses a tool's scheme
names its source in the URL (`?source=sentry`), since the tool cannot send our source header.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.hooks.errors import Unauthorized

OURS = "ai-intake"
MAX_SKEW_SECONDS = 5 * 60
_UNIX_SECONDS = re.compile(r"^\d{1,12}$")


@dataclass(frozen=True)
class Scheme:
    """A tool's signing scheme: where it puts the signature and the time, and what it signs."""

    name: str
    tool: str
    signature_headers: tuple[str, ...]
    timestamp_headers: tuple[str, ...]
    signed: Callable[[str, bytes], bytes]
    """(timestamp, body) -> the bytes the tool signs."""
    parse: Callable[[str], tuple[str | None, str]] = lambda value: (None, value.strip())
    """The signature header's value -> (the timestamp it carries, if any, the hex signature)."""
    described: str = ""
    untimed: bool = False
    """The tool may sign without a time (Grafana, when no timestamp header is set): then the body alone is signed,
    and only the replay of a body already handled (refused by content, `bot.entry.webhooks`) guards against replays."""


def _langfuse(value: str) -> tuple[str | None, str]:
    """`t=1732526400,v1=<hex>` -> ("1732526400", "<hex>")."""
    parts = dict(p.strip().split("=", 1) for p in value.split(",") if "=" in p)
    return parts.get("t"), parts.get("v1", "")


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme(
            "sentry",
            "Sentry (an internal integration's webhooks)",
            ("sentry-hook-signature",),
            ("sentry-hook-timestamp",),
            lambda ts, body: body,
            described="`Sentry-Hook-Signature`: hex HMAC-SHA256 of the body with the integration's client secret; "
            "`Sentry-Hook-Timestamp` within five minutes",
        ),
        Scheme(
            "langfuse",
            "Langfuse (prompt webhooks)",
            ("x-langfuse-signature",),
            (),
            lambda ts, body: ts.encode() + b"." + body,
            parse=_langfuse,
            described="`x-langfuse-signature: t=<unix seconds>,v1=<hex>`: HMAC-SHA256 of `{t}.{body}` with the "
            "webhook's signing secret; `t` within five minutes",
        ),
        Scheme(
            "grafana",
            "Grafana Alerting (a webhook contact point's HMAC settings)",
            ("x-grafana-alerting-signature", "x-grafana-alert-signature"),
            ("x-grafana-alerting-timestamp", "x-grafana-alerting-signature-timestamp", "x-grafana-alert-timestamp"),
            lambda ts, body: ts.encode() + b":" + body if ts else body,
            untimed=True,
            described="`X-Grafana-Alerting-Signature` (Grafana's default header) holds the hex HMAC-SHA256 of the body; "
            "when the contact point names a timestamp header (`X-Grafana-Alerting-Timestamp` or "
            "`X-Grafana-Alerting-Signature-Timestamp`), of `{timestamp}:{body}`, the time within five minutes",
        ),
    )
}
"""The tools' schemes a source may use, by the name `signature:` takes."""
NAMES = (OURS, *SCHEMES)


def check(scheme: Scheme, secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> None:
    """Raise Unauthorized unless `headers` carry `scheme`'s valid signature of `body` made within five minutes of
    `now` (unix seconds). Header names are matched in any case."""
    found = {k.lower(): v for k, v in headers.items()}
    value = next((found[h] for h in scheme.signature_headers if found.get(h, "").strip()), None)
    if value is None:
        raise Unauthorized(f"the {scheme.signature_headers[0]} header is missing (this source signs as {scheme.name})")
    carried, signature = scheme.parse(value)
    timestamp = (carried or next((found[h] for h in scheme.timestamp_headers if found.get(h, "").strip()), "")).strip()
    if not timestamp and scheme.untimed:
        _compare(scheme, secret, scheme.signed("", body), signature)
        return
    if not _UNIX_SECONDS.match(timestamp):
        where = scheme.timestamp_headers[0] if scheme.timestamp_headers else scheme.signature_headers[0]
        raise Unauthorized(f"{where} must carry the time of sending in unix seconds")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise Unauthorized(
            f"the request was signed {int(abs(now - int(timestamp)))} seconds from our clock "
            f"(at most {MAX_SKEW_SECONDS})"
        )
    _compare(scheme, secret, scheme.signed(timestamp, body), signature)


def _compare(scheme: Scheme, secret: str, signed: bytes, signature: str) -> None:
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise Unauthorized(f"the {scheme.name} signature does not match the body (check the source's secret)")


def sign(scheme: str, body: bytes, *, secret: str, timestamp: int | None) -> dict[str, str]:
    """The headers `scheme`'s tool would send with `body` at `timestamp` (None: a tool that signs without a time,
    as Grafana does by default) (for tests and the console)."""
    found = SCHEMES[scheme]
    digest = hmac.new(
        secret.encode(), found.signed("" if timestamp is None else str(timestamp), body), hashlib.sha256
    ).hexdigest()
    if timestamp is None:
        return {found.signature_headers[0]: digest, "Content-Type": "application/json"}
    if scheme == "langfuse":
        return {"x-langfuse-signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}
    return {
        found.signature_headers[0]: digest,
        found.timestamp_headers[0]: str(timestamp),
        "Content-Type": "application/json",
    }

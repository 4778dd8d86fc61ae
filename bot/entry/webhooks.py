"""POST /hooks/regressions and /hooks/changes: the HTTP side of the hooks, on the bot's own server.

Answered in this order (docs/changes.md, "Hooks"): 404 when the config has no `hooks` (or the path is
not a hook); 405 for another method; 413 for a body over 1 MB, from its Content-Length before it is
read; 401 when the source, timestamp or signature is refused; 400 `{"error", "field"}` for a body or
a field that cannot be used; then 201 when something new was filed or logged, else 200. Nothing is
written for a refused request, and no body is ever logged. A body already handled (the same bytes from the
same source to the same endpoint) is answered 200 and changes nothing, whatever its signature's time.
"""

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from bot.domain.errors import InvalidInput
from bot.hooks import MAX_BODY_BYTES, BadRequest, HookError, HookVerifier, TooLarge, parse_changes, parse_regressions
from bot.usecases.machine_intake import MachineIntake, Outcome

log = logging.getLogger(__name__)
PATHS = {"/hooks/regressions": "regressions", "/hooks/changes": "changes"}
PREFIX = "/hooks/"

Response = tuple[int, dict[str, Any]]
"""(HTTP status, JSON body): what a hook request gets back."""


class HookEndpoints:
    """The two hook endpoints over `machines`; `verifier` knows each source's secret. `enabled`: the config
    names hook sources (otherwise every hook path is 404)."""

    def __init__(
        self,
        machines: MachineIntake,
        verifier: HookVerifier,
        *,
        enabled: bool,
        routes: Mapping[str, tuple[str | None, str | None]] | None = None,
    ) -> None:
        self._machines = machines
        self._verifier = verifier
        self.enabled = enabled
        self._routes = dict(routes or {})
        """source -> (format, domain) its config binds it to (None: the URL's parameter, if any, decides)."""

    def handle_request(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        content_length: int | None,
        read: Callable[[int], bytes],
    ) -> Response:
        """Handle one HTTP request to a hook path: refuse it, or verify it and file or log what its body says; (status,
        JSON body) to send back. `read(n)` reads at most n bytes of its body."""
        endpoint = PATHS.get(path)
        if endpoint is None or not self.enabled:
            why = "hooks are off: the config names no hook sources" if endpoint else "no such hook"
            return 404, {"error": f"{why} (POST {' or '.join(PATHS)})"}
        if method != "POST":
            return 405, {"error": f"{path} takes POST"}
        try:
            body = self._body(content_length, read)
            asked = parse_qs(query)
            source = self._verifier.verify(headers, body, source=_one(asked, "source"))
            return self._take(endpoint, body, source=source, query=asked)
        except HookError as exc:
            log.info("refused a hook request to %s: %s %s", path, exc.status, exc.message)
            return exc.status, exc.body()
        except InvalidInput as exc:
            log.info("refused a hook request to %s: 400 %s", path, exc.message)
            return 400, {"error": exc.message, **({"field": exc.field} if exc.field else {})}

    def _body(self, content_length: int | None, read: Callable[[int], bytes]) -> bytes:
        if content_length is not None and content_length > MAX_BODY_BYTES:
            raise TooLarge(f"the body is {content_length} bytes; a hook accepts at most {MAX_BODY_BYTES} bytes (1 MB)")
        body = read(MAX_BODY_BYTES + 1 if content_length is None else content_length)
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes; a hook accepts at most 1 MB")
        return body

    def _route(self, source: str, query: dict[str, list[str]]) -> tuple[str | None, str | None]:
        """(format, domain) for a request of `source`: bound by its config, else from the URL."""
        format, domain = self._routes.get(source, (None, None))
        return (
            _bound("format", format, _one(query, "format"), source=source),
            _bound("domain", domain, _one(query, "domain"), source=source),
        )

    def _take(self, endpoint: str, body: bytes, *, source: str, query: dict[str, list[str]]) -> Response:
        """A verified body: once, what it reports is filed (regressions) or logged (changes)."""
        replay = body_key(source, endpoint, body)
        if self._machines.handled(replay):
            log.info("hook %s from %s: a replay of a body already handled", endpoint, source)
            return 200, {"results": [], "replay": "this exact body was handled before; nothing changed"}
        format, domain = self._route(source, query)
        strict = format in (None, "", "native")
        if endpoint == "regressions":
            batch = parse_regressions(body, source=source, format=format, domain=domain)
            outcomes = self._machines.file_regressions(batch, strict=strict)
            key = "key"
        else:
            changes = parse_changes(body, source=source, format=format, domain=domain)
            outcomes = self._machines.log_changes(changes, strict=strict)
            batch, key = changes, "change"
        log.info(
            "hook %s from %s: %s", endpoint, source, ", ".join(f"{o.id} {o.outcome}" for o in outcomes) or "nothing"
        )
        self._machines.remember(replay)
        return (201 if any(o.created for o in outcomes) else 200), _results(outcomes, list(batch.skipped), key=key)


def _bound(name: str, bound: str | None, asked: str | None, *, source: str) -> str | None:
    """The routing parameter `name`: the config's when it binds it (the URL may repeat it, not change it)."""
    if bound is None:
        return asked
    if asked not in (None, "", bound):
        raise BadRequest(
            f"the config binds source {source}'s {name} to {bound}; ?{name}={asked[:40]} may not change it", field=name
        )
    return bound


def body_key(source: str, endpoint: str, body: bytes) -> str:
    """The delivery key of a body: the same bytes from the same source to the same endpoint, whatever the URL's
    parameters and however freshly signed, are one delivery, handled once."""
    return f"hook-body:{source}:{endpoint}:{hashlib.sha256(body).hexdigest()}"


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _results(outcomes: list[Outcome], skipped: list[str], *, key: str) -> dict[str, Any]:
    """{"key": "AIR-12"} (or {"change": "CHG-7"}) for a body of one item, and always what each item did."""
    body: dict[str, Any] = {}
    if len(outcomes) == 1:
        body[key] = outcomes[0].key
    body["results"] = [{"id": o.id, key: o.key, "outcome": o.outcome} for o in outcomes]
    if skipped:
        body["skipped"] = skipped
    return body

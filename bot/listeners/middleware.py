"""Cross-cutting middleware: hand listeners the service, drop replayed deliveries, answer errors."""

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.request import BoltRequest

from bot.domain.errors import IntakeError
from bot.service import Intake

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.use(drop_replays)
    app.error(on_error)


def intake_of(context: BoltContext) -> Intake:
    return context["intake"]


def provide(intake: Intake, notifier: Any) -> Callable[..., Any]:
    """Middleware that puts the service and the notifier into every listener's `context`."""

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["intake"] = intake
        context["notifier"] = notifier
        return next()

    return middleware


def drop_replays(request: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """A signed command or click delivered twice (a replay) has no second effect.

    Events are not keyed here: their effects are keyed by the Slack message they come from
    (`msg:<channel>:<ts>`) inside the same transaction, so a redelivery after a crash still works.
    """
    signature = (request.headers.get("x-slack-signature") or [None])[0]
    if signature and request.body.get("type") != "event_callback":
        if not intake_of(context).claim_delivery(f"sig:{signature}"):
            log.info("dropped a replayed delivery")
            return BoltResponse(status=200, body="")
    return next()


def on_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse | None:
    """Errors the listeners did not answer: log with traceback, tell the person, never leak internals."""
    if isinstance(error, IntakeError):
        tell(context, body, error.message)
        return None
    log.error("unhandled error in a listener", exc_info=error)
    tell(context, body, "Something went wrong on our side; it has been logged. Please try again.")
    return None


def tell(context: BoltContext, body: dict[str, Any], text: str) -> None:
    """An ephemeral answer to whoever caused `body`, sent after the ack by the notifier."""
    user = context.user_id or (body.get("user") or {}).get("id")
    if not user or "intake" not in context:
        return
    channel = context.channel_id or (body.get("channel") or {}).get("id")
    intake_of(context).tell(user=user, channel=channel, text=text, response_url=body.get("response_url"))

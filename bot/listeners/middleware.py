"""Cross-cutting middleware: hand listeners the use cases, the config and the clock, drop replayed deliveries,
answer errors."""

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.request import BoltRequest

from bot.blocks import notices
from bot.usecases.changelog import ChangeLog
from bot.runtime.clock import Clock
from bot.domain.errors import IntakeError, NotSaved
from bot.domain.policy import Config
from bot.usecases.queries import Queries
from bot.usecases.service import Intake, Replayed
from storage.unit import Delivery

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.use(drop_replays)
    app.error(on_error)


def intake_of(context: BoltContext) -> Intake:
    """The write use cases."""
    return context["intake"]


def queries_of(context: BoltContext) -> Queries:
    """The read use cases."""
    return context["queries"]


def changelog_of(context: BoltContext) -> ChangeLog:
    """The change log's use cases."""
    return context["changelog"]


def config_of(context: BoltContext) -> Config:
    return context["config"]


def now_of(context: BoltContext) -> datetime:
    """The current time, by the clock the app was built with."""
    return context["clock"]()


def provide(
    *, intake: Intake, queries: Queries, changelog: ChangeLog, config: Config, clock: Clock
) -> Callable[..., Any]:
    """Middleware that puts the use cases (the change log's too), the config and the clock into every listener's
    `context`."""

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["intake"] = intake
        context["queries"] = queries
        context["changelog"] = changelog
        context["config"] = config
        context["clock"] = clock
        return next()

    return middleware


def drop_replays(request: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """A signed command or click delivered twice (a replay) has no second effect.

    Its key (`sig:<signature>`) is recorded by the first change it makes, in the same unit of work: every
    use case handed to the listener (the intake's and the change log's) is bound to the delivery here
    (`once`), and their store's unit of work claims it (`Store.claiming`). A replay of a delivery that had
    its effect is dropped here with a read; two copies in flight at once are told apart by that unit
    (`Replayed`, answered like this).
    Events are not keyed here: their effects are keyed by the Slack message they come from
    (`msg:<channel>:<ts>`) inside the same transaction, so a redelivery after a crash still works.
    """
    signature = (request.headers.get("x-slack-signature") or [None])[0]
    if signature and request.body.get("type") != "event_callback":
        key = f"sig:{signature}"
        if intake_of(context).seen(key):
            log.info("dropped a replayed delivery")
            return BoltResponse(status=200, body="")
        delivery = Delivery(key, at=now_of(context))
        context["intake"] = intake_of(context).once(delivery)
        context["changelog"] = changelog_of(context).once(delivery)
    return next()


def on_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse | None:
    """Errors the listeners did not answer: log with traceback, tell the person, never leak internals."""
    if isinstance(error, IntakeError):
        tell(context, body, error.message)
        return None
    log.error("unhandled error in a listener", exc_info=error)
    tell(context, body, notices.SOMETHING_WENT_WRONG)
    return None


def catching_errors(listener: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a listener that acks by itself (commands, actions, views, shortcuts) so no error escapes to Bolt.

    Bolt answers an error raised before `ack()` with a 500, and one raised after `ack()` can even
    take the ack back (its thread runner then sets `ack.response = None`), so Slack shows the
    person "dispatch_failed". Here the error goes to `on_error` (logged, told in one sentence) and
    the request is acked if it was not. Bolt passes the arguments `listener` names (it unwraps).
    """

    @functools.wraps(listener)
    def run(**kwargs: Any) -> Any:
        try:
            return listener(**kwargs)
        except Exception as error:
            ack = kwargs.get("ack")
            if ack is not None and ack.response is None:
                ack()
            if isinstance(error, Replayed):
                log.info("dropped a replayed delivery")
                return None
            on_error(error, kwargs.get("body") or {}, kwargs["context"])
            return None

    return run


def tell(context: BoltContext, body: dict[str, Any], text: str) -> None:
    """An ephemeral answer to whoever caused `body`, sent after the ack by the outbox worker."""
    user = context.user_id or _id_of(body.get("user"))
    if not isinstance(user, str) or not user or "intake" not in context:
        return
    channel = context.channel_id or _id_of(body.get("channel"))
    channel = channel if isinstance(channel, str) else None
    response_url = body.get("response_url") or context.response_url
    response_url = response_url if isinstance(response_url, str) else None
    try:
        intake_of(context).tell(user=user, channel=channel, text=text, response_url=response_url)
    except NotSaved:
        tell_now(context, user=user, channel=channel, text=text, response_url=response_url)


def tell_now(context: BoltContext, *, user: str, channel: str | None, text: str, response_url: str | None) -> None:
    """Tell one person at once, without the outbox: for when the database cannot store the message (its disk is
    full, it is read-only). Best effort: when Slack fails too, a log line says so."""
    try:
        if response_url:
            Respond(response_url=response_url)(text=text, response_type="ephemeral", replace_original=False)
        elif channel and context.client is not None:
            context.client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif context.client is not None:
            context.client.chat_postMessage(channel=user, text=text)
    except Exception as exc:  # noqa: BLE001 - the last resort: the person cannot be told, the log says why
        log.warning("could not tell %s that nothing was saved: %s", user, type(exc).__name__)


def _id_of(thing: Any) -> Any:
    """`thing["id"]` when Slack sent an object (a malformed payload may not)."""
    return thing.get("id") if isinstance(thing, dict) else None

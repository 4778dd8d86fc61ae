"""The change log's surfaces: `/ai-request shipped …` and `changes`, the "Log a change" form and message
shortcut, the three answers on a change's question (with their forms), and "Resolve…" on a regression's
card with the form that asks for its cause and eval case."""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks import ids, notices
from bot.blocks.changes import (
    change_modal,
    changes_reply,
    closure_modal,
    covered_modal,
    logged_reply,
    not_relevant_modal,
)
from bot.domain import parsing
from bot.domain.changes import WHAT_LIMIT
from bot.domain.changes_filing import ChangeDraft, parse_shipped
from bot.domain.errors import IntakeError, InvalidInput
from bot.domain.text import first_line
from bot.listeners.events import field, message_text, ts_field
from bot.listeners.middleware import catching_errors, changelog_of, config_of, intake_of, now_of, queries_of, tell
from bot.listeners.views import form_state, input_value, metadata, text_or_none  # read as the request form is

FIELD_OF = {
    "what": ids.WHAT,
    "domain": ids.DOMAIN,
    "side": ids.SIDE,
    "kind": ids.CHANGE_KIND,
    "asset": ids.ASSET,
    "version": ids.VERSION,
    "links": f"{ids.LINKS}.0",
    "eval_link": ids.EVAL_LINK,
    "reason": ids.REASON,
    "cause": ids.CAUSE,
    "eval_case": ids.EVAL_CASE,
    "no_eval_reason": ids.NO_EVAL_REASON,
}
"""The form field each InvalidInput `field` of the change log is shown on."""


def register(app: App) -> None:
    for action_id in ASKS_FIRST:
        app.action(action_id)(catching_errors(on_asks_first))
    app.action(ids.CHANGE_NEEDS_WORK)(catching_errors(on_needs_work))
    app.action(ids.CHANGE_SNOOZE)(catching_errors(on_snooze))
    app.view(ids.CHANGE_MODAL)(catching_errors(on_change_form))
    app.view(ids.COVERED_MODAL)(catching_errors(on_covered_link))
    app.view(ids.NOT_RELEVANT_MODAL)(catching_errors(on_not_relevant_reason))
    app.shortcut(ids.CHANGE_FROM_MESSAGE)(catching_errors(on_from_message))
    app.action(ids.RESOLVE_REGRESSION)(catching_errors(on_resolve_regression))
    app.view(ids.CLOSURE_MODAL)(catching_errors(on_closure))


# -- the command -----------------------------------------------------------------------------------
def open_form(client: WebClient, command: dict[str, Any], context: BoltContext) -> None:
    """`/ai-request shipped` with nothing after it: the "Log a change" form."""
    view = change_modal(config_of(context), channel=command.get("channel_id"))
    client.views_open(trigger_id=command["trigger_id"], view=view.to_dict())


def subcommand_reply(
    context: BoltContext, parsed: parsing.Shipped | parsing.Changes, command: dict[str, Any]
) -> tuple[str, list]:
    """The ephemeral answer to `shipped <what>` (the change logged) or `changes [domain]` (the latest ones)."""
    config, changelog = config_of(context), changelog_of(context)
    if isinstance(parsed, parsing.Changes):
        here = config.domain_of_channel(command.get("channel_id"))
        domain = parsed.domain or (here.name if here else None)
        return changes_reply(notices.changes_title(domain), changelog.latest(domain), config, now=now_of(context))
    said = parse_shipped(parsed.text)
    draft = ChangeDraft(
        what=said.what, side=said.side, kind=said.kind, shipped_by=command["user_id"], channel=command.get("channel_id")
    )
    logged = changelog.log(draft)
    return logged_reply(logged.record, config, created=logged.created)


# -- the form and the shortcut -----------------------------------------------------------------------
def draft_from_view(view: dict[str, Any], user: str) -> ChangeDraft:
    """The change a submitted "Log a change" form describes (its fields are checked when it is planned)."""
    state = form_state(view)
    links = tuple(link for i in range(2) if (link := input_value(state, f"{ids.LINKS}.{i}")))
    return ChangeDraft(
        what=input_value(state, ids.WHAT) or "",
        shipped_by=user,
        side=input_value(state, ids.SIDE),
        kind=input_value(state, ids.CHANGE_KIND),
        domain=input_value(state, ids.DOMAIN),
        asset=input_value(state, ids.ASSET),
        version=input_value(state, ids.VERSION),
        links=links,
        channel=text_or_none(metadata(view).get("channel")),
    )


def refuse_form(ack: Ack, exc: IntakeError, *, default: str) -> None:
    """Answer a form's submission with the problem shown on its field (the `default` one, when it names none)."""
    field = FIELD_OF.get(exc.field or "", default) if isinstance(exc, InvalidInput) else default
    ack(response_action="errors", errors={field: exc.message})


def on_change_form(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """The form's mistakes are shown on it with the ack (planning writes nothing); the change is logged after."""
    user = context.user_id or body["user"]["id"]
    draft = draft_from_view(view, user)
    changelog = changelog_of(context)
    try:
        changelog.plan(draft)
    except IntakeError as exc:
        refuse_form(ack, exc, default=ids.WHAT)
        return
    ack()
    logged = changelog.log(draft)
    text, _ = logged_reply(logged.record, config_of(context), created=logged.created)
    intake_of(context).tell(user=user, channel=draft.channel, text=text)


def on_from_message(ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """ "Log as a change": the form, with the message's first line as what shipped."""
    ack()
    message = shortcut.get("message")
    channel = field(shortcut.get("channel"), "id")
    if not ts_field(shortcut, "message_ts") and not ts_field(message, "ts"):
        return
    what = first_line(message_text(message), WHAT_LIMIT)
    client.views_open(
        trigger_id=shortcut["trigger_id"], view=change_modal(config_of(context), channel=channel, what=what).to_dict()
    )


# -- the answers -------------------------------------------------------------------------------------
ASKS_FIRST = {ids.CHANGE_COVERED: covered_modal, ids.CHANGE_NOT_RELEVANT: not_relevant_modal}
"""The answers that ask first, in a form: "Covered (link an eval)" for the eval case's link, "Not relevant" why."""


def on_asks_first(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    ack()
    record = changelog_of(context).check_answerable(str(action.get("value") or ""), context.user_id or "")
    client.views_open(trigger_id=body["trigger_id"], view=ASKS_FIRST[action["action_id"]](record.change.id).to_dict())


def on_needs_work(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    """ "Needs work" files an eval request for the platform side at once; the question shows it."""
    ack()
    changelog_of(context).answer(str(action.get("value") or ""), context.user_id or "", answer="needs_work")


def on_snooze(ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """ "Snooze CHG-7" on a change's nag: a day more; the presser is told until when."""
    ack()
    change_id = str(action.get("value") or "")
    until = changelog_of(context).snooze(change_id, context.user_id or "", days=1)
    record = changelog_of(context).get(change_id)
    tz = config_of(context).calendar(record.change.domain).tz
    tell(context, body, notices.reminders_snoozed(record.change.id, until, tz=tz))


def on_covered_link(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    _answer_from(ack, view, body, context, answer="covered", block=ids.EVAL_LINK)


def on_not_relevant_reason(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    _answer_from(ack, view, body, context, answer="not_relevant", block=ids.REASON)


def _answer_from(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext, *, answer: str, block: str
) -> None:
    change_id = text_or_none(metadata(view).get("change")) or ""
    said = input_value(form_state(view), block) or ""
    try:
        changelog_of(context).answer(
            change_id,
            context.user_id or body["user"]["id"],
            answer=answer,
            eval_link=said if answer == "covered" else None,
            reason=said if answer == "not_relevant" else None,
        )
    except IntakeError as exc:
        ack(response_action="errors", errors={block: exc.message})
        return
    ack()


# -- resolving a regression --------------------------------------------------------------------------
def on_resolve_regression(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """ "Resolve…" on a regression's card asks for its cause and eval case first (in a form)."""
    ack()
    request = queries_of(context).authorized_request(str(action.get("value") or ""), context.user_id or "", "resolve")
    found = changelog_of(context).suspects_of(request, now=now_of(context))
    client.views_open(trigger_id=body["trigger_id"], view=closure_modal(request.key, found).to_dict())


def on_closure(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    state = form_state(view)
    try:
        changelog_of(context).resolve_regression(
            text_or_none(metadata(view).get("key")) or "",
            context.user_id or body["user"]["id"],
            cause=input_value(state, ids.CAUSE),
            eval_case=input_value(state, ids.EVAL_CASE),
            no_eval_reason=input_value(state, ids.NO_EVAL_REASON),
        )
    except IntakeError as exc:
        refuse_form(ack, exc, default=ids.CAUSE)
        return
    ack()

"""Finding past requests: `/ai-request search <words>` and its pages, and "Duplicate of…" on a card (with its
"Another request…" form)."""

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import ids
from bot.blocks.common import to_dicts
from bot.blocks.modal import duplicate_modal
from bot.blocks.search import search_reply
from bot.domain import parsing
from bot.domain.errors import IntakeError, InvalidInput
from bot.listeners.middleware import catching_errors, config_of, intake_of, now_of, queries_of
from bot.listeners.views import form_state, input_value, metadata, text_or_none


def register(app: App) -> None:
    app.action(ids.SEARCH_MORE)(catching_errors(on_page))
    app.action(ids.DUPLICATE)(catching_errors(on_duplicate))
    app.view(ids.DUPLICATE_MODAL)(catching_errors(on_duplicate_of))


def subcommand_reply(context: BoltContext, parsed: parsing.Search, command: dict[str, Any]) -> tuple[str, list]:
    """The first page of `/ai-request search <words>`, ephemeral."""
    user = command["user_id"]
    found = queries_of(context).search(parsed.words, user)
    return search_reply(found, config_of(context), now=now_of(context), viewer=user)


def on_page(ack: Ack, action: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """ "Next page" / "Previous page": the same answer, replaced by the page asked for."""
    ack()
    try:
        asked = json.loads(str(action.get("value") or ""))
        words, page = str(asked["q"]), int(asked["page"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("That page button is broken; search again with `/ai-request search <words>`.") from None
    user = context.user_id or ""
    found = queries_of(context).search(words, user, page=page)
    text, blocks = search_reply(found, config_of(context), now=now_of(context), viewer=user)
    respond(text=text, blocks=to_dicts(blocks), replace_original=True, response_type="ephemeral")


def on_duplicate(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """ "Duplicate of…": the picked option says "<this key>><the original's key>"; the card updates. "Another
    request…" asks for the original's key in a form (to those who may close it as a duplicate)."""
    ack()
    picked = action.get("selected_option")
    value = str(picked.get("value") or "") if isinstance(picked, dict) else ""
    key, _, original = value.partition(">")
    if not key or not original:
        raise InvalidInput("Pick the request this one duplicates.")
    if original == ids.ANOTHER:
        queries_of(context).authorized_request(key, context.user_id or "", "duplicate")
        client.views_open(trigger_id=body["trigger_id"], view=duplicate_modal(key).to_dict())
        return
    intake_of(context).mark_duplicate(key, context.user_id or "", of=original)


def on_duplicate_of(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """The "Another request…" form: closes its request as a duplicate of the key given, or says in the form why not."""
    key = text_or_none(metadata(view).get("key")) or ""
    original = (input_value(form_state(view), ids.ORIGINAL) or "").strip()
    try:
        intake_of(context).mark_duplicate(key, context.user_id or body["user"]["id"], of=original)
    except IntakeError as exc:
        ack(response_action="errors", errors={ids.ORIGINAL: exc.message})
        return
    ack()

"""Modal submissions: the request form (new or edit) and the "Not mine" reason."""

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.blocks import ids
from bot.domain.errors import IntakeError, InvalidInput
from bot.domain.models import PRIORITIES, Draft
from bot.listeners.middleware import catching_errors, config_of, intake_of
from storage.outbox import FiledReply


def register(app: App) -> None:
    app.view(ids.REQUEST_MODAL)(catching_errors(on_request_form))
    app.view(ids.DISCLAIM_MODAL)(catching_errors(on_disclaim_reason))


def input_value(state: Any, block_id: str) -> Any:
    """What the person entered in an input block: a string, a list of strings (checkboxes), or None."""
    block = state.get(block_id) if isinstance(state, dict) else None
    element = block.get(ids.INPUT) if isinstance(block, dict) else None
    if not isinstance(element, dict):
        return None
    if "selected_option" in element:
        return text_or_none(_get(element["selected_option"], "value"))
    if "selected_options" in element:
        options = element["selected_options"]
        return [v for o in options if (v := text_or_none(_get(o, "value")))] if isinstance(options, list) else []
    return text_or_none(element.get("value"))


def _get(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else None


def text_or_none(value: Any) -> str | None:
    """`value` when it is a string (a malformed payload's other value is None)."""
    return value if isinstance(value, str) else None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The view's private_metadata (JSON we wrote when opening it); {} when it is not that."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def form_state(view: dict[str, Any]) -> Any:
    """A submitted view's input blocks' state, by block id (read with `input_value`)."""
    return _get(view.get("state"), "values")


def draft_from_view(view: dict[str, Any], user: str, *, kinds: dict[str, str]) -> Draft:
    """The request a submitted form describes; InvalidInput names the field to fix."""
    state = form_state(view)
    meta = metadata(view)
    title = (input_value(state, ids.TITLE) or "").strip()
    if not title:
        raise InvalidInput("Give the request a title.", field=ids.TITLE)
    description = (input_value(state, ids.DESCRIPTION) or "").strip()
    kind = input_value(state, ids.KIND) or "question"
    if kind not in kinds:
        raise InvalidInput(f"Pick one of the kinds: {', '.join(kinds)}.", field=ids.KIND)
    links = [link.strip() for i in range(4) if (link := input_value(state, f"{ids.LINKS}.{i}"))]
    for i, link in enumerate(links):
        if not link.startswith(("http://", "https://")) or any(c in link for c in "<>| "):
            raise InvalidInput("A link must be a plain http(s) address.", field=f"{ids.LINKS}.{i}")
    priority = input_value(state, ids.PRIORITY)
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput(f"Pick one of the priorities: {', '.join(PRIORITIES)}.", field=ids.PRIORITY)
    confidential = input_value(state, ids.CONFIDENTIAL)
    return Draft(
        title=title,
        description=description,
        kind=kind,
        domain=input_value(state, ids.DOMAIN),
        priority=priority,
        links=links,
        confidential=True if confidential else (None if kind == "security_review" and confidential is None else False),
        requester=user,
        source="modal",
        channel=text_or_none(meta.get("channel")),
        asset=input_value(state, ids.ASSET),
        private=meta.get("private") is True,
    )


def on_request_form(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    intake = intake_of(context)
    user = context.user_id or body["user"]["id"]
    key = text_or_none(metadata(view).get("key"))
    try:
        draft = draft_from_view(view, user, kinds=config_of(context).kind_names)
        if key:
            intake.edit(key, user, draft)
        else:
            intake.file_request(draft, reply_in=FiledReply(channel=draft.channel, user=user))
    except InvalidInput as exc:
        ack(response_action="errors", errors={exc.field or ids.TITLE: exc.message})
        return
    except IntakeError as exc:
        ack(response_action="errors", errors={ids.TITLE: exc.message})
        return
    ack()


def on_disclaim_reason(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    key = text_or_none(metadata(view).get("key")) or ""
    reason = input_value(form_state(view), ids.REASON) or ""
    try:
        intake_of(context).disclaim(key, context.user_id or body["user"]["id"], reason=reason)
    except IntakeError as exc:
        ack(response_action="errors", errors={ids.REASON: exc.message})
        return
    ack()

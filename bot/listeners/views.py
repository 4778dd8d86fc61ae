"""Modal submissions: the request form (new or edit) and the "Not mine" reason."""

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.blocks import ids
from bot.domain.errors import IntakeError, InvalidInput
from bot.domain.models import Draft
from bot.listeners.middleware import intake_of


def register(app: App) -> None:
    app.view(ids.REQUEST_MODAL)(on_request_form)
    app.view(ids.DISCLAIM_MODAL)(on_disclaim_reason)


def _value(state: dict[str, Any], block_id: str) -> Any:
    element = (state.get(block_id) or {}).get(ids.INPUT) or {}
    if "selected_option" in element:
        return (element["selected_option"] or {}).get("value")
    if "selected_options" in element:
        return [o.get("value") for o in element["selected_options"] or []]
    return element.get("value")


def draft_from_view(view: dict[str, Any], user: str, *, kinds: dict[str, str]) -> Draft:
    """The request a submitted form describes; InvalidInput names the field to fix."""
    state = view.get("state", {}).get("values", {})
    meta = json.loads(view.get("private_metadata") or "{}")
    title = (_value(state, ids.TITLE) or "").strip()
    if not title:
        raise InvalidInput("Give the request a title.", field=ids.TITLE)
    kind = _value(state, ids.KIND) or "question"
    if kind not in kinds:
        raise InvalidInput(f"Pick one of the kinds: {', '.join(kinds)}.", field=ids.KIND)
    links = [link.strip() for i in range(4) if (link := _value(state, f"{ids.LINKS}.{i}"))]
    for i, link in enumerate(links):
        if not link.startswith(("http://", "https://")) or any(c in link for c in "<>| "):
            raise InvalidInput("A link must be a plain http(s) address.", field=f"{ids.LINKS}.{i}")
    confidential = _value(state, ids.CONFIDENTIAL)
    return Draft(title=title, description=(_value(state, ids.DESCRIPTION) or "").strip(), kind=kind, kind_given=True,
                 domain=_value(state, ids.DOMAIN), priority=_value(state, ids.PRIORITY), links=links,
                 confidential=True if confidential else (None if kind == "security_review" and confidential is None else False),
                 requester=user, source="modal", channel=meta.get("channel"))


def on_request_form(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    intake = intake_of(context)
    user = context.user_id or body["user"]["id"]
    key = json.loads(view.get("private_metadata") or "{}").get("key")
    try:
        draft = draft_from_view(view, user, kinds=intake.config.kind_names)
        if key:
            intake.edit(key, user, draft)
        else:
            intake.file_request(draft, reply_in={"channel": draft.channel, "user": user})
    except InvalidInput as exc:
        ack(response_action="errors", errors={exc.field or ids.TITLE: exc.message})
        return
    except IntakeError as exc:
        ack(response_action="errors", errors={ids.TITLE: exc.message})
        return
    ack()


def on_disclaim_reason(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    key = json.loads(view.get("private_metadata") or "{}").get("key", "")
    reason = _value(view.get("state", {}).get("values", {}), ids.REASON) or ""
    try:
        intake_of(context).disclaim(key, context.user_id or body["user"]["id"], reason=reason)
    except IntakeError as exc:
        ack(response_action="errors", errors={ids.REASON: exc.message})
        return
    ack()

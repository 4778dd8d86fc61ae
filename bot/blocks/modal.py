"""The request modal (new and "Edit details") and the "Not mine" reason modal."""

import json

from slack_sdk.models.blocks import CheckboxesElement, PlainTextInputElement, UrlInputElement
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.card import kind_label
from bot.blocks.common import input_block, option, static_select
from bot.domain.models import PRIORITIES, Request
from bot.domain.policy import Config
from bot.domain.parsing import DESCRIPTION_LIMIT, LINK_LIMIT, TITLE_LIMIT
from bot.domain.text import truncate

TITLE_MAX = TITLE_LIMIT
DESCRIPTION_MAX = DESCRIPTION_LIMIT
LINK_FIELDS = 2


LONG_HINT = (
    f"Longer than the form holds: shown cut to {DESCRIPTION_LIMIT:,} characters. Leave it as it is and the whole "
    "description is kept; change it and what you send replaces it."
)


def fitted(value: str | None, limit: int) -> str | None:
    """An element's initial value within its limit (cut visibly with "…"); None for nothing."""
    return truncate(value, limit) if value else None


def request_modal(
    config: Config, *, request: Request | None = None, channel: str | None = None, private: bool = False
) -> View:
    """The form behind `/ai-request`. With `request`, it edits that request (another domain moves it there).
    Opened in a private conversation (`private`), a new request starts out confidential."""
    kinds = [option(k, kind_label(k)) for k in config.kind_names]
    domains = [option(d.name, d.name) for d in config.domains]
    priorities = [
        option(p, {"P1": "P1 — urgent", "P2": "P2 — high", "P3": "P3 — normal", "P4": "P4 — low"}[p])
        for p in PRIORITIES
    ]
    secret = option("yes", "Confidential (security review channel only)")
    blocks = [
        input_block(
            ids.TITLE,
            "Title",
            PlainTextInputElement(
                action_id=ids.INPUT,
                max_length=TITLE_MAX,
                initial_value=fitted(request.title, TITLE_MAX) if request else None,
                placeholder="Refund intent answers with the wrong window",
            ),
        ),
        input_block(
            ids.KIND,
            "Kind",
            static_select(kinds, placeholder="What kind of help", initial=request.kind if request else "question"),
        ),
    ]
    if request is None and domains:
        blocks.append(
            input_block(
                ids.DOMAIN,
                "Domain",
                static_select(domains, placeholder="Let triage decide"),
                optional=True,
                hint="Leave empty and triage routes it by channel and words.",
            )
        )
    elif domains:
        blocks.append(
            input_block(
                ids.DOMAIN,
                "Domain",
                static_select(domains, placeholder="Unrouted (triage)", initial=request.domain),
                optional=True,
                hint="Another domain moves it there: its card is posted again in that domain's "
                "channel (members of either domain, and admins, may move it).",
            )
        )
    if request is None and config.assets:
        assets = [option(a.name, f"{a.name} ({a.domain}, {a.kind.replace('_', ' ')})") for a in config.assets]
        blocks.append(
            input_block(
                ids.ASSET,
                "AI asset",
                static_select(assets, placeholder="None in particular"),
                optional=True,
                hint="Its owners are the ones asked to own a regression.",
            )
        )
    blocks += [
        input_block(
            ids.PRIORITY,
            "Priority",
            static_select(priorities, placeholder="The kind's default", initial=request.priority if request else None),
            optional=True,
        ),
        input_block(
            ids.DESCRIPTION,
            "Description",
            PlainTextInputElement(
                action_id=ids.INPUT,
                multiline=True,
                max_length=DESCRIPTION_MAX,
                initial_value=fitted(request.description, DESCRIPTION_MAX) if request else None,
            ),
            optional=True,
            hint=LONG_HINT
            if request and len(request.description) > DESCRIPTION_MAX
            else "What happened, who is affected, what good looks like.",
        ),
    ]
    existing = request.links if request else []
    for i in range(LINK_FIELDS):
        link = UrlInputElement(
            action_id=ids.INPUT, initial_value=fitted(existing[i], LINK_LIMIT) if i < len(existing) else None
        )
        blocks.append(input_block(f"{ids.LINKS}.{i}", "Link" if i == 0 else "Another link", link, optional=True))
    blocks.append(
        input_block(
            ids.CONFIDENTIAL,
            "Confidentiality",
            CheckboxesElement(
                action_id=ids.INPUT,
                options=[secret],
                initial_options=[secret] if (request.confidential if request else private) else None,
            ),
            optional=True,
            hint="Security reviews, and what is filed in a private channel, are confidential unless you say otherwise.",
        )
    )
    meta = {"key": request.key if request else None, "channel": channel, "private": private}
    return View(
        type="modal",
        callback_id=ids.REQUEST_MODAL,
        title="Edit " + request.key if request else "Ask for AI help",
        submit="Save" if request else "Submit",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(meta),
    )


def disclaim_modal(key: str) -> View:
    """Asks "Not mine" for its reason; the lead sees it on the card."""
    reason = PlainTextInputElement(
        action_id=ids.INPUT,
        multiline=True,
        max_length=500,
        placeholder="e.g. the prompt is unchanged; retrieval index was rebuilt on Monday",
    )
    return View(
        type="modal",
        callback_id=ids.DISCLAIM_MODAL,
        title=f"Not mine: {key}"[:24],
        submit="Send",
        close="Cancel",
        blocks=[input_block(ids.REASON, "Why is it not yours?", reason)],
        private_metadata=json.dumps({"key": key}),
    )


def duplicate_modal(key: str) -> View:
    """ "Duplicate of… › Another request…": asks for the key of the request `key` duplicates."""
    original = PlainTextInputElement(action_id=ids.INPUT, max_length=20, placeholder="e.g. AIR-7")
    return View(
        type="modal",
        callback_id=ids.DUPLICATE_MODAL,
        title=f"Duplicate: {key}"[:24],
        submit="Close it",
        close="Cancel",
        blocks=[input_block(ids.ORIGINAL, f"{key} duplicates which request?", original)],
        private_metadata=json.dumps({"key": key}),
    )

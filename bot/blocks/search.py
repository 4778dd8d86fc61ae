"""The answer to `/ai-request search <words>`: one page of past requests as the viewer may see them, with
"Next page" / "Previous page" buttons. Pure."""

import json
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.blocks import ids
from bot.blocks.common import button, context, section
from bot.blocks.messages import listed_line
from bot.domain.policy import Config
from bot.domain.text import escape, truncate
from bot.usecases.queries import SearchPage


def page_value(words: list[str], page: int) -> str:
    """The value of a page button: the words and the page, as JSON (under Slack's 2,000 characters)."""
    return json.dumps({"q": truncate(" ".join(words), 1500), "page": page})


def search_reply(found: SearchPage, config: Config, *, now: datetime, viewer: str) -> tuple[str, list[Block]]:
    """One page of search results: each request as a list line (status, assignee, SLA state)."""
    looked_for = escape(" ".join(found.words))
    left_out = (
        " Not looked for (too short or too common): " + ", ".join(f"“{escape(w)}”" for w in found.dropped[:10]) + "."
        if found.dropped
        else ""
    )
    if not found.total:
        text = f"No request holds “{looked_for}”.{left_out}"
        return text, [section(text)]
    head = f"*Requests holding “{looked_for}”* — {found.total} found, best match first"
    if found.pages > 1:
        head += f" · page {found.page} of {found.pages}"
    lines = [listed_line(r, events, config, now=now, viewer=viewer) for r, events in found.items]
    blocks: list[Block] = [section(head), section("\n".join(lines))]
    pages = []
    if found.page > 1:
        pages.append(button("Previous page", ids.SEARCH_MORE, page_value(found.words, found.page - 1)))
    if found.page < found.pages:
        pages.append(button("Next page", ids.SEARCH_MORE, page_value(found.words, found.page + 1)))
    if pages:
        blocks.append(ActionsBlock(block_id="search.pages", elements=pages))
    blocks.append(context("Confidential requests show only to the people who may see them." + left_out))
    return f"{found.total} request(s) hold “{truncate(' '.join(found.words), 200)}”", blocks

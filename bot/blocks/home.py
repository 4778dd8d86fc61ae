"""The App Home tab: assigned to me, filed by me, my domains' queues."""

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.blocks.common import context, section
from bot.blocks.messages import LIST_LIMIT, listed_line
from bot.domain.models import Listed, Request

MAX_BLOCKS = 100


def home_view(*, assigned: list[Request], filed: list[Request], queues: list[tuple[str, list[Request], int]],
              listed: dict[int, Listed]) -> View:
    """`queues` holds (domain, oldest open requests, how many are open)."""
    blocks: list[Block] = [HeaderBlock(text="ai-intake"),
                           context("File with `/ai-request`, a mention of @ai-intake, or the *Create AI request* shortcut.")]
    groups = [("Assigned to you", assigned, len(assigned)), ("Filed by you", filed, len(filed))]
    groups += [(f"Queue: {name}", items, total) for name, items, total in queues]
    for heading, items, total in groups:
        blocks.append(DividerBlock())
        lines = [listed_line(r, listed) for r in items[:LIST_LIMIT]]
        blocks.append(section(f"*{heading}* ({total})\n" + ("\n".join(lines) if lines else "_nothing open_")))
        if total > len(lines):
            blocks.append(context(f"Showing the {len(lines)} oldest of {total}: `/ai-request queue` for more."))
        if len(blocks) > MAX_BLOCKS - 3:
            break
    return View(type="home", blocks=blocks[:MAX_BLOCKS])

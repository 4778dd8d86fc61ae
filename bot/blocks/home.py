"""The App Home tab: assigned to me, filed by me, my domains' queues. Pure: given who looks and when."""

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.blocks.common import context, section
from bot.blocks.messages import LIST_LIMIT, listed_line
from bot.domain.models import WithEvents
from bot.domain.policy import Config

MAX_BLOCKS = 100


def home_view(assigned: list[WithEvents], filed: list[WithEvents], queues: list[tuple[str, list[WithEvents], int]],
              config: Config, *, now: datetime, viewer: str, more: Sequence[Block] = ()) -> View:
    """`viewer`'s Home at `now`; `queues` holds (domain, oldest open requests, how many are open); `more`: blocks
    shown after the lists (the change log's part)."""
    blocks: list[Block] = [HeaderBlock(text="ai-intake"),
                           context("File with `/ai-request`, a mention of @ai-intake, or the *Create AI request* shortcut.")]
    groups = [("Assigned to you", assigned, len(assigned)), ("Filed by you", filed, len(filed))]
    groups += [(f"Queue: {name}", items, total) for name, items, total in queues]
    for heading, items, total in groups:
        blocks.append(DividerBlock())
        lines = [listed_line(r, events, config, now=now, viewer=viewer) for r, events in items[:LIST_LIMIT]]
        blocks.append(section(f"*{heading}* ({total})\n" + ("\n".join(lines) if lines else "_nothing open_")))
        if total > len(lines):
            blocks.append(context(f"Showing the {len(lines)} oldest of {total}: `/ai-request queue` for more."))
        if len(blocks) > MAX_BLOCKS - 3:
            break
    return View(type="home", blocks=[*blocks[:MAX_BLOCKS - len(more)], *more])

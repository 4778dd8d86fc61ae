"""The App Home tab: assigned to me, filed by me, my domains' queues. Pure: given who looks and when."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.common import button, context
from bot.blocks.messages import FOLLOW_UP, line_sections, listed_line, shown_of
from bot.domain.models import ASSIGNED, FILED, Away, Listing
from bot.domain.policy import Config

MAX_BLOCKS = 100


def home_view(
    assigned: Listing,
    filed: Listing,
    queues: list[tuple[str, Listing]],
    config: Config,
    *,
    now: datetime,
    viewer: str,
    away: Away | None = None,
    more: Sequence[Block] = (),
    people_away: Mapping[str, Away] | None = None,
) -> View:
    """`viewer`'s Home at `now`: whether they are away, then each list one page, saying how many more there are,
    with a "Next page" button (`home.page`) that publishes the Home with that list's next page, then `more`
    (the change log's part). Queues that do not fit in the Home's 100 blocks are named, with how to see them."""
    blocks: list[Block] = [
        HeaderBlock(text="ai-intake"),
        context("File with `/ai-request`, a mention of @ai-intake, or the *Create AI request* shortcut."),
    ]
    if away is not None:
        blocks.append(context(away_line(away)))
    groups = [("Assigned to you", ASSIGNED, assigned), ("Filed by you", FILED, filed)]
    groups += [(f"Queue: {name}", name, listing) for name, listing in queues]
    for shown, (heading, section_name, listing) in enumerate(groups):
        part = group_blocks(heading, section_name, listing, config, now=now, viewer=viewer, away=people_away)
        left = groups[shown + 1 :]
        if len(blocks) + len(part) + (1 if left else 0) > MAX_BLOCKS - len(more):
            names = ", ".join(name for _, name, _ in groups[shown:] if name not in (ASSIGNED, FILED))
            blocks.append(context(f"No room for more here: `/ai-request queue <domain>` shows the queues of {names}."))
            break
        blocks += part
    return View(type="home", blocks=[*blocks, *more])


def group_blocks(
    heading: str,
    section_name: str,
    listing: Listing,
    config: Config,
    *,
    now: datetime,
    viewer: str,
    away: Mapping[str, Away] | None = None,
) -> list[Block]:
    """One list of the Home: its page of lines (an assignee who is away marked 🌴 with the day they are back), and how
    many more with the button that shows the next page."""
    filed = section_name == FILED
    lines = [
        listed_line(r, events, config, now=now, viewer=viewer, whose=filed, away=away) for r, events in listing.items
    ]
    blocks: list[Block] = [
        DividerBlock(),
        *line_sections(f"*{heading}* ({shown_of(listing)})", lines or ["_nothing open_"]),
    ]
    if filed and lines:
        blocks.append(context(FOLLOW_UP))
    pages = []
    if listing.more:
        blocks.append(context(f"+{listing.more} more"))
        pages.append(button("Next page", ids.HOME_PAGE, f"{section_name} {listing.page + 1}"))
    if listing.skipped:
        pages.append(button("First page", ids.HOME_PAGE, f"{section_name} 1"))
    if pages:
        blocks.append(ActionsBlock(elements=pages))
    return blocks


def away_line(away: Away) -> str:
    """ "You are away …": how long, and how to end it."""
    if away.in_config:
        return ":palm_tree: The config lists you as away: triage assigns you nothing new until an admin takes you off its `away`."
    if away.until is None:
        return ":palm_tree: You are away: triage assigns you nothing new. `/ai-request back` when you are back."
    return (
        f":palm_tree: You are away until {away.until:%a %d %b} (back that day): triage assigns you nothing new "
        "until then. `/ai-request back` ends it sooner."
    )

"""A person's batched nags: the explanation, then each request's buttons (own, not mine, snooze)."""

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.blocks import ids
from bot.blocks.common import button, section

LABELS = {ids.OWN: "Take ownership", ids.DISCLAIM: "Not mine", ids.SNOOZE: "Snooze 1 day"}


def nag_message(text: str, buttons: list[tuple[str, list[str]]]) -> list[Block]:
    """`text` is already escaped mrkdwn; `buttons` pairs a request key with the action ids it offers."""
    blocks: list[Block] = [section(text)]
    for key, actions in buttons[:20]:
        elements = [button(f"{LABELS[a]} {key}" if a == ids.OWN else LABELS[a], a, key) for a in actions if a in LABELS]
        if elements:
            blocks.append(ActionsBlock(elements=elements[:5]))
    return blocks

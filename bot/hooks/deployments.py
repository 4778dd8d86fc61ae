"""A prompt label (Langfuse's `production`) or tag (LangSmith's) moving from one version to another: a change
of its own when it moves, a rollback when it moves back, nothing when it stays where it was.

Pure: the versions the label held before are read from the change log by the caller (the ids it logged
for this prompt and label, oldest first) and passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.hooks.results import Deployment


@dataclass(frozen=True)
class Move:
    """What a label's move is: `id` to log it under (None: it did not move, log nothing), `previous` version it
    held, whether it is a `rollback`, and the sentence for what shipped."""

    id: str | None
    previous: str | None
    rollback: bool
    what: str


def deployment_id(prompt: str, version: str, label: str) -> str:
    """The sender's id of a label reaching a version: "refund-answer@v14#production"."""
    return f"{prompt}@{version}#{label}"


def version_of(hook_id: str) -> str:
    """ "refund-answer@v14#production@2" -> "v14"."""
    return hook_id.split("@", 1)[1].split("#", 1)[0] if "@" in hook_id else ""


def move(deployment: Deployment, earlier_ids: Sequence[str], *, what: str) -> Move:
    """The move of `deployment`'s label given the ids logged for it before (oldest first); `what` says a move forward."""
    d = deployment
    held = [version_of(i) for i in earlier_ids]
    previous = held[-1] if held else None
    if previous == d.version:
        return Move(
            None,
            previous,
            False,
            f"prompt {d.prompt} {_shown(d, d.version)} is in {d.label} already; a label edit changes nothing there",
        )
    rollback = _is_back(d, held, previous)
    base = deployment_id(d.prompt, d.version, d.label)
    taken = sum(1 for i in earlier_ids if i == base or i.startswith(base + "@"))
    change_id = base if taken == 0 else f"{base}@{taken + 1}"
    if rollback:
        what = f"prompt {d.prompt} rolled back to {_shown(d, d.version)} in {d.label} (from {_shown(d, previous)})"
    return Move(change_id, previous, rollback, what)


def _is_back(d: Deployment, held: Sequence[str], previous: str | None) -> bool:
    """Back to a lower version number (Langfuse), or to a version the label held before (LangSmith's commits)."""
    if previous is None:
        return False
    if d.order is not None and previous.startswith("v") and previous[1:].isdigit():
        return d.order < int(previous[1:])
    return d.version in held[:-1]


def _shown(d: Deployment, version: str | None) -> str:
    """A version as people read it: "v14", or a commit's first eight characters."""
    return (version or "") if d.order is not None else (version or "")[:SHORT]


SHORT = 8

"""What a unit of work (`Store.transaction`) does besides its writes: claim the signed delivery it runs for, so a
replay has no second effect."""

from dataclasses import dataclass
from datetime import datetime


class Replayed(Exception):
    """This signed delivery was handled before (Slack, or someone, sent the same bytes again): no second effect."""


@dataclass
class Delivery:
    """One signed delivery (a command, a click, a form), keyed `sig:<signature>`, received `at`.

    The first unit of work that commits for it records the key with its change (`claimed` then); a unit that
    finds the key recorded before raises `Replayed`, nothing written. Later units for the same delivery need no key.
    """

    key: str
    at: datetime
    claimed: bool = False

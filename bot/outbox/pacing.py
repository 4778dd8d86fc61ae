"""Per-channel pacing: at most one post per `interval` seconds to a channel, without holding up the others.

Slack allows about one message per second per channel. The worker asks `wait` before it hands an item
to its sender (an item for a busy channel is put back for that long, and the others go first); the
poster calls `posted` as it posts.
"""

from datetime import datetime

from bot.clock import Clock


class Pacer:
    """`interval`: the least seconds between two posts to one channel (0: no pacing), by `clock`."""

    def __init__(self, interval: float, *, clock: Clock) -> None:
        self.interval = interval
        self._clock = clock
        self._last_post: dict[str, datetime] = {}

    def wait(self, channel: str | None) -> float:
        """Seconds until `channel` may be posted to again (0 when it may now, or when it is no channel)."""
        if not channel or self.interval <= 0:
            return 0.0
        last = self._last_post.get(channel)
        if last is None:
            return 0.0
        return max(self.interval - (self._clock() - last).total_seconds(), 0.0)

    def posted(self, channel: str) -> None:
        """A post to `channel` is being made now."""
        self._last_post[channel] = self._clock()

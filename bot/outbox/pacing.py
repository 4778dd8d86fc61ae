"""Per-channel pacing: a token bucket per channel, so a burst goes at once and then about one post a second.

Slack allows about one message per second per channel, with short bursts, and answers 429 with
Retry-After when it minds. Before the worker sends a batch it reserves a token for each item that
posts to a channel (`reserve`); an item whose channel has none left waits, with the rest of that
channel's items, until one is back, and the other channels go on. A 429 empties the channel's
bucket until its Retry-After has passed (`pause`).
"""

import threading
from datetime import datetime

from bot.runtime.clock import Clock

BURST = 5
"""Posts a quiet channel takes at once."""


class Pacer:
    """`interval`: seconds for one token to come back (0: no pacing); `burst`: the bucket's size; by `clock`."""

    def __init__(self, interval: float, *, clock: Clock, burst: int = BURST) -> None:
        self.interval = interval
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, datetime]] = {}  # channel -> (tokens, when counted)
        self._lock = threading.Lock()

    def _tokens(self, channel: str, now: datetime) -> float:
        tokens, at = self._buckets.get(channel, (float(self.burst), now))
        return min(float(self.burst), tokens + max((now - at).total_seconds(), 0.0) / self.interval)

    def reserve(self, channel: str | None) -> float:
        """Take a token for a post to `channel` now (returns 0), or the seconds until one is back (nothing taken)."""
        if not channel or self.interval <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            tokens = self._tokens(channel, now)
            if tokens >= 1:
                self._buckets[channel] = (tokens - 1, now)
                return 0.0
            self._buckets[channel] = (tokens, now)
            return (1 - tokens) * self.interval

    def pause(self, channel: str, seconds: float) -> None:
        """Slack said 429 for `channel`: no post there for `seconds` (its Retry-After)."""
        if self.interval <= 0:
            return
        with self._lock:
            self._buckets[channel] = (-seconds / self.interval, self._clock())

    def room(self, channel: str | None) -> tuple[int, float]:
        """How many posts `channel` may take now, and the seconds until the token after those is back; takes
        nothing (an unpaced channel: as many as asked, 0)."""
        if not channel or self.interval <= 0:
            return 2**31, 0.0
        with self._lock:
            tokens = self._tokens(channel, self._clock())
        whole = max(int(tokens), 0)
        return whole, (whole + 1 - tokens) * self.interval

    def wait(self, channel: str | None) -> float:
        """Seconds until `channel` may be posted to (0 when it may now); takes nothing."""
        if not channel or self.interval <= 0:
            return 0.0
        with self._lock:
            tokens = self._tokens(channel, self._clock())
        return 0.0 if tokens >= 1 else (1 - tokens) * self.interval


__all__ = ["Pacer", "BURST"]

"""The doorbell between the use cases that queue Slack messages and the outbox worker that sends them."""

import threading


class Wakeup:
    """Rung after a commit that queued something; the worker waits on it between rounds.

    It only shortens a wait: the worker also wakes on its own when the next queued item falls due.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Something was queued (or the worker should stop): end the worker's wait now."""
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        """Whether it rang since it was last cleared."""
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a ring; True when it rang."""
        return self._event.wait(timeout=timeout)

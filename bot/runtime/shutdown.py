"""How long a stop may take, and the watchdog that ends a process that has not stopped by then."""

import logging
import os
import threading
import time

log = logging.getLogger("ai_intake")

SHUTDOWN_SECONDS = 8.0
"""From SIGTERM to the process's end, at most (Docker's default grace is 10 s; compose.yaml gives 15)."""


def end_after(seconds: float) -> None:
    """Wait `seconds`, then say so and end the process (what was not sent stays queued)."""
    time.sleep(seconds)
    log.warning(
        "ai-intake is still stopping after %.0f s (a Slack call has not answered); ending now: what was not "
        "sent stays queued",
        seconds,
    )
    logging.shutdown()
    os._exit(0)


def watchdog(seconds: float, *, name: str = "ai-intake-shutdown-watchdog") -> None:
    """Start the thread that ends this process `seconds` from now, whatever it is waiting for."""
    threading.Thread(target=end_after, args=(seconds,), name=name, daemon=True).start()

"""What every scheduled job shares: the store, the config and the metrics it is run with (`JobBase`), and the timing
of each run in the metrics (`measured`)."""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.domain.policy import Config
from bot.runtime.metrics import Metrics
from storage.store import Store

ONE_UNIT = 200
"""A run with at most this many nags and five times as many next checks is written in one unit (it fits in a few ms)."""


def measured(job: str | None = None) -> Callable[[Callable[..., list[str]]], Callable[..., list[str]]]:
    """A job method whose every run (not a dry run) is timed in the metrics; a run without an error is the job's
    last success, at its `now`. `job` names it; None: the method's own `job` argument does."""

    def decorate(method: Callable[..., list[str]]) -> Callable[..., list[str]]:
        @functools.wraps(method)
        def run(self: "JobBase", *, now: datetime, dry_run: bool = False, **kwargs: Any) -> list[str]:
            if dry_run:
                return method(self, now=now, dry_run=True, **kwargs)
            with self._metrics.job_run(job or kwargs["job"], now=now):
                return method(self, now=now, **kwargs)

        return run

    return decorate


class JobBase:
    """The scheduled use cases (their units of work ring the outbox when they queue messages); `metrics` times the runs and
    counts the nags recorded. A run with more than `one_unit` nags is written in chunks. `facts_ready(timeout)` waits
    for a catch-up of the kept facts still running since the bot started (the digest reads them)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        metrics: Metrics | None = None,
        one_unit: int = ONE_UNIT,
        facts_ready: Callable[[float | None], bool] | None = None,
    ) -> None:
        self._store = store
        self._facts_ready = facts_ready
        self._config = config
        self._metrics = metrics or Metrics()
        self._one_unit = one_unit

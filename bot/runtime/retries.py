"""The retries of the bot's Slack clients (the Web API client and the response_url poster): connection errors, 429s
(after their Retry-After) and 5xx answers, each retried in the same call, a few times, backing off between tries.

`intervals` times the retries of connection errors and 5xx answers: by default slack_sdk's exponential backoff with
random jitter (0.5 s, then 1 s, each plus up to 1 s). The tests give a short fixed interval, so an outage they play
costs them no seconds of sleep and no randomness. A 429 waits what Slack's Retry-After says (plus up to 1 s of
slack_sdk's jitter) whatever `intervals` is: slack_sdk's rate-limit handler reads no interval calculator. What the
outbox retries later is timed by the bot's own clock, not here."""

from slack_sdk.http_retry import RetryHandler, RetryIntervalCalculator
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator


def slack_retries(*, rate_limited: int, intervals: RetryIntervalCalculator | None = None) -> list[RetryHandler]:
    """Retry handlers: connection errors and 5xx answers twice, `intervals` apart; 429s `rate_limited` times, after
    their Retry-After."""
    every = intervals or BackoffRetryIntervalCalculator()
    return [
        ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=every),
        RateLimitErrorRetryHandler(max_retry_count=rate_limited),
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=every),
    ]

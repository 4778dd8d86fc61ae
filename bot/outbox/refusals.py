"""What Slack's answers to a failed call mean for an outbox item: a passing failure (try again, after as long as
Slack asked) or a refusal that can never work (give the item up)."""

from typing import Any

from slack_sdk.errors import SlackApiError

PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "user_not_found",
        "invalid_arguments",
        "restricted_action",
        "cant_update_message",
        "missing_scope",
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "too_many_attachments",
        "msg_blocks_too_long",
        "invalid_blocks_format",
        "user_not_in_channel",
        "channel_is_archived",
    }
)
PASSING = frozenset({"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"})


def retry_after(exc: SlackApiError) -> float:
    """Seconds Slack asked to wait (its Retry-After header), 1 when it did not say."""
    headers: Any = getattr(exc.response, "headers", None) or {}
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name) if hasattr(headers, "get") else None
        if isinstance(value, list):
            value = value[0] if value else None
        try:
            return max(float(value), 0.0) if value is not None else 1.0
        except (TypeError, ValueError):
            continue
    return 1.0


__all__ = ["PERMANENT", "PASSING", "retry_after"]

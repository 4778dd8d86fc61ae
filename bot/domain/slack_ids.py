"""Slack ids in the config, checked by their shape: users U…/W…, channels C… (public) or G… (private), apps' bots B….

Standard library and pydantic only; `bot.domain.policy` and `bot.domain.catalog` both use these.
"""

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
BOT_ID = re.compile(r"^B[A-Z0-9]{2,}$")


def _id_checker(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"expected a Slack {what} id, got {value!r}")
        return value

    return check


def _id_list_checker(pattern: re.Pattern[str], what: str) -> Any:
    one = _id_checker(pattern, what)

    def check(value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) and pattern.match(v) for v in value):
            raise ValueError(f"expected a list of Slack {what} ids, got {value!r}")
        return [one(v) for v in value]

    return check


UserId = Annotated[str, BeforeValidator(_id_checker(USER_ID, "user"))]
ChannelId = Annotated[str, BeforeValidator(_id_checker(CHANNEL_ID, "channel"))]
UserIds = Annotated[list[str], BeforeValidator(_id_list_checker(USER_ID, "user"))]
ChannelIds = Annotated[list[str], BeforeValidator(_id_list_checker(CHANNEL_ID, "channel"))]
BotIds = Annotated[list[str], BeforeValidator(_id_list_checker(BOT_ID, "bot"))]

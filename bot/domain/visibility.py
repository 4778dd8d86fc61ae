"""Who may see a confidential request's own words: the one rule every surface asks.

A request's own words are its title, description and links, and the routing reasons that quote them.
Every surface that shows a request asks `visible_to` with its audience: a person (a direct message, an
ephemeral, an App Home, the answer to a command) or a channel (a card, a thread, a digest).
"""

from bot.domain import authz
from bot.domain.models import Request
from bot.domain.policy import Config


def visible_to(config: Config, request: Request, *, user: str | None = None, channel: str | None = None) -> bool:
    """Whether the audience may see the request's own words.

    A request that is not confidential is visible to anyone. A confidential one is visible to `user`
    when they may "view" it (its requester, a member of its domain, an admin), and in `channel` when
    that is its domain's private review channel, or the private conversation it was filed in. With no
    audience named (anyone at all), only requests that are not confidential are. Name one audience: a person or a channel, not both.
    The organisation's private digest channel (`digest.private_channel`) may see every one.
    """
    if user is not None and channel is not None:
        raise ValueError("name one audience: a person or a channel")
    if not request.confidential:
        return True
    if user is not None:
        return authz.can(config, request, user, "view")
    if channel is not None:
        return channel_sees_confidential(
            config,
            channel,
            domain=request.domain,
            origin_channel=request.origin_channel,
            origin_private=request.origin_private,
        )
    return False


def channel_sees_confidential(
    config: Config, channel: str, *, domain: str | None, origin_channel: str | None, origin_private: bool
) -> bool:
    """Whether `channel` may see the words of a confidential request of `domain` filed in `origin_channel` (a private
    conversation when `origin_private`): the `visible_to` rule for a channel, for what reads only those columns."""
    if origin_private and channel == origin_channel:
        return True  # the private conversation it was filed in, whose people saw it asked
    if config.digest and config.digest.private_channel and channel == config.digest.private_channel:
        return True
    found = config.domain(domain)
    return bool(found and found.review_channel and channel == found.review_channel)

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
    that is its domain's private review channel. With no audience named (anyone at all), only
    requests that are not confidential are. Name one audience: a person or a channel, not both.
    The organisation's private digest channel (`digest.private_channel`) may see every one.
    """
    if user is not None and channel is not None:
        raise ValueError("name one audience: a person or a channel")
    if not request.confidential:
        return True
    if user is not None:
        return authz.can(config, request, user, "view")
    if channel is not None:
        domain = config.domain(request.domain)
        if config.digest and config.digest.private_channel and channel == config.digest.private_channel:
            return True
        return bool(domain and domain.review_channel and channel == domain.review_channel)
    return False

"""Who owns what: a domain's pair of owners, an asset's pair (each owner it leaves out is its domain's),
and the owners of a request. Pure: the config and the request decide.

The product side owns intents, surfaces, flows and success metrics; the platform side owns prompts,
models, eval suites, cost ceilings and retrieval. A change, a regression or a webhook may name a
catalog asset; then the asset's pair is the one asked and pinged instead of the domain's.
"""

from bot.domain.changes import Pair
from bot.domain.models import Request
from bot.domain.policy import Config


def domain_pair(config: Config, domain: str | None) -> Pair:
    """The domain's product and platform owner (both None for an unknown or missing domain)."""
    found = config.domain(domain)
    return Pair(product=found.product_owner, platform=found.platform_owner) if found else Pair(None, None)


def pair_for(config: Config, domain: str | None, *, asset: str | None) -> Pair:
    """The owners of what names `domain` and `asset`: the asset's pair when the catalog lists it (in that
    domain, or any when no domain is named), each owner it leaves out taken from its domain; else the domain's."""
    found = config.catalog.asset(asset)
    if found is not None and (domain is None or found.domain == domain):
        return found.pair(domain_pair(config, found.domain))
    return domain_pair(config, domain)


def owners_of(request: Request, config: Config) -> Pair:
    """The pair a request's nags about ownership go to: its asset's when it names one, else its domain's."""
    return pair_for(config, request.domain, asset=request.asset)


def lead_of(config: Config, domain: str | None) -> str | None:
    found = config.domain(domain)
    return found.lead if found else None


def place_asset(domain: str | None, asset: str | None, config: Config) -> str | None:
    """The domain of a request that names `asset` (and maybe `domain`): the one named, else the asset's.
    Raises InvalidInput (field "asset") for an asset the catalog does not list or that belongs to another domain."""
    if asset is None:
        return domain
    placed, _ = config.catalog.place(
        domain, asset=asset, domains=[d.name for d in config.domains], domain_required=False
    )
    return placed

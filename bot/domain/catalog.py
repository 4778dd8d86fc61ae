"""The config of the change log: HTTP hook sources, the catalog of AI assets and their owners, and the
change-log settings (standard library + pydantic).

```yaml
hooks:                                   # no hooks, no /hooks endpoints
  monitoring: {secret_env: MONITORING_HOOK_SECRET}
assets:
  - {name: refund-intent, kind: intent, domain: support, product_owner: U0PPM, platform_owner: U0MLPM}
change_log: {suspect_days: 14, unacknowledged_business_days: 2}
```

A change, a regression or a webhook may name an asset; its pair of owners is then the one asked,
pinged and nagged instead of the domain's (each owner the asset leaves out is the domain's).
Secrets never live in the config: a hook source names the environment variable that holds its secret.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from bot.domain.changes import DEFAULT_SUSPECT_DAYS, KINDS, Pair, Side, kind_words, side_of
from bot.domain.errors import InvalidInput
from bot.domain.slack_ids import UserId

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,79}$")
DOMAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_UNACKNOWLEDGED_BUSINESS_DAYS = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SIGNATURES = ("ai-intake", "sentry", "langfuse", "grafana")
HOOK_FORMATS = ("native", "alertmanager", "grafana", "sentry", "langfuse", "langsmith")
"""The body formats a source may be bound to (`bot.hooks.format_names()`; a test keeps the two the same)."""
"""How a source signs: our own headers (the default), or a tool's own scheme (bot.hooks.schemes)."""


def _one_of(choices: tuple[str, ...]) -> BeforeValidator:
    """A field that takes one of `choices`, the message listing them."""

    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return BeforeValidator(check)


def _matching(pattern: re.Pattern[str], expected: str) -> BeforeValidator:
    """A string field matching `pattern`; `expected` says what that means, with an example."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"expected {expected}, got {value!r}")
        return value

    return BeforeValidator(check)


class HookSource(_Strict):
    """One system that may post to /hooks: its shared secret is read from the variable `secret_env`;
    `signature` says whose signing scheme it uses (ours, or the tool's own). `format` and `domain` bind its
    routing in the config: the URL's `?format=` and `?domain=`, which no signature covers, may then not differ.
    `people` names the tool's people as Slack users, so a change the tool reports is credited to its author."""

    secret_env: Annotated[str, _matching(ENV_NAME, "the name of an environment variable like MONITORING_HOOK_SECRET")]
    signature: Annotated[str, _one_of(SIGNATURES)] = "ai-intake"
    format: Annotated[str, _one_of(HOOK_FORMATS)] | None = None
    domain: Annotated[str, _matching(DOMAIN_NAME, "a domain name like support")] | None = None
    people: dict[str, UserId] = Field(default_factory=dict)
    """The tool's name for a person (an email, a login) -> their Slack user: who a change is credited to."""


class Asset(_Strict):
    """An AI asset one side owns, with the pair of owners asked about changes to it."""

    name: Annotated[
        str,
        _matching(
            ASSET_NAME, "an asset name of lower-case letters, digits and . _ / - (at most 80), like refund-intent"
        ),
    ]
    kind: Annotated[str, _one_of(KINDS)]
    domain: Annotated[str, _matching(DOMAIN_NAME, "a domain name like support")]
    product_owner: UserId | None = None
    platform_owner: UserId | None = None

    @property
    def side(self) -> Side:
        """The side that owns this kind of asset."""
        side = side_of(self.kind)
        assert side is not None, "kind is validated"
        return side

    def pair(self, domain_pair: Pair) -> Pair:
        """The owners asked about this asset: its own, each one it leaves out taken from its domain."""
        return Pair(
            product=self.product_owner or domain_pair.product, platform=self.platform_owner or domain_pair.platform
        )


class ChangeLogSettings(_Strict):
    """suspect_days: how far back before a regression its suspects go (calendar days).
    unacknowledged_business_days: N, after which an unanswered change is nagged (the lead after 2N)."""

    suspect_days: int = Field(default=DEFAULT_SUSPECT_DAYS, ge=1, le=90)
    unacknowledged_business_days: int = Field(default=DEFAULT_UNACKNOWLEDGED_BUSINESS_DAYS, ge=1, le=30)


def _source_names(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, dict):
        for name in value:
            if not isinstance(name, str) or not SOURCE_NAME.match(name):
                raise ValueError(
                    f"hook source {name!r} must be lower-case letters, digits, _ or - "
                    "(at most 40), like monitoring; it is the X-AI-Intake-Source header's value"
                )
    return value


def _unique_assets(value: list[Asset]) -> list[Asset]:
    seen: set[str] = set()
    for asset in value:
        if asset.name in seen:
            raise ValueError(f"asset {asset.name!r} is listed twice")
        seen.add(asset.name)
    return value


Hooks = Annotated[dict[str, HookSource], BeforeValidator(_source_names)]
"""`hooks:` source name -> its secret's variable; a field type to hang on the config as it is."""
Assets = Annotated[list[Asset], BeforeValidator(lambda v: [] if v is None else v), AfterValidator(_unique_assets)]
"""`assets:` the catalog, names unique; a field type to hang on the config as it is."""


class Catalog(_Strict):
    """The `hooks`, `assets` and `change_log` sections of the config."""

    hooks: Hooks = Field(default_factory=dict)
    assets: Assets = Field(default_factory=list)
    change_log: ChangeLogSettings = ChangeLogSettings()

    def asset(self, name: str | None) -> Asset | None:
        """The asset called `name`, or None."""
        return next((a for a in self.assets if a.name == name), None)

    def place(
        self,
        domain: str | None,
        *,
        asset: str | None,
        domains: Collection[str],
        asset_if_listed: str | None = None,
        domain_required: bool,
    ) -> tuple[str | None, str | None]:
        """The (domain, asset) of a change or regression that names `domain` and `asset`.

        `asset_if_listed` (a tool's own name for what changed) is the asset only when listed (in the
        domain, when one is named). Without a
        domain, the asset's is used. Raises InvalidInput naming the field: an asset not in the catalog,
        an asset of another domain, a domain not in `domains`, or no domain when `domain_required`.
        """
        found = self.asset(asset) if asset is not None else self.asset(asset_if_listed)
        if asset is None and found is not None and domain is not None and found.domain != domain:
            found = None  # a tool's own name that happens to match another domain's asset is not that asset
        if asset is not None and found is None:
            listed = ", ".join(a.name for a in self.assets) or "none"
            raise InvalidInput(f"unknown asset {asset!r} (the catalog lists {listed})", field="asset")
        if domain is not None and domain not in domains:
            raise InvalidInput(
                f"unknown domain {domain!r} (the domains are {', '.join(sorted(domains)) or 'none'})", field="domain"
            )
        if found is not None and domain is not None and found.domain != domain:
            raise InvalidInput(f"asset {found.name!r} belongs to {found.domain}, not {domain}", field="asset")
        placed = domain or (found.domain if found else None)
        if placed is None and domain_required:
            raise InvalidInput(
                "say which domain this belongs to: a domain, an asset from the catalog, or ?domain= on the hook's URL",
                field="domain",
            )
        return placed, found.name if found else None

    def pair(self, domain_pair: Pair, *, asset: str | None) -> Pair:
        """Who owns what a change or regression names: the asset's pair when it names a listed asset,
        else `domain_pair` (the domain's product and platform owner)."""
        found = self.asset(asset)
        return found.pair(domain_pair) if found else domain_pair


def catalog_problems(catalog: Catalog, *, domains: Collection[str]) -> list[str]:
    """One sentence per asset whose domain is not one of `domains` (checked once the whole config is read)."""
    known = ", ".join(sorted(domains)) or "none"
    return [
        f"assets[{i}].domain: unknown domain {asset.domain!r} (the domains are {known})"
        for i, asset in enumerate(catalog.assets)
        if asset.domain not in domains
    ]


def catalog_lines(
    catalog: Catalog, *, secrets_set: Collection[str] | None = None, domain_pairs: Mapping[str, Pair] | None = None
) -> list[str]:
    """What `config check` prints about the change log: hook sources, settings and the asset catalog.

    `secrets_set`: the names of the environment variables that hold a secret (None: not checked).
    `domain_pairs`: each domain's owners, to show whose owners an asset falls back to.
    """
    return [
        *_hook_lines(catalog, secrets_set=secrets_set),
        _settings_line(catalog.change_log),
        *_asset_lines(catalog, domain_pairs=domain_pairs or {}),
    ]


def _hook_lines(catalog: Catalog, *, secrets_set: Collection[str] | None) -> list[str]:
    if not catalog.hooks:
        return ["hooks: none (POST /hooks/regressions and /hooks/changes answer 404)"]
    lines = ["hooks: POST /hooks/regressions and /hooks/changes accept these sources:"]
    for name, source in sorted(catalog.hooks.items()):
        missing = secrets_set is not None and source.secret_env not in secrets_set
        state = " - NOT SET, so this source is refused (401)" if missing else ""
        scheme = "" if source.signature == "ai-intake" else f", signed the {source.signature} way (?source={name})"
        lines.append(f"  {name}: secret from ${source.secret_env}{scheme}{state}")
    return lines


def _settings_line(settings: ChangeLogSettings) -> str:
    n = settings.unacknowledged_business_days
    return (
        f"change log: a regression's suspects are its domain's changes of the {settings.suspect_days} days before it; "
        f"an unanswered change is nagged after {n} business day{'' if n == 1 else 's'}, with the lead after {2 * n}"
    )


def _asset_lines(catalog: Catalog, *, domain_pairs: Mapping[str, Pair]) -> list[str]:
    if not catalog.assets:
        return ["assets: none (changes and regressions ask their domain's owners)"]
    rows = [("asset", "kind", "side", "domain", "product owner", "platform owner")]
    for asset in sorted(catalog.assets, key=lambda a: (a.domain, a.name)):
        fallback = domain_pairs.get(asset.domain, Pair(None, None))
        rows.append(
            (
                asset.name,
                kind_words(asset.kind),
                asset.side,
                asset.domain,
                _owner(asset.product_owner, fallback.product),
                _owner(asset.platform_owner, fallback.platform),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return [f"assets ({len(catalog.assets)}):", *table]


def _owner(own: str | None, fallback: str | None) -> str:
    if own:
        return own
    return f"{fallback} (domain's)" if fallback else "-"

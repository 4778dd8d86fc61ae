"""Loading the YAML config, with one sentence per mistake in it.

The models live in `bot.domain.policy`. Secrets never live in the config: tokens come from the
environment (see `settings.py`). A holiday calendar (`holidays: {country: DE, subdivision: BE}`)
is looked up here, once, in the `holidays` library, so the domain only ever sees dates.
"""

import warnings
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import ValidationError

from bot.domain.catalog import catalog_problems
from bot.domain.policy import Config, Holidays

__all__ = ["Config", "ConfigError", "load_config", "parse_config"]

# The years a country's holidays are expanded over: every request the bot can hold was filed in this
# century, and no SLA target runs for decades. Fixed, so loading a config never reads the clock.
HOLIDAY_YEARS = range(2000, 2100)


class ConfigError(Exception):
    """The config cannot be used; `problems` holds one sentence per bad field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "constrained-")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "config"


def _sentence(error: dict[str, Any]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling and indentation)"
    elif error["type"] == "missing":
        message = "required but missing"
    return f"{_where(error['loc'])}: {message}"


def parse_config(data: Any) -> Config:
    """Validate already-loaded YAML data; raises ConfigError naming each bad field."""
    if not isinstance(data, dict):
        raise ConfigError([f"config: expected a mapping of settings, got {type(data).__name__}"])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_sentence(e) for e in exc.errors()]) from None
    if problems := catalog_problems(config.catalog, domains=[d.name for d in config.domains]):
        raise ConfigError(problems)
    if config.digest:
        try:
            CronTrigger.from_crontab(config.digest.cron, timezone=config.timezone)
        except ValueError as exc:
            raise ConfigError([f"digest.cron: {exc}"]) from None
    return resolve_holidays(config)


def resolve_holidays(config: Config) -> Config:
    """The config with every holiday calendar's country looked up; ConfigError names each unknown code."""
    problems: list[str] = []
    org = _resolve(config.holidays, where="holidays", problems=problems)
    domains = [
        d
        if d.holidays is None
        else d.model_copy(update={"holidays": _resolve(d.holidays, where=f"domains[{i}].holidays", problems=problems)})
        for i, d in enumerate(config.domains)
    ]
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"holidays": org, "domains": domains})


def _resolve(holidays: Holidays, *, where: str, problems: list[str]) -> Holidays:
    if holidays.country is None:
        return holidays
    try:
        subdivision, public = public_holidays(holidays.country, holidays.subdivision)
    except LookupError as exc:
        field, message = exc.args
        problems.append(f"{where}.{field}: {message}")
        return holidays
    return holidays.model_copy(update={"subdivision": subdivision}).with_public_holidays(public)


@lru_cache(maxsize=32)
def public_holidays(country: str, subdivision: str | None) -> tuple[str | None, Mapping[date, str]]:
    """The subdivision's code as the library spells it, and the public holidays over HOLIDAY_YEARS (date -> name).

    Raises LookupError(field, message) for a country or subdivision the `holidays` library does not know.
    """
    import holidays as library

    try:
        entity = library.country_holidays(country)
    except NotImplementedError:
        raise LookupError("country", f"unknown country {country!r} (use an ISO 3166 code like DE, US or GB)") from None
    subdiv = None
    if subdivision is not None:
        known = {code.upper(): code for code in [*entity.subdivisions, *getattr(entity, "subdivisions_aliases", {})]}
        subdiv = known.get(subdivision.strip().upper())
        if subdiv is None:
            codes = ", ".join(entity.subdivisions) or "none"
            raise LookupError("subdivision", f"{country} has no subdivision {subdivision!r} (its codes: {codes})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "only available from … to …": the library knows the years it knows
        found = library.country_holidays(country, subdiv=subdiv, years=HOLIDAY_YEARS)
    return subdiv, dict(sorted(found.items()))


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file; raises ConfigError with one sentence per problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such config file (set AI_INTAKE_CONFIG or pass a path)"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: is not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: not valid YAML{where}"]) from None
    return parse_config(data)

"""Loading the YAML config, with one sentence per mistake in it.

The models live in `bot.domain.policy`. Secrets never live in the config: tokens come from the
environment (see `settings.py`).
"""

from pathlib import Path
from typing import Any

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import ValidationError

from bot.domain.policy import Config

__all__ = ["Config", "ConfigError", "load_config", "parse_config"]


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
    if config.digest:
        try:
            CronTrigger.from_crontab(config.digest.cron, timezone=config.timezone)
        except ValueError as exc:
            raise ConfigError([f"digest.cron: {exc}"]) from None
    return config


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

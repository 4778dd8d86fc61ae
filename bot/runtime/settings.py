"""The only module that reads the environment. Secrets live here and are never logged."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.runtime.logs import LOG_FORMATS


class SettingsError(Exception):
    """A missing or malformed environment variable; the message says what to set."""


DEFAULT_METRICS_PORT = 9102
"""Where /metrics is served when AI_INTAKE_METRICS=on names no port (the port Prometheus's exporters list gives ai-intake's
neighbours; any free one will do)."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    db_path: Path = Path("ai-intake.db")
    config_path: Path = Path("ai-intake.yml")
    port: int = 3000
    host: str = "0.0.0.0"
    log_format: str = "text"
    metrics: bool = False
    metrics_port: int | None = None

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def metrics_server_port(self) -> int | None:
        """The port of the server of its own that serves /metrics (never the bot's own port, which faces Slack):
        AI_INTAKE_METRICS_PORT, else `DEFAULT_METRICS_PORT` when AI_INTAKE_METRICS=on; None: no metrics served."""
        if self.metrics_port is not None:
            return self.metrics_port
        return DEFAULT_METRICS_PORT if self.metrics else None

    def require_token(self) -> None:
        """Raise SettingsError unless a bot token is set (anything that calls the Web API)."""
        if not self.bot_token:
            raise SettingsError(
                "Set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, on the app's OAuth & Permissions page)."
            )

    def require_slack(self) -> None:
        """Raise SettingsError naming what to set for `ai-intake run`."""
        if not self.bot_token:
            raise SettingsError(
                "Set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, on the app's OAuth & Permissions page)."
            )
        if not self.bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb- (OAuth & Permissions page).")
        if self.app_token and not self.app_token.startswith("xapp-"):
            raise SettingsError(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information → App-Level Tokens, scope connections:write)."
            )
        if not self.socket_mode and not self.signing_secret:
            raise SettingsError(
                "Set SLACK_SIGNING_SECRET (Basic Information → App Credentials) for HTTP mode, or SLACK_APP_TOKEN for Socket Mode."
            )


def secret(name: str, value: str | None, path: str | None) -> str | None:
    """A secret given in the variable `name` (`value`) or in the file `name`_FILE names (`path`: a Docker or Kubernetes
    secret mounted as a file; one trailing newline is dropped); None when neither is set. SettingsError, in one
    sentence, when both are set or the file cannot be read."""
    if value and path:
        raise SettingsError(f"Set {name} or {name}_FILE, not both.")
    if not path:
        return value or None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"{name}_FILE names {path}, which cannot be read ({type(exc).__name__}: "
            f"{getattr(exc, 'strerror', None) or exc})."
        ) from None
    return text.removesuffix("\n").removesuffix("\r") or None


def hook_secrets(variables: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each hook source's secret, read from the variable the config names for it (`variables`: source ->
    variable), or from the file that variable's `_FILE` twin names; a source whose secret is unset or blank is left
    out, so its requests are refused."""
    env = os.environ if environ is None else environ
    found = {source: secret(name, env.get(name), env.get(f"{name}_FILE")) or "" for source, name in variables.items()}
    return {source: value for source, value in found.items() if value.strip()}


SWITCH = {
    "on": True,
    "true": True,
    "yes": True,
    "1": True,
    "off": False,
    "false": False,
    "no": False,
    "0": False,
    "": False,
}


def port_number(name: str, text: str) -> int:
    """`text` as a port number; SettingsError naming `name` when it is not one."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(f"{name} must be a port number (1-65535), got {text!r}.")
    return int(text)


def requested_log_format(environ: Mapping[str, str] | None = None) -> str:
    """The log format AI_INTAKE_LOG_FORMAT asks for, leniently (`text` unless it says json): how to say a fatal error
    even when the settings themselves could not be read."""
    env = os.environ if environ is None else environ
    return "json" if (env.get("AI_INTAKE_LOG_FORMAT") or "").strip().lower() == "json" else "text"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    port = port_number("PORT", env.get("PORT", "3000"))
    log_format = (env.get("AI_INTAKE_LOG_FORMAT") or "text").strip().lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError(
            f"AI_INTAKE_LOG_FORMAT must be {' or '.join(LOG_FORMATS)}, got {env['AI_INTAKE_LOG_FORMAT']!r}."
        )
    metrics = SWITCH.get((env.get("AI_INTAKE_METRICS") or "").strip().lower())
    if metrics is None:
        raise SettingsError(f"AI_INTAKE_METRICS must be on or off, got {env['AI_INTAKE_METRICS']!r}.")
    metrics_port_text = (env.get("AI_INTAKE_METRICS_PORT") or "").strip()
    metrics_port = port_number("AI_INTAKE_METRICS_PORT", metrics_port_text) if metrics_port_text else None
    app_token = secret("SLACK_APP_TOKEN", env.get("SLACK_APP_TOKEN"), env.get("SLACK_APP_TOKEN_FILE"))
    if (metrics_port or (DEFAULT_METRICS_PORT if metrics else None)) == port:
        raise SettingsError(
            f"AI_INTAKE_METRICS_PORT must differ from PORT ({port}): /metrics is served on a port of "
            "its own, never beside /slack/events."
        )
    return Settings(
        bot_token=secret("SLACK_BOT_TOKEN", env.get("SLACK_BOT_TOKEN"), env.get("SLACK_BOT_TOKEN_FILE")),
        signing_secret=secret(
            "SLACK_SIGNING_SECRET", env.get("SLACK_SIGNING_SECRET"), env.get("SLACK_SIGNING_SECRET_FILE")
        ),
        app_token=app_token,
        api_url=env.get("SLACK_API_URL") or None,
        db_path=Path(env.get("AI_INTAKE_DB") or "ai-intake.db"),
        config_path=Path(env.get("AI_INTAKE_CONFIG") or "ai-intake.yml"),
        port=port,
        host=env.get("HOST") or "0.0.0.0",
        log_format=log_format,
        metrics=metrics,
        metrics_port=metrics_port,
    )

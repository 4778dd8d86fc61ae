"""Logging set-up: one line per record as text (control characters escaped) or as a JSON object.

What never reaches the log, whatever the level or format:
- tokens and the signing secret (`RedactSecrets`, on the handler: message, traceback and extra fields);
- the content of a request from Slack or of a Web API call (`WithholdPayloads`, on the loggers of
  slack_bolt and slack_sdk, which otherwise print bodies at INFO and DEBUG).

Fields passed with `extra=` (a request key, Slack ids) are JSON fields in the json format and
`name=value` pairs at the end of the line in the text format.
"""

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_TOKEN = re.compile(r"\b(xox[abeoprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")
_STANDARD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# C0 and C1 controls, DEL, the Unicode line and paragraph separators and the bidirectional controls:
# each could start a forged line or make a line read differently from what it holds.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_PAYLOAD_START = re.compile(r"\(?\{|\b(?:body|body_params|json_body|query_params|payload)\b\s*[:=(]", re.IGNORECASE)
WITHHELD = "[payload withheld]"
PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk.web", "slack_sdk.web.base_client", "slack_sdk.socket_mode.builtin.client")
"""Where Slack's libraries log bodies (a filter holds for records made on its own logger only)."""


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character written as an escape (\\n, \\x1b, \\u202e …), so it stays one line.

    `keep_newlines` leaves line feeds alone (a traceback's own lines).
    """

    def escaped(match: re.Match[str]) -> str:
        char = match.group(0)
        if keep_newlines and char == "\n":
            return char
        if char in _SHORT_ESCAPES:
            return _SHORT_ESCAPES[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _CONTROL.sub(escaped, text)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a log call passed with `extra=`, in the order given."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_FIELDS and not k.startswith("_")}


def withhold_payloads(text: str) -> str:
    """`text` cut where a request, response or event body starts ("body: …", "{…"), marked "[payload withheld]"."""
    match = _PAYLOAD_START.search(text)
    return text if match is None else text[: match.start()].rstrip(" ,-(") + " " + WITHHELD


class WithholdPayloads(logging.Filter):
    """On the loggers of Slack's libraries: their records never carry what Slack or the bot sent.

    Bolt logs a refused request's body at INFO and the ack's body at DEBUG; slack_sdk logs every
    Web API call's arguments and answer at DEBUG. Those lines keep their first words (which call,
    which status) and lose the rest.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        withheld = withhold_payloads(message)
        if withheld != message:
            record.msg, record.args = withheld, None
        return True


def withhold_library_payloads(*loggers: logging.Logger) -> None:
    """Put `WithholdPayloads` on Slack's library loggers (and `loggers`), once each.

    Bolt copies the filters of the logger it is given to the loggers it makes, so this runs before an
    App is built.
    """
    for logger in [*(logging.getLogger(name) for name in PAYLOAD_LOGGERS), *loggers]:
        if not any(isinstance(f, WithholdPayloads) for f in logger.filters):
            logger.addFilter(WithholdPayloads())


class RedactSecrets(logging.Filter):
    """Replaces Slack tokens (xoxb-…, xapp-…) and the given secrets with "[redacted]" in every record.

    The message, the traceback (kept as `exc_text`; `exc_info` is dropped so no formatter renders it
    again unredacted) and every text field passed with `extra=`.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = self.redact(message), None, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, then the extra fields as ` name=value`; control characters escaped so a record is one line.

    A traceback follows on its own lines, as usual, with its other control characters escaped.
    """

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        fields = "".join(f" {name}={value}" for name, value in extra_fields(record).items())
        line = TEXT_FORMAT % {**record.__dict__, "message": escape_controls(record.message + fields)}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        for more in (record.exc_text, record.stack_info):
            if more:
                line += "\n" + escape_controls(more, keep_newlines=True)
        return line


def json_formatter() -> logging.Formatter:
    """One JSON object per record: time (UTC, ISO-8601), level, logger, message, the extra fields, exc_info."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level", "name": "logger"}, timestamp="time"
    )


def setup_logging(
    *, level: int = logging.INFO, secrets: Iterable[str | None] = (), fmt: str = "text", stream: TextIO | None = None
) -> None:
    """Log to `stream` (default stderr) in `fmt` ("text" or "json") through a secret-redacting handler (idempotent).

    Raises ValueError for another `fmt` (settings.py checks AI_INTAKE_LOG_FORMAT before it gets here).
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r} (use one of: {', '.join(LOG_FORMATS)})")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_ai_intake", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._ai_intake = True  # type: ignore[attr-defined]
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactSecrets(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    withhold_library_payloads()

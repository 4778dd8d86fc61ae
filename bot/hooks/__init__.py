"""The HTTP hooks' pure side: who may post (signature), what a body asks for (formats), typed results.

A server answers a hook request in this order: 413 when the body is over MAX_BODY_BYTES; 401 when
`HookVerifier.verify` refuses it; 400 when `parse_regressions` / `parse_changes` do (naming the
field); then the service files or logs what the Batch holds. Every refusal is a HookError whose
`status` and `body()` are the answer, and nothing is written for it.
"""

from bot.hooks.errors import BadRequest, HookError, TooLarge, Unauthorized
from bot.hooks.fields import MAX_BODY_BYTES, read_json
from bot.hooks.formats import FORMATS, Format, format_names, format_table, parse_changes, parse_regressions
from bot.hooks.results import Batch, FiledRegression, LoggedChange
from bot.hooks.signature import (
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    SOURCE_HEADER,
    TIMESTAMP_HEADER,
    HookVerifier,
    signed_headers,
)

__all__ = [
    "FORMATS",
    "MAX_BODY_BYTES",
    "MAX_SKEW_SECONDS",
    "SIGNATURE_HEADER",
    "SOURCE_HEADER",
    "TIMESTAMP_HEADER",
    "BadRequest",
    "Batch",
    "FiledRegression",
    "Format",
    "HookError",
    "HookVerifier",
    "LoggedChange",
    "TooLarge",
    "Unauthorized",
    "format_names",
    "format_table",
    "parse_changes",
    "parse_regressions",
    "read_json",
    "signed_headers",
]

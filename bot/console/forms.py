"""A modal as a form in the terminal: shown field by field, filled by prompts or by one `/submit` line.

`/submit title="Refund bot is wrong" kind=eval priority=P2 description="…"` names fields by their
block id (title, kind, domain, priority, description, links.0, confidential, reason …) or their label;
a select takes an option's value, its label or its number; a checkbox takes yes/no. What Slack checks
before it sends a form (required fields, lengths, a link being a URL) is checked here too; everything
else is the bot's to decide, and its answer (`response_action: errors`) is shown under the field.
"""

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.console.render import plain

YES = ("yes", "y", "true", "1", "on", "x")
NO = ("no", "n", "false", "0", "off", "")


class FormError(Exception):
    """What is wrong with what was typed for a form, in a sentence."""


@dataclass
class Field:
    """One input block of a modal."""

    block_id: str
    action_id: str
    type: str
    label: str
    optional: bool
    hint: str = ""
    multiline: bool = False
    max_length: int | None = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    initial: Any = None

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.label.lower()).strip("_")

    def choose(self, typed: str) -> Any:
        """The value for `typed` (an option's value, label or number; yes/no for a checkbox)."""
        text = typed.strip()
        if self.type in ("plain_text_input", "url_text_input", "email_text_input", "number_input"):
            return text or None
        if self.type == "checkboxes":
            if text.lower() in YES:
                return [value for value, _ in self.options]
            if text.lower() in NO:
                return []
            return [self._option(part) for part in re.split(r"[,\s]+", text)]
        return self._option(text) if text else None

    def _option(self, text: str) -> str:
        for i, (value, label) in enumerate(self.options, start=1):
            if text.lower() in (value.lower(), label.lower(), str(i)):
                return value
        choices = ", ".join(value for value, _ in self.options)
        raise FormError(f"{self.label}: no option {text!r}; choose one of {choices}")

    def shown(self, value: Any) -> str:
        """A value as the form shows it."""
        if value in (None, [], ""):
            return "—"
        labels = dict(self.options)
        if isinstance(value, list):
            return ", ".join(labels.get(v, v) for v in value)
        return labels.get(value, str(value))

    def problem(self, value: Any) -> str | None:
        """What Slack itself would say before sending the form, or None."""
        if value in (None, [], "") and not self.optional:
            return "Please fill out this field."
        if isinstance(value, str) and self.max_length and len(value) > self.max_length:
            return f"Must be {self.max_length} characters or fewer."
        if self.type == "url_text_input" and value and not re.match(r"^https?://\S+$", value):
            return "Please enter a valid URL."
        return None

    def state(self, value: Any) -> dict[str, Any]:
        """The field in a view_submission's `view.state.values`, as Slack sends it."""
        if self.type == "checkboxes":
            return {"type": self.type, "selected_options": [self._slack_option(v) for v in value or []]}
        if self.type in ("static_select", "radio_buttons"):
            return {"type": self.type, "selected_option": self._slack_option(value) if value else None}
        return {"type": self.type, "value": value}

    def _slack_option(self, value: str) -> dict[str, Any]:
        label = dict(self.options).get(value, value)
        return {"text": {"type": "plain_text", "text": label, "emoji": True}, "value": value}


def fields_of(view: dict[str, Any]) -> list[Field]:
    """The input blocks of a modal, in order."""
    found = []
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block.get("element", {})
        options = [(o["value"], plain(o["text"]["text"])) for o in element.get("options", [])]
        found.append(
            Field(
                block_id=block["block_id"],
                action_id=element.get("action_id", ""),
                type=element.get("type", ""),
                label=plain(block.get("label", {}).get("text", block["block_id"])),
                optional=bool(block.get("optional")),
                hint=plain((block.get("hint") or {}).get("text", "")),
                multiline=bool(element.get("multiline")),
                max_length=element.get("max_length"),
                options=options,
                initial=_initial(element),
            )
        )
    return found


def _initial(element: dict[str, Any]) -> Any:
    if "initial_option" in element:
        return element["initial_option"]["value"]
    if "initial_options" in element:
        return [o["value"] for o in element["initial_options"]]
    return element.get("initial_value")


def title_of(view: dict[str, Any]) -> str:
    return plain((view.get("title") or {}).get("text", "Form"))


def form_lines(
    view: dict[str, Any], values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> list[str]:
    """The form as lines: each field with its kind, its options and what it holds now."""
    lines = []
    for f in fields_of(view):
        value = (values or {}).get(f.block_id, f.initial)
        what = (
            "one of: " + ", ".join(v for v, _ in f.options)
            if f.type in ("static_select", "radio_buttons")
            else ("yes/no" if f.type == "checkboxes" else ("a link" if f.type == "url_text_input" else "text"))
        )
        mark = "" if f.optional else " *"
        now = f" = {f.shown(value)}" if value not in (None, [], "") else ""
        lines.append(f"{f.block_id}{mark}: {f.label} ({what}){now}")
        if errors and f.block_id in errors:
            lines.append(f"  ⚠️ {errors[f.block_id]}")
    submit = plain((view.get("submit") or {}).get("text", "Submit"))
    lines.append(
        f"[{submit}] with /submit field=value …   [{plain((view.get('close') or {}).get('text', 'Cancel'))}] with /cancel"
    )
    return lines


def parse_submit(view: dict[str, Any], text: str) -> dict[str, Any]:
    """The values of `/submit a=1 b="two words"`, on top of the form's initial values. Raises FormError."""
    fields = fields_of(view)
    values = {f.block_id: f.initial for f in fields}
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise FormError(f"cannot read that line: {exc}") from None
    for word in words:
        name, sep, typed = word.partition("=")
        if not sep:
            raise FormError(f"{word!r}: write field=value (fields: {', '.join(f.block_id for f in fields)})")
        target = _field_named(fields, name)
        values[target.block_id] = target.choose(typed)
    return values


def _field_named(fields: list[Field], name: str) -> Field:
    wanted = name.strip().lower()
    for f in fields:
        if wanted in (f.block_id.lower(), f.slug):
            return f
    for f in fields:
        if f.block_id.lower().startswith(wanted + ".") or f.block_id.lower().startswith(wanted.rstrip("s") + "."):
            return f
    raise FormError(f"no field {name!r}; fields: {', '.join(f.block_id for f in fields)}")


def problems(view: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """Slack's own checks before it sends the form: block id -> what to fix."""
    found = {}
    for f in fields_of(view):
        problem = f.problem(values.get(f.block_id))
        if problem:
            found[f.block_id] = problem
    return found


def submitted_view(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The `view` of a view_submission payload: the modal with `state.values` filled in."""
    state = {f.block_id: {f.action_id: f.state(values.get(f.block_id))} for f in fields_of(view)}
    return {**view, "state": {"values": state}}


def ask(
    view: dict[str, Any],
    prompt: Callable[[str], str],
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, Any] | None:
    """Fill the form one field at a time (Enter keeps what is shown); None when the person types /cancel."""
    values = dict(values or {f.block_id: f.initial for f in fields_of(view)})
    for f in fields_of(view):
        if errors and f.block_id not in errors:
            continue
        if errors:
            say(f"  ⚠️ {f.label}: {errors[f.block_id]}")
        if f.options:
            say("  " + "  ".join(f"{i}) {label}" for i, (_, label) in enumerate(f.options, start=1)))
        while True:
            current = f.shown(values.get(f.block_id))
            optional = " (optional)" if f.optional else ""
            typed = prompt(f"  {f.label}{optional} [{current}]: ")
            if typed.strip() == "/cancel":
                return None
            if not typed.strip():
                break
            try:
                values[f.block_id] = f.choose(typed)
                break
            except FormError as exc:
                say(f"  {exc}")
    return values

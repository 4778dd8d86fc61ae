"""What appeared in the workspace, as the console prints it, and the numbers that press its buttons.

Each thing gets a header saying where it appeared and when — `#support`, `#support › thread of AIR-1`,
`direct message to @ben`, `only @ana sees this`, `App Home of @ana`, a form — then its body. Buttons are
numbered from 1 in what one typed line shows; `3` presses the third until the next line shows others, and
`pressed` is the action Slack sends for it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.common import local
from bot.console import forms
from bot.console.directory import Directory
from bot.console.render import message_lines
from bot.console.workspace import Shown


class UsageError(Exception):
    """A console line that cannot be acted on; the message says what to type instead."""


@dataclass
class Button:
    """An interactive element as shown: where it is, and who can see it (None: anyone in the channel)."""

    element: dict[str, Any]
    block_id: str
    where: str  # "message", "ephemeral" or "home"
    channel: str | None
    ts: str | None
    viewer: str | None
    key: str = ""  # the request it is about: its value, or (a select) its neighbours'


def pressed(button: Button, extra: str | None, names: Directory) -> dict[str, Any]:
    """The action Slack sends when `button` is worked: a button pressed, an option picked by `extra` (its number,
    value or label), a person picked by `extra` ("@ben")."""
    element = button.element
    action = {
        "action_id": element["action_id"],
        "block_id": button.block_id,
        "type": element["type"],
        "action_ts": f"{time.time():.6f}",
    }
    if element["type"] == "button":
        return {**action, "text": element.get("text"), "value": element.get("value", "")}
    if element["type"] == "static_select":
        return {**action, "selected_option": _option(element, extra)}
    if element["type"] == "users_select":
        user = names.find_user(extra) if extra else None
        if user is None:
            raise UsageError("pick a person: /click <number> @name")
        return {
            **action,
            "selected_user": user,
            **({"initial_user": element["initial_user"]} if element.get("initial_user") else {}),
        }
    raise UsageError(f"the console cannot work a {element['type']} element")


def _option(element: dict[str, Any], extra: str | None) -> dict[str, Any]:
    """The option of a select picked by `extra`: its number, its value, the key after its ">", or its label."""
    options = element.get("options", [])
    for i, option in enumerate(options, start=1):
        value, label = option.get("value", ""), (option.get("text") or {}).get("text", "")
        if extra and extra.upper() in (str(i), value.upper(), value.rpartition(">")[2].upper(), label.upper()):
            return option
    listed = ", ".join(f"{i} {(o.get('text') or {}).get('text', '')}" for i, o in enumerate(options, start=1))
    raise UsageError(f"pick one: /click <number> <option> ({listed})")


class Screen:
    """Turns what was shown into lines, and remembers the buttons in them."""

    def __init__(
        self, names: Directory, *, tz: ZoneInfo, thread_name: Callable[[str, str], str], forms_inline: bool = True
    ) -> None:
        self.names = names
        self.tz = tz
        self.thread_name = thread_name
        self.forms_inline = forms_inline
        self.buttons: dict[int, Button] = {}
        self.history: list[Button] = []
        self._fresh = True

    def next_line(self) -> None:
        """A new line was typed: the next button shown starts again from 1."""
        self._fresh = True

    def lines(self, item: Shown) -> list[str]:
        """One thing that appeared, as a header line and its body."""
        when = local(item.at, self.tz)
        if item.what == "home":
            view = item.view or {}
            body = self._blocks(view.get("blocks", []), "", where="home", viewer=item.user)
            return self._box(f"App Home of @{self.names.user_name(item.user or '')} · {when}", body)
        if item.what == "modal":
            view = item.view or {}
            body = forms.form_lines(view) if self.forms_inline else []
            return self._box(f"form “{forms.title_of(view)}” opens for @{self.names.user_name(item.user or '')}", body)
        where = self.names.channel_label(item.channel or "")
        if item.thread_ts and item.thread_ts != item.ts:
            where += f" › thread of {self.thread_name(item.channel or '', item.thread_ts)}"
        if item.what == "update":
            where += " · edited"
        if item.what == "ephemeral":
            where += f" · only @{self.names.user_name(item.user or '')} sees this"
        body = self._blocks(
            item.blocks,
            item.text,
            where="ephemeral" if item.what == "ephemeral" else "message",
            viewer=self._viewer(item),
            channel=item.channel,
            ts=item.ts,
        )
        return self._box(f"{where} · {when}", body)

    def form_errors(self, view: dict[str, Any], values: dict[str, Any], errors: dict[str, str]) -> list[str]:
        return self._box(f"form “{forms.title_of(view)}” · not sent", forms.form_lines(view, values, errors))

    def button(self, ref: str, key: str | None = None) -> Button:
        """Button `ref` ("3") as last shown, or the newest shown with action id `ref` (for request `key`)."""
        if ref.isdigit():
            if int(ref) not in self.buttons:
                raise UsageError(f"no button {ref} on screen; the numbers are in [brackets] in what was shown last")
            return self.buttons[int(ref)]
        for button in reversed(self.history):
            if button.element.get("action_id") == ref and (key is None or button.key.upper() == key.upper()):
                return button
        raise UsageError(f"no {ref} button{' for ' + key if key else ''} has been shown")

    # -- inside ---------------------------------------------------------------------------------
    @staticmethod
    def _box(header: str, body: list[str]) -> list[str]:
        return [f"┌ {header}"] + [f"│ {line}" for line in body]

    @staticmethod
    def _viewer(item: Shown) -> str | None:
        if item.what == "ephemeral":
            return item.user
        if (item.channel or "").startswith("D"):
            return "U" + (item.channel or "")[1:]
        return None

    def _blocks(
        self,
        blocks: list[dict[str, Any]],
        text: str,
        *,
        where: str,
        viewer: str | None,
        channel: str | None = None,
        ts: str | None = None,
    ) -> list[str]:
        def number(element: dict[str, Any], block: dict[str, Any]) -> int:
            key = element.get("value") or next((e["value"] for e in block.get("elements", []) if e.get("value")), "")
            return self._number(Button(element, block.get("block_id", ""), where, channel, ts, viewer, key=key))

        return message_lines(text, blocks, self.names, number)

    def _number(self, button: Button) -> int:
        if self._fresh:
            self.buttons, self._fresh = {}, False
        self.buttons[len(self.buttons) + 1] = button
        self.history.append(button)
        return len(self.buttons)


def nonzero_figures(scrape: str) -> list[str]:
    """The sample lines of a scrape whose value is not 0, without comments, histogram buckets and `_created` samples."""
    kept = []
    for line in scrape.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.split("{")[0].split(" ")[0], line.rsplit(" ", 1)[1]
        if not name.endswith(("_bucket", "_created")) and float(value) != 0:
            kept.append(line)
    return kept

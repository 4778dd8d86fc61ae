"""One console session: each typed line becomes what Slack would send the bot, then what Slack would show.

Lines are dispatched into the real Bolt app (`Bot.app.dispatch`, signed as Slack signs), the listeners
finish, the outbox is drained (as the outbox worker would), and whatever appeared in the stand-in
workspace since the last line is printed, in order. The scheduler's jobs are the ones in `bot.usecases.jobs`,
run when `/time-travel` passes their times.
"""

import json
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.entry.app import Bot
from bot.blocks import ids
from bot.blocks.common import local
from bot.console import forms, payloads
from bot.console.directory import REQUESTER, Directory, dm_channel
from bot.console.render import mrkdwn
from bot.console.hooks import post_hook
from bot.console.screen import Screen, UsageError, nonzero_figures, pressed
from bot.console.timeline import ConsoleClock, TimeError, next_runs, parse_travel
from bot.console.workspace import Message, Workspace
from bot.domain.parsing import parse_key

HELP = """Type what you would type in Slack:
  /ai-request …                file a request (`regression: …` sets the kind), or help, mine, queue [domain], status AIR-1,
                               away [until DATE], back; a long list takes `page 2`
  /ai-request                  open the form; in a script fill it in with /submit title="…" kind=eval priority=P2 description="…"
  @ai-intake …                 mention the bot here (files a request; inside a request's thread it comments)
  any other text               a message here (in a request's thread: a comment)
  3  or  /click 3              press button 3 of what was shown last; /click 8 @chen picks a person in a select,
                               /click 9 search an option (the card's "Move to…")
  /click request.claim AIR-1   press the newest button shown with that action id for AIR-1
  /react ticket, /shortcut     react with :ticket: to, or use "Create AI request" on, the last message written here
  /shipped intent: …           log a change your side shipped (`/ai-request shipped …`); the other side is asked
  /hook [source] regressions {…}   POST a body to the bot's hooks, signed as that source (`changes`, `?format=…`,
                               a body from a file with @file.json)
And move around:
  /as ben                      act as someone else (a name, or an id like U0BEN); /people lists everyone
  /channel support             go to a channel (a name or an id); /channels lists them
  /thread AIR-1                go into the thread under AIR-1's card (/thread AIR-1 origin: of the message it was
                               filed from); /thread alone (or /channel) leaves it
  /home                        open your App Home tab
  /time-travel 3d              move the clock (3d, 2h, 30m, 1w, or 2026-12-01T09:00): SLA alerts, nags and the digest arrive
  /jobs, /digest               run the sla and nags jobs, or the weekly digest, now
  /metrics                     what Prometheus would scrape at /metrics now (its non-zero figures; /metrics all: every line)
  /submit …, /cancel           send or close the open form
  /help, /quit"""


class Console:
    """A person at a Slack client, typing lines. `ask` prompts for a form's fields (None: scripts use /submit)."""

    def __init__(
        self,
        bot: Bot,
        workspace: Workspace,
        names: Directory,
        clock: ConsoleClock,
        *,
        signing_secret: str,
        out: TextIO,
        ask: Callable[[str], str] | None = None,
        skip_quiet_ticks: bool = True,
        hook_secrets: dict[str, str] | None = None,
    ) -> None:
        self.bot, self.ws, self.names, self.clock, self.out, self.ask = bot, workspace, names, clock, out, ask
        self.skip_quiet_ticks = skip_quiet_ticks
        self.config = bot.config
        self.tz = self.config.calendar(None).tz
        self.secret = signing_secret
        self.hook_secrets = hook_secrets or {}
        self.screen = Screen(names, tz=self.tz, thread_name=self._thread_name, forms_inline=ask is None)
        self.user = REQUESTER
        self.channel = next((d.channels[0] for d in self.config.domains if d.channels), self.config.triage_channel)
        self.thread: str | None = None
        self.form_values: dict[str, dict[str, Any]] = {}
        self._events = 0

    # -- the prompt and one line ----------------------------------------------------------------
    @property
    def prompt(self) -> str:
        where = self.names.channel_label(self.channel)
        if self.thread:
            where += f"›{self._thread_name(self.channel, self.thread)}"
        return f"{self.names.user_name(self.user)}@{where}> "

    def say(self, line: str = "") -> None:
        print(line, file=self.out)

    def run(self, line: str) -> bool:
        """Act on one typed line and print what happened; False after /quit."""
        text = line.strip()
        if not text:
            return True
        self.screen.next_line()
        try:
            return self._run(text)
        except (forms.FormError, TimeError, UsageError) as exc:
            self.say(f"  ⚠️ {exc}")
            return True

    def _run(self, text: str) -> bool:
        name, _, rest = text.partition(" ")
        if text.isdigit():
            self.click(text)
        elif name == ids.COMMAND:
            self.slash_command(rest.strip())
        elif not text.startswith("/"):
            self.message(text)
        elif name in ("/quit", "/exit"):
            return False
        elif name in COMMANDS:
            COMMANDS[name](self, rest.strip())
        else:
            raise UsageError(f"{name} is not a console command; /help lists them")
        return True

    # -- moving around --------------------------------------------------------------------------
    def as_user(self, rest: str) -> None:
        user = self.names.find_user(rest) if rest else None
        if user is None:
            raise UsageError(f"who is {rest!r}? /people lists everyone (or give an id like U0ZOE)")
        self.user = user
        self.say(
            f"  you are now @{self.names.user_name(user)} ({', '.join(self.names.roles.get(user, [])) or 'a requester'})"
        )
        if (view := self.ws.modal(user)) is not None:
            self.say(f"  @{self.names.user_name(user)} has the form “{forms.title_of(view)}” open: /submit or /cancel")

    def go_channel(self, rest: str) -> None:
        channel = self.names.find_channel(rest) if rest else None
        if channel is None:
            raise UsageError(f"no channel {rest!r}; /channels lists them")
        self.channel, self.thread = channel, None

    def go_thread(self, rest: str) -> None:
        """`/thread AIR-1`: the thread under its card; `/thread AIR-1 origin`: the thread of the message it was
        filed from (a mention, a shortcut, a :ticket:), where its requester talks when the card is private."""
        if not rest:
            self.thread = None
            return
        key, _, where = rest.partition(" ")
        request_id = parse_key(key)
        request = self.bot.queries.get(request_id) if request_id else None
        if where.strip() == "origin":
            if request is None or not request.origin_ts or not request.origin_channel:
                raise UsageError(f"{key} was not filed from a message; /thread {key} goes under its card")
            self.channel, self.thread = request.origin_channel, request.origin_ts
            return
        if request is None or not request.card_ts or not request.card_channel:
            raise UsageError(f"no card for {rest!r}; requests are named like AIR-1")
        self.channel, self.thread = request.card_channel, request.card_ts

    def list_people(self, rest: str) -> None:
        for line in self.names.people_lines():
            self.say("  " + line)

    def list_channels(self, rest: str) -> None:
        for line in self.names.channel_lines():
            self.say("  " + line)

    def show_help(self, rest: str) -> None:
        self.say(HELP)

    # -- what people do in Slack ----------------------------------------------------------------
    def slash_command(self, text: str) -> None:
        body = payloads.slash_command(
            user=self.user,
            name=self.names.user_name(self.user),
            channel=self.channel,
            channel_name=self._command_channel_name(self.channel),
            text=text,
            response_url=self.ws.new_response_url(self.user, self.channel),
            trigger_id=self.ws.new_trigger(self.user),
        )
        response = self.dispatch(body, payloads.FORM)
        self._acknowledged(response)
        self.settle_and_show()

    def message(self, typed: str) -> None:
        """A person writes here; Slack delivers a `message` event, and an `app_mention` when it names the bot."""
        text = self.slack_text(typed)
        message = self.ws.post_as(self.user, self.channel, text, thread_ts=self.thread)
        kinds = ["app_mention", "message"] if f"<@{self.names.bot_user_id}>" in text else ["message"]
        for kind in kinds:
            self.event(
                payloads.message_event(
                    kind=kind, user=self.user, channel=self.channel, text=text, ts=message.ts, thread_ts=self.thread
                )
            )
        self.settle_and_show()

    def react(self, rest: str) -> None:
        reaction = rest.strip(": ") or ids.TICKET_REACTION
        message = self._last_written()
        self.event(
            {
                "type": "reaction_added",
                "user": self.user,
                "reaction": reaction,
                "item_user": message.user,
                "item": {"type": "message", "channel": message.channel, "ts": message.ts},
                "event_ts": self.ws.stamp(),
            }
        )
        self.settle_and_show()

    def shortcut(self, rest: str) -> None:
        message = self._last_written()
        payload = payloads.message_shortcut(
            message.as_slack(),
            channel=message.channel,
            channel_name=self._channel_name(message.channel),
            response_url=self.ws.new_response_url(self.user, message.channel),
        )
        self.interact(payload)
        self.settle_and_show()

    def open_home(self, rest: str) -> None:
        self.event(
            {
                "type": "app_home_opened",
                "user": self.user,
                "channel": dm_channel(self.user),
                "tab": "home",
                "event_ts": self.ws.stamp(),
            }
        )
        self.settle_and_show()

    def click(self, rest: str) -> None:
        words = rest.split()
        if not words:
            raise UsageError("which button? /click 3, or /click request.claim AIR-1")
        by_number = words[0].isdigit()
        button = self.screen.button(words[0], None if by_number or len(words) < 2 else words[1])
        extra = words[1 if by_number else 2] if len(words) > (1 if by_number else 2) else None
        if button.viewer and button.viewer != self.user:
            name = self.names.user_name(button.viewer)
            raise UsageError(f"only @{name} sees that button; /as {name} first")
        if not self._confirmed(button.element):
            return
        action = pressed(button, extra, self.names)
        if button.where == "home":
            payload = payloads.home_press(action, view=self.ws.home(self.user))
        else:
            kept = self.ws.message(button.channel or "", button.ts or "")
            payload = payloads.button_press(
                action,
                channel=button.channel,
                channel_name=self._channel_name(button.channel or ""),
                ts=button.ts,
                ephemeral=button.where == "ephemeral",
                message=kept.as_slack() if kept else None,
                response_url=self.ws.new_response_url(self.user, button.channel),
            )
        self.interact(payload)
        self.settle_and_show()

    # -- talking to the app ---------------------------------------------------------------------
    def event(self, event: dict[str, Any]) -> BoltResponse:
        self._events += 1
        body = payloads.event_callback(
            event,
            event_id=f"Ev{secrets.token_hex(4).upper()}{self._events:04d}",
            event_time=int(time.time()),
            bot_user_id=self.names.bot_user_id,
        )
        return self.dispatch(body, payloads.JSON)

    def interact(self, payload: dict[str, Any]) -> BoltResponse:
        body = payloads.interaction(
            payload, user=self.user, name=self.names.user_name(self.user), trigger_id=self.ws.new_trigger(self.user)
        )
        return self.dispatch(body, payloads.FORM)

    def dispatch(self, body: str, content_type: str) -> BoltResponse:
        """Hand one request to the Bolt app, signed as Slack signs it; returns its acknowledgement."""
        headers = payloads.signed_headers(
            body, secret=self.secret, timestamp=int(time.time()), content_type=content_type
        )
        response = self.bot.app.dispatch(BoltRequest(body=body, headers=headers))
        if response.status >= 400:
            self.say(f"  ⚠️ the app answered HTTP {response.status}: {str(response.body)[:200]}")
        return response

    def _acknowledged(self, response: BoltResponse) -> None:
        """A slash command's acknowledgement carries its answer: Slack shows it to whoever typed the command."""
        if response.status != 200 or not response.body:
            return
        try:
            body = json.loads(response.body)
        except json.JSONDecodeError:
            body = {"text": response.body}
        if body.get("text") or body.get("blocks"):
            self.ws.show_ephemeral(self.user, self.channel, body.get("text", ""), body.get("blocks"))

    def _confirmed(self, element: dict[str, Any]) -> bool:
        """A button with a confirmation asks first (a script answers yes, and says so)."""
        confirm = element.get("confirm")
        if not confirm:
            return True
        question = mrkdwn((confirm.get("text") or {}).get("text", ""), self.names)
        if self.ask is None:
            self.say(f"  {question} → {(confirm.get('confirm') or {}).get('text', 'Yes')}")
            return True
        return self.ask(f"  {question} [y/N] ").strip().lower() in ("y", "yes")

    # -- machines -------------------------------------------------------------------------------
    def shipped(self, rest: str) -> None:
        """`/shipped …` is `/ai-request shipped …`."""
        self.slash_command(f"shipped {rest}".strip())

    def hook(self, rest: str) -> None:
        """`/hook [source] <path> <json or @file>`: POST a body to the bot's hooks, signed as the source would."""
        self.say(post_hook(self.bot.hooks, rest, secrets=self.hook_secrets, now=self.clock()))
        self.settle_and_show()

    # -- forms ----------------------------------------------------------------------------------
    def submit(self, rest: str) -> None:
        view = self._form()
        self._send_form(view, forms.parse_submit(view, rest) if rest else self.form_values.get(self.user, {}))

    def cancel(self, rest: str) -> None:
        self._form()
        self.ws.close_modal(self.user)
        self.form_values.pop(self.user, None)
        self.say("  form closed")

    def _form(self) -> dict[str, Any]:
        view = self.ws.modal(self.user)
        if view is None:
            raise UsageError(f"@{self.names.user_name(self.user)} has no form open")
        return view

    def _send_form(self, view: dict[str, Any], values: dict[str, Any]) -> None:
        """Slack checks required fields and formats first; then the bot answers (or names fields to fix)."""
        self.form_values[self.user] = values
        errors = forms.problems(view, values)
        if not errors:
            response = self.interact(payloads.view_submission(forms.submitted_view(view, values)))
            answer = json.loads(response.body) if str(response.body).startswith("{") else {}
            errors = answer.get("errors") or {} if answer.get("response_action") == "errors" else {}
            if not errors and response.status == 200:
                self.ws.close_modal(self.user)
                self.form_values.pop(self.user, None)
        for line in self.screen.form_errors(view, values, errors) if errors and self.ask is None else []:
            self.say(line)
        self.settle_and_show()
        if errors and self.ask is not None:
            self._fill_in(view, errors)

    def _fill_in(self, view: dict[str, Any], errors: dict[str, str] | None = None) -> None:
        """Interactive: ask for each field (or only those with errors), then send."""
        assert self.ask is not None
        values = forms.ask(view, self.ask, values=self.form_values.get(self.user), errors=errors, say=self.say)
        if values is None:
            self.cancel("")
        else:
            self._send_form(view, values)

    # -- time -------------------------------------------------------------------------------------
    def time_travel(self, rest: str) -> None:
        start = self.clock()
        end = parse_travel(rest, now=start, tz=self.tz)
        if end <= start:
            raise UsageError(f"the clock only moves forward; it is {local(start, self.tz)} now")
        self.settle()
        self.say(
            f"  ⏩ {local(start, self.tz)} → {local(end, self.tz)}; the scheduler's jobs run on their schedule in between"
        )
        at = start
        while (runs := next_runs(self.bot, after=at, until=end, skip_quiet=self.skip_quiet_ticks)) is not None:
            at, jobs = runs
            self.clock.set(at)
            for job in jobs:
                self.run_job(job, at)
            self.settle_and_show()
        self.clock.set(end)
        self.settle_and_show()

    def run_job(self, job: str, at: datetime) -> list[str]:
        """One scheduler job at `at` (as bot/entry/scheduler.py runs it); "deliver" only lets the outbox send."""
        if job == "digest":
            return self.bot.jobs.send_digest(now=at)
        if job in ("sla", "nags"):
            return self.bot.jobs.run_nags(job=job, now=at)
        return []

    def jobs(self, rest: str) -> None:
        now = self.clock()
        sent = len(self.run_job("sla", now)) + len(self.run_job("nags", now))
        self.say(f"  ran sla and nags at {local(now, self.tz)}: {sent} message(s)")
        self.settle_and_show()

    def digest(self, rest: str) -> None:
        if not self.run_job("digest", self.clock()):
            self.say("  no digest: the config names no domain channel or digest channel")
        self.settle_and_show()

    # -- what an operator sees ---------------------------------------------------------------------
    def show_metrics(self, rest: str) -> None:
        """The scrape of /metrics: its non-zero samples, without buckets and `_created` (`/metrics all`: every line)."""
        self.settle()
        scrape = self.bot.metrics.text()
        lines = (
            scrape.splitlines()
            if rest == "all"
            else [*nonzero_figures(scrape), "(the non-zero figures; /metrics all shows every line of the scrape)"]
        )
        for line in lines:
            self.say(f"  {line}")

    # -- after each line --------------------------------------------------------------------------
    def settle(self) -> None:
        """Wait for Bolt's listeners, then send what the outbox holds (as the outbox worker would), until quiet."""
        for _ in range(50):
            if not self.bot.pool.wait_idle(timeout=30):
                raise UsageError("a listener did not finish in 30 s")
            if self.bot.outbox.drain() == 0 and self.bot.pool.wait_idle(timeout=0):
                return
        raise UsageError("the outbox never settled")

    def settle_and_show(self) -> None:
        """Settle, then print what appeared since the last time, in order (and open a form that popped up)."""
        self.settle()
        opened = False
        for item in self.ws.take_shown():
            for line in self.screen.lines(item):
                self.say(line)
            opened = opened or (item.what == "modal" and item.user == self.user)
        for problem in self.ws.take_problems():
            self.say(f"  ⚠️ {problem}")
        if opened and self.ask is not None:
            self._fill_in(self._form())

    # -- typing ---------------------------------------------------------------------------------
    def slack_text(self, typed: str) -> str:
        """What Slack delivers for typed text: `&`, `<`, `>` escaped; `@ben`, `#support` as mentions."""
        return self.names.slack_text(typed)

    def _last_written(self) -> Message:
        """The last message a person (not the bot) wrote here: in this thread, or at the top of this channel."""
        written = [m for m in self.ws.messages(self.channel) if not m.bot and m.thread_ts == self.thread]
        if not written:
            raise UsageError("nobody has written here yet; type a message first")
        return written[-1]

    def _thread_name(self, channel: str, thread_ts: str) -> str:
        request = self.bot.queries.find_by_thread(channel, thread_ts)
        return request.key if request else self.bot.changelog.find_by_question(channel, thread_ts) or "a message"

    def _command_channel_name(self, channel: str) -> str:
        """What a slash command says of its channel: Slack names a private one "privategroup"."""
        return "privategroup" if self.names.is_private(channel) else self._channel_name(channel)

    def _channel_name(self, channel: str) -> str:
        return self.names.channels.get(channel, channel.lower())


COMMANDS: dict[str, Callable[[Console, str], None]] = {
    "/help": Console.show_help,
    "/as": Console.as_user,
    "/channel": Console.go_channel,
    "/thread": Console.go_thread,
    "/people": Console.list_people,
    "/channels": Console.list_channels,
    "/home": Console.open_home,
    "/click": Console.click,
    "/react": Console.react,
    "/shortcut": Console.shortcut,
    "/submit": Console.submit,
    "/cancel": Console.cancel,
    "/time-travel": Console.time_travel,
    "/jobs": Console.jobs,
    "/digest": Console.digest,
    "/shipped": Console.shipped,
    "/hook": Console.hook,
    "/metrics": Console.show_metrics,
}

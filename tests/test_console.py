"""`ai-intake console`: the real bot against the stand-in Slack, driven by typed lines.

docs/console.md's session is the transcript of tests/console_session.txt, checked here line for line, and the
README shows its start.
"""

import contextlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.entry.cli import main
from bot.runtime.config import load_config
from bot.console import forms, render
from bot.console.directory import Directory
from bot.console.main import CONSOLE_DB, DEMO_CONFIG, Session, open_session
from bot.console.timeline import parse_instant, parse_travel

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "console_session.txt"
DEMO = load_config(DEMO_CONFIG)


class Typist:
    """A console session in a test: `type(line)` returns what the console printed for that line."""

    def __init__(self, session: Session, out: io.StringIO) -> None:
        self.session, self.out = session, out
        self.console = session.console

    def type(self, line: str) -> str:
        start = len(self.out.getvalue())
        assert self.console.run(line)
        return self.out.getvalue()[start:]

    def request(self, key: str):
        return self.session.bot.queries.get(int(key.split("-")[1]))


def open_typist(tmp_path: Path, answers: list[str] | None = None, *, skip_quiet_ticks: bool = True) -> Typist:
    out = io.StringIO()
    ask = (lambda prompt: answers.pop(0)) if answers is not None else None
    return Typist(
        open_session(DEMO, db_path=str(tmp_path / "console.db"), out=out, ask=ask, skip_quiet_ticks=skip_quiet_ticks),
        out,
    )


@pytest.fixture
def typist(tmp_path: Path) -> Iterator[Typist]:
    t = open_typist(tmp_path)
    yield t
    t.session.close()


# -- the docs cannot drift -------------------------------------------------------------------------
PAGE = ROOT / "docs" / "console.md"
SESSION_BLOCK = re.compile(r"(# A console session\n.*?```text\n)(.*?)(```)", re.DOTALL)
EXCERPT_BLOCK = re.compile(r"(## What it looks like\n.*?```text\n)(.*?)(```)", re.DOTALL)


def page_session() -> str:
    return SESSION_BLOCK.search(PAGE.read_text()).group(2)


def test_the_pages_session_is_what_the_script_prints(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("AI_INTAKE_DB", raising=False)
    monkeypatch.delenv("AI_INTAKE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["console", "--script", str(SCRIPT)]) == 0
    printed = capsys.readouterr()
    assert printed.out == page_session(), (
        "the bot says something else now: `python -m tests.test_console` rewrites the page's session"
    )
    assert "demo organisation" in printed.err and "throwaway" in printed.err
    assert not list(tmp_path.iterdir()), "a script leaves no database behind"


def test_the_readme_shows_the_start_of_the_session() -> None:
    from tests.test_docs import CONSOLE_COMMAND

    readme = (ROOT / "README.md").read_text()
    assert f"    {CONSOLE_COMMAND}\n" in readme
    assert "ai-intake console --script tests/console_session.txt" in readme and "(docs/console.md)" in readme
    excerpt = EXCERPT_BLOCK.search(readme).group(2)
    assert page_session().startswith(excerpt) and 10 <= len(excerpt.splitlines()) <= 25
    assert "ai-intake console --script tests/console_session.txt" in PAGE.read_text()


# -- it is the real app --------------------------------------------------------------------------
def test_a_slash_command_goes_through_the_real_app_into_the_database(typist) -> None:
    shown = typist.type("/ai-request regression: refund bot answers with the wrong window")
    request = typist.request("AIR-1")
    assert request.source == "command" and request.kind == "regression" and request.domain == "support"
    assert request.card_channel == "C0SUPPORT" and request.card_ts
    assert "┌ #support · only @ana sees this · Mon 23 Nov 09:00\n│ Filed AIR-1: refund bot answers" in shown
    assert "┌ #support · Mon 23 Nov 09:00\n│ AIR-1 · Regression · P2" in shown
    with typist.session.bot.store.reading() as tx:
        assert [e.type for e in tx.events(request.id)] == ["created"]


def test_a_mention_files_from_the_message_and_answers_in_its_thread(typist) -> None:
    typist.type("/channel search")
    shown = typist.type("@ai-intake search results ignore the date filter")
    request = typist.request("AIR-1")
    assert request.source == "mention" and request.domain == "search" and request.origin_channel == "C0SEARCH"
    assert (
        "┌ #search › thread of AIR-1" in shown
        and "│ Filed AIR-1: search results ignore the date filter → #search" in shown
    )


def test_a_ticket_reaction_and_the_message_shortcut_file_the_message(typist) -> None:
    typist.type("the refund bot quotes 14 days again")
    assert "Filed AIR-1" in typist.type("/react ticket")
    assert typist.request("AIR-1").source == "reaction"
    typist.type("/channel growth")
    typist.type("onboarding emails recommend the wrong plan")
    typist.type("/shortcut")
    assert typist.request("AIR-2").source == "shortcut" and typist.request("AIR-2").domain == "growth"


def test_a_reply_in_the_cards_thread_is_a_comment(typist) -> None:
    typist.type("/ai-request regression: refund bot answers with the wrong window")
    typist.type("/as ben")
    assert typist.console.prompt == "ben@#support> "
    typist.type("/thread AIR-1")
    assert typist.console.prompt == "ben@#support›AIR-1> "
    shown = typist.type("looking at the prompt now")
    assert "First response: met Mon 23 Nov 09:00" in shown
    with typist.session.bot.store.reading() as tx:
        assert [e.type for e in tx.events(1)][-1] == "commented"


# -- buttons ----------------------------------------------------------------------------------------
def test_buttons_are_numbered_and_pressed_by_number_as_the_current_person(typist) -> None:
    shown = typist.type("/ai-request regression: refund bot answers with the wrong window")
    assert "│ [1 Edit details] [2 Withdraw]" in shown
    assert (
        "│ [3 Claim] [4 Take ownership] [5 Not mine] [6 Waiting on requester] [7 Resolve…] [8 Reassign… ▾ @ben]"
        in shown
    )
    refused = typist.type("3")
    assert (
        "only @ana sees this" in refused and "can claim AIR-1" in refused and typist.request("AIR-1").status == "open"
    )
    typist.type("/as chen")
    shown = typist.type("3")
    assert typist.request("AIR-1").status == "claimed" and typist.request("AIR-1").assignee == "U0CHEN"
    assert "┌ #support · edited" in shown and "│ @chen claimed this" in shown
    assert "[1 Not mine]" in shown, "the next line's buttons start again from 1"


def test_click_by_action_id_a_select_and_a_confirmation(typist) -> None:
    typist.type("/ai-request feature: refund bot quotes the order date")
    typist.type("/as ben")
    typist.type("/click request.reassign AIR-1 @chen")
    assert typist.request("AIR-1").assignee == "U0CHEN"
    shown = typist.type("/click request.resolve AIR-1")
    assert "Resolve AIR-1? → Yes" in shown and typist.request("AIR-1").status == "resolved"
    assert "no request.own button for AIR-9" in typist.type("/click request.own AIR-9")


def test_an_ephemeral_button_is_only_for_whoever_sees_it(typist) -> None:
    typist.type("/ai-request regression: refund bot answers with the wrong window")
    typist.type("/as ben")
    assert "only @ana sees that button; /as ana first" in typist.type("/click request.withdraw AIR-1")
    typist.type("/as ana")
    typist.type("2")
    assert typist.request("AIR-1").status == "declined"


# -- forms ------------------------------------------------------------------------------------------
def test_the_form_is_shown_and_filled_in_by_submit(typist) -> None:
    shown = typist.type("/ai-request")
    assert "┌ form “Ask for AI help” opens for @ana" in shown and "│ title *: Title (text)" in shown
    refused = typist.type("/submit kind=eval")
    assert "· not sent" in refused and "Please fill out this field." in refused
    typist.type(
        '/submit title="Refunds over 30 days have no eval" kind=eval priority=P2 description="we only test 14 days" '
        "links=https://wiki.example.com/refunds"
    )
    request = typist.request("AIR-1")
    assert (request.source, request.kind, request.priority, request.links) == (
        "modal",
        "eval",
        "P2",
        ["https://wiki.example.com/refunds"],
    )
    assert "has no form open" in typist.type("/submit title=again")


def test_the_bots_own_form_errors_are_shown_and_a_reason_form_comes_from_a_button(typist) -> None:
    typist.type("/ai-request regression: refund bot answers with the wrong window")
    typist.type("/as fay")
    shown = typist.type("/click request.disclaim AIR-1")
    assert "form “Not mine: AIR-1” opens for @fay" in shown
    typist.type('/submit reason="the prompt is unchanged; the retrieval index was rebuilt"')
    assert typist.request("AIR-1").disclaimers[0].by == "U0FAY"


def test_the_form_is_asked_field_by_field_when_interactive(tmp_path) -> None:
    answers = [
        "",
        "4",
        "",
        "",
        "no eval covers refunds",
        "not a link",
        "",
        "",
        "Refunds eval",
        "https://wiki.example.com/r",
    ]
    typist = open_typist(tmp_path, answers)
    try:
        shown = typist.type("/ai-request")
        assert "Please enter a valid URL." in shown and "Please fill out this field." in shown and not answers
        request = typist.request("AIR-1")
        assert (request.title, request.kind, request.description, request.links) == (
            "Refunds eval",
            "eval",
            "no eval covers refunds",
            ["https://wiki.example.com/r"],
        )
    finally:
        typist.session.close()


def test_submit_reads_values_by_block_id_label_option_or_number() -> None:
    view = {
        "blocks": [
            {
                "type": "input",
                "block_id": "kind",
                "label": {"text": "Kind"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [
                        {"value": "eval", "text": {"text": "Eval gap"}},
                        {"value": "question", "text": {"text": "Question"}},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "confidential",
                "label": {"text": "Confidentiality"},
                "optional": True,
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [{"value": "yes", "text": {"text": "Confidential"}}],
                },
            },
        ]
    }
    assert forms.parse_submit(view, "kind='Eval gap' confidentiality=yes") == {"kind": "eval", "confidential": ["yes"]}
    assert forms.parse_submit(view, "kind=2")["kind"] == "question"
    with pytest.raises(forms.FormError, match="no option 'bug'"):
        forms.parse_submit(view, "kind=bug")


# -- rendering --------------------------------------------------------------------------------------
def test_mrkdwn_is_shown_as_people_read_it() -> None:
    names = Directory.of(DEMO, bot_user_id="U0AIINTAKE")
    text = "*AIR-1* by <@U0ANA> in <#C0SUPPORT> and <#G0SUPPORTSEC|x>: <https://example.com/a_b|the_doc> _ok_ :compass:"
    assert (
        render.mrkdwn(text, names)
        == "AIR-1 by @ana in #support and #support-review: the_doc (https://example.com/a_b) ok 🧭"
    )
    escaped = "&lt;!channel&gt; &amp; &lt;@U0BEN&gt; *not &lt;b&gt;*"
    assert render.mrkdwn(escaped, names) == "<!channel> & <@U0BEN> not <b>"
    assert render.mrkdwn("<!here> <!subteam^S1|@oncall>", names) == "@here @oncall"


def test_user_text_is_shown_as_text_never_as_a_mention(typist) -> None:
    shown = typist.type("/ai-request <!channel> & <@U0BEN> say *hi*")
    assert "│ Filed AIR-1: <!channel> & <@U0BEN> say hi → #support" in shown
    assert typist.request("AIR-1").title == "<!channel> & <@U0BEN> say *hi*"


def test_typed_mentions_become_slack_mentions(typist) -> None:
    assert (
        typist.console.slack_text("@ai-intake ask @ben in #search, a < b & c")
        == "<@U0AIINTAKE> ask <@U0BEN> in <#C0SEARCH|search>, a &lt; b &amp; c"
    )


def test_the_app_home(typist) -> None:
    typist.type("/ai-request eval: no eval covers refunds over 30 days")
    shown = typist.type("/home")
    assert "┌ App Home of @ana" in shown and "Filed by you (1)" in shown and "AIR-1 P3 Eval gap" in shown


# -- moving around ----------------------------------------------------------------------------------
def test_as_and_channel_take_names_or_ids(typist) -> None:
    assert "you are now @ben (support engineer)" in typist.type("/as U0BEN")
    assert "you are now @gus (admin)" in typist.type("/as @gus")
    assert "who is 'nobody'" in typist.type("/as nobody")
    typist.type("/channel C0SEARCH")
    assert typist.console.prompt == "gus@#search> "
    typist.type("/channel support-review")
    assert typist.console.prompt == "gus@#support-review> "
    assert "no channel" in typist.type("/channel nowhere")
    assert "@leo" in typist.type("/people") and "#ai-triage" in typist.type("/channels")
    assert "not a console command" in typist.type("/frobnicate")


# -- time -------------------------------------------------------------------------------------------
def test_time_travel_brings_the_nags(typist) -> None:
    typist.type("/ai-request regression: refund bot answers with the wrong window")
    shown = typist.type("/time-travel 4h")
    assert "⏩ Mon 23 Nov 09:00 → Mon 23 Nov 13:00" in shown
    assert "┌ direct message to @ben · Mon 23 Nov 12:00\n│ AIR-1 first response at risk" in shown
    assert "┌ #support › thread of AIR-1 · Mon 23 Nov 13:00\n│ AIR-1 first response breached" in shown
    assert "┌ direct message to @eli · Mon 23 Nov 13:00" in shown and "Take ownership AIR-1" in shown
    assert typist.session.console.clock().isoformat() == "2026-11-23T12:00:00+00:00"
    assert "only moves forward" in typist.type("/time-travel 2026-11-01T09:00")
    assert "ran sla and nags at Mon 23 Nov 13:00: 0 message(s)" in typist.type("/jobs")


def test_the_digest_arrives_on_its_cron_and_on_demand(typist) -> None:
    typist.type("/ai-request regression: refund bot answers with the wrong window")
    assert "Weekly digest" not in typist.type("/time-travel 3d")
    shown = typist.type("/time-travel 2d")
    assert "┌ #ai-digest · Fri 27 Nov 16:00\n│ ━━ Weekly digest: all domains ━━" in shown
    assert "Weekly digest" not in typist.type("/digest"), "once a week per channel"


def test_parse_travel() -> None:
    tz = DEMO.calendar(None).tz
    now = parse_instant("2026-11-23T09:00", tz=tz)
    assert parse_travel("3d", now=now, tz=tz).isoformat() == "2026-11-26T09:00:00+01:00"
    assert parse_travel("1d 2h 30m", now=now, tz=tz).isoformat() == "2026-11-24T11:30:00+01:00"
    assert parse_travel("1w", now=now, tz=tz).day == 30


def test_skipping_quiet_ticks_sends_what_every_tick_would(tmp_path) -> None:
    """/time-travel skips the scheduler runs that find nothing; running every tick gives the same transcript."""
    script = [
        "/ai-request regression: refund bot answers with the wrong window",
        "/ai-request eval: refunds over 30 days",
        "/channel search",
        "@ai-intake security: new vendor for query rewriting",
        "/time-travel 2d",
    ]

    def transcript(name: str, *, skip_quiet_ticks: bool) -> str:
        typist = open_typist(tmp_path / name, skip_quiet_ticks=skip_quiet_ticks)
        try:
            return "".join(typist.type(line) for line in script)
        finally:
            typist.session.close()

    (tmp_path / "skip").mkdir()
    (tmp_path / "all").mkdir()
    skipping = transcript("skip", skip_quiet_ticks=True)
    assert transcript("all", skip_quiet_ticks=False) == skipping
    assert "first response breached" in skipping


# -- the command --------------------------------------------------------------------------------------
def test_the_console_keeps_its_database_and_starts_over_with_fresh(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("AI_INTAKE_DB", raising=False)
    monkeypatch.delenv("AI_INTAKE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("builtins.input", _lines("/ai-request eval: refunds over 30 days", "/quit"))
    assert main(["console"]) == 0
    out = capsys.readouterr().out
    assert f"database  {tmp_path / CONSOLE_DB}" in out and "Filed AIR-1" in out
    monkeypatch.setattr("builtins.input", _lines("/ai-request eval: refunds over 60 days"))
    assert main(["console"]) == 0
    assert "Filed AIR-2" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", _lines("/ai-request eval: refunds over 90 days"))
    assert main(["console", "--fresh"]) == 0
    assert "Filed AIR-1" in capsys.readouterr().out


def test_the_console_uses_ai_intake_db_and_config_when_set(tmp_path, monkeypatch, capsys) -> None:
    config = tmp_path / "mine.yml"
    config.write_text(DEMO_CONFIG.read_text().replace("name: growth", "name: marketing"))
    monkeypatch.setenv("AI_INTAKE_CONFIG", str(config))
    monkeypatch.setenv("AI_INTAKE_DB", str(tmp_path / "mine.db"))
    script = tmp_path / "s.txt"
    script.write_text("/ai-request queue marketing\n")
    assert main(["console", "--script", str(script), "--now", "2027-01-04T10:00"]) == 0
    printed = capsys.readouterr()
    assert "Open in marketing" in printed.out and "Mon 04 Jan 10:00" in printed.out
    assert str(config) in printed.err and "mine.db (AI_INTAKE_DB)" in printed.err
    assert (tmp_path / "mine.db").exists()
    assert main(["console", "--fresh"]) == 2
    assert "--fresh deletes only the console's own database" in capsys.readouterr().err


def test_the_console_package_does_not_import_the_tests() -> None:
    for path in (ROOT / "bot" / "console").glob("*.py"):
        assert "tests" not in re.findall(r"^(?:from|import) (\w+)", path.read_text(), re.MULTILINE), path.name


def _lines(*lines: str):
    queue = list(lines)

    def fake_input(prompt: str = "") -> str:
        if not queue:
            raise EOFError
        return queue.pop(0)

    return fake_input


def rewrite_block(page: Path, block: re.Pattern[str], script: Path) -> None:
    """Put a script's transcript into `page`'s `block`, after a change to what the bot says."""
    out = io.StringIO()
    for name in ("AI_INTAKE_DB", "AI_INTAKE_CONFIG"):
        os.environ.pop(name, None)
    with contextlib.redirect_stdout(out):
        main(["console", "--script", str(script)])
    page.write_text(block.sub(lambda m: m.group(1) + out.getvalue() + m.group(3), page.read_text(), count=1))


if __name__ == "__main__":
    rewrite_block(PAGE, SESSION_BLOCK, SCRIPT)  # the README's excerpt is its first lines: copy them by hand


# -- requests go where they belong, nothing is cut off, real payloads ------------------------------
def test_a_misrouted_request_is_moved_with_the_cards_select(typist) -> None:
    typist.type("/ai-request question: ranking ignores synonyms")  # typed in #support: routed there
    typist.type("/as ben")
    shown = typist.type("/click request.move AIR-1 search")
    request = typist.request("AIR-1")
    assert (request.domain, request.card_channel) == ("search", "C0SEARCH")
    assert "┌ #search · " in shown and "moved to search by @ben (from support)" in shown
    assert "┌ #support · edited" in shown and "│ ➡️ AIR-1 moved to search by @ben: its card (https://" in shown
    assert "@ivy @jon: it is yours now" in shown


def test_away_and_back(typist) -> None:
    typist.type("/as ben")
    assert "You are away until Mon 30 Nov (back that day)" in typist.type("/ai-request away until 2026-11-30")
    typist.type("/as ana")
    typist.type("/ai-request question: refund bot tone")
    assert typist.request("AIR-1").assignee == "U0CHEN"
    typist.type("/as ben")
    assert "Welcome back" in typist.type("/ai-request back")


def test_what_is_filed_in_the_review_channel_stays_there(typist) -> None:
    typist.type("/channel support-review")
    typist.type("/ai-request regression: refund bot reads other customers' tickets")
    request = typist.request("AIR-1")
    assert (request.confidential, request.card_channel) == (True, "G0SUPPORTSEC")


def test_a_ticket_on_a_reply_in_a_thread(typist) -> None:
    typist.type("/ai-request question: refund bot tone")
    typist.type("/thread AIR-1")
    typist.type("regression: and it quotes 14 days again")
    shown = typist.type("/react ticket")
    request = typist.request("AIR-2")
    assert request.kind == "regression" and request.title == "and it quotes 14 days again"
    assert "Filed AIR-2" in shown

"""The fake Slack Web API, driven through slack_sdk's real WebClient and WebhookClient."""

from __future__ import annotations

import ast
import inspect
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.webhook import WebhookClient

from tests import fake_slack as fake_slack_module
from tests.contract import SPECS, contract, needs_specs
from tests.fake_slack import _HANDLERS, FakeSlack, known_args, method_spec, required_args

TS = re.compile(r"^\d{10}\.\d{6}$")
MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "File a request"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}],
}


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=fake_slack.token, base_url=fake_slack.url)


def slack_error(call: Callable[[], object]) -> SlackApiError:
    """Run `call()` and return the SlackApiError it must raise."""
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value


def error_code(call: Callable[[], object]) -> str:
    """The `error` Slack answered to `call()`, which must fail."""
    return str(slack_error(call).response["error"])


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_the_fake_knows_what_the_contract_file_says() -> None:
    described = contract()["methods"]
    assert {"chat.postMessage", "chat.update", "views.open", "users.info", "chat.getPermalink"} <= set(described)
    for method, facts in described.items():
        assert method_spec(method) == facts
        assert required_args(facts) <= known_args(facts), method
    assert method_spec("chat.postMessages") is None


@needs_specs
@pytest.mark.parametrize("method", sorted(contract()["methods"]))
def test_the_fake_knows_what_slacks_full_description_says(method: str) -> None:
    spec = json.loads((SPECS / "methods" / f"{method}.json").read_text())
    required, described = set(spec["args"].get("required", [])), set(spec["args"].get("properties", {}))
    assert required_args(method_spec(method)) == required - {"token"}
    assert known_args(method_spec(method)) == described | required | {"team_id"}
    assert method_spec(method)["json_body"] == bool(spec.get("json_input_supported"))


def errors_answered_in(tree: ast.AST) -> set[str]:
    """The error codes `tree` answers: string literals in `SlackError(...)` / `_refuse(...)`'s first argument,
    in `error=` arguments and in assignments to `error`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        sources: list[ast.AST] = []
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("SlackError", "_refuse") and node.args:
            sources.append(node.args[0])
        if isinstance(node, ast.Call):
            sources += [k.value for k in node.keywords if k.arg == "error"]
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "error" for t in node.targets):
            sources.append(node.value)
        found.update(code for src in sources for code in _strings_it_may_be(src))
    return found


def _strings_it_may_be(expr: ast.AST) -> list[str]:
    """The string literals an expression may evaluate to (through `a if c else b` and `a or b`)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        return _strings_it_may_be(expr.body) + _strings_it_may_be(expr.orelse)
    if isinstance(expr, ast.BoolOp):
        return [code for value in expr.values for code in _strings_it_may_be(value)]
    return []


def test_every_error_the_fake_answers_is_one_slack_documents() -> None:
    described = contract()["methods"]
    documented = set(contract()["common_errors"]).union(*(set(m["errors"]) for m in described.values()))
    # Slack answers invalid_arguments to malformed arguments of any method, though few descriptions list it.
    answered = errors_answered_in(ast.parse(inspect.getsource(fake_slack_module)))
    assert {"message_not_found", "invalid_blocks", "msg_blocks_too_long", "invalid_ts_oldest"} <= answered
    assert answered - documented == {"invalid_arguments"}
    for method, handler in _HANDLERS.items():  # and each method's own answers are that method's
        own = errors_answered_in(ast.parse(inspect.getsource(handler)))
        assert own <= set(described[method]["errors"]) | set(contract()["common_errors"]), method


def test_post_message_then_update_edits_the_kept_message(fake_slack: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="AIR-1 filed", blocks=[SectionBlock(text="*AIR-1*")])
    assert TS.match(posted["ts"]) and posted["channel"] == "C1"
    assert posted["message"]["bot_id"] == "B0BOT" and posted["message"]["blocks"][0]["type"] == "section"

    updated = client.chat_update(channel="C1", ts=posted["ts"], text="AIR-1 claimed", blocks=[section("claimed")])

    assert updated["ts"] == posted["ts"]
    [message] = fake_slack.messages("C1")
    assert message["text"] == "AIR-1 claimed" and message["blocks"] == [section("claimed")]
    assert fake_slack.calls_to("chat.update")[0]["ts"] == posted["ts"]


def test_ts_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(5)]
    assert stamps == sorted(set(stamps))


def test_update_and_delete_of_an_unknown_message(fake_slack: FakeSlack, client: WebClient) -> None:
    assert error_code(lambda: client.chat_update(channel="C1", ts="1.000001", text="x")) == "message_not_found"
    ts = client.chat_postMessage(channel="C1", text="bye")["ts"]
    client.chat_delete(channel="C1", ts=ts)
    assert fake_slack.messages("C1") == []


def test_unknown_method(fake_slack: FakeSlack, client: WebClient) -> None:
    assert error_code(lambda: client.api_call("chat.postMessages")) == "unknown_method"
    assert error_code(lambda: client.api_call("reactions.remove")) == "unknown_method"  # real, but not described
    violations = fake_slack.take_violations()
    assert len(violations) == 2 and all("not in tests/contract/slack.json" in v for v in violations)


def test_unknown_argument_is_a_violation(fake_slack: FakeSlack, client: WebClient) -> None:
    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x", colour="red"))
    assert error.response["error"] == "invalid_arguments"
    assert fake_slack.take_violations() == ["chat.postMessage: unknown arguments ['colour']"]


def test_team_id_is_allowed_everywhere(fake_slack: FakeSlack) -> None:
    bolts_client = WebClient(token=fake_slack.token, base_url=fake_slack.url, team_id="T0TEAM")
    bolts_client.chat_postMessage(channel="C1", text="x")
    assert fake_slack.calls_to("chat.postMessage") == [{"channel": "C1", "text": "x", "team_id": "T0TEAM"}]


def described_required(method: str, source: str) -> list[str]:
    """The required arguments of `method` (token left out), as the contract file or Slack's full description says."""
    if source == "contract":
        return [name for name in contract()["methods"][method]["required"] if name != "token"]
    assert SPECS is not None
    spec = json.loads((SPECS / "methods" / f"{method}.json").read_text())
    return [name for name in spec["args"]["required"] if name != "token"]


@pytest.mark.parametrize("source", ["contract", pytest.param("upstream", marks=needs_specs)])
@pytest.mark.parametrize("method", ["chat.postMessage", "chat.update", "reactions.add", "users.info"])
def test_each_required_argument_is_required(fake_slack: FakeSlack, client: WebClient, method: str, source: str) -> None:
    required = described_required(method, source)
    full = {name: "C1" if name == "channel" else "x" for name in required}
    for name in required:
        args = {k: v for k, v in full.items() if k != name}
        error = slack_error(lambda: client.api_call(method, params=args))  # noqa: B023  (called at once)
        assert error.response["error"] == "invalid_arguments", name
        assert f"missing required field: {name}" in error.response["response_metadata"]["messages"][0]
    assert len(fake_slack.take_violations()) == len(required)


def test_blocks_sent_as_a_form_string_are_decoded(fake_slack: FakeSlack, client: WebClient) -> None:
    client.api_call("chat.postMessage", data={"channel": "C1", "text": "x", "blocks": json.dumps([section("hi")])})
    assert fake_slack.calls_to("chat.postMessage")[0]["blocks"] == [section("hi")]


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        ([section("x" * 3001)], "invalid_blocks"),
        ([section("x")] * 51, "invalid_blocks"),
        ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}], "invalid_blocks"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}], "invalid_blocks"),
        ([{"type": "section", "text": "a bare string"}], "invalid_blocks"),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}, "acton_id": "go"}],
                }
            ],
            "invalid_blocks",
        ),
        ([section("x" * 2900)] * 5, "msg_blocks_too_long"),
    ],
    ids=["section-3001", "51-blocks", "unknown-type", "field-2001", "bare-text", "typo", "too-long"],
)
def test_invalid_blocks(fake_slack: FakeSlack, client: WebClient, blocks: list[dict[str, object]], error: str) -> None:
    answer = slack_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=blocks))
    assert answer.response["error"] == error
    assert len(fake_slack.take_violations()) == 1 and fake_slack.messages("C1") == []


def test_text_over_40000_characters_is_cut(fake_slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert len(fake_slack.messages("C1")[0]["text"]) == 40_000
    assert fake_slack.take_violations() == ["chat.postMessage: text of 40,001 characters is cut at 40,000"]


def test_multipart_form_arguments(fake_slack: FakeSlack) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="channel"\r\n\r\nC1\r\n'
        b'--B\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--B--\r\n'
    )
    request = urllib.request.Request(
        fake_slack.url + "chat.postMessage",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=B", "Authorization": f"Bearer {fake_slack.token}"},
    )
    assert json.load(urllib.request.urlopen(request, timeout=5))["ok"]
    assert fake_slack.calls_to("chat.postMessage") == [{"channel": "C1", "text": "hi"}]


def test_message_without_any_content(fake_slack: FakeSlack, client: WebClient) -> None:
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too
        assert error_code(lambda: client.chat_postMessage(channel="C1")) == "no_text"
    assert fake_slack.take_violations()


def test_rate_limit_then_retry_succeeds(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=0)
    retrying = WebClient(
        token=fake_slack.token, base_url=fake_slack.url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )

    assert retrying.chat_postMessage(channel="C1", text="x")["ok"]
    assert [call.status for call in fake_slack.calls] == [429, 200]
    assert fake_slack.calls[0].response == {"ok": False, "error": "ratelimited"}


def test_rate_limit_without_retry_handler(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.fail("*", status=429, retry_after=30)
    error = slack_error(lambda: client.auth_test())
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "30"
    assert client.auth_test()["user_id"] == "U0BOT"  # only the next call failed


def test_server_error_and_injected_errors(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.fail("chat.postMessage", status=500)
    fake_slack.fail("chat.postMessage", error="is_archived")
    assert slack_error(lambda: client.chat_postMessage(channel="C1", text="x")).response.status_code == 500
    assert error_code(lambda: client.chat_postMessage(channel="C1", text="x")) == "is_archived"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_channel_states(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.unknown_channels.add("C0GONE")
    fake_slack.not_in_channels.add("C0PRIVATE")
    assert error_code(lambda: client.chat_postMessage(channel="C0GONE", text="x")) == "channel_not_found"
    assert error_code(lambda: client.conversations_history(channel="C0PRIVATE")) == "not_in_channel"


def test_trigger_id_is_single_use(fake_slack: FakeSlack, client: WebClient) -> None:
    trigger = fake_slack.new_trigger_id()
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["title"]["text"] == "File a request"

    assert error_code(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == "exchanged_trigger_id"
    assert error_code(lambda: client.views_open(trigger_id="1.2.abc", view=MODAL)) == "invalid_trigger_id"
    assert len(fake_slack.take_violations()) == 2


def test_views_need_a_pointer_and_a_valid_view(fake_slack: FakeSlack, client: WebClient) -> None:
    assert error_code(lambda: client.api_call("views.open", json={"view": MODAL})) == "invalid_arguments"
    untitled = {k: v for k, v in MODAL.items() if k != "title"}
    error = slack_error(lambda: client.views_open(trigger_id=fake_slack.new_trigger_id(), view=untitled))
    assert error.response["error"] == "invalid_arguments"
    assert len(fake_slack.take_violations()) == 2


def test_views_update_and_publish(fake_slack: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(interactivity_pointer=fake_slack.new_trigger_id(), view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = slack_error(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL))
    assert stale.response["error"] == "hash_conflict"
    home = {"type": "home", "blocks": [section("Your requests")]}
    assert client.views_publish(user_id="U0ALICE", view=home)["view"]["type"] == "home"


def test_response_url_posts_are_recorded(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    assert WebhookClient(url).send(text="Filed AIR-1", response_type="ephemeral").status_code == 200
    assert fake_slack.responses == [{"url": url, "body": {"text": "Filed AIR-1", "response_type": "ephemeral"}}]


def test_response_url_checks_blocks_and_uses(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    assert WebhookClient(url).send(text="x", blocks=[section("x" * 3001)]).status_code == 400
    for _ in range(4):  # five uses in all
        assert WebhookClient(url).send(text="x").status_code == 200
    assert WebhookClient(url).send(text="x").status_code == 404
    assert [v.split(":")[0] for v in fake_slack.take_violations()] == ["response_url", "response_url"]


def test_not_authed_and_invalid_auth(fake_slack: FakeSlack) -> None:
    anonymous = WebClient(base_url=fake_slack.url)
    assert error_code(lambda: anonymous.chat_postMessage(channel="C1", text="x")) == "not_authed"
    stranger = WebClient(token="xoxb-someone-else", base_url=fake_slack.url)
    assert error_code(stranger.auth_test) == "invalid_auth"


def test_socket_mode_needs_the_app_token(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.socket_url = "ws://127.0.0.1:9/socket"
    assert client.apps_connections_open(app_token=fake_slack.app_token)["url"] == "ws://127.0.0.1:9/socket"
    assert error_code(lambda: client.api_call("apps.connections.open")) == "not_allowed_token_type"
    assert fake_slack.take_violations()


def test_json_body_to_a_method_that_ignores_json(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.add_user("U0ALICE")
    assert error_code(lambda: client.api_call("users.info", json={"user": "U0ALICE"})) == "invalid_arguments"
    assert "sent a JSON body" in fake_slack.take_violations()[0]


def test_users_info(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.add_user("U0ALICE", name="alice", tz="America/New_York")
    user = client.users_info(user="U0ALICE")["user"]
    assert (user["name"], user["tz"], user["is_bot"]) == ("alice", "America/New_York", False)
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert error_code(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"


def test_history_replies_and_permalink(fake_slack: FakeSlack, client: WebClient) -> None:
    parent = fake_slack.add_message("C1", "please help")
    reply = client.chat_postMessage(channel="C1", thread_ts=parent, text="on it")["ts"]
    later = fake_slack.add_message("C1", "another thing")

    history = client.conversations_history(channel="C1")["messages"]
    assert [m["ts"] for m in history] == [later, parent] and history[1]["reply_count"] == 1
    page = client.conversations_history(channel="C1", oldest=parent, inclusive=True, limit=1)
    assert [m["ts"] for m in page["messages"]] == [later] and page["has_more"]
    assert [m["ts"] for m in client.conversations_replies(channel="C1", ts=parent)["messages"]] == [parent, reply]
    other = client.chat_postMessage(channel="C1", thread_ts=parent, text="and more")["ts"]
    by_reply = client.conversations_replies(channel="C1", ts=reply)["messages"]
    assert [m["ts"] for m in by_reply] == [parent, reply, other], "a reply's ts gives its whole thread, parent first"
    just = client.conversations_replies(channel="C1", ts=reply, oldest=reply, latest=reply, inclusive=True, limit=2)
    assert [m["ts"] for m in just["messages"]] == [parent, reply]
    assert error_code(lambda: client.conversations_replies(channel="C1", ts="1.000001")) == "thread_not_found"
    assert [m["text"] for m in fake_slack.thread("C1", parent)] == ["please help", "on it", "and more"]
    link = client.chat_getPermalink(channel="C1", message_ts=reply)["permalink"]
    assert link.endswith(f"/archives/C1/p{reply.replace('.', '')}?thread_ts={parent}&cid=C1")


def test_a_message_to_a_user_lands_in_the_dm(fake_slack: FakeSlack, client: WebClient) -> None:
    assert client.chat_postMessage(channel="U0ALICE", text="hi")["channel"] == "D0ALICE"
    assert client.chat_postEphemeral(channel="C1", user="U0ALICE", text="psst")["message_ts"]
    assert [m["text"] for m in fake_slack.messages("D0ALICE")] == ["hi"] and fake_slack.messages("C1") == []


def test_assert_clean_lists_the_violations() -> None:
    fake = FakeSlack().start()
    try:
        with pytest.raises(SlackApiError):
            WebClient(token=fake.token, base_url=fake.url).chat_postMessage(channel="C1", text="x", colour="red")
    finally:
        fake.stop()
    with pytest.raises(AssertionError, match="colour"):
        fake.assert_clean()


def test_stop_frees_the_port_and_start_is_idempotent() -> None:
    fake = FakeSlack()
    assert fake.start() is fake and fake.start() is fake
    url = fake.url
    fake.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "auth.test", timeout=1)

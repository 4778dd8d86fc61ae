"""The request form: opened by `/ai-request`, validated inline, filed with triage."""

from tests.harness import Harness


def open_form(h: Harness) -> dict:
    h.command("", channel="C0SEARCH")
    h.settle()
    return h.fake.calls_to("views.open")[-1]["view"]


def values(**overrides):
    base = {
        "title": {"type": "plain_text_input", "value": "Ranking eval misses long queries"},
        "kind": {"type": "static_select", "selected_option": {"value": "eval"}},
        "domain": {"type": "static_select", "selected_option": None},
        "priority": {"type": "static_select", "selected_option": {"value": "P2"}},
        "description": {"type": "plain_text_input", "value": "Queries over 12 words have no eval cases."},
        "links.0": {"type": "url_text_input", "value": "https://docs.example.com/evals"},
        "links.1": {"type": "url_text_input", "value": None},
        "confidential": {"type": "checkboxes", "selected_options": []},
    }
    return {**base, **overrides}


def test_form_has_every_field(harness: Harness) -> None:
    view = open_form(harness)
    blocks = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert blocks == {
        "title": "plain_text_input",
        "kind": "static_select",
        "domain": "static_select",
        "priority": "static_select",
        "description": "plain_text_input",
        "links.0": "url_text_input",
        "links.1": "url_text_input",
        "confidential": "checkboxes",
    }


def test_submitting_the_form_files_and_confirms(harness: Harness) -> None:
    view = open_form(harness)
    reply = harness.submit(view, values(), user="U0REQ")
    assert reply.status == 200 and reply.body == ""
    harness.settle()
    request = harness.bot.queries.get(1)
    assert (request.kind, request.priority, request.domain, request.source) == ("eval", "P2", "search", "modal")
    assert request.links == ["https://docs.example.com/evals"]
    confirmations = [c for c in harness.fake.calls_to("chat.postEphemeral") if c["user"] == "U0REQ"]
    assert confirmations and "AIR-1" in confirmations[0]["text"]


def test_the_domain_chosen_in_the_form_wins(harness: Harness) -> None:
    view = open_form(harness)
    harness.submit(
        view, values(domain={"type": "static_select", "selected_option": {"value": "support"}}), user="U0REQ"
    )
    harness.settle()
    assert harness.bot.queries.get(1).domain == "support"
    assert "chosen in the form" in harness.card_text("AIR-1")


def test_invalid_input_comes_back_as_inline_errors(harness: Harness) -> None:
    view = open_form(harness)
    blank = harness.submit(view, values(title={"type": "plain_text_input", "value": "   "}), user="U0REQ")
    assert blank.json() == {"response_action": "errors", "errors": {"title": "Give the request a title."}}
    bad_link = harness.submit(
        view, values(**{"links.0": {"type": "url_text_input", "value": "javascript:alert(1)"}}), user="U0REQ"
    )
    assert bad_link.json()["errors"] == {"links.0": "A link must be a plain http(s) address."}
    harness.settle()
    assert harness.bot.queries.get(1) is None

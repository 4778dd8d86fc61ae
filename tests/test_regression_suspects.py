"""A regression's card lists its suspects (its domain's changes from both sides in the days before it,
newest first, who shipped each and whether the other side acknowledged it), and resolving it asks for its
cause and the eval case that now covers it, stored with the resolution. Through the real app."""

import json
from typing import Any

from bot.blocks import ids
from tests.harness import Harness
from tests.stories import confidential_regression, last_view, resolve


def ship(h: Harness, text: str, *, user: str, channel: str = "C0SUPPORT") -> None:
    assert h.command(f"shipped {text}", user=user, channel=channel).status == 200
    h.settle()


def file_regression(h: Harness, text: str, *, channel: str = "C0SUPPORT", user: str = "U0REQ") -> str:
    reply = h.command(f"regression: {text}", user=user, channel=channel)
    h.settle()
    return json.loads(reply.body)["text"].split()[1]  # "Filed AIR-3 → …"


def suspects_text(h: Harness, key: str) -> str:
    found = [b for b in h.card(key)["blocks"] if b.get("block_id") == "card.suspects"]
    return json.dumps(found[0]) if found else ""


def test_the_card_lists_the_changes_before_it_newest_first(harness: Harness) -> None:
    h = harness
    ship(h, "intent: an old intent", user="U0PPM")  # CHG-1, 20 days before: not a suspect
    h.clock.advance(days=17)
    ship(h, "intent: express-refund intent", user="U0PPM")  # CHG-2
    h.clock.advance(days=1)
    ship(h, "platform: prompt: refund answer v8", user="U0MLPM")  # CHG-3, answered below
    ship(h, "platform: model: new ranking model", user="U0MLPM2", channel="C0SEARCH")  # CHG-4, another domain
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-3", user="U0PPM")
    h.clock.advance(days=2)
    key = file_regression(h, "refund bot quotes a 14-day window")
    text = suspects_text(h, key)
    assert "changes in support in the 14 days before it" in text
    assert text.index("CHG-3") < text.index("CHG-2") and "CHG-1" not in text and "CHG-4" not in text
    assert "shipped by <@U0PPM>" in text and ":warning: not acknowledged (asked <@U0MLPM>)" in text
    assert "acknowledged by <@U0PPM>: needs work" in text
    h.click(ids.CHANGE_COVERED, "CHG-2", user="U0MLPM")
    h.settle()
    h.submit(
        last_view(h), {ids.EVAL_LINK: {"type": "url_text_input", "value": "https://evals.example.com/7"}}, user="U0MLPM"
    )
    h.settle()
    assert "acknowledged by <@U0MLPM>: covered" in suspects_text(h, key)  # the answer refreshed the card


def test_resolving_asks_for_the_cause_and_the_eval_case(harness: Harness) -> None:
    h = harness
    ship(h, "intent: express-refund intent", user="U0PPM")  # CHG-1
    ship(h, "platform: model: new ranking model", user="U0MLPM2", channel="C0SEARCH")  # CHG-2: not a suspect here
    key = file_regression(h, "refund bot quotes a 14-day window")
    card_buttons = [e["action_id"] for b in h.card(key)["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids.RESOLVE_REGRESSION in card_buttons and ids.RESOLVE not in card_buttons
    h.click(ids.RESOLVE_REGRESSION, key, user="U0OUTSIDER")
    h.settle()
    assert not h.fake.calls_to("views.open") and "Only members of support" in h.fake.responses[-1]["body"]["text"]
    h.click(ids.RESOLVE_REGRESSION, key, user="U0ENG1")
    h.settle()
    view = last_view(h)
    assert view["callback_id"] == ids.CLOSURE_MODAL
    cause = next(b for b in view["blocks"] if b["block_id"] == ids.CAUSE)
    assert [o["value"] for o in cause["element"]["options"]] == [
        "change:CHG-1",
        "product",
        "platform",
        "both",
        "outside",
    ]

    def submit(**values: str) -> Any:
        state = {
            ids.CAUSE: {
                "type": "static_select",
                "selected_option": {"value": values["cause"]} if "cause" in values else None,
            },
            ids.EVAL_CASE: {"type": "url_text_input", "value": values.get("eval_case")},
            ids.NO_EVAL_REASON: {"type": "plain_text_input", "value": values.get("reason")},
        }
        return h.submit(view, state, user="U0ENG1").json()

    assert ids.CAUSE in submit(eval_case="https://evals.example.com/9")["errors"]
    assert (
        "CHG-2 is not among this regression's suspects" in submit(cause="change:CHG-2", reason="x")["errors"][ids.CAUSE]
    )
    assert submit(cause="platform", eval_case="ftp://evals")["errors"].keys() == {ids.EVAL_CASE}
    assert "or say why there is none" in submit(cause="platform")["errors"][ids.EVAL_CASE]
    assert h.bot.queries.get(1).status == "open"
    assert submit(cause="change:CHG-1", eval_case="https://evals.example.com/cases/express-refund") is None
    h.settle()
    request, events = h.bot.queries.status(key, "U0ENG1")
    assert request.status == "resolved"
    assert {k: events[-1].data[k] for k in ("cause", "eval_case")} == {
        "cause": "change:CHG-1",
        "eval_case": "https://evals.example.com/cases/express-refund",
    }
    card = json.dumps(h.card(key)["blocks"])
    assert "Closed with cause CHG-1; eval case <https://evals.example.com/cases/express-refund|" in card
    thread = [m["text"] for m in h.fake.thread(request.card_channel, request.card_ts)]
    assert any(t.startswith("<@U0ENG1> resolved this. Closed with cause CHG-1; eval case") for t in thread)


def test_a_closure_without_an_eval_case_says_why(harness: Harness) -> None:
    h = harness
    key = file_regression(h, "refund bot quotes a 14-day window")
    h.click(ids.RESOLVE_REGRESSION, key, user="U0MLPM")
    h.settle()
    state = {
        ids.CAUSE: {"type": "static_select", "selected_option": {"value": "outside"}},
        ids.EVAL_CASE: {"type": "url_text_input", "value": None},
        ids.NO_EVAL_REASON: {"type": "plain_text_input", "value": "the provider's <!here> outage"},
    }
    assert h.submit(last_view(h), state, user="U0MLPM").body == ""
    h.settle()
    assert "Closed with cause outside; no eval case: the provider's &lt;!here&gt; outage" in json.dumps(
        h.card(key)["blocks"]
    )


def test_a_confidential_regression_shows_no_suspects_or_cause_where_its_words_are_hidden(harness: Harness) -> None:
    h = harness
    ship(h, "platform: model: new ranking model", user="U0MLPM2", channel="C0SEARCH")
    ship(h, "intent: express-refund intent", user="U0PPM")
    view = {
        "type": "modal",
        "callback_id": ids.REQUEST_MODAL,
        "private_metadata": json.dumps({"channel": "C0SEARCH"}),
        "blocks": [],
    }
    for channel, domain in (("C0SEARCH", "search"), ("C0SUPPORT", "support")):
        values = confidential_regression(f"SECRET ranking leak in {domain}", domain)
        h.submit({**view, "private_metadata": json.dumps({"channel": channel})}, values, user="U0REQ")
    h.settle()
    search, support = h.bot.queries.get(1), h.bot.queries.get(2)
    assert (search.card_channel, support.card_channel) == ("C0SEARCH", "G0SUPSEC")
    assert suspects_text(h, "AIR-1") == ""  # a public channel: no suspects on the redacted card
    assert "CHG-2" in suspects_text(h, "AIR-2")  # the private review channel may see it
    h.click(ids.RESOLVE_REGRESSION, "AIR-1", user="U0ENG3")
    h.settle()
    state = {
        ids.CAUSE: {"type": "static_select", "selected_option": {"value": "change:CHG-1"}},
        ids.EVAL_CASE: {"type": "url_text_input", "value": "https://evals.example.com/SECRET-case"},
    }
    h.submit(last_view(h), state, user="U0ENG3")
    h.settle()
    public = [json.dumps(m) for m in h.fake.messages("C0SEARCH")]
    assert not [m for m in public if "SECRET" in m or "Closed with" in m], public
    assert h.bot.queries.status("AIR-1", "U0ENG3")[1][-1].data["eval_case"] == "https://evals.example.com/SECRET-case"


def test_many_long_suspects_stay_within_block_kit_limits(harness: Harness) -> None:
    h = harness
    for i in range(12):
        ship(h, f"intent: {'express refund with a very long description ' * 6}#{i}"[:300], user="U0PPM")
    key = file_regression(h, "refund bot quotes a 14-day window")
    text = json.loads(suspects_text(h, key))["text"]["text"]
    assert text.count("• *CHG-") == 5 and "… and 7 more: `/ai-request changes support`" in text
    assert len(text) <= 3000


def test_resolving_with_a_change_as_its_cause_answers_it_and_its_nags_stop(harness: Harness) -> None:
    h = harness
    ship(h, "intent: express-refund intent", user="U0PPM")  # CHG-1: the platform owner is asked
    key = file_regression(h, "refund bot quotes a 14-day window")
    h.click(ids.OWN, key, user="U0MLPM")
    resolve(h, key, "U0MLPM", "change:CHG-1", eval_case="https://evals.example.com/cases/express-refund")
    answer = h.bot.changelog.get("CHG-1").answer
    assert (answer.answer, answer.by, answer.eval_link) == (
        "needs_work",
        "U0MLPM",
        "https://evals.example.com/cases/express-refund",
    )
    line = next(c for c in h.fake.calls_to("chat.postMessage") if "as its cause" in c["text"])
    assert line["text"] == (
        f"<@U0MLPM> resolved {key} naming CHG-1 as its cause: needs work ({key} was caused by it); "
        "the eval case: <https://evals.example.com/cases/express-refund|https://evals.example.com/cases/express-refund>"
    )
    before = len(h.fake.calls_to("chat.postMessage"))
    for _ in range(10):  # two weeks of mornings: the change is answered, nobody is reminded of it
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()
    assert not [c for c in h.fake.calls_to("chat.postMessage")[before:] if "CHG-1" in json.dumps(c)]


def test_a_change_answered_not_relevant_then_named_as_a_cause_is_recorded_and_counted(harness: Harness) -> None:
    h = harness
    ship(h, "intent: express-refund intent", user="U0PPM")  # CHG-1: the platform owner says it is not theirs to cover
    h.click(ids.CHANGE_NOT_RELEVANT, "CHG-1", user="U0MLPM", channel="C0SUPPORT")
    h.settle()
    h.submit(
        last_view(h),
        {ids.REASON: {"type": "plain_text_input", "value": "the prompt never sees refunds"}},
        user="U0MLPM",
    )
    h.settle()
    key = file_regression(h, "refund bot quotes a 14-day window")
    h.click(ids.OWN, key, user="U0MLPM")
    resolve(h, key, "U0MLPM", "change:CHG-1", eval_case="https://evals.example.com/cases/express-refund")
    assert h.bot.changelog.get("CHG-1").answer.answer == "not_relevant", "the first answer stands"
    with h.bot.store.reading() as tx:
        named = [e for e in tx.changes.events("CHG-1") if e.type == "change.named_cause"]
    assert [(e.data["regression"], e.data["answer"]) for e in named] == [(key, "not_relevant")]
    line = next(c for c in h.fake.calls_to("chat.postMessage") if "as its cause" in c["text"])
    assert line["text"].endswith("It had been answered “not relevant”.")
    h.clock.advance(days=1)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()
    digest = json.dumps(
        [c["blocks"] for c in h.fake.calls_to("chat.postMessage") if "Weekly digest: support" in c["text"]],
        ensure_ascii=False,
    )
    assert "Named as a regression's cause after “not relevant”: *CHG-1*" in digest

"""Possible duplicates at intake and `/ai-request search`, through the real app: a new request's card lists up
to three similar open or recently closed requests (the full-text index over titles and descriptions), the
confidential ones only where the card may show them, with "Duplicate of…" to close it linked to one; search
finds past requests, best match first, a page at a time, each confidential one only for whoever may see it."""

import json
from typing import Any

from bot.blocks import ids
from tests.harness import TEAM, Harness
from tests.stories import dm_recipients, news_to


def file(h: Harness, text: str, *, user: str = "U0REQ", channel: str = "C0SUPPORT") -> str:
    reply = h.command(text, user=user, channel=channel)
    h.settle()
    return json.loads(reply.body)["text"].split()[1]


def similar_of(h: Harness, key: str) -> str:
    found = [b for b in h.card(key)["blocks"] if b.get("block_id") == "card.similar"]
    return found[0]["text"]["text"] if found else ""


def select_options(h: Harness, key: str) -> list[str]:
    """The similar requests "Duplicate of…" offers (its last option, "Another request…", left out)."""
    return [
        o["value"]
        for b in h.card(key)["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.DUPLICATE
        for o in e["options"]
        if not o["value"].endswith(f">{ids.ANOTHER}")
    ]


def offers_another(h: Harness, key: str) -> bool:
    return any(
        o["value"] == f"{key}>{ids.ANOTHER}"
        for b in h.card(key)["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.DUPLICATE
        for o in e["options"]
    )


def pick(h: Harness, key: str, value: str, *, user: str) -> None:
    request = h.bot.queries.get(int(key.split("-")[1]))
    h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": TEAM},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": request.card_channel, "name": "x"},
            "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
            "message": h.card(key),
            "actions": [
                {
                    "action_id": ids.DUPLICATE,
                    "block_id": "card.actions",
                    "type": "static_select",
                    "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
                    "action_ts": "1.1",
                }
            ],
        }
    )
    h.settle()


def test_a_new_requests_card_lists_similar_ones(harness: Harness) -> None:
    h = harness
    first = file(h, "regression: refund bot answers with the wrong refund window")
    file(h, "question: which eval covers the ranking index?", channel="C0SEARCH")
    second = file(h, "regression: the refund window the bot quotes is wrong")
    assert similar_of(h, first) == ""
    text = similar_of(h, second)
    assert f"*{first}* Regression — refund bot answers with the wrong refund window" in text and "AIR-2" not in text
    assert select_options(h, second) == [f"{second}>{first}"]
    unrelated = file(h, "feature: summarise escalations for the weekly report")
    assert similar_of(h, unrelated) == "" and select_options(h, unrelated) == []


def test_a_request_for_another_kind_of_thing_is_not_a_duplicate(harness: Harness) -> None:
    h = harness
    broken = file(h, "the bot no longer recognises order IDs with a dash in them since the deploy")
    evals = file(h, "add eval cases for order ids with dashes and spaces pls", user="U0ENG1")
    assert similar_of(h, evals) == "" and select_options(h, evals) == []  # same subject, another ask
    again = file(h, "order ids like 123-456 are not understood by the chatbot anymore", user="U0REQ2")
    assert select_options(h, again) == [f"{again}>{broken}"]


def test_at_most_three_open_or_recently_closed(harness: Harness) -> None:
    h = harness
    old = file(h, "regression: refund window quoted wrong in chat")
    h.click(ids.RESOLVE, old, user="U0ENG1")
    h.settle()
    h.clock.advance(days=31)
    for i in range(4):
        file(h, f"regression: refund window quoted wrong in email {i}")
    newest = file(h, "regression: refund window quoted wrong everywhere")
    options = select_options(h, newest)
    assert len(options) == 3 and f"{newest}>{old}" not in options  # closed 31 days ago: too old
    h.click(ids.RESOLVE_REGRESSION, "AIR-2", user="U0ENG1")  # a regression asks for its closure …
    h.settle()
    assert h.fake.calls_to("views.open")[-1]["view"]["callback_id"] == ids.CLOSURE_MODAL


def test_confidential_similar_requests_show_only_where_the_card_may_show_them(harness: Harness) -> None:
    h = harness
    secret = file(h, "security review: SECRET vendor model reads refund transcripts")  # card in G0SUPSEC
    public = file(h, "question: may the vendor model read refund transcripts?")
    assert h.bot.queries.get(1).card_channel == "G0SUPSEC" and h.bot.queries.get(2).card_channel == "C0SUPPORT"
    assert "SECRET" not in json.dumps(h.card(public)) and select_options(h, public) == []
    private = file(h, "security review: vendor model and refund transcripts retention")
    assert secret in similar_of(h, private) and public in similar_of(h, private)  # the review channel may see both


def test_duplicate_of_closes_the_new_one_and_links_both(harness: Harness) -> None:
    h = harness
    first = file(h, "regression: refund bot answers with the wrong refund window")
    second = file(h, "regression: the refund window the bot quotes is wrong", user="U0REQ2")
    pick(h, second, f"{second}>{first}", user="U0OUTSIDER")
    assert h.bot.queries.get(2).status == "open"
    assert (
        "Only members of support and the requester (or admins) can close as a duplicate AIR-2."
        in h.fake.responses[-1]["body"]["text"]
    )
    pick(h, second, f"{second}>{first}", user="U0REQ2")
    closed = h.bot.queries.get(2)
    assert (closed.status, closed.court) == ("declined", "nobody")
    assert h.bot.queries.status(second, "U0ADMIN")[1][-1].data["of"] == first
    assert h.bot.queries.status(first, "U0ADMIN")[1][-1].data == {"duplicate": second}
    original = h.bot.queries.get(1)
    assert "AIR-2 was closed as a duplicate of this." in [
        m["text"] for m in h.fake.thread(original.card_channel, original.card_ts)
    ]
    assert select_options(h, second) == [] and not offers_another(h, second)  # closed: nothing more to pick


def test_a_request_not_suggested_can_be_named_the_original_by_its_key(harness: Harness) -> None:
    h = harness
    original = file(h, "the refund bot quotes 14 days for refunds, policy says 5")
    suggested = file(h, "refund bot tells customers the wrong store credit amount")
    later = file(h, "refund bot tells customers they wait two weeks for their money back??", user="U0REQ2")
    assert select_options(h, later) == [f"{later}>{suggested}"] and offers_another(h, later)  # the wrong one suggested
    pick(h, later, f"{later}>{ids.ANOTHER}", user="U0OUTSIDER")
    assert not h.fake.calls_to("views.open")  # who may not close it is not asked for a key
    pick(h, later, f"{later}>{ids.ANOTHER}", user="U0ENG1")
    form = h.fake.calls_to("views.open")[-1]["view"]
    assert form["callback_id"] == ids.DUPLICATE_MODAL
    for wrong in ("AIR-99", later, "refund"):
        reply = h.submit(form, {ids.ORIGINAL: {"type": "plain_text_input", "value": wrong}}, user="U0ENG1")
        assert reply.json()["response_action"] == "errors" and reply.json()["errors"][ids.ORIGINAL]
    assert h.bot.queries.get(3).status == "open"
    h.submit(form, {ids.ORIGINAL: {"type": "plain_text_input", "value": f" {original} "}}, user="U0ENG1")
    h.settle()
    closed = h.bot.queries.get(3)
    assert (closed.status, closed.court) == ("declined", "nobody")
    assert h.bot.queries.status(later, "U0ADMIN")[1][-1].data["of"] == original
    assert any(original in text for text in news_to(h, "U0REQ2"))


def test_search_finds_past_requests_a_page_at_a_time(harness: Harness) -> None:
    h = harness
    for i in range(12):
        file(h, f"question: refund window for market {i}?")
    file(h, "security review: refund window vendor SECRET")  # AIR-13, confidential
    file(h, "feature: escalation summaries")

    def search(words: str, user: str) -> dict[str, Any]:
        reply = h.command(f"search {words}", user=user)
        return reply.json()

    found = json.dumps(search("refund windows", "U0OUTSIDER"))
    assert "12 found" in found and "page 1 of 2" in found and "SECRET" not in found and "AIR-13" not in found
    member = json.dumps(search("refund windows", "U0ENG1"))
    assert "13 found" in member
    assert search("escalations refund", "U0OUTSIDER")["text"] == "No request holds “escalations refund”."
    assert "1 found" in json.dumps(search("escalations", "U0OUTSIDER"))
    assert "Say what to look for" in h.command("search the", user="U0OUTSIDER").json()["text"]
    next_page = next(
        e for b in search("refund windows", "U0OUTSIDER")["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    assert json.loads(next_page["value"]) == {"q": "refund windows", "page": 2}
    h.click(ids.SEARCH_MORE, next_page["value"], user="U0OUTSIDER")
    h.settle()
    page_two = h.fake.responses[-1]["body"]
    assert page_two["replace_original"] is True and "page 2 of 2" in json.dumps(page_two)
    assert json.dumps(page_two).count("refund window for market") == 2


def test_the_most_words_shared_go_first_then_the_newest(harness: Harness) -> None:
    h = harness
    best = file(h, "regression: refund window quoted wrong in chat")
    fewer = file(h, "regression: refund window wrong")
    also_fewer = file(h, "regression: wrong refund window")
    new = file(h, "regression: refund window quoted wrong in chat today")
    assert select_options(h, new) == [f"{new}>{best}", f"{new}>{also_fewer}", f"{new}>{fewer}"]


def test_the_candidates_are_the_newest_sharing_two_words_however_long_history_is(harness: Harness) -> None:
    h = harness
    for text in (
        "regression: refund window wrong",
        "question: refund policy",
        "regression: window of refund shown wrong",
        "feature: refund window in emails",
        "question: which eval covers ranking",
    ):
        file(h, text)
    with h.bot.store.reading() as tx:

        def newest(words: list[str], limit: int) -> list[int]:
            return [c.id for c in tx.search.newest_sharing_two(words, limit=limit)]

        assert newest(["refund", "window"], 2) == [4, 3]  # AIR-2 shares one word only
        assert newest(["refund", "window"], 10) == [4, 3, 1]
        assert newest(["ranking"], 10) == [5]
        assert newest([], 10) == []


def test_search_keeps_numbers_and_says_which_words_it_left_out(harness: Harness) -> None:
    harness.command("question: refund window of 14 days for German customers", user="U0REQ")
    harness.command("question: refund window of 30 days for Austrian customers", user="U0REQ")
    harness.settle()
    answer = harness.command("search 14 days", user="U0ENG1").json()
    shown = json.dumps(answer)
    assert "1 found" in shown and "AIR-1" in shown and "AIR-2" not in shown, shown
    answer = harness.command("search the 14 days of a refund", user="U0ENG1").json()
    shown = json.dumps(answer, ensure_ascii=False)
    assert "AIR-1" in shown and "AIR-2" not in shown
    assert "Not looked for (too short or too common): “the”, “of”, “a”." in shown
    assert harness.command("search 7 days", user="U0ENG1").json()["text"] == "No request holds “7 days”."


def test_a_match_is_made_of_meaning_not_of_boilerplate_or_common_words() -> None:
    from bot.domain.duplicates import MATCH_MIN, likeness, terms

    assert (
        likeness(
            terms("refunds take 14 days according to the bot"), terms("the assistant quotes a 14-day refund window")
        )
        >= MATCH_MIN
    )
    assert terms("refunds") == terms("refund") and {"14", "day"} <= terms("a 14-day window")
    hooked = "Filed by the monitoring hook (its id: alert-1)."
    assert (
        likeness(terms(f"latency high on checkout\n{hooked}"), terms(f"answers in english\n{hooked.replace('1', '2')}"))
        == 0
    )
    assert (
        likeness(
            terms("the bot is slow for customers again today"), terms("the bot answers customers wrong again today")
        )
        < MATCH_MIN
    )


def test_14_days_matches_a_14_day_window_and_anyone_may_mark_a_duplicate(harness: Harness) -> None:
    h = harness
    original = file(h, "the assistant quotes a 14-day refund window to customers", user="U0REQ")
    unrelated = file(h, "can the helpdesk export tickets as CSV?", user="U0REQ2")
    again = file(h, "refunds take 14 days according to the bot, policy says 5", user="U0REQ2")
    assert original in similar_of(h, again) and unrelated not in similar_of(h, again)
    assert similar_of(h, unrelated) == ""

    reply = h.command(f"duplicate {unrelated} of {original}", user="U0ENG1")  # not suggested: a member may still
    h.settle()
    assert f"{unrelated} is closed as a duplicate of {original}" in json.loads(reply.body)["text"]
    assert h.bot.queries.get(2).status == "declined"
    [told] = news_to(h, "U0REQ2")  # once: the requester's news of her request
    assert told.startswith(
        f"*{unrelated}* (can the helpdesk export tickets as CSV?): <@U0ENG1> closed it as a duplicate"
    )
    assert (
        f"duplicate of *{original}* (the assistant quotes a 14-day refund window to customers): follow that one" in told
    )
    assert dm_recipients(h, news=True) <= {"U0REQ2"}

    usage = h.command(f"duplicate {again}", user="U0ENG1")
    assert "duplicate AIR-12 of AIR-7" in json.loads(usage.body)["text"] and h.bot.queries.get(3).is_open
    refused = h.command(f"duplicate {again} of {original}", user="U0STRANGER")
    h.settle()
    assert h.bot.queries.get(3).is_open and "Only" in json.dumps(json.loads(refused.body))

"""The change log's story over two simulated weeks, through the real app: both sides of two domains ship
(by command, by the form, by a prompt registry's webhook), the other side is asked once, some answer and
some do not; monitoring files regressions over the hook, one of them later recovered; their cards show
their suspects; an owner closes one with its cause and eval case; a confidential regression in a domain
without a private review channel goes the same way; the jobs run every day and the digest twice.

Then every Web API call the fake Slack recorded is read with its audience, and the test checks what each
person received, and where: each question in its own domain's channel, mentioning exactly the person
asked; each answer in its question's thread; the eval request and the regressions on their domains'
cards; refusals only to whoever pressed; and no confidential word, suspect or cause where the request's
words may not be shown.
"""

import copy
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.modal import request_modal
from bot.hooks import signed_headers
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, Reply, start_harness
from tests.stories import confidential_regression, last_view, leaks, resolve
from tests.test_hook_endpoints import answer_of

SAMPLES = Path(__file__).resolve().parent / "samples" / "hooks"
SECRETS = {"monitoring": "s3cret-monitoring", "prompts": "s3cret-prompts"}
STORY_CONFIG: dict[str, Any] = {
    **copy.deepcopy(CONFIG),
    "hooks": {"monitoring": {"secret_env": "MONITORING_HOOK_SECRET"}, "prompts": {"secret_env": "PROMPTS_HOOK_SECRET"}},
    "assets": [
        {
            "name": "refund-answer",
            "kind": "prompt",
            "domain": "support",
            "product_owner": "U0PPMX",
            "platform_owner": "U0PROMPT",
        }
    ],
}
SECRET = re.compile(r"SECRET-[A-Z]+")
SEARCH_PEOPLE = {"U0ENG3", "U0SEC2", "U0PPM2", "U0MLPM2", "U0LEAD2", "U0ADMIN", "U0REQ9"}  # may see SECRET-SEARCH


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config=STORY_CONFIG, hook_secrets=SECRETS)
    yield harness
    harness.stop()


def hook(h: Harness, path: str, body: bytes | dict[str, Any], *, source: str) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = signed_headers(raw, source=source, secret=SECRETS[source], timestamp=int(h.clock().timestamp()))
    return answer_of(h, urllib.request.Request(h.url + path, data=raw, headers=headers))


def posts(h: Harness) -> list[dict[str, Any]]:
    return h.fake.calls_to("chat.postMessage") + h.fake.calls_to("chat.update")


def questions(h: Harness) -> dict[str, list[dict[str, Any]]]:
    """Change id -> every post or update of its question."""
    found: dict[str, list[dict[str, Any]]] = {}
    for call in posts(h):
        text = json.dumps(call.get("blocks") or [])
        if "change.question" in text:
            change = re.search(r"CHG-\d+", text).group(0)
            found.setdefault(change, []).append(call)
    return found


def test_two_weeks_of_changes_and_regressions(h: Harness) -> None:
    # -- Monday: both sides ship --------------------------------------------------------------------
    assert h.command("shipped intent: express-refund intent", user="U0PPM", channel="C0SUPPORT").status == 200  # CHG-1
    prompt = (SAMPLES / "langfuse-prompt-created.json").read_bytes()
    assert hook(h, "/hooks/changes?format=langfuse&domain=support", prompt, source="prompts").status == 201  # CHG-2
    h.command("shipped", user="U0PPM2", channel="C0SEARCH")  # CHG-3, by the form
    h.settle()
    form = {
        ids.DOMAIN: {"type": "static_select", "selected_option": {"value": "search"}},
        ids.SIDE: {"type": "static_select", "selected_option": {"value": "product"}},
        ids.CHANGE_KIND: {"type": "static_select", "selected_option": {"value": "surface"}},
        ids.WHAT: {"type": "plain_text_input", "value": "new results page"},
    }
    assert h.submit(last_view(h), form, user="U0PPM2").body == ""
    h.settle()
    assert (
        hook(h, "/hooks/changes?format=langfuse&domain=support", prompt, source="prompts").status == 200
    )  # again: nothing new
    asked = {c: h.bot.changelog.get(c).change.asked for c in ("CHG-1", "CHG-2", "CHG-3")}
    assert asked == {"CHG-1": "U0MLPM", "CHG-2": "U0PPMX", "CHG-3": "U0MLPM2"}

    # an outsider and the wrong side try to answer; the asset's product owner answers the prompt change
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0OUTSIDER")
    h.click(ids.CHANGE_COVERED, "CHG-3", user="U0MLPM")  # support's platform owner, on a search change
    h.click(ids.CHANGE_NOT_RELEVANT, "CHG-2", user="U0PPMX")
    h.settle()
    h.submit(
        last_view(h), {ids.REASON: {"type": "plain_text_input", "value": "the intents are unchanged"}}, user="U0PPMX"
    )
    h.settle()

    # -- Wednesday: monitoring files a regression; a person files a confidential one in search ---------
    h.clock.advance(days=2)
    regression = {"id": "refund-accuracy-1", "title": "Express refunds are told to wait 14 days", "domain": "support"}
    assert json.loads(hook(h, "/hooks/regressions", regression, source="monitoring").body)["key"] == "AIR-1"
    values = confidential_regression("SECRET-SEARCH ranking leaks partner prices", "search")
    h.submit(request_modal(h.bot.config, channel="C0SEARCH").to_dict(), values, user="U0REQ9")  # AIR-2
    h.settle()
    assert h.bot.queries.get(2).card_channel == "C0SEARCH" and h.bot.queries.get(2).confidential

    support_card = json.dumps(h.card("AIR-1")["blocks"])
    assert support_card.index("CHG-2") < support_card.index("CHG-1") and "CHG-3" not in support_card
    assert (
        "not acknowledged (asked <@U0MLPM>)" in support_card
        and "acknowledged by <@U0PPMX>: not relevant" in support_card
    )
    assert "card.suspects" not in json.dumps(h.card("AIR-2")["blocks"])  # redacted in a public channel

    # -- the platform owner takes AIR-1 and closes it with its cause; answers the change ---------------
    h.click(ids.OWN, "AIR-1", user="U0MLPM")
    resolve(h, "AIR-1", "U0MLPM", "change:CHG-1", eval_case="https://evals.example.com/cases/express-refund")
    answered = h.bot.changelog.get("CHG-1").answer  # resolving it with the change as its cause answers the change
    assert (answered.answer, answered.by, answered.eval_link) == (
        "needs_work",
        "U0MLPM",
        "https://evals.example.com/cases/express-refund",
    )
    # search: needs work on the new results page; the confidential regression closed by its engineer
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-3", user="U0MLPM2")
    resolve(h, "AIR-2", "U0ENG3", "change:CHG-3", eval_case="https://evals.example.com/SECRET-SEARCH")
    eval_request = h.bot.queries.get(3)
    assert (eval_request.kind, eval_request.domain, eval_request.assignee, eval_request.card_channel) == (
        "eval",
        "search",
        "U0MLPM2",
        "C0SEARCH",
    )

    # -- the next days: an alert group, one alert resolved; the jobs run daily, the digest twice ---------
    for day in range(1, 15):
        h.clock.advance(days=1)
        if day == 1:
            hook(
                h,
                "/hooks/regressions?format=alertmanager&domain=search",
                (SAMPLES / "alertmanager-firing.json").read_bytes(),
                source="monitoring",
            )  # AIR-4, AIR-5
        if day == 2:
            hook(
                h,
                "/hooks/regressions?format=alertmanager",
                (SAMPLES / "alertmanager-resolved.json").read_bytes(),
                source="monitoring",
            )
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        if day in (2, 9):
            h.bot.jobs.send_digest(now=h.clock())
        h.settle()
    assert [e.type for e in h.bot.queries.status("AIR-4", "U0ADMIN")[1]].count("recovered") == 1
    assert h.bot.queries.get(4).status == "open" and h.bot.queries.get(6) is None

    # -- who got what, where ------------------------------------------------------------------------------
    asked_where = {c: {call["channel"] for call in calls} for c, calls in questions(h).items()}
    assert asked_where == {"CHG-1": {"C0SUPPORT"}, "CHG-2": {"C0SUPPORT"}, "CHG-3": {"C0SEARCH"}}
    first_posts = {
        c: [call for call in calls if "ts" not in call or call.get("ts") is None] for c, calls in questions(h).items()
    }
    for change, calls in first_posts.items():
        assert len([c for c in calls if "change.actions" in json.dumps(c["blocks"])]) == 1, change  # asked once
        mentioned = set(re.findall(r"<@(U\w+)> \w+ shipped", json.dumps(calls[0]["blocks"])))
        assert mentioned == {asked[change]}, change
    answered_lines = [c for c in h.fake.calls_to("chat.postMessage") if " answered: " in str(c.get("text"))]
    assert {(c["channel"], c["text"].split(" answered")[0]) for c in answered_lines} == {
        ("C0SUPPORT", "<@U0PPMX>"),
        ("C0SEARCH", "<@U0MLPM2>"),
    }
    [by_cause] = [c for c in h.fake.calls_to("chat.postMessage") if "naming CHG-1 as its cause" in str(c.get("text"))]
    assert by_cause["channel"] == "C0SUPPORT" and by_cause.get("thread_ts")
    assert by_cause["text"].startswith(
        "<@U0MLPM> resolved AIR-1 naming CHG-1 as its cause: needs work (AIR-1 was caused by it)"
    )
    [named] = [c for c in h.fake.calls_to("chat.postMessage") if "naming CHG-3 as its cause" in str(c.get("text"))]
    assert named["text"] == "<@U0ENG3> resolved a confidential regression naming CHG-3 as its cause."  # answered before
    assert all(c.get("thread_ts") for c in answered_lines)  # in the question's thread

    refusals = [r["body"].get("text", "") for r in h.fake.responses]
    assert "Only <@U0MLPM>, the support lead or an admin can answer for CHG-1." in refusals
    assert "Only <@U0MLPM2>, the search lead or an admin can answer for CHG-3." in refusals
    assert h.bot.changelog.get("CHG-3").answer.by == "U0MLPM2"  # the refused press changed nothing

    # nobody saw the confidential regression's words, its suspects or its cause where they may not
    assert leaks(h, SECRET, people=SEARCH_PEOPLE) == []
    public_search = json.dumps([c for c in posts(h) if c["channel"] == "C0SEARCH" and "AIR-2" in json.dumps(c)])
    assert "Closed with" not in public_search and "card.suspects" not in public_search

    # the export says the same as the cards
    _, events = h.bot.queries.status("AIR-1", "U0ADMIN")
    resolution = next(e for e in events if e.data.get("status") == "resolved")
    assert (resolution.data["cause"], resolution.data["eval_case"]) == (
        "change:CHG-1",
        "https://evals.example.com/cases/express-refund",
    )

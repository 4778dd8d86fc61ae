"""Being away is something people do: `/ai-request away [until DATE]` and `back`, through the real app.

Stored in the database, respected by triage at once (no restart), shown on the App Home; when every
engineer of a domain is away the lead is told, once for each request filed so. The config's own
`away` is checked: only the domain's engineers or reviewers, and a review ladder that climbs.
"""

import copy
import json
import subprocess
import sys

import yaml

from bot.blocks.reasons import reason_text
from tests.harness import CONFIG, Harness
from tests.test_cli import ROOT


def assignee_of_next(h: Harness, text: str = "question: refund eval for German?") -> str | None:
    h.command(text, user="U0REQ")
    h.settle()
    newest = max(i for i in range(1, 100) if h.bot.queries.get(i) is not None)
    return h.bot.queries.get(newest).assignee


def dms(h: Harness, user: str) -> list[str]:
    return [c["text"] for c in h.fake.calls_to("chat.postMessage") if c["channel"] == user]


def test_away_until_a_date_is_skipped_by_triage_at_once_and_back_ends_it(harness: Harness) -> None:
    answer = harness.command("away until 2026-11-30", user="U0ENG1").json()
    assert answer["response_type"] == "ephemeral" and "away until Mon 30 Nov (back that day)" in answer["text"]
    assert assignee_of_next(harness) == "U0ENG2"
    assert assignee_of_next(harness) == "U0ENG2", "still away, however light their load"
    assert "Welcome back" in harness.command("back", user="U0ENG1").json()["text"]
    assert assignee_of_next(harness) == "U0ENG1"


def test_away_ends_by_itself_on_the_day_given(harness: Harness) -> None:
    harness.command("away until 2026-11-25", user="U0ENG1")
    assert assignee_of_next(harness) == "U0ENG2"
    harness.clock.advance(days=2)  # Wednesday 25 November: back
    assert assignee_of_next(harness) == "U0ENG1"


def test_when_everyone_is_away_the_lead_is_told_once_per_filing(harness: Harness) -> None:
    harness.command("away", user="U0ENG1")
    harness.command("away until 2026-12-07", user="U0ENG2")
    assert assignee_of_next(harness) is None
    request = harness.bot.queries.get(1)
    said = " ".join(map(reason_text, request.route_reasons))
    assert request.court == "lead" and "every support engineer is away" in said
    [told] = dms(harness, "U0LEAD")
    assert told.startswith("AIR-1 “refund eval for German?” was filed for support while every support engineer is away")
    assert assignee_of_next(harness, "question: refund agent tone?") is None
    assert len(dms(harness, "U0LEAD")) == 2 and "AIR-2" in dms(harness, "U0LEAD")[1]


def test_the_app_home_says_who_is_away(harness: Harness) -> None:
    harness.event({"type": "app_home_opened", "user": "U0ENG1", "channel": "D0HOME", "tab": "home", "event_ts": "1.1"})
    harness.settle()
    harness.command("away until 2026-12-07", user="U0ENG1")
    harness.settle()
    home = json.dumps(harness.fake.calls_to("views.publish")[-1]["view"])
    assert "You are away until Mon 07 Dec (back that day)" in home
    harness.command("back", user="U0ENG1")
    harness.settle()
    assert "You are away" not in json.dumps(harness.fake.calls_to("views.publish")[-1]["view"])


def test_away_in_the_past_or_for_someone_triage_never_picks_is_explained(harness: Harness) -> None:
    assert "is not after today (2026-11-23)" in harness.command("away until 2026-11-23", user="U0ENG1").json()["text"]
    assert "no domain's engineer or reviewer" in harness.command("away", user="U0REQ").json()["text"]
    assert harness.command("away until next week", user="U0ENG1").json()["text"].startswith("Nothing was filed")
    assert assignee_of_next(harness) == "U0ENG1"


def config_check(tmp_path, data) -> subprocess.CompletedProcess:
    path = tmp_path / "c.yml"
    path.write_text(yaml.safe_dump(data))
    return subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_config_check_shows_away_and_refuses_strangers_and_a_ladder_that_does_not_climb(tmp_path) -> None:
    data = copy.deepcopy(CONFIG)
    data["domains"][0]["away"] = ["U0ENG2"]
    done = config_check(tmp_path, data)
    assert done.returncode == 0, done.stderr
    header, *_ = [line for line in done.stdout.splitlines() if line.startswith("domain")]
    assert "away" in header.split()
    assert any(
        line.split()[0] == "support" and "U0ENG2" in line.split()[line.split().index("U0LEAD") + 1 :]
        for line in done.stdout.splitlines()
        if line.startswith("support")
    )
    data["domains"][0]["away"] = ["U0ENG3"]
    data["nags"] = {"review_ladder_days": [7, 21, 21, 90]}
    done = config_check(tmp_path, data)
    assert done.returncode == 1
    assert "domains[0]: away lists U0ENG3, not one of support's engineers or reviewers" in done.stderr
    assert (
        "nags.review_ladder_days: must be days that strictly increase from 1 on, like [7, 21, 45, 90]; got [7, 21, 21, 90]"
        in done.stderr
    )


def test_away_with_a_stand_in_sends_them_what_she_holds_and_her_nags(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")  # assigned to U0ENG1
    h.command("regression: refund bot quotes a 14-day window", user="U0REQ")  # U0ENG2
    h.command("question: does the refund agent keep the order number?", user="U0REQ")  # U0ENG1
    h.settle()
    assert [h.bot.queries.get(i).assignee for i in (1, 2, 3)] == ["U0ENG1", "U0ENG2", "U0ENG1"]
    answer = h.command("away until 2026-12-07 cover <@U0ENG2|eng2>", user="U0ENG1").json()["text"]
    assert "<@U0ENG2> covers for you" in answer
    h.settle()
    [listed] = dms(h, "U0ENG2")
    assert listed.startswith("<@U0ENG1> is away until Mon 07 Dec and asked you to cover: 2 open request(s) they hold:")
    assert "AIR-1" in listed and "AIR-3" in listed and "AIR-2" not in listed
    for _ in range(8):  # P4 first response: 40 business hours; the nags that were U0ENG1's go to U0ENG2
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.settle()
    assert dms(h, "U0ENG1") == []
    covered = [t for t in dms(h, "U0ENG2") if "AIR-1 first response" in t]
    assert covered and "(<@U0ENG1> is away, back Mon 07 Dec: <@U0ENG2> covers)" in covered[0]


def test_away_without_a_stand_in_leaves_the_nags_to_the_lead(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.settle()
    h.command("away until 2026-12-14", user="U0ENG1")
    h.settle()
    assert "is not covered by anyone, so their nags come to you" in dms(h, "U0LEAD")[0]
    for _ in range(8):
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.settle()
    assert dms(h, "U0ENG1") == [] and any(
        "<@U0ENG1> is away, back Mon 14 Dec: <@U0LEAD> covers" in t for t in dms(h, "U0LEAD")
    )
    assert "Name someone else" in h.command("away cover <@U0ENG1>", user="U0ENG1").json()["text"]


def test_a_regression_filed_while_the_whole_domain_is_away_goes_to_its_owners_and_lead_at_once(
    harness: Harness,
) -> None:
    h = harness
    h.command("away until 2026-12-07", user="U0ENG1")
    h.command("away until 2026-12-07", user="U0ENG2")
    h.command("regression: refund bot quotes a 14-day window", user="U0REQ")
    h.settle()
    for person in ("U0LEAD", "U0PPM", "U0MLPM"):
        [told] = [t for t in dms(h, person) if "AIR-1" in t]
        assert "while every support engineer is away" in told and "Take ownership of it" in told


def test_queues_mine_and_the_leads_home_show_who_is_away_and_until_when(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")  # U0ENG1
    h.settle()
    h.command("away until 2026-12-07", user="U0ENG1")
    h.settle()
    queue = json.dumps(h.command("queue support", user="U0LEAD").json(), ensure_ascii=False)
    assert "<@U0ENG1> :palm_tree: back Mon 07 Dec" in queue
    mine = json.dumps(h.command("mine", user="U0REQ").json(), ensure_ascii=False)
    assert "<@U0ENG1> :palm_tree: back Mon 07 Dec" in mine
    h.event({"type": "app_home_opened", "user": "U0LEAD", "channel": "D0LEAD", "tab": "home", "event_ts": "1.1"})
    h.settle()
    home = json.dumps(h.fake.calls_to("views.publish")[-1]["view"], ensure_ascii=False)
    assert "<@U0ENG1> :palm_tree: back Mon 07 Dec" in home


def test_the_card_of_a_request_marks_its_assignee_away_until_they_are_back(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")  # U0ENG1
    h.settle()
    h.command("away until 2026-12-07", user="U0ENG1")
    h.settle()
    assert "<@U0ENG1> :palm_tree: back Mon 07 Dec" in h.card_text("AIR-1")
    h.command("back", user="U0ENG1")
    h.settle()
    assert ":palm_tree:" not in h.card_text("AIR-1")

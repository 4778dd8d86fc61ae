"""Holidays from a calendar (`holidays: {country: DE, subdivision: BE}`), per org and per domain: looked
up once at load, the SLA clock counting exactly as if the same dates were listed by hand."""

import copy
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.config import ConfigError, parse_config
from bot.domain.policy import Config, Holidays
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Clock, start_harness

BERLIN = ZoneInfo("Europe/Berlin")


def config_with(org: Any = None, **domains: Any) -> dict[str, Any]:
    data = copy.deepcopy(CONFIG)
    if org is not None:
        data["holidays"] = org
    for d in data["domains"]:
        if d["name"] in domains:
            d["holidays"] = domains[d["name"]]
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    return raised.value.problems


def test_a_country_and_subdivision_give_that_regions_public_holidays() -> None:
    berlin = parse_config(config_with({"country": "DE", "subdivision": "BE"})).holidays.dates
    bavaria = parse_config(config_with({"country": "de", "subdivision": "by"})).holidays.dates
    assert {date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)} <= berlin & bavaria
    assert date(2027, 3, 8) in berlin and date(2027, 3, 8) not in bavaria  # Women's Day: Berlin only
    assert date(2027, 1, 6) in bavaria and date(2027, 1, 6) not in berlin  # Epiphany: Bavaria only
    assert date(2000, 12, 25) in berlin and date(2099, 12, 25) in berlin  # the whole window, whatever today is


def test_extra_dates_and_company_days_off_are_added_and_named() -> None:
    config = parse_config(
        config_with(
            {"country": "DE", "subdivision": "BE", "extra": ["2026-06-01"], "days_off": ["2026-12-24", "2026-12-31"]}
        )
    )
    named = config.holidays.named()
    assert named[date(2026, 12, 24)] == "company day off" and named[date(2026, 6, 1)] == "extra holiday"
    assert named[date(2026, 12, 25)] not in ("extra holiday", "company day off", "holiday")  # the library's name for it
    assert list(named) == sorted(named)
    assert config.holidays.describe() == "DE-BE + 1 listed + 2 days off"


def test_the_clock_counts_a_calendar_exactly_as_the_same_dates_listed_by_hand() -> None:
    calendar = parse_config(config_with({"country": "DE", "subdivision": "BE", "days_off": ["2026-12-24"]}))
    listed = parse_config(config_with(sorted(d.isoformat() for d in calendar.holidays.dates)))
    assert listed.holidays.country is None and listed.holidays.dates == calendar.holidays.dates
    a, b = calendar.calendar("support"), listed.calendar("support")
    filed = datetime(2026, 12, 23, 16, 0, tzinfo=BERLIN)  # Wednesday, one business hour before closing
    due = a.add_business_seconds(filed, 4 * 3600)
    assert due == b.add_business_seconds(filed, 4 * 3600)
    # 16-17 on the 23rd, then the 24th (day off), 25th and 26th (holidays) and the weekend: Monday noon
    assert due.astimezone(BERLIN) == datetime(2026, 12, 28, 12, 0, tzinfo=BERLIN)
    span = (datetime(2026, 1, 1, tzinfo=BERLIN), datetime(2028, 1, 1, tzinfo=BERLIN))
    assert a.business_seconds(*span) == b.business_seconds(*span)


def test_a_plain_list_still_means_those_dates_and_nothing_else() -> None:
    config = parse_config(CONFIG)
    assert config.holidays == Holidays(extra=[date(2026, 12, 25)])
    assert config.calendar("support").holidays == {date(2026, 12, 25)} == config.calendar(None).holidays


def test_a_domains_holidays_replace_the_orgs_for_that_domain_only() -> None:
    config = parse_config(
        config_with({"country": "DE", "subdivision": "BE"}, search={"country": "US", "subdivision": "CA"})
    )
    search, support, unrouted = (config.calendar(d).holidays for d in ("search", "support", None))
    assert date(2026, 11, 26) in search and date(2026, 12, 26) not in search  # Thanksgiving, not Boxing Day
    assert support == unrouted == config.holidays.dates and date(2026, 12, 26) in support
    assert config.holidays_of("search").describe() == "US-CA"


def test_a_domain_can_list_its_own_dates_by_hand() -> None:
    config = parse_config(config_with(search=["2026-12-24"]))
    assert config.calendar("search").holidays == {date(2026, 12, 24)}
    assert config.calendar("support").holidays == {date(2026, 12, 25)}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            config_with({"country": "XX"}),
            "holidays.country: unknown country 'XX' (use an ISO 3166 code like DE, US or GB)",
        ),
        (
            config_with(search={"country": "DE", "subdivision": "ZZ"}),
            "domains[1].holidays.subdivision: DE has no subdivision 'ZZ' (its codes: ",
        ),
        (
            config_with({"subdivision": "BE"}),
            "holidays: subdivision 'BE' needs a country (e.g. country: DE, subdivision: BE)",
        ),
        (
            config_with({"country": "DE", "days_off": ["24.12.2026"]}),
            "holidays.days_off[0]: holiday '24.12.2026' is not a date; write YYYY-MM-DD, e.g. '2026-12-25'",
        ),
        (
            config_with(["2026-13-01"]),
            "holidays: holiday '2026-13-01' is not a date; write YYYY-MM-DD, e.g. '2026-12-25'",
        ),
        (
            config_with("2026-12-25"),
            "holidays: expected a list of dates like ['2026-12-25'] or a calendar like {country: DE, subdivision: BE}, got '2026-12-25'",
        ),
        (
            config_with({"country": "DE", "region": "BE"}),
            "holidays.region: unknown key (check its spelling and indentation)",
        ),
    ],
    ids=[
        "country",
        "domain-subdivision",
        "subdivision-alone",
        "day-off-format",
        "listed-date",
        "not-a-list",
        "unknown-key",
    ],
)
def test_a_bad_calendar_is_one_sentence_naming_its_field(data: dict[str, Any], problem: str) -> None:
    [found] = problems(data)
    assert found.startswith(problem), found


def test_every_bad_calendar_is_reported_at_once() -> None:
    assert problems(config_with({"country": "XX"}, search={"country": "YY"})) == [
        "holidays.country: unknown country 'XX' (use an ISO 3166 code like DE, US or GB)",
        "domains[1].holidays.country: unknown country 'YY' (use an ISO 3166 code like DE, US or GB)",
    ]


def test_a_calendar_that_was_never_looked_up_refuses_to_answer() -> None:
    config = Config.model_validate(
        config_with({"country": "DE"})
    )  # built without bot.config: the domain cannot look it up
    with pytest.raises(ValueError, match="public holidays of DE were not looked up"):
        config.calendar("support")


@given(st.lists(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)), max_size=20), st.booleans())
def test_any_list_of_dates_reads_back_as_those_dates(days: list[date], as_text: bool) -> None:
    holidays = Holidays.model_validate([d.isoformat() if as_text else d for d in days])
    assert holidays.dates == set(days) and list(holidays.named()) == sorted(set(days))


@given(st.text(max_size=12).filter(lambda t: not _is_iso_date(t)))
def test_anything_else_is_refused_with_the_format_to_use(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date; write YYYY-MM-DD"):
        Holidays.model_validate([text])


def _is_iso_date(text: str) -> bool:
    try:
        return len(text) == 10 and date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


# -- the bot ------------------------------------------------------------------------------------------
def test_the_card_shows_a_due_time_past_the_regions_holidays(tmp_path: Path, fake_slack: FakeSlack) -> None:
    data = config_with({"country": "DE", "subdivision": "BE", "days_off": ["2026-12-24"]})
    config = parse_config(data)
    clock = Clock(datetime(2026, 12, 23, 15, 0, tzinfo=timezone.utc))  # Wednesday 16:00 in Berlin
    h = start_harness(tmp_path, fake_slack, config=data, clock=clock)
    try:
        h.command("regression: refund answers are wrong")  # P2: first response within 4 business hours
        h.settle()
        assert "First response: due Mon 28 Dec 12:00, 0 business hours elapsed of 4" in h.card_text("AIR-1")
        clock.advance(days=4, hours=20)  # Monday 28 Dec, 12:00 in Berlin: the 4 business hours are up
        request = h.bot.queries.get(1)
        assert config.calendar(request.domain).business_seconds(request.created_at, clock()) == 4 * 3600
        assert clock() - request.created_at == timedelta(days=4, hours=20)
        assert "breached" in json.dumps(h.command("queue support", user="U0ENG1").json())
    finally:
        h.stop()


def test_christmas_week_in_berlin_nobody_is_nagged_on_a_holiday(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """The story of the calendar: a regression filed the afternoon before Christmas Eve (a company day off, then
    Berlin's two holidays and a weekend). The scheduler's jobs run every half hour through all of it; nothing
    reaches anyone until Monday, when the assignee hears it is at risk at 11:00 and that it breached at 12:00,
    with the lead, and its owners that it is unowned — in business hours, as if the dates had been typed by hand."""
    data = config_with({"country": "DE", "subdivision": "BE", "days_off": ["2026-12-24"]})
    clock = Clock(datetime(2026, 12, 23, 15, 0, tzinfo=timezone.utc))  # Wednesday 16:00 in Berlin
    h = start_harness(tmp_path, fake_slack, config=data, clock=clock)
    try:
        h.command("regression: refund answers are wrong", user="U0REQ")  # P2: first response within 4 business hours
        h.settle()
        assignee = h.bot.queries.get(1).assignee
        received: list[tuple[datetime, str, str]] = []  # (when in Berlin, to whom or where, the text)
        seen = len(fake_slack.calls_to("chat.postMessage"))
        while clock() < datetime(2026, 12, 28, 12, 0, tzinfo=timezone.utc):  # Monday 13:00 in Berlin
            clock.advance(minutes=30)
            for job in ("sla", "nags"):
                h.bot.jobs.run_nags(job=job, now=clock())
            h.settle()
            posts = fake_slack.calls_to("chat.postMessage")
            received += [(clock().astimezone(BERLIN), c["channel"], c.get("text", "")) for c in posts[seen:]]
            seen = len(posts)
        assert received, "the jobs never sent anything"
        assert {at.date() for at, _, _ in received} == {date(2026, 12, 28)}  # not on the 24th, 25th, 26th or 27th
        assert min(at for at, _, _ in received).hour >= 9  # and not before Monday's business hours
        first = {}
        for at, to, text in received:
            for word in ("at risk", "breached", "no owner"):
                if word in text and (to, word) not in first:
                    first[(to, word)] = at.strftime("%H:%M")
        assert first[(assignee, "at risk")] == "11:00" and first[(assignee, "breached")] == "12:00"
        assert first[("U0LEAD", "breached")] == "12:00"
        assert first[("U0PPM", "no owner")] == first[("U0MLPM", "no owner")] == "12:00"
        assert first[("C0SUPPORT", "at risk")] == "11:00"  # the card's thread too
        assert {to for _, to, _ in received} == {"C0SUPPORT", assignee, "U0LEAD", "U0PPM", "U0MLPM"}  # nobody else
    finally:
        h.stop()

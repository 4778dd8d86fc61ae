"""The one visibility rule: who may see a confidential request's own words, written out person by person."""

import pytest

from bot.runtime.config import parse_config
from bot.domain.models import Request
from bot.domain.visibility import visible_to
from tests.harness import CONFIG, START

CFG = parse_config(CONFIG)


def request(*, domain: str | None, confidential: bool = True) -> Request:
    return Request(
        id=1,
        kind="security_review",
        domain=domain,
        title="t",
        description="d",
        priority="P3",
        status="open",
        requester="U0REQ",
        assignee="U0SEC1",
        confidential=confidential,
        source="command",
        created_at=START,
        updated_at=START,
    )


# audience -> sees a confidential support request (support has the private review channel G0SUPSEC)
SUPPORT = {
    ("user", "U0REQ"): True,  # its requester
    ("user", "U0ENG1"): True,  # an engineer of support
    ("user", "U0SEC1"): True,  # support's reviewer
    ("user", "U0PPM"): True,  # support's product owner
    ("user", "U0LEAD"): True,  # support's lead
    ("user", "U0ADMIN"): True,  # an admin
    ("user", "U0ENG3"): False,  # an engineer of search
    ("user", "U0OUTSIDER"): False,
    ("channel", "G0SUPSEC"): True,  # support's private review channel
    ("channel", "C0SUPPORT"): False,  # support's public channel
    ("channel", "C0SEARCH"): False,
    ("channel", "U0REQ"): False,  # a direct message is a person's, not a channel's
    ("anyone", None): False,
}


@pytest.mark.parametrize(("audience", "sees"), SUPPORT.items(), ids=[f"{a}={w}" for a, w in SUPPORT])
def test_a_confidential_request_is_seen_by_its_people_and_its_private_channel(audience, sees) -> None:
    how, who = audience
    kwargs = {} if how == "anyone" else {how: who}
    assert visible_to(CFG, request(domain="support"), **kwargs) is sees


def test_a_domain_without_a_private_channel_shows_it_in_no_channel() -> None:
    search = request(domain="search")
    assert [visible_to(CFG, search, channel=c) for c in ("C0SEARCH", "G0SUPSEC", "C0SUPPORT")] == [False, False, False]
    assert visible_to(CFG, search, user="U0ENG3") and visible_to(CFG, search, user="U0REQ")
    assert not visible_to(CFG, search, user="U0ENG1")


def test_an_unrouted_confidential_request_is_seen_by_its_requester_admins_and_domain_members() -> None:
    unrouted = request(domain=None)
    assert visible_to(CFG, unrouted, user="U0REQ") and visible_to(CFG, unrouted, user="U0ADMIN")
    assert visible_to(CFG, unrouted, user="U0ENG3")  # a member of any domain may pick it up from triage
    assert not visible_to(CFG, unrouted, user="U0OUTSIDER")
    assert not visible_to(CFG, unrouted, channel="C0TRIAGE") and not visible_to(CFG, unrouted, channel="G0SUPSEC")


def test_a_request_that_is_not_confidential_is_seen_by_anyone_anywhere() -> None:
    public = request(domain="support", confidential=False)
    assert (
        visible_to(CFG, public)
        and visible_to(CFG, public, user="U0OUTSIDER")
        and visible_to(CFG, public, channel="C0RANDOM")
    )


def test_one_audience_at_a_time() -> None:
    with pytest.raises(ValueError):
        visible_to(CFG, request(domain="support"), user="U0REQ", channel="G0SUPSEC")

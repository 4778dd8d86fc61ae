"""Triage scored on the labelled set's `score` part (bot/seed/requests.yml), which it never learns from: the kind,
the domain and the urgency read from the words, as the bot decides them (a real database holding the seed). The
floors are the figures measured (docs/triage.md); bench/triage.py prints them with the confusion of kinds."""

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot import seed
from bot.usecases import learning
from bot.runtime.config import load_config
from bot.domain.parsing import draft_text
from bot.usecases.service import Intake
from storage.db import Db
from storage.store import Store

DEMO = Path(__file__).parent.parent / "bot" / "demo" / "ai-intake.yml"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[seed.Labelled, str, str | None, str]]:
    config = load_config(DEMO)
    store = Store(Db(tmp_path_factory.mktemp("triage") / "triage.db"))
    assert learning.prepare(store, config)
    intake = Intake(store, config)
    out = []
    for item in seed.labelled("score"):
        draft = draft_text(item.text, config.kind_names).draft(requester="U0ANA", source="command", channel="C0GENERAL")
        decided = intake.preview(draft)
        out.append((item, decided.kind, decided.domain, decided.priority))
    return out


def test_the_labelled_set_is_large_and_split() -> None:
    everything = seed.labelled()
    assert len(everything) >= 300
    parts = Counter(item.part for item in everything)
    assert set(parts) == {"learn", "score"} and parts["score"] >= 100
    assert set(Counter(item.kind for item in everything)) == {
        "feature",
        "regression",
        "security_review",
        "eval",
        "question",
    }
    assert {item.domain for item in everything} == {"support", "search", "growth", None}
    assert not any(
        item.text.split(":")[0].strip().lower() in ("regression", "feature", "eval", "question", "bug")
        for item in everything
    )  # written as people write: no kind typed
    assert len(seed.pairs()) >= 40 and {p.same for p in seed.pairs()} == {True, False}


def test_kind_accuracy_on_the_scored_part(scored: list) -> None:
    right = sum(kind == item.kind for item, kind, _, _ in scored)
    assert right / len(scored) >= 0.90


def test_domain_accuracy_on_the_scored_part(scored: list) -> None:
    right = sum(domain == item.domain for item, _, domain, _ in scored)
    assert right / len(scored) >= 0.85


def test_urgent_requests_are_p1_or_p2(scored: list) -> None:
    urgent = [priority for item, _, _, priority in scored if item.urgent]
    assert urgent and sum(p in ("P1", "P2") for p in urgent) / len(urgent) >= 0.80
    calm = [priority for item, _, _, priority in scored if not item.urgent]
    assert sum(p == "P1" for p in calm) / len(calm) <= 0.10  # urgency is not shouted at everything


def test_duplicate_suggestions_on_the_scored_pairs() -> None:
    from bot.domain.duplicates import Candidate, similar

    now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    found = [
        (pair.same, bool(similar(pair.b, "", [Candidate(1, pair.a, "", "open", None)], now=now)))
        for pair in seed.pairs("score")
    ]
    suggested = [same for same, hit in found if hit]
    assert sum(suggested) / len(suggested) >= 0.80
    assert sum(hit for same, hit in found if same) / sum(same for same, _ in found) >= 0.90
